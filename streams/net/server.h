// -----------------------------------------------------------------------------
// File: net/server.h
// -----------------------------------------------------------------------------
//
// `streams::AsyncStartServer()` listens on TCP addresses and calls a callback
// with a StreamReader and a StreamWriter for each client, as
// asyncio.start_server() does; `AsyncStartUnixServer()` listens on a
// Unix-domain socket. The `Server` they return behaves like CPython 3.11.7's
// asyncio.Server.
//
// Example: a line echo server.
//
//   asio::awaitable<void> Echo(streams::StreamReader reader,
//                              streams::StreamWriter writer) {
//     while (true) {
//       absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
//       if (!line.ok() || line->empty()) break;
//       if (!writer.Write(*line).ok()) break;
//       if (!(co_await writer.AsyncDrain()).ok()) break;
//     }
//     writer.Close();
//   }
//   ...
//   absl::StatusOr<std::shared_ptr<streams::Server>> server =
//       co_await streams::AsyncStartServer(executor, Echo, "127.0.0.1", 8888);
//
// The callback is a plain function `void(StreamReader, StreamWriter)` or a
// coroutine returning `asio::awaitable<void>` or
// `asio::awaitable<absl::Status>`. When a coroutine throws or returns an
// error, the error is reported (ServerOptions::exception_handler, asyncio:
// "Unhandled exception in client_connected_cb") and that connection is
// closed; the server goes on.
//
// Threads: each connection gets its own strand of the server's executor.
//
// Lifetime: a Server, and the readers and writers of its connections, may
// outlive their io_context. Destroying the io_context closes the listening
// sockets and every connection's socket, frees their buffers and destroys
// pending operations (AsyncWaitClosed() included) with their handlers,
// uncalled; after that these objects may only be looked at and destroyed.

#ifndef STREAMS_NET_SERVER_H_
#define STREAMS_NET_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "boost/asio/any_completion_handler.hpp"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/async_result.hpp"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/deferred.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "streams/internal/status_operation.h"
#include "streams/net/socket_transport.h"
#include "streams/stream_reader.h"
#include "streams/stream_reader_protocol.h"
#include "streams/stream_writer.h"

namespace streams {

// ClientConnected
//
// The client-connected callback, from a plain function or a coroutine.
class ClientConnected {
 public:
  using Plain = std::function<void(StreamReader, StreamWriter)>;
  using VoidCoroutine =
      std::function<boost::asio::awaitable<void>(StreamReader, StreamWriter)>;
  using StatusCoroutine = std::function<boost::asio::awaitable<absl::Status>(
      StreamReader, StreamWriter)>;

  template <typename F>
  ClientConnected(F f) {  // NOLINT: implicit, so any callable fits
    using Result = std::invoke_result_t<F&, StreamReader, StreamWriter>;
    if constexpr (std::is_void_v<Result>) {
      callable_.template emplace<Plain>(std::move(f));
    } else if constexpr (std::is_same_v<Result, boost::asio::awaitable<void>>) {
      callable_.template emplace<VoidCoroutine>(std::move(f));
    } else {
      static_assert(
          std::is_same_v<Result, boost::asio::awaitable<absl::Status>>,
          "the client-connected callback returns void, "
          "boost::asio::awaitable<void> or "
          "boost::asio::awaitable<absl::Status>");
      callable_.template emplace<StatusCoroutine>(std::move(f));
    }
  }

  // The callable, of one of the three kinds. A coroutine's frame refers to
  // it (a lambda's captures): whoever spawns the coroutine keeps this
  // object alive until it is done.
  const std::variant<Plain, VoidCoroutine, StatusCoroutine>& callable() const {
    return callable_;
  }

