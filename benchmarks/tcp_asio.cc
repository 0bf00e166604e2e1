// Loopback TCP benchmark, raw Boost.Asio implementation: the bar //streams is
// measured against. Coroutines with asio::as_tuple(asio::use_awaitable) (no
// exceptions), async_read_until over a dynamic_buffer bounded at 64 KiB
// (asyncio's default limit), async_write, TCP_NODELAY on every socket.
// tcp_common.h has the command line and the cases.
//
//   tcp_asio --role=server --case=pingpong --port=0   # prints its port
//   tcp_asio --role=client --case=pingpong --port=N --duration=2

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "benchmarks/tcp_common.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/buffer.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read_until.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/this_coro.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"

namespace {

namespace asio = ::boost::asio;
using asio::ip::tcp;
using benchmarks::Case;
using benchmarks::ClientState;
using benchmarks::Flags;
using benchmarks::Seconds;

constexpr char kImplementation[] = "asio";
constexpr auto kAwaitable = asio::as_tuple(asio::use_awaitable);

absl::Status ToStatus(const boost::system::error_code& error,
                      absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", error.message()));
}

// ---------------------------------------------------------------------------
// Server.
// ---------------------------------------------------------------------------

struct ServerState {
  ServerState(const Flags& flags, asio::io_context& context)
      : flags(flags),
        stats(flags),
        context(context),
        acceptor(context),
        settle(context) {}

  const Flags& flags;
  benchmarks::ServerStats stats;
  asio::io_context& context;
  tcp::acceptor acceptor;
  asio::steady_timer settle;
  int64_t rss_before_kib = 0;
  bool reported = false;
  int exit_code = 1;

  void Stop() { context.stop(); }
};

void ReportIdleSoon(ServerState* state) {
  state->settle.expires_after(std::chrono::milliseconds(200));
  state->settle.async_wait([state](boost::system::error_code error) {
    if (error) return;
    benchmarks::PrintIdle(kImplementation, state->flags, state->rss_before_kib,
                          benchmarks::VmRssKib(), state->stats.accepted());
    state->reported = true;
    state->exit_code = 0;
    state->Stop();
  });
}

asio::awaitable<void> Serve(ServerState* state, tcp::socket socket) {
  state->stats.Accepted();
  boost::system::error_code error;
  socket.set_option(tcp::no_delay(true), error);
  if (state->flags.bench_case == Case::kIdle && state->stats.all_accepted()) {
    ReportIdleSoon(state);
  }
  if (state->flags.bench_case == Case::kBulk) {
    const size_t size = state->flags.read_bytes > 0
                            ? static_cast<size_t>(state->flags.read_bytes)
                            : benchmarks::kBulkChunk;
    auto buffer = std::make_unique<char[]>(size);
    while (true) {
      auto [read_error, n] = co_await socket.async_read_some(
          asio::buffer(buffer.get(), size), kAwaitable);
      if (read_error) break;
      state->stats.Count(0, static_cast<int64_t>(n));
    }
  } else {
    std::string buffer;
    while (true) {
      auto [read_error, n] = co_await asio::async_read_until(
          socket, asio::dynamic_buffer(buffer, benchmarks::kLimit), '\n',
          kAwaitable);
      if (read_error) break;
      auto [write_error, written] = co_await asio::async_write(
          socket, asio::buffer(buffer.data(), n), kAwaitable);
      if (write_error) break;
      buffer.erase(0, n);
      state->stats.Count(1, static_cast<int64_t>(n));
    }
  }
  socket.close(error);
  if (state->flags.bench_case != Case::kIdle && state->stats.Finished() &&
      !state->reported) {
    state->stats.Print(kImplementation);
    state->reported = true;
    state->exit_code = 0;
    state->Stop();
  }
}

asio::awaitable<void> Accept(ServerState* state) {
  for (int i = 0; i < state->flags.connections; ++i) {
    auto [error, socket] = co_await state->acceptor.async_accept(kAwaitable);
    if (error) {
      std::fprintf(stderr, "server: accept: %s\n", error.message().c_str());
      state->Stop();
      co_return;
    }
    asio::co_spawn(state->context, Serve(state, std::move(socket)),
                   asio::detached);
  }
}

int RunServer(const Flags& flags) {
  asio::io_context context(1);
  ServerState state(flags, context);
  asio::steady_timer deadline(context, Seconds(flags.timeout_s));
  deadline.async_wait([&state](boost::system::error_code error) {
    if (error) return;
    std::fprintf(stderr, "server: timed out\n");
    state.Stop();
  });
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), flags.port);
  boost::system::error_code error;
  state.acceptor.open(endpoint.protocol(), error);
  if (!error) {
    state.acceptor.set_option(asio::socket_base::reuse_address(true), error);
  }
  if (!error) state.acceptor.bind(endpoint, error);
  if (!error)
    state.acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    std::fprintf(stderr, "server: listen: %s\n", error.message().c_str());
    return 1;
  }
  state.rss_before_kib = benchmarks::VmRssKib();
  benchmarks::PrintListening(state.acceptor.local_endpoint().port());
  asio::co_spawn(context, Accept(&state), asio::detached);
  context.run();
  return state.exit_code;
}

