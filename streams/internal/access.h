// -----------------------------------------------------------------------------
// File: internal/access.h
// -----------------------------------------------------------------------------
//
// `Access` is the one door into the private parts of //streams' public types
// (Abseil's `...Peer` pattern): StreamReader, StreamWriter and
// StreamReaderProtocol befriend it and nothing else, so every reach from one
// type into another is named here, once. Private to //streams.
//
// Its definitions are in streams/access.cc, in the target that holds the
// types it opens; this header needs only their names.

#ifndef STREAMS_INTERNAL_ACCESS_H_
#define STREAMS_INTERNAL_ACCESS_H_

#include <memory>

namespace streams {

class StreamReader;
class StreamReaderProtocol;
class StreamWriter;
class Transport;

namespace internal {

struct DrainState;
class Future;
class ReaderCore;

class Access {
 public:
  // A reader's state: the protocol feeds it; a writer's drain raises its
  // exception (asyncio: the writer holds the reader).
  static const std::shared_ptr<ReaderCore>& Core(const StreamReader& reader);
  // A reader on a core (the protocol's server side hands one to the
  // client-connected callback).
  static StreamReader MakeReader(std::shared_ptr<ReaderCore> core);

  // The writer the protocol's server side hands to the callback.
  static StreamWriter MakeWriter(std::shared_ptr<Transport> transport,
                                 std::shared_ptr<StreamReaderProtocol> protocol,
                                 std::shared_ptr<ReaderCore> reader);
  // Another handle on `writer` (the server keeps one while a client
  // callback runs, to close the connection if the callback fails); only the
  // last handle to go away acts as asyncio's StreamWriter.__del__.
  static StreamWriter ShareWriter(const StreamWriter& writer);

  // The protocol's drain waiters and paused flag (asyncio: the writer's
  // drain() awaits `protocol._drain_helper()`).
  static const std::shared_ptr<DrainState>& Drain(
      const StreamReaderProtocol& protocol);
  // The protocol's `_closed` future (StreamWriter::AsyncWaitClosed()).
  static const std::shared_ptr<Future>& Closed(
      const StreamReaderProtocol& protocol);
};

}  // namespace internal
}  // namespace streams

#endif  // STREAMS_INTERNAL_ACCESS_H_