 private:
  std::variant<Plain, VoidCoroutine, StatusCoroutine> callable_;
};

// An error the server reports (asyncio: the loop's exception handler
// context).
struct ServerError {
  std::string message;  // "Unhandled exception in client_connected_cb", ...
  absl::Status error;
  std::shared_ptr<Transport> transport;  // null for accept errors
};

// MakeClientConnectedCallback()
//
// The StreamReaderProtocol callback a Server gives each connection, for a
// protocol made by hand (over a transport of your own): it calls
// `client_connected` with the reader and writer the protocol made; a
// coroutine is spawned on the reader's executor (asyncio: wrapped in a
// task). When the callback throws, or the coroutine throws or returns an
// error, `report` gets ServerError{"Unhandled exception in
// client_connected_cb", the error, the transport}, then the transport is
// closed (3.11.7's done callback: call_exception_handler, then
// transport.close()). A callback that succeeds closes nothing.
//
// Threads: the reader's executor. Memory: the callable, shared by every
// connection's callback; a coroutine's frame until it ends.
StreamReaderProtocol::ClientConnectedCallback MakeClientConnectedCallback(
    ClientConnected client_connected, std::function<void(ServerError)> report);

// asyncio.start_server()'s arguments that make sense in C++.
struct ServerOptions {
  // Each connection's reader limit (asyncio: limit).
  int64_t limit = StreamReader::kDefaultLimit;
  // The reader's options beyond 3.11.7 (see ReaderOptions in
  // stream_reader.h); the defaults are 3.11.7's.
  OverlongLine overlong_line = OverlongLine::kAsyncio;
  bool cancel_safe_read_all = false;
  // TLS when set. Not owned: it must outlive the server and its connections.
  boost::asio::ssl::context* ssl = nullptr;
  std::chrono::milliseconds ssl_handshake_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds ssl_shutdown_timeout = std::chrono::seconds(30);
  // listen()'s backlog, which is also how many connections the server
  // accepts at most per readiness of a listening socket (asyncio's
  // _accept_connection); TCP: SO_REUSEADDR (asyncio's default on POSIX),
  // SO_REUSEPORT.
  int backlog = 100;
  bool reuse_address = true;
  bool reuse_port = false;
  // Accept at once; else after Server::StartServing().
  bool start_serving = true;
  // Where errors go; default: one line on stderr.
  std::function<void(const ServerError&)> exception_handler;
  net::TransportOptions transport;
};

class Server : public std::enable_shared_from_this<Server> {
 public:
  using executor_type = boost::asio::any_io_executor;

  executor_type get_executor() const { return executor_; }

  // Server::Close()
  //
  // Stops listening; connections already accepted go on (CPython 3.11).
  void Close();

  // Server::CloseClients(), Server::AbortClients()
  //
  // Extension (asyncio 3.13): Close() / Abort() every live connection. From
  // any thread: each connection's transport is called on its own executor,
  // at once where this thread runs it, else as soon as it runs.
  void CloseClients();
  void AbortClients();

  // Server::StartServing()
  //
  // Starts accepting (when created with start_serving = false).
  void StartServing();

  bool IsServing() const { return serving_; }

  // The addresses listened on (TCP servers), with the ports bound.
  const std::vector<boost::asio::ip::tcp::endpoint>& endpoints() const {
    return endpoints_;
  }
  // The socket path (Unix servers).
  const std::string& unix_path() const { return unix_path_; }
  // Connections not yet lost.
  size_t active_connections() const { return active_; }

  // Server::AsyncWaitClosed()
  //
  // CPython 3.11.7's wait_closed(): completes at once when Close() was
  // already called (3.11 behaviour); otherwise once Close() is called and
  // every connection is lost.
  //
  // Completion: void(absl::Status). Never inside this call (a posted step
  //   even when Close() was already called).
  // Errors: none: always OK, unless cancelled (kCancelled).
  // Cancellation: terminal, partial, total (all types).
  // Concurrency: any number may wait; all complete together. On the
  //   server's executor only.
  template <boost::asio::completion_token_for<void(absl::Status)>
                CompletionToken = boost::asio::deferred_t>
  auto AsyncWaitClosed(CompletionToken&& token = boost::asio::deferred_t{}) {
    return boost::asio::async_initiate<CompletionToken, void(absl::Status)>(
        [self = shared_from_this()](auto handler) {
          self->StartWaitClosed(
              internal::StatusOperation::Handler(std::move(handler)));
        },
        token);
  }

