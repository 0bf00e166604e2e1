#include "streams/net/server.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <iostream>
#include <optional>
#include <utility>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/append.hpp"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/associated_cancellation_slot.hpp"
#include "boost/asio/bind_cancellation_slot.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/ip/v6_only.hpp"
#include "boost/asio/local/stream_protocol.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "streams/errors.h"
#include "streams/internal/access.h"
#include "streams/net/connect.h"
#include "streams/net/connection_setup.h"
#include "streams/net/internal/shutdown_service.h"
#include "streams/net/internal/strand.h"
#include "streams/net/numeric_host.h"
#include "streams/net/spawn.h"
#include "streams/stream_reader_protocol.h"

namespace streams {

namespace asio = ::boost::asio;

using asio::ip::tcp;
using asio::local::stream_protocol;

namespace {

// asyncio's done callback of the client_connected_cb task: report, then
// close the transport.
void ReportAndClose(const std::function<void(ServerError)>& report,
                    StreamWriter& keeper, absl::Status error) {
  report(ServerError{"Unhandled exception in client_connected_cb",
                     std::move(error), keeper.transport()});
  keeper.Close();
}

}  // namespace

// A second handle on the writer (`keeper`) outlives the callback's, so a
// failing callback reads as in asyncio (the error, then the close) with no
// "unclosed writer" warning; after a callback that succeeds, the keeper is
// the last handle and behaves as asyncio's StreamWriter.__del__.
StreamReaderProtocol::ClientConnectedCallback MakeClientConnectedCallback(
    ClientConnected client_connected, std::function<void(ServerError)> report) {
  auto callback =
      std::make_shared<const ClientConnected>(std::move(client_connected));
  return [callback, report = std::move(report)](StreamReader reader,
                                                StreamWriter writer) {
    StreamWriter keeper = streams::internal::Access::ShareWriter(writer);
    const auto& callable = callback->callable();
    if (const auto* plain = std::get_if<ClientConnected::Plain>(&callable)) {
      try {
        (*plain)(std::move(reader), std::move(writer));
      } catch (...) {
        ReportAndClose(report, keeper,
                       net::ExceptionStatus(std::current_exception()));
      }
      return;
    }
    const asio::any_io_executor executor = reader.get_executor();
    // The user's coroutine itself, no frame of ours around it; the
    // completion handler keeps `callback` (the callable the coroutine's
    // frame refers to) alive until it is done.
    auto done = [callback, report, keeper = std::move(keeper)](
                    std::exception_ptr error, absl::Status status) mutable {
      if (error) status = net::ExceptionStatus(error);
      if (!status.ok()) ReportAndClose(report, keeper, std::move(status));
    };
    if (const auto* coroutine =
            std::get_if<ClientConnected::VoidCoroutine>(&callable)) {
      asio::co_spawn(
          executor, (*coroutine)(std::move(reader), std::move(writer)),
          [done = std::move(done)](std::exception_ptr error) mutable {
            done(error, absl::OkStatus());
          });
      return;
    }
    asio::co_spawn(executor,
                   std::get<ClientConnected::StatusCoroutine>(callable)(
                       std::move(reader), std::move(writer)),
                   std::move(done));
  };
}

struct Server::Listener {
  std::optional<tcp::acceptor> tcp_acceptor;
  std::optional<stream_protocol::acceptor> unix_acceptor;
  bool accepting = false;
};

namespace {

// The server side of a connection: tells the server when it is lost
// (asyncio: Server._detach).
class ServerProtocol : public StreamReaderProtocol {
 public:
  ServerProtocol(const StreamReader& reader, ClientConnectedCallback callback,
                 std::function<void(const std::shared_ptr<Transport>&)> on_made,
                 std::function<void()> on_lost)
      : StreamReaderProtocol(reader, std::move(callback)),
        on_made_(std::move(on_made)),
        on_lost_(std::move(on_lost)) {}

  // The server learns of the transport before the client-connected
  // callback (which the base's ConnectionMade() runs) starts, so a
  // CloseClients() from anywhere after that sees this connection.
  absl::Status ConnectionMade(std::shared_ptr<Transport> transport) override {
    if (on_made_) std::exchange(on_made_, nullptr)(transport);
    return StreamReaderProtocol::ConnectionMade(std::move(transport));
  }

