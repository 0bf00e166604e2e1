// -----------------------------------------------------------------------------
// File: stream_reader_protocol.h
// -----------------------------------------------------------------------------
//
// `streams::StreamReaderProtocol` adapts a transport's events to a
// StreamReader, as asyncio.StreamReaderProtocol does: received data is fed to
// the reader, EOF and connection loss end it, and the write side's flow
// control (FlowControl) wakes drains. It holds its reader weakly (asyncio: a
// weakref), except on the server side until the connection is made.
//
// Example (what AsyncOpenConnection does):
//
//   streams::StreamReader reader(executor);
//   auto protocol = streams::StreamReaderProtocol::Create(reader);
//   protocol->ConnectionMade(transport);
//   streams::StreamWriter writer(transport, protocol, &reader);
//
// Server side: with a client-connected callback, ConnectionMade() creates
// the StreamWriter and calls the callback with the reader and the writer.
// The protocol keeps a handle on that writer (asyncio: _stream_writer) until
// ConnectionLost() or ContextShutdown(), as 3.11.7's does: dropping the
// callback's writer alone neither closes nor warns; the protocol's release
// then does, if it was the last handle (see StreamWriter's Lifetime).
//
// Lifetime rule for transports: the writer handle makes a protocol <->
// writer cycle that only ConnectionLost() or ContextShutdown() breaks, so a
// transport must call one of them before it lets go of the protocol (a
// socket transport always does: on the connection's end, or when its
// io_context shuts down). A test double that never ends its connection
// leaks the protocol and the writer. (Pending drains hold a writer handle
// too, and are woken by ConnectionLost() or destroyed by ContextShutdown().)
//
// Threads: the reader's executor; the transport calls every member there.

#ifndef STREAMS_STREAM_READER_PROTOCOL_H_
#define STREAMS_STREAM_READER_PROTOCOL_H_

#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "streams/flow_control.h"
#include "streams/internal/status_operation.h"
#include "streams/stream_reader.h"
#include "streams/transport.h"

namespace streams {

class StreamWriter;
namespace internal {
class Access;
}  // namespace internal

class StreamReaderProtocol : public FlowControl {
 public:
  // Called by ConnectionMade() on the server side.
  using ClientConnectedCallback =
      absl::AnyInvocable<void(StreamReader reader, StreamWriter writer)>;

  // StreamReaderProtocol::Create()
  //
  // A protocol feeding `reader`, on the reader's executor.
  static std::shared_ptr<StreamReaderProtocol> Create(
      const StreamReader& reader,
      ClientConnectedCallback client_connected = {});

  // Use Create().
  StreamReaderProtocol(const StreamReader& reader,
                       ClientConnectedCallback client_connected);
  ~StreamReaderProtocol() override;

  // StreamReaderProtocol::ConnectionMade()
  //
  // Sets the reader's transport; on the server side creates the writer and
  // calls the client-connected callback. If the reader already has a
  // transport, returns its AssertionError and stops there, as asyncio does.
  absl::Status ConnectionMade(std::shared_ptr<Transport> transport) override;

  // StreamReaderProtocol::DataReceived()
  //
  // Feeds the reader; its error (data after EOF) is returned.
  absl::Status DataReceived(ByteView data) override;

  // StreamReaderProtocol::EofReceived()
  //
  // Feeds EOF to the reader. Returns true (keep the transport open for
  // writing: a half-close) except over TLS, where it returns false.
  bool EofReceived() override;

  // StreamReaderProtocol::ConnectionLost()
  //
  // `exception` OK: the reader gets EOF; else the reader's exception is set.
  // Resolves the closed future (AsyncWaitClosed), wakes drains, and drops the
  // reader, the server-side writer handle (the last handle closes an unclosed
  // transport and warns, as asyncio's `self._stream_writer = None` runs
  // StreamWriter.__del__) and the transport.
  void ConnectionLost(absl::Status exception) override;

  // StreamReaderProtocol::ContextShutdown()
  //
  // The execution context is shutting down: the closed future's and the
  // drains' waiting operations are destroyed with their handlers, uncalled
  // (coroutines suspended in AsyncWaitClosed() or AsyncDrain() with them);
  // the transport, the reader, the client-connected callback and, last, the
  // server-side writer handle are dropped. Writers then read as asyncio's do
  // once the loop is closed (see context_shut_down()): a last handle released
  // unclosed warns "loop is closed".
  void ContextShutdown() override;

  // True once the execution context shut down: a StreamWriter destroyed
  // unclosed then warns "loop is closed" and closes nothing (asyncio's
  // StreamWriter.__del__ when loop.is_closed()).
  bool context_shut_down() const { return context_shut_down_; }

  const std::shared_ptr<Transport>& transport() const { return transport_; }

  // StreamReaderProtocol::ReplaceTransport()
  //
  // After a TLS upgrade: the transport to use from now on (asyncio:
  // _replace_writer()).
  void ReplaceTransport(std::shared_ptr<Transport> transport);
  bool over_ssl() const { return over_ssl_; }
  bool has_client_connected_callback() const {
    return static_cast<bool>(client_connected_);
  }

 private:
  friend class internal::Access;

  std::weak_ptr<internal::ReaderCore> reader_;
  // Server side: keeps the reader alive until the connection is made.
  std::shared_ptr<internal::ReaderCore> strong_reader_;
  std::shared_ptr<Transport> transport_;
  // Server side: the writer ConnectionMade() made (asyncio: _stream_writer),
  // from ConnectionMade() until ConnectionLost()/ContextShutdown().
  std::unique_ptr<StreamWriter> server_writer_;
  ClientConnectedCallback client_connected_;
  bool over_ssl_ = false;
  bool context_shut_down_ = false;
  // asyncio: _closed. Awaited by StreamWriter::AsyncWaitClosed().
  std::shared_ptr<internal::Future> closed_ =
      std::make_shared<internal::Future>();
};

}  // namespace streams

#endif  // STREAMS_STREAM_READER_PROTOCOL_H_