  // Server::AsyncServeForever()
  //
  // Starts accepting (if not yet) and waits until cancelled; on
  // cancellation closes the server (as Close()) and completes. asyncio:
  // Server.serve_forever() of CPython 3.11.7, including that a Close()
  // while it waits ends it with kCancelled too, and that it does not wait
  // for the connections (3.11.7's wait_closed() returns at once once the
  // server is closed): for that, AsyncShutdown().
  //
  // Example: serve until the signal set fires.
  //
  //   co_await (server->AsyncServeForever(asio::use_awaitable) ||
  //             signals.async_wait(asio::use_awaitable));
  //
  // Completion: void(absl::Status). Never inside this call.
  // Errors: kCancelled once cancelled or closed (it never completes OK);
  //   kFailedPrecondition RuntimeError "server is already being awaited on
  //   serve_forever()" / "server is closed".
  // Cancellation: terminal, partial, total (all types): the server closes;
  //   open connections go on.
  // Concurrency: one at a time per server. On the server's executor only.
  template <boost::asio::completion_token_for<void(absl::Status)>
                CompletionToken = boost::asio::deferred_t>
  auto AsyncServeForever(CompletionToken&& token = boost::asio::deferred_t{}) {
    return boost::asio::async_initiate<CompletionToken, void(absl::Status)>(
        [self = shared_from_this()](auto handler) {
          self->StartServeForever(
              internal::StatusOperation::Handler(std::move(handler)));
        },
        token);
  }

  // What AsyncShutdown() did to the connections open when it started.
  struct ShutdownReport {
    size_t finished = 0;  // lost within the grace period
    size_t aborted = 0;   // still open at its end: aborted
  };

  // Server::AsyncShutdown()
  //
  // Extension: a graceful shutdown. Stops accepting (Close()), gives the
  // open connections `grace` to end on their own (their callbacks close
  // their writers, or the peers leave), then aborts the rest (as
  // AbortClients()) and waits until they are lost too. Call CloseClients()
  // first to ask every connection to close after its writes are flushed.
  //
  // Example:
  //
  //   absl::StatusOr<streams::Server::ShutdownReport> report =
  //       co_await server->AsyncShutdown(std::chrono::seconds(5));
  //
  // Completion: void(absl::StatusOr<ShutdownReport>). Never inside this
  //   call.
  // Errors: kCancelled when cancelled.
  // Cancellation: terminal (a coroutine: Asio's co_spawn passes terminal
  //   only): it stops waiting; the server stays closed and the connections
  //   not yet aborted go on.
  // Concurrency: any number; on the server's executor only. Memory: a timer.
  template <
      boost::asio::completion_token_for<void(absl::StatusOr<ShutdownReport>)>
          CompletionToken = boost::asio::deferred_t>
  auto AsyncShutdown(std::chrono::milliseconds grace,
                     CompletionToken&& token = boost::asio::deferred_t{}) {
    return boost::asio::async_initiate<CompletionToken,
                                       void(absl::StatusOr<ShutdownReport>)>(
        [self = shared_from_this(), grace](auto handler) {
          self->StartShutdown(grace, ShutdownHandler(std::move(handler)));
        },
        token);
  }

  // Use AsyncStartServer() / AsyncStartUnixServer().
  Server(const executor_type& executor, ClientConnected callback,
         ServerOptions options);
  ~Server();

 private:
  friend class ServerAccess;
  struct Listener;
  class ShutdownHook;

  using ShutdownHandler =
      boost::asio::any_completion_handler<void(absl::StatusOr<ShutdownReport>)>;
  class ServeForeverOperation;

