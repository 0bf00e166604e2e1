#include "streams/net/connection_setup.h"

#include <utility>

#include "boost/asio/async_result.hpp"
#include "boost/asio/error.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "streams/errors.h"
#include "streams/net/tls.h"
#include "streams/stream_reader_protocol.h"

namespace streams::net {

namespace asio = ::boost::asio;

absl::Status ResolverError(const boost::system::error_code& error) {
  if (error == asio::error::operation_aborted) return CancelledError();
  // asyncio shows getaddrinfo()'s own error: EAI_* number and text.
  if (error == asio::error::host_not_found) {
    return MakeOsError(ErrorKind::kGaiError, error,
                       "[Errno -2] Name or service not known");
  }
  if (error == asio::error::host_not_found_try_again) {
    return MakeOsError(ErrorKind::kGaiError, error,
                       "[Errno -3] Temporary failure in name resolution");
  }
  if (error == asio::error::service_not_found) {
    return MakeOsError(ErrorKind::kGaiError, error,
                       "[Errno -8] Servname not supported for ai_socktype");
  }
  return MakeOsError(ErrorKind::kGaiError, error, error.message());
}

template <typename Socket>
asio::awaitable<absl::Status> Handshake(TlsStream<Socket>& stream,
                                        bool server_side,
                                        const std::string& hostname,
                                        std::chrono::milliseconds timeout) {
  return asio::async_initiate<decltype(asio::use_awaitable),
                              void(absl::Status)>(
      [&stream, server_side, hostname, timeout](auto handler) {
        AsyncTlsHandshake<Socket>(
            stream, server_side, hostname, timeout,
            [handler = std::move(handler)](absl::Status status) mutable {
              std::move(handler)(std::move(status));
            });
      },
      asio::use_awaitable);
}

template <typename Socket>
asio::awaitable<absl::StatusOr<Connection>> EstablishClient(
    Socket socket, std::string hostname, ConnectionOptions options) {
  const asio::any_io_executor executor = socket.get_executor();
  ReaderOptions reader_options;
  reader_options.limit = options.limit;
  reader_options.overlong_line = options.overlong_line;
  reader_options.cancel_safe_read_all = options.cancel_safe_read_all;
  absl::StatusOr<StreamReader> reader =
      StreamReader::Create(executor, reader_options);
  if (!reader.ok()) co_return reader.status();
  auto protocol = StreamReaderProtocol::Create(*reader);
  TransportOptions transport_options = options.transport;
  transport_options.tls_shutdown_timeout = options.ssl_shutdown_timeout;
  std::shared_ptr<Transport> transport;
  if (options.ssl != nullptr) {
    auto stream = std::make_unique<TlsStream<Socket>>(
        PrefixedStream<Socket>(std::move(socket), ""), *options.ssl);
    absl::Status shaken =
        co_await Handshake<Socket>(*stream, /*server_side=*/false, hostname,
                                   options.ssl_handshake_timeout);
    if (!shaken.ok()) co_return shaken;
    transport = StartSocketTransport(std::move(*stream), protocol,
                                     transport_options, options.ssl);
  } else {
    transport =
        StartSocketTransport(std::move(socket), protocol, transport_options);
  }
  StreamWriter writer(transport, protocol, &*reader);
  co_return Connection{*std::move(reader), std::move(writer)};
}

template <typename Socket>
asio::awaitable<absl::StatusOr<std::shared_ptr<Transport>>> EstablishServer(
    Socket socket, std::shared_ptr<Protocol> protocol, asio::ssl::context* ssl,
    std::chrono::milliseconds handshake_timeout,
    TransportOptions transport_options) {
  if (ssl == nullptr) {
    co_return StartSocketTransport(std::move(socket), std::move(protocol),
                                   transport_options);
  }
  auto stream = std::make_unique<TlsStream<Socket>>(
      PrefixedStream<Socket>(std::move(socket), ""), *ssl);
  absl::Status shaken = co_await Handshake<Socket>(
      *stream, /*server_side=*/true, "", handshake_timeout);
  if (!shaken.ok()) co_return shaken;
  co_return StartSocketTransport(std::move(*stream), std::move(protocol),
                                 transport_options, ssl);
}

template asio::awaitable<absl::StatusOr<Connection>> EstablishClient<TcpSocket>(
    TcpSocket, std::string, ConnectionOptions);
template asio::awaitable<absl::StatusOr<Connection>>
    EstablishClient<UnixSocket>(UnixSocket, std::string, ConnectionOptions);
template asio::awaitable<absl::StatusOr<std::shared_ptr<Transport>>>
EstablishServer<TcpSocket>(TcpSocket, std::shared_ptr<Protocol>,
                           asio::ssl::context*, std::chrono::milliseconds,
                           TransportOptions);
template asio::awaitable<absl::StatusOr<std::shared_ptr<Transport>>>
EstablishServer<UnixSocket>(UnixSocket, std::shared_ptr<Protocol>,
                            asio::ssl::context*, std::chrono::milliseconds,
                            TransportOptions);

}  // namespace streams::net
