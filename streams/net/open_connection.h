// -----------------------------------------------------------------------------
// File: net/open_connection.h
// -----------------------------------------------------------------------------
//
// `streams::AsyncOpenConnection()` connects to a TCP server and returns a
// StreamReader and a StreamWriter, as asyncio.open_connection() does;
// `AsyncOpenUnixConnection()` does the same over a Unix-domain socket.
//
// Example:
//
//   absl::StatusOr<streams::Connection> connection =
//       co_await streams::AsyncOpenConnection(executor, "localhost", 8888);
//   if (!connection.ok()) co_return connection.status();
//   auto& [reader, writer] = *connection;
//   if (absl::Status written = writer.Write("hello\n"); !written.ok()) {
//     co_return written;
//   }
//   absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
//
// TLS: set `options.ssl` (e.g. to net::MakeClientTlsContext(), which, like
// Python's default context, verifies the server's certificate); the server
// name is sent as SNI and the certificate must match it.
//
// Threads: each connection gets its own strand of `executor`; the reader and
// the writer live there, and the completion handler runs through its own
// associated executor.

#ifndef STREAMS_NET_OPEN_CONNECTION_H_
#define STREAMS_NET_OPEN_CONNECTION_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/statusor.h"
#include "boost/asio/any_completion_handler.hpp"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/async_result.hpp"
#include "boost/asio/deferred.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "streams/net/socket_transport.h"
#include "streams/stream_reader.h"
#include "streams/stream_writer.h"