// ---------------------------------------------------------------------------
// Client.
// ---------------------------------------------------------------------------

asio::awaitable<void> PingPong(ClientState* state, tcp::socket socket) {
  std::string buffer;
  while (!state->stop && state->ops < state->flags.count) {
    auto [write_error, written] = co_await asio::async_write(
        socket,
        asio::buffer(benchmarks::kLine.data(), benchmarks::kLine.size()),
        kAwaitable);
    if (write_error) {
      state->Fail(ToStatus(write_error, "write"));
      break;
    }
    auto [read_error, n] = co_await asio::async_read_until(
        socket, asio::dynamic_buffer(buffer, benchmarks::kLimit), '\n',
        kAwaitable);
    if (read_error) {
      state->Fail(ToStatus(read_error, "read"));
      break;
    }
    if (absl::string_view(buffer.data(), n) != benchmarks::kLine) {
      state->Fail(absl::DataLossError("the echoed line differs"));
      break;
    }
    buffer.erase(0, n);
    ++state->ops;
  }
  boost::system::error_code error;
  socket.close(error);
  state->ConnectionDone();
}

asio::awaitable<void> Bulk(ClientState* state, tcp::socket socket) {
  const std::string chunk(benchmarks::kBulkChunk, 'b');
  while (!state->stop && state->bytes < state->flags.bytes) {
    auto [error, written] =
        co_await asio::async_write(socket, asio::buffer(chunk), kAwaitable);
    if (error) {
      state->Fail(ToStatus(error, "write"));
      break;
    }
    state->bytes += static_cast<int64_t>(written);
    ++state->ops;
  }
  boost::system::error_code error;
  socket.shutdown(tcp::socket::shutdown_send, error);
  // The server closes once it has read everything: then the bytes are there.
  char byte;
  auto [read_error, n] =
      co_await socket.async_read_some(asio::buffer(&byte, 1), kAwaitable);
  if (read_error != asio::error::eof) {
    state->Fail(ToStatus(read_error, "expected EOF"));
  }
  socket.close(error);
  state->ConnectionDone();
}

asio::awaitable<void> Idle(ClientState* state, tcp::socket socket) {
  // Until the server, having measured, closes the connection.
  char byte;
  auto [error, n] =
      co_await socket.async_read_some(asio::buffer(&byte, 1), kAwaitable);
  (void)error;  // EOF or a reset: either ends the hold.
  ++state->ops;
  socket.close(error);
  state->ConnectionDone();
}

asio::awaitable<void> RunClientConnections(ClientState* state) {
  auto executor = co_await asio::this_coro::executor;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"),
                               state->flags.port);
  std::vector<tcp::socket> sockets;
  sockets.reserve(state->flags.connections);
  for (int i = 0; i < state->flags.connections; ++i) {
    tcp::socket socket(executor);
    auto [error] = co_await socket.async_connect(endpoint, kAwaitable);
    if (error) {
      state->Fail(ToStatus(error, "connect"));
      state->context.stop();
      co_return;
    }
    socket.set_option(tcp::no_delay(true), error);
    sockets.push_back(std::move(socket));
  }
  state->Start(static_cast<int>(sockets.size()));
  for (tcp::socket& socket : sockets) {
    auto run = state->flags.bench_case == Case::kBulk   ? Bulk
               : state->flags.bench_case == Case::kIdle ? Idle
                                                        : PingPong;
    asio::co_spawn(executor, run(state, std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<Flags> flags = benchmarks::ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr, "%s\n", flags.status().ToString().c_str());
    return 2;
  }
  benchmarks::RaiseNofileLimit();
  if (flags->role == benchmarks::Role::kServer) return RunServer(*flags);
  return benchmarks::RunClient(kImplementation, *flags, RunClientConnections);
}