  void ConnectionLost(absl::Status exception) override {
    StreamReaderProtocol::ConnectionLost(std::move(exception));
    if (on_lost_) std::exchange(on_lost_, nullptr)();
  }

 private:
  std::function<void(const std::shared_ptr<Transport>&)> on_made_;
  std::function<void()> on_lost_;
};

// asyncio: OSError(err.errno, 'error while attempting to bind on address
// %r: %s' % (sa, err.strerror.lower())).
absl::Status BindError(const boost::system::error_code& error,
                       const std::string& address) {
  return OsError(error, absl::StrCat("[Errno ", error.value(),
                                     "] error while attempting to bind on "
                                     "address ",
                                     address, ": ",
                                     absl::AsciiStrToLower(error.message())));
}

}  // namespace

// Server internals used by the free functions below.
class ServerAccess {
 public:
  static asio::awaitable<absl::StatusOr<std::shared_ptr<Server>>> StartTcp(
      std::shared_ptr<Server> server, std::vector<std::string> hosts,
      std::string port) {
    const asio::any_io_executor executor = server->executor_;
    std::vector<tcp::endpoint> endpoints;
    if (hosts.empty()) {
      // All interfaces, both families (asyncio: host None).
      uint32_t number = 0;
      if (!absl::SimpleAtoi(port, &number) || number > 65535) {
        co_return MakeError(ErrorKind::kGaiError,
                            "[Errno -8] Servname not supported for "
                            "ai_socktype");
      }
      endpoints = {tcp::endpoint(tcp::v4(), static_cast<uint16_t>(number)),
                   tcp::endpoint(tcp::v6(), static_cast<uint16_t>(number))};
    }
    auto add = [&endpoints](const tcp::endpoint& endpoint) {
      if (std::find(endpoints.begin(), endpoints.end(), endpoint) ==
          endpoints.end()) {
        endpoints.push_back(endpoint);
      }
    };
    // Made for the first host name only: Asio resolves on a thread of its
    // own, started with the first resolve.
    std::optional<tcp::resolver> resolver;
    for (const std::string& host : hosts) {
      // asyncio: _ensure_resolved() skips getaddrinfo() for an IP address.
      if (std::optional<tcp::endpoint> numeric =
              net::NumericEndpoint(host, port)) {
        add(*numeric);
        continue;
      }
      if (!resolver) resolver.emplace(executor);
      auto [error, results] =
          co_await resolver->async_resolve(host, port, tcp::resolver::passive,
                                           asio::as_tuple(asio::use_awaitable));
      if (error) co_return net::ResolverError(error);
      for (const auto& entry : results) add(entry.endpoint());
    }
    const ServerOptions& options = server->options_;
    for (const tcp::endpoint& endpoint : endpoints) {
      auto listener = std::make_unique<Server::Listener>();
      tcp::acceptor& acceptor = listener->tcp_acceptor.emplace(executor);
      boost::system::error_code error;
      acceptor.open(endpoint.protocol(), error);
      if (error) co_return OsError(error);
      if (options.reuse_address) {
        acceptor.set_option(asio::socket_base::reuse_address(true), error);
      }
      if (options.reuse_port) {
        using ReusePort =
            asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
        acceptor.set_option(ReusePort(true), error);
      }
      if (endpoint.address().is_v6()) {
        // Listen on :: and 0.0.0.0 side by side (asyncio sets V6ONLY too).
        acceptor.set_option(asio::ip::v6_only(true), error);
      }
      acceptor.bind(endpoint, error);
      if (error) co_return BindError(error, net::PythonAddress(endpoint));
      acceptor.listen(options.backlog, error);
      if (error) co_return OsError(error);
      // AcceptReady() accepts until the queue is empty (asyncio sets the
      // listening socket non-blocking too).
      acceptor.non_blocking(true, error);
      if (error) co_return OsError(error);
      server->endpoints_.push_back(acceptor.local_endpoint(error));
      server->listeners_.push_back(std::move(listener));
    }
    if (options.start_serving) server->StartServing();
    co_return server;
  }

