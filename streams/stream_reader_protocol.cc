#include "streams/stream_reader_protocol.h"

#include <utility>

#include "streams/internal/access.h"
#include "streams/stream_writer.h"

namespace streams {

std::shared_ptr<StreamReaderProtocol> StreamReaderProtocol::Create(
    const StreamReader& reader, ClientConnectedCallback client_connected) {
  return std::make_shared<StreamReaderProtocol>(reader,
                                                std::move(client_connected));
}

StreamReaderProtocol::StreamReaderProtocol(
    const StreamReader& reader, ClientConnectedCallback client_connected)
    : FlowControl(reader.get_executor()),
      reader_(internal::Access::Core(reader)),
      client_connected_(std::move(client_connected)) {
  if (client_connected_) strong_reader_ = internal::Access::Core(reader);
}

// Out of line: StreamWriter is complete here.
StreamReaderProtocol::~StreamReaderProtocol() = default;

absl::Status StreamReaderProtocol::ConnectionMade(
    std::shared_ptr<Transport> transport) {
  transport_ = transport;
  std::shared_ptr<internal::ReaderCore> reader = reader_.lock();
  if (reader != nullptr) {
    if (absl::Status set = reader->SetTransport(transport); !set.ok()) {
      return set;
    }
  }
  over_ssl_ = transport->GetExtraInfo("sslcontext").has_value();
  if (client_connected_) {
    auto self =
        std::static_pointer_cast<StreamReaderProtocol>(shared_from_this());
    StreamWriter writer = internal::Access::MakeWriter(transport, self, reader);
    // asyncio: self._stream_writer, kept until connection_lost().
    server_writer_ =
        std::make_unique<StreamWriter>(internal::Access::ShareWriter(writer));
    strong_reader_ = nullptr;
    client_connected_(internal::Access::MakeReader(std::move(reader)),
                      std::move(writer));
  }
  return absl::OkStatus();
}

void StreamReaderProtocol::ReplaceTransport(
    std::shared_ptr<Transport> transport) {
  over_ssl_ = transport->GetExtraInfo("sslcontext").has_value();
  transport_ = std::move(transport);
}

absl::Status StreamReaderProtocol::DataReceived(ByteView data) {
  std::shared_ptr<internal::ReaderCore> reader = reader_.lock();
  if (reader == nullptr) return absl::OkStatus();
  return reader->FeedData(data);
}

bool StreamReaderProtocol::EofReceived() {
  if (std::shared_ptr<internal::ReaderCore> reader = reader_.lock()) {
    reader->FeedEof();
  }
  // Over TLS, returning true has no effect (asyncio warns): say false.
  return !over_ssl_;
}

void StreamReaderProtocol::ConnectionLost(absl::Status exception) {
  // Alive to the end: the writer handles released here (the server-side
  // writer's, woken drains' later) may be the last owners of this protocol.
  std::shared_ptr<Protocol> self = weak_from_this().lock();
  if (std::shared_ptr<internal::ReaderCore> reader = reader_.lock()) {
    if (exception.ok()) {
      reader->FeedEof();
    } else {
      reader->SetException(exception);
    }
  }
  if (!closed_->done()) {
    if (exception.ok()) {
      closed_->SetResult();
    } else {
      closed_->SetException(exception);
    }
  }
  FlowControl::ConnectionLost(std::move(exception));
  reader_.reset();
  strong_reader_ = nullptr;
  // asyncio: `self._stream_writer = None`, where __del__ runs if it was the
  // last reference. Moved out first: its release may call back in (Close()).
  std::unique_ptr<StreamWriter> writer = std::move(server_writer_);
  writer.reset();
  transport_ = nullptr;
}

void StreamReaderProtocol::ContextShutdown() {
  // Alive to the end, as in ConnectionLost().
  std::shared_ptr<Protocol> self = weak_from_this().lock();
  context_shut_down_ = true;
  // Moved out first and destroyed last: what they free (a coroutine frame
  // owning a writer, ...) may call back into this object. The server-side
  // writer handle goes last, once context_shut_down() is true.
  std::unique_ptr<StreamWriter> server_writer = std::move(server_writer_);
  std::shared_ptr<internal::Future> closed =
      std::exchange(closed_, std::make_shared<internal::Future>());
  std::shared_ptr<Transport> transport = std::move(transport_);
  transport_ = nullptr;
  ClientConnectedCallback client_connected = std::move(client_connected_);
  client_connected_ = nullptr;
  std::shared_ptr<internal::ReaderCore> strong_reader =
      std::move(strong_reader_);
  strong_reader_ = nullptr;
  reader_.reset();
  FlowControl::ContextShutdown();
}

}  // namespace streams
