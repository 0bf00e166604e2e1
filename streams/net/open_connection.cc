#include "streams/net/open_connection.h"

#include <sys/un.h>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "streams/errors.h"
#include "streams/net/connect.h"
#include "streams/net/connection_setup.h"
#include "streams/net/internal/strand.h"
#include "streams/net/numeric_host.h"
#include "streams/net/spawn.h"
#include "streams/stream_reader_protocol.h"

namespace streams::internal {
namespace {

using asio::ip::tcp;

asio::awaitable<absl::StatusOr<Connection>> OpenTcp(std::string host,
                                                    std::string port,
                                                    ConnectionOptions options) {
  if (options.limit <= 0) co_return ValueError("Limit cannot be <= 0");
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  std::vector<tcp::endpoint> endpoints;
  // asyncio: _ensure_resolved() skips getaddrinfo() for an IP address (and
  // Asio's resolver would start a thread for it).
  if (std::optional<tcp::endpoint> numeric = net::NumericEndpoint(host, port)) {
    endpoints.push_back(*numeric);
  } else {
    tcp::resolver resolver(executor);
    auto [resolved, results] = co_await resolver.async_resolve(
        host, port, asio::as_tuple(asio::use_awaitable));
    if (resolved) co_return net::ResolverError(resolved);
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  }
  int interleave = options.interleave;
  if (interleave == 0 && options.happy_eyeballs_delay) interleave = 1;
  if (interleave > 0) {
    endpoints = net::InterleaveByFamily(endpoints, interleave);
  }
  absl::StatusOr<tcp::socket> socket = co_await net::AsyncConnect(
      executor, std::move(endpoints),
      net::ConnectOptions{options.local_addr, options.happy_eyeballs_delay},
      asio::use_awaitable);
  if (!socket.ok()) co_return socket.status();
  co_return co_await net::EstablishClient(
      *std::move(socket), options.server_hostname.value_or(host), options);
}

asio::awaitable<absl::StatusOr<Connection>> OpenUnix(
    std::string path, ConnectionOptions options) {
  if (options.limit <= 0) co_return ValueError("Limit cannot be <= 0");
  if (options.ssl != nullptr && !options.server_hostname) {
    co_return ValueError("you have to pass server_hostname when using ssl");
  }
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    co_return MakeError(ErrorKind::kOSError, "AF_UNIX path too long");
  }
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  net::UnixSocket socket(executor);
  auto [connected] = co_await socket.async_connect(
      asio::local::stream_protocol::endpoint(path),
      asio::as_tuple(asio::use_awaitable));
  if (connected) co_return OsError(connected);
  co_return co_await net::EstablishClient(
      std::move(socket), options.server_hostname.value_or(""), options);
}

}  // namespace

void StartOpenConnection(const asio::any_io_executor& executor,
                         std::string host, std::string port,
                         ConnectionOptions options, ConnectionHandler handler) {
  net::Spawn(internal::MakeStrand(executor),
             OpenTcp(std::move(host), std::move(port), std::move(options)),
             std::move(handler));
}

void StartOpenUnixConnection(const asio::any_io_executor& executor,
                             std::string path, ConnectionOptions options,
                             ConnectionHandler handler) {
  net::Spawn(internal::MakeStrand(executor),
             OpenUnix(std::move(path), std::move(options)), std::move(handler));
}

}  // namespace streams::internal