  static asio::awaitable<absl::StatusOr<std::shared_ptr<Server>>> StartUnix(
      std::shared_ptr<Server> server, std::string path) {
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
      co_return MakeError(ErrorKind::kOSError, "AF_UNIX path too long");
    }
    // asyncio removes a stale socket file (only a socket) first.
    struct stat info;
    if (!path.empty() && path[0] != '\0' && ::stat(path.c_str(), &info) == 0 &&
        S_ISSOCK(info.st_mode)) {
      ::unlink(path.c_str());
    }
    auto listener = std::make_unique<Server::Listener>();
    stream_protocol::acceptor& acceptor =
        listener->unix_acceptor.emplace(server->executor_);
    boost::system::error_code error;
    acceptor.open(stream_protocol(), error);
    if (!error) acceptor.bind(stream_protocol::endpoint(path), error);
    if (error) co_return BindError(error, absl::StrCat("'", path, "'"));
    acceptor.listen(server->options_.backlog, error);
    if (!error) acceptor.non_blocking(true, error);
    if (error) co_return OsError(error);
    server->unix_path_ = path;
    server->listeners_.push_back(std::move(listener));
    if (server->options_.start_serving) server->StartServing();
    co_return server;
  }

  // A connection was accepted: TLS handshake (if any), then the transport,
  // whose ConnectionMade() calls the client-connected callback.
  template <typename Socket>
  static void Serve(const std::shared_ptr<Server>& server, Socket socket) {
    const asio::any_io_executor executor = socket.get_executor();
    ++server->active_;
    std::weak_ptr<Server> weak = server;
    auto on_lost = [weak] {
      if (std::shared_ptr<Server> server = weak.lock()) {
        asio::post(server->executor_, [server] { server->ConnectionLost(); });
      }
    };
    ReaderOptions reader_options;
    reader_options.limit = server->options_.limit;
    reader_options.overlong_line = server->options_.overlong_line;
    reader_options.cancel_safe_read_all = server->options_.cancel_safe_read_all;
    StreamReader reader = *StreamReader::Create(executor, reader_options);
    auto on_made = [weak,
                    executor](const std::shared_ptr<Transport>& transport) {
      if (std::shared_ptr<Server> server = weak.lock()) {
        server->Register(transport, executor);
      }
    };
    auto protocol = std::make_shared<ServerProtocol>(
        reader, ClientCallback(server), on_made, on_lost);
    net::TransportOptions transport_options = server->options_.transport;
    transport_options.tls_shutdown_timeout =
        server->options_.ssl_shutdown_timeout;
    if (server->options_.ssl == nullptr) {
      // No handshake to await: the transport starts on the connection's
      // executor (at once when that is the running one), without the two
      // coroutine frames and the posted completion of a co_spawn, which a
      // burst of accepts would otherwise hold at once for every connection.
      asio::dispatch(
          executor, [socket = std::move(socket), protocol = std::move(protocol),
                     transport_options]() mutable {
            net::StartSocketTransport(std::move(socket), std::move(protocol),
                                      transport_options);
          });
      return;
    }
    asio::co_spawn(
        executor,
        net::EstablishTlsServer(
            std::move(socket), protocol, server->options_.ssl,
            server->options_.ssl_handshake_timeout, transport_options),
        [weak, on_lost](std::exception_ptr error,
                        absl::StatusOr<std::shared_ptr<Transport>> transport) {
          if (error) transport = net::ExceptionStatus(error);
          std::shared_ptr<Server> server = weak.lock();
          if (!transport.ok()) {
            // asyncio logs a failed handshake and drops the connection.
            if (server != nullptr) {
              server->Report(
                  {"SSL handshake failed", transport.status(), nullptr});
            }
            return on_lost();
          }
        });
  }

  // The protocol's callback (MakeClientConnectedCallback()), reporting to
  // the server while it lives, else on stderr.
  static StreamReaderProtocol::ClientConnectedCallback ClientCallback(
      const std::shared_ptr<Server>& server) {
    std::weak_ptr<Server> weak = server;
    return MakeClientConnectedCallback(
        server->callback_, [weak](ServerError report) {
          if (std::shared_ptr<Server> server = weak.lock()) {
            server->Report(std::move(report));
          } else {
            std::cerr << report.message << ": " << report.error << "\n";
          }
        });
  }