namespace streams {

// A connection's two halves (asyncio: the (reader, writer) pair).
struct Connection {
  StreamReader reader;
  StreamWriter writer;
};

// asyncio.open_connection()'s arguments that make sense in C++.
struct ConnectionOptions {
  // The reader's limit (asyncio: limit).
  int64_t limit = StreamReader::kDefaultLimit;
  // The reader's options beyond 3.11.7 (see ReaderOptions in
  // stream_reader.h); the defaults are 3.11.7's.
  OverlongLine overlong_line = OverlongLine::kAsyncio;
  bool cancel_safe_read_all = false;
  // TLS when set (asyncio: ssl=context). Not owned: it must outlive the
  // connection.
  boost::asio::ssl::context* ssl = nullptr;
  // SNI and the name the certificate must match; unset: the host. An empty
  // string sends no SNI and checks no name (asyncio: server_hostname='').
  // Needed for TLS over a Unix socket.
  std::optional<std::string> server_hostname;
  std::chrono::milliseconds ssl_handshake_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds ssl_shutdown_timeout = std::chrono::seconds(30);
  // TCP only: bind here before connecting (asyncio: local_addr).
  std::optional<boost::asio::ip::tcp::endpoint> local_addr;
  // TCP only, RFC 8305: start the next address's attempt when the previous
  // one has not connected after this delay (asyncio: happy_eyeballs_delay;
  // unset: one attempt after another).
  std::optional<std::chrono::milliseconds> happy_eyeballs_delay;
  // TCP only: reorder addresses by family, this many of the first family
  // first, then alternating (asyncio: interleave; 0: 1 when
  // happy_eyeballs_delay is set, else the resolver's order).
  int interleave = 0;
  // Read chunk and write water marks of the transport.
  net::TransportOptions transport;
};

namespace internal {
using ConnectionHandler =
    boost::asio::any_completion_handler<void(absl::StatusOr<Connection>)>;
void StartOpenConnection(const boost::asio::any_io_executor& executor,
                         std::string host, std::string port,
                         ConnectionOptions options, ConnectionHandler handler);
void StartOpenUnixConnection(const boost::asio::any_io_executor& executor,
                             std::string path, ConnectionOptions options,
                             ConnectionHandler handler);
}  // namespace internal

// AsyncOpenConnection()
//
// Resolves `host` and connects to `port` (a number or a service name),
// trying the addresses as asyncio does (happy eyeballs when asked), then for
// TLS (options.ssl) shakes hands. asyncio: open_connection().
//
// Completion: void(absl::StatusOr<Connection>): its reader and writer, which
//   live on the connection's strand (writer.get_executor(): run code that
//   touches them there when the io_context has several threads). Never
//   inside this call.
// Errors: kInvalidArgument ValueError (limit <= 0); kNotFound gaierror
//   (resolver); kUnavailable ConnectionRefusedError "[Errno 111] Connect call
//   failed ('127.0.0.1', 8888)" and other OSErrors; TLS: kPermissionDenied
//   SSLCertVerificationError, kUnavailable SSLError, kUnavailable
//   ConnectionAbortedError (handshake timeout, as asyncio).
// Cancellation: terminal (the operation is a coroutine: Asio's co_spawn
//   passes terminal cancellation only); closes whatever was opened and
//   completes with kCancelled.
// Concurrency: any number may run at once; call from a thread that may use
//   `executor`.
template <boost::asio::completion_token_for<void(absl::StatusOr<Connection>)>
              CompletionToken = boost::asio::deferred_t>
auto AsyncOpenConnection(const boost::asio::any_io_executor& executor,
                         std::string host, std::string port,
                         ConnectionOptions options,
                         CompletionToken&& token = boost::asio::deferred_t{}) {
  return boost::asio::async_initiate<CompletionToken,
                                     void(absl::StatusOr<Connection>)>(
      [](auto handler, const boost::asio::any_io_executor& executor,
         std::string host, std::string port, ConnectionOptions options) {
        internal::StartOpenConnection(
            executor, std::move(host), std::move(port), std::move(options),
            internal::ConnectionHandler(std::move(handler)));
      },
      token, executor, std::move(host), std::move(port), std::move(options));
}

template <boost::asio::completion_token_for<void(absl::StatusOr<Connection>)>
              CompletionToken = boost::asio::deferred_t>
auto AsyncOpenConnection(const boost::asio::any_io_executor& executor,
                         std::string host, uint16_t port,
                         ConnectionOptions options,
                         CompletionToken&& token = boost::asio::deferred_t{}) {
  return AsyncOpenConnection(executor, std::move(host), std::to_string(port),
                             std::move(options),
                             std::forward<CompletionToken>(token));
}

// Without options: the defaults. (Options are never a `= {}` default
// argument; see StartTlsOptions in stream_writer.h for why.)
template <typename Port,
          boost::asio::completion_token_for<void(absl::StatusOr<Connection>)>
              CompletionToken = boost::asio::deferred_t>
auto AsyncOpenConnection(const boost::asio::any_io_executor& executor,
                         std::string host, Port port,
                         CompletionToken&& token = boost::asio::deferred_t{}) {
  return AsyncOpenConnection(executor, std::move(host), std::move(port),
                             ConnectionOptions(),
                             std::forward<CompletionToken>(token));
}

// AsyncOpenUnixConnection()
//
// Connects to the Unix-domain socket at `path`, then for TLS (options.ssl;
// it needs options.server_hostname) shakes hands. asyncio:
// open_unix_connection().
//
// Completion: void(absl::StatusOr<Connection>), as AsyncOpenConnection().
//   Never inside this call.
// Errors: kInvalidArgument ValueError (limit <= 0); kNotFound
//   FileNotFoundError "[Errno 2] No such file or directory" (no socket
//   there); kUnavailable ConnectionRefusedError (nobody listening) and other
//   OSErrors; TLS errors as AsyncOpenConnection().
// Cancellation: terminal (the operation is a coroutine: Asio's co_spawn
//   passes terminal cancellation only); closes whatever was opened and
//   completes with kCancelled.
// Concurrency: any number may run at once; call from a thread that may use
//   `executor`.
template <boost::asio::completion_token_for<void(absl::StatusOr<Connection>)>
              CompletionToken = boost::asio::deferred_t>
auto AsyncOpenUnixConnection(
    const boost::asio::any_io_executor& executor, std::string path,
    ConnectionOptions options,
    CompletionToken&& token = boost::asio::deferred_t{}) {
  return boost::asio::async_initiate<CompletionToken,
                                     void(absl::StatusOr<Connection>)>(
      [](auto handler, const boost::asio::any_io_executor& executor,
         std::string path, ConnectionOptions options) {
        internal::StartOpenUnixConnection(
            executor, std::move(path), std::move(options),
            internal::ConnectionHandler(std::move(handler)));
      },
      token, executor, std::move(path), std::move(options));
}

template <boost::asio::completion_token_for<void(absl::StatusOr<Connection>)>
              CompletionToken = boost::asio::deferred_t>
auto AsyncOpenUnixConnection(
    const boost::asio::any_io_executor& executor, std::string path,
    CompletionToken&& token = boost::asio::deferred_t{}) {
  return AsyncOpenUnixConnection(executor, std::move(path), ConnectionOptions(),
                                 std::forward<CompletionToken>(token));
}

}  // namespace streams

#endif  // STREAMS_NET_OPEN_CONNECTION_H_