  void StartWaitClosed(internal::StatusOperation::Handler handler);
  void StartServeForever(internal::StatusOperation::Handler handler);
  void StartShutdown(std::chrono::milliseconds grace, ShutdownHandler handler);
  void Accept(size_t listener);
  void AcceptReady(size_t listener);
  void OnAccepted(size_t listener, boost::system::error_code error);
  void Report(ServerError error) const;
  // A connection's transport, from its strand, before its callback runs.
  void Register(const std::shared_ptr<Transport>& transport,
                const boost::asio::any_io_executor& executor);
  // Calls Close() or Abort() on every live connection, on its executor.
  void ForEachClient(void (Transport::*call)());
  void ConnectionLost();
  void Wakeup();

  executor_type executor_;
  ClientConnected callback_;
  ServerOptions options_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<boost::asio::ip::tcp::endpoint> endpoints_;
  std::string unix_path_;
  bool serving_ = false;
  bool closed_ = false;
  size_t active_ = 0;
  // Registered from each connection's strand, read from anywhere.
  struct Client {
    std::weak_ptr<Transport> transport;
    boost::asio::any_io_executor executor;  // the connection's strand
  };
  std::mutex clients_mutex_;
  std::vector<Client> clients_;
  std::shared_ptr<internal::Future> closed_waiter_ =
      std::make_shared<internal::Future>();
  // AsyncServeForever()'s future (asyncio: _serving_forever_fut), if one
  // waits.
  std::shared_ptr<internal::Future> serving_forever_;
  // AsyncShutdown()s waiting for the last connection: cancelled then.
  std::vector<std::weak_ptr<boost::asio::steady_timer>> all_lost_waiters_;
  // Frees the listening sockets and breaks reference cycles (a coroutine in
  // AsyncWaitClosed() owning the server) when the execution context shuts
  // down; the server may outlive it, but does nothing after.
  std::unique_ptr<ShutdownHook> shutdown_hook_;
};

namespace internal {
using ServerHandler = boost::asio::any_completion_handler<void(
    absl::StatusOr<std::shared_ptr<Server>>)>;
void StartServer(const boost::asio::any_io_executor& executor,
                 ClientConnected callback, std::vector<std::string> hosts,
                 std::string port, ServerOptions options,
                 ServerHandler handler);
void StartUnixServer(const boost::asio::any_io_executor& executor,
                     ClientConnected callback, std::string path,
                     ServerOptions options, ServerHandler handler);
}  // namespace internal

// AsyncStartServer()
//
// Listens on every address `hosts` resolve to (IPv4 and IPv6; empty: all
// interfaces) at `port` ("0": a free port each; see Server::endpoints()),
// and serves: `callback` runs as its own coroutine for each connection.
// asyncio: start_server().
//
// Completion: void(absl::StatusOr<std::shared_ptr<Server>>): the server,
//   serving unless options.start_serving is false. Never inside this call.
// Errors: kInvalidArgument ValueError (limit <= 0); kNotFound gaierror
//   (resolver); kUnavailable OSError "[Errno 98] error while attempting to
//   bind on address ('127.0.0.1', 8888): address already in use" and other
//   OSErrors.
// Cancellation: terminal (the operation is a coroutine: Asio's co_spawn
//   passes terminal cancellation only): the resolve it waits on stops, and
//   it completes with that error. Once it completed, close the server.
// Concurrency: any number may run at once; call from a thread that may use
//   `executor`.
template <boost::asio::completion_token_for<
              void(absl::StatusOr<std::shared_ptr<Server>>)>
              CompletionToken = boost::asio::deferred_t>
auto AsyncStartServer(const boost::asio::any_io_executor& executor,
                      ClientConnected callback, std::vector<std::string> hosts,
                      std::string port, ServerOptions options,
                      CompletionToken&& token = boost::asio::deferred_t{}) {
  return boost::asio::async_initiate<
      CompletionToken, void(absl::StatusOr<std::shared_ptr<Server>>)>(
      [](auto handler, const boost::asio::any_io_executor& executor,
         ClientConnected callback, std::vector<std::string> hosts,
         std::string port, ServerOptions options) {
        internal::StartServer(executor, std::move(callback), std::move(hosts),
                              std::move(port), std::move(options),
                              internal::ServerHandler(std::move(handler)));
      },
      token, executor, std::move(callback), std::move(hosts), std::move(port),
      std::move(options));
}

template <boost::asio::completion_token_for<
              void(absl::StatusOr<std::shared_ptr<Server>>)>
              CompletionToken = boost::asio::deferred_t>
auto AsyncStartServer(const boost::asio::any_io_executor& executor,
                      ClientConnected callback, std::string host, uint16_t port,
                      ServerOptions options,
                      CompletionToken&& token = boost::asio::deferred_t{}) {
  std::vector<std::string> hosts;
  if (!host.empty()) hosts.push_back(std::move(host));
  return AsyncStartServer(executor, std::move(callback), std::move(hosts),
                          std::to_string(port), std::move(options),
                          std::forward<CompletionToken>(token));
}

// Without options: the defaults. (Options are never a `= {}` default
// argument; see StartTlsOptions in stream_writer.h for why.)
template <typename Hosts, typename Port,
          boost::asio::completion_token_for<
              void(absl::StatusOr<std::shared_ptr<Server>>)>
              CompletionToken = boost::asio::deferred_t>
auto AsyncStartServer(const boost::asio::any_io_executor& executor,
                      ClientConnected callback, Hosts hosts, Port port,
                      CompletionToken&& token = boost::asio::deferred_t{}) {
  return AsyncStartServer(executor, std::move(callback), std::move(hosts),
                          std::move(port), ServerOptions(),
                          std::forward<CompletionToken>(token));
}

// AsyncStartUnixServer()
//
// Listens on the Unix-domain socket `path` (a stale socket file there is
// removed first, as asyncio does), and serves as AsyncStartServer().
// asyncio: start_unix_server().
//
// Completion: void(absl::StatusOr<std::shared_ptr<Server>>): the server,
//   serving unless options.start_serving is false. Never inside this call.
// Errors: kInvalidArgument ValueError (limit <= 0); the OSErrors of
//   socket(), bind() and listen(), as asyncio raises them: kNotFound
//   FileNotFoundError (a missing directory), kPermissionDenied
//   PermissionError, kUnavailable OSError (e.g. a path too long).
// Cancellation: terminal accepted, but nothing in it waits: it completes
//   once the socket is bound. Once it completed, close the server.
// Concurrency: any number may run at once; call from a thread that may use
//   `executor`.
template <boost::asio::completion_token_for<
              void(absl::StatusOr<std::shared_ptr<Server>>)>
              CompletionToken = boost::asio::deferred_t>
auto AsyncStartUnixServer(const boost::asio::any_io_executor& executor,
                          ClientConnected callback, std::string path,
                          ServerOptions options,
                          CompletionToken&& token = boost::asio::deferred_t{}) {
  return boost::asio::async_initiate<
      CompletionToken, void(absl::StatusOr<std::shared_ptr<Server>>)>(
      [](auto handler, const boost::asio::any_io_executor& executor,
         ClientConnected callback, std::string path, ServerOptions options) {
        internal::StartUnixServer(executor, std::move(callback),
                                  std::move(path), std::move(options),
                                  internal::ServerHandler(std::move(handler)));
      },
      token, executor, std::move(callback), std::move(path),
      std::move(options));
}

template <boost::asio::completion_token_for<
              void(absl::StatusOr<std::shared_ptr<Server>>)>
              CompletionToken = boost::asio::deferred_t>
auto AsyncStartUnixServer(const boost::asio::any_io_executor& executor,
                          ClientConnected callback, std::string path,
                          CompletionToken&& token = boost::asio::deferred_t{}) {
  return AsyncStartUnixServer(executor, std::move(callback), std::move(path),
                              ServerOptions(),
                              std::forward<CompletionToken>(token));
}

}  // namespace streams

#endif  // STREAMS_NET_SERVER_H_