  // The execution context shuts down: nothing runs again. The acceptors go
  // while the context's services exist; what could own the server (the
  // callback, the exception handler, coroutines waiting in
  // AsyncWaitClosed()) is dropped, those coroutines destroyed uncalled.
  static void ContextShutdown(Server& server) {
    const std::shared_ptr<Server> self = server.weak_from_this().lock();
    server.serving_ = false;
    std::vector<std::unique_ptr<Server::Listener>> listeners =
        std::move(server.listeners_);
    server.listeners_.clear();
    server.executor_ = asio::any_io_executor();  // a strand: see ReaderCore
    std::vector<Server::Client> clients;  // their executors are strands too
    {
      std::lock_guard<std::mutex> lock(server.clients_mutex_);
      clients.swap(server.clients_);
    }
    ClientConnected callback = std::exchange(
        server.callback_, ClientConnected([](StreamReader, StreamWriter) {}));
    std::function<void(const ServerError&)> handler =
        std::move(server.options_.exception_handler);
    server.options_.exception_handler = nullptr;
    std::shared_ptr<internal::Future> closed_waiter = std::exchange(
        server.closed_waiter_, std::make_shared<internal::Future>());
    std::shared_ptr<internal::Future> serving_forever =
        std::exchange(server.serving_forever_, nullptr);
    server.all_lost_waiters_.clear();
  }
};

class Server::ShutdownHook final : public net::internal::ShutdownListener {
 public:
  ShutdownHook(const asio::any_io_executor& executor, Server& server)
      : net::internal::ShutdownListener(executor), server_(server) {}
  void ContextShutdown() override { ServerAccess::ContextShutdown(server_); }

 private:
  Server& server_;
};

Server::Server(const executor_type& executor, ClientConnected callback,
               ServerOptions options)
    : executor_(executor),
      callback_(std::move(callback)),
      options_(std::move(options)),
      shutdown_hook_(std::make_unique<ShutdownHook>(executor, *this)) {}

Server::~Server() {
  for (const auto& listener : listeners_) {
    boost::system::error_code ignored;
    if (listener->tcp_acceptor) listener->tcp_acceptor->close(ignored);
    if (listener->unix_acceptor) listener->unix_acceptor->close(ignored);
  }
}

void Server::StartServing() {
  if (serving_ || closed_) return;
  serving_ = true;
  for (size_t i = 0; i < listeners_.size(); ++i) Accept(i);
}

void Server::Accept(size_t index) {
  Listener& listener = *listeners_[index];
  if (!serving_ || listener.accepting) return;
  listener.accepting = true;
  // asyncio: the selector's reader callback on the listening socket.
  auto ready = [self = shared_from_this(),
                index](boost::system::error_code error) {
    self->listeners_[index]->accepting = false;
    if (error) return self->OnAccepted(index, error);
    self->AcceptReady(index);
  };
  if (listener.tcp_acceptor) {
    listener.tcp_acceptor->async_wait(tcp::acceptor::wait_read, ready);
  } else {
    listener.unix_acceptor->async_wait(stream_protocol::acceptor::wait_read,
                                       ready);
  }
}

// asyncio's _accept_connection(): up to `backlog` non-blocking accepts per
// readiness, stopping early once the queue is empty. One accept per
// completion would take a scheduler round trip per connection, so a burst
// of connects would drain the queue more slowly than asyncio does.
void Server::AcceptReady(size_t index) {
  Listener& listener = *listeners_[index];
  const int most = std::max(options_.backlog, 1);
  for (int i = 0; i < most && serving_; ++i) {
    // Each connection on its own strand; type-erased so the socket type is
    // the one the transport is instantiated for.
    const asio::any_io_executor connection_executor =
        internal::MakeStrand(executor_);
    boost::system::error_code error;
    if (listener.tcp_acceptor) {
      tcp::socket socket =
          listener.tcp_acceptor->accept(connection_executor, error);
      if (!error) {
        ServerAccess::Serve(shared_from_this(), std::move(socket));
        continue;
      }
    } else {
      stream_protocol::socket socket =
          listener.unix_acceptor->accept(connection_executor, error);
      if (!error) {
        ServerAccess::Serve(shared_from_this(), std::move(socket));
        continue;
      }
    }
    // asyncio: BlockingIOError, InterruptedError, ConnectionAbortedError end
    // this round early.
    if (error == asio::error::would_block || error == asio::error::try_again ||
        error == asio::error::interrupted ||
        error == asio::error::connection_aborted) {
      break;
    }
    if (error == asio::error::no_descriptors || error.value() == ENFILE ||
        error == asio::error::no_buffer_space ||
        error == asio::error::no_memory) {
      return OnAccepted(index, error);  // Retries in a second.
    }
    // asyncio lets other errors escape the callback: the loop logs them and
    // the next readiness tries again.
    Report({"Exception in callback _accept_connection()", OsError(error),
            nullptr});
    break;
  }
  Accept(index);
}

