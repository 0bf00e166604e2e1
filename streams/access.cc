// internal::Access's definitions (see internal/access.h): here, in the
// target that holds the types it opens.

#include "streams/internal/access.h"

#include <memory>
#include <utility>

#include "streams/stream_reader.h"
#include "streams/stream_reader_protocol.h"
#include "streams/stream_writer.h"

namespace streams::internal {

const std::shared_ptr<ReaderCore>& Access::Core(const StreamReader& reader) {
  return reader.core_;
}

StreamReader Access::MakeReader(std::shared_ptr<ReaderCore> core) {
  return StreamReader(std::move(core));
}

StreamWriter Access::MakeWriter(std::shared_ptr<Transport> transport,
                                std::shared_ptr<StreamReaderProtocol> protocol,
                                std::shared_ptr<ReaderCore> reader) {
  return StreamWriter(std::move(transport), std::move(protocol),
                      std::move(reader));
}

StreamWriter Access::ShareWriter(const StreamWriter& writer) {
  return writer.Share();
}

const std::shared_ptr<DrainState>& Access::Drain(
    const StreamReaderProtocol& protocol) {
  return protocol.drain_state();
}

const std::shared_ptr<Future>& Access::Closed(
    const StreamReaderProtocol& protocol) {
  return protocol.closed_;
}

}  // namespace streams::internal
