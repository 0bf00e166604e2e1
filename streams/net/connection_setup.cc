#include "streams/net/connection_setup.h"

#include <utility>

#include "boost/asio/async_result.hpp"
#include "boost/asio/error.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "streams/errors.h"
#include "streams/net/tls_layer.h"
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

// tls_layer::StartTlsOnSocket() as an awaitable: the TLS transport over
// `socket` once the handshake is done, or the handshake's error.
template <typename Socket>
asio::awaitable<absl::StatusOr<std::shared_ptr<Transport>>> StartTlsTransport(
    Socket socket, TlsUpgrade tls, std::shared_ptr<Protocol> protocol,
    TransportOptions options) {
  co_return co_await asio::async_initiate<
      decltype(asio::use_awaitable),
      void(absl::StatusOr<std::shared_ptr<Transport>>)>(
      [&](auto handler) {
        tls_layer::StartTlsOnSocket(
            std::move(socket), std::move(tls), std::move(protocol), options,
            /*connection_made=*/true,
            [handler = std::move(handler)](
                absl::StatusOr<std::shared_ptr<Transport>> started) mutable {
              std::move(handler)(std::move(started));
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
    TlsUpgrade tls;
    tls.context = options.ssl;
    tls.server_hostname = std::move(hostname);
    tls.handshake_timeout = options.ssl_handshake_timeout;
    tls.shutdown_timeout = options.ssl_shutdown_timeout;
    absl::StatusOr<std::shared_ptr<Transport>> started =
        co_await StartTlsTransport(std::move(socket), std::move(tls), protocol,
                                   transport_options);
    if (!started.ok()) co_return started.status();
    transport = *std::move(started);
  } else {
    transport =
        StartSocketTransport(std::move(socket), protocol, transport_options);
  }
  StreamWriter writer(transport, protocol, &*reader);
  co_return Connection{*std::move(reader), std::move(writer)};
}

template <typename Socket>
asio::awaitable<absl::StatusOr<std::shared_ptr<Transport>>> EstablishTlsServer(
    Socket socket, std::shared_ptr<Protocol> protocol, asio::ssl::context* ssl,
    std::chrono::milliseconds handshake_timeout,
    TransportOptions transport_options) {
  TlsUpgrade tls;
  tls.context = ssl;
  tls.server_side = true;
  tls.handshake_timeout = handshake_timeout;
  tls.shutdown_timeout = transport_options.tls_shutdown_timeout;
  co_return co_await StartTlsTransport(std::move(socket), std::move(tls),
                                       std::move(protocol), transport_options);
}

template asio::awaitable<absl::StatusOr<Connection>> EstablishClient<TcpSocket>(
    TcpSocket, std::string, ConnectionOptions);
template asio::awaitable<absl::StatusOr<Connection>>
    EstablishClient<UnixSocket>(UnixSocket, std::string, ConnectionOptions);
template asio::awaitable<absl::StatusOr<std::shared_ptr<Transport>>>
EstablishTlsServer<TcpSocket>(TcpSocket, std::shared_ptr<Protocol>,
                              asio::ssl::context*, std::chrono::milliseconds,
                              TransportOptions);
template asio::awaitable<absl::StatusOr<std::shared_ptr<Transport>>>
EstablishTlsServer<UnixSocket>(UnixSocket, std::shared_ptr<Protocol>,
                               asio::ssl::context*, std::chrono::milliseconds,
                               TransportOptions);

}  // namespace streams::net