void Server::OnAccepted(size_t index, boost::system::error_code error) {
  if (error == asio::error::operation_aborted || !serving_) return;
  // asyncio logs the error and tries again a moment later (EMFILE, ENFILE,
  // ENOBUFS, ENOMEM; ACCEPT_RETRY_DELAY is 1 s).
  Report({"socket.accept() out of system resource", OsError(error), nullptr});
  auto timer = std::make_shared<asio::steady_timer>(executor_);
  timer->expires_after(std::chrono::seconds(1));
  timer->async_wait([self = shared_from_this(), timer, index](
                        boost::system::error_code) { self->Accept(index); });
}

void Server::Close() {
  if (closed_) return;
  closed_ = true;
  serving_ = false;
  // asyncio 3.11.7: close() cancels _serving_forever_fut.
  if (serving_forever_ != nullptr) serving_forever_->Cancel();
  for (const auto& listener : listeners_) {
    boost::system::error_code ignored;
    if (listener->tcp_acceptor) listener->tcp_acceptor->close(ignored);
    if (listener->unix_acceptor) listener->unix_acceptor->close(ignored);
  }
  if (active_ == 0) Wakeup();
}

void Server::Register(const std::shared_ptr<Transport>& transport,
                      const asio::any_io_executor& executor) {
  std::lock_guard<std::mutex> lock(clients_mutex_);
  clients_.erase(
      std::remove_if(clients_.begin(), clients_.end(),
                     [](const Client& c) { return c.transport.expired(); }),
      clients_.end());
  clients_.push_back({transport, executor});
}

void Server::ForEachClient(void (Transport::*call)()) {
  std::vector<Client> clients;
  {
    std::lock_guard<std::mutex> lock(clients_mutex_);
    clients = clients_;
  }
  for (Client& client : clients) {
    // A transport is called on its connection's executor only: inline when
    // this thread runs it already (asyncio's synchronous close), else posted.
    asio::dispatch(client.executor, [weak = std::move(client.transport), call] {
      if (std::shared_ptr<Transport> transport = weak.lock()) {
        ((*transport).*call)();
      }
    });
  }
}

void Server::CloseClients() { ForEachClient(&Transport::Close); }

void Server::AbortClients() { ForEachClient(&Transport::Abort); }

void Server::ConnectionLost() {
  --active_;
  if (active_ != 0) return;
  for (const auto& weak : std::exchange(all_lost_waiters_, {})) {
    if (std::shared_ptr<asio::steady_timer> waiter = weak.lock()) {
      waiter->cancel();
    }
  }
  if (closed_) Wakeup();
}

void Server::Wakeup() {
  if (!closed_waiter_->done()) closed_waiter_->SetResult();
}

void Server::StartWaitClosed(internal::StatusOperation::Handler handler) {
  if (closed_) {
    // CPython 3.11.7: `if self._sockets is None: return`.
    asio::post(executor_, asio::append(std::move(handler), absl::OkStatus()));
    return;
  }
  auto op = std::make_shared<internal::AwaitOperation>(
      executor_, std::move(handler), closed_waiter_);
  op->Start();
}

// asyncio 3.11.7: base_events.Server.serve_forever().
class Server::ServeForeverOperation final : public internal::StatusOperation {
 public:
  ServeForeverOperation(std::shared_ptr<Server> server, Handler handler)
      : StatusOperation(server->executor_, std::move(handler)),
        server_(std::move(server)) {}

 private:
  void Begin() override {
    Server& server = *server_;
    if (server.serving_forever_ != nullptr) {
      return Complete(
          RuntimeError("server is already being awaited on serve_forever()"));
    }
    if (server.closed_) return Complete(RuntimeError("server is closed"));
    server.StartServing();
    server.serving_forever_ = std::make_shared<internal::Future>();
    Await(server.serving_forever_);
  }

  // The future never gets a result: only a cancel (ours, or Close()'s)
  // wakes this. `except CancelledError: self.close(); await
  // self.wait_closed()` (which returns at once once closed), then raise.
  void Resume(absl::Status outcome) override {
    Server& server = *server_;
    server.serving_forever_ = nullptr;
    server.Close();
    Complete(outcome.ok() ? CancelledError() : std::move(outcome));
  }

  std::shared_ptr<Server> server_;
};

void Server::StartServeForever(internal::StatusOperation::Handler handler) {
  std::make_shared<ServeForeverOperation>(shared_from_this(),
                                          std::move(handler))
      ->Start();
}

namespace {

// Until every connection of the server is lost (`waiter` is cancelled
// then; null: none is open), or `deadline`: true when all were lost.
asio::awaitable<bool> AllLost(std::shared_ptr<asio::steady_timer> waiter,
                              asio::steady_timer* deadline) {
  using namespace asio::experimental::awaitable_operators;
  if (waiter == nullptr) co_return true;
  if (deadline == nullptr) {
    co_await waiter->async_wait(asio::as_tuple(asio::use_awaitable));
    co_return true;
  }
  auto which =
      co_await (waiter->async_wait(asio::as_tuple(asio::use_awaitable)) ||
                deadline->async_wait(asio::as_tuple(asio::use_awaitable)));
  co_return which.index() == 0;
}

}  // namespace

void Server::StartShutdown(std::chrono::milliseconds grace,
                           ShutdownHandler handler) {
  auto body = [](std::shared_ptr<Server> server,
                 std::chrono::milliseconds grace)
      -> asio::awaitable<absl::StatusOr<ShutdownReport>> {
    server->Close();
    ShutdownReport report;
    const size_t open = server->active_;
    auto wait = [&server](asio::steady_timer* deadline) {
      auto waiter = std::make_shared<asio::steady_timer>(
          server->executor_, asio::steady_timer::time_point::max());
      // A timer's cancel() reaches only waits already started.
      if (server->active_ == 0) waiter = nullptr;
      if (waiter != nullptr) server->all_lost_waiters_.push_back(waiter);
      return AllLost(std::move(waiter), deadline);
    };
    asio::steady_timer deadline(server->executor_, grace);
    if (!co_await wait(&deadline)) {
      report.aborted = server->active_;
      server->AbortClients();
      co_await wait(nullptr);
    }
    report.finished = open - report.aborted;
    co_return report;
  };
  net::Spawn(executor_, body(shared_from_this(), grace), std::move(handler));
}

void Server::Report(ServerError error) const {
  if (options_.exception_handler) return options_.exception_handler(error);
  std::cerr << "asyncio_streams server: " << error.message << ": "
            << error.error << "\n";
}

namespace internal {
namespace {

// asyncio builds a StreamReader per connection: a bad limit fails then. It
// is checked up front here.
bool BadLimit(const ServerOptions& options, ServerHandler& handler,
              const asio::any_io_executor& executor) {
  if (options.limit > 0) return false;
  asio::post(executor, asio::append(std::move(handler),
                                    absl::StatusOr<std::shared_ptr<Server>>(
                                        ValueError("Limit cannot be <= 0"))));
  return true;
}

}  // namespace

void StartServer(const asio::any_io_executor& executor,
                 ClientConnected callback, std::vector<std::string> hosts,
                 std::string port, ServerOptions options,
                 ServerHandler handler) {
  if (BadLimit(options, handler, executor)) return;
  auto server = std::make_shared<Server>(
      internal::MakeStrand(executor), std::move(callback), std::move(options));
  net::Spawn(server->get_executor(),
             ServerAccess::StartTcp(server, std::move(hosts), std::move(port)),
             std::move(handler));
}

void StartUnixServer(const asio::any_io_executor& executor,
                     ClientConnected callback, std::string path,
                     ServerOptions options, ServerHandler handler) {
  if (BadLimit(options, handler, executor)) return;
  auto server = std::make_shared<Server>(
      internal::MakeStrand(executor), std::move(callback), std::move(options));
  net::Spawn(server->get_executor(),
             ServerAccess::StartUnix(server, std::move(path)),
             std::move(handler));
}

}  // namespace internal
}  // namespace streams
