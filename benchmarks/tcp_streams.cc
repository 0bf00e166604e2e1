// Loopback TCP benchmark, //streams implementation: AsyncStartServer and
// AsyncOpenConnection, StreamReader reads, StreamWriter Write + AsyncDrain.
// tcp_asio.cc does the same with raw Boost.Asio, tcp_asyncio.py with
// CPython's asyncio; tcp_common.h has the command line and the cases.
//
//   tcp_streams --role=server --case=pingpong --port=0   # prints its port
//   tcp_streams --role=client --case=pingpong --port=N --duration=2

#include <any>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "benchmarks/tcp_common.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/this_coro.hpp"
#include "streams/errors.h"
#include "streams/net/open_connection.h"
#include "streams/net/server.h"
#include "streams/stream_reader.h"
#include "streams/stream_writer.h"

namespace {

namespace asio = ::boost::asio;
using benchmarks::Case;
using benchmarks::ClientState;
using benchmarks::Flags;
using benchmarks::Seconds;
using streams::StreamReader;
using streams::StreamWriter;

constexpr char kImplementation[] = "streams";

// asyncio sets TCP_NODELAY on its TCP transports; //streams leaves it to the
// caller, through the transport's "socket" (as with asyncio's
// get_extra_info('socket')).
absl::Status SetNoDelay(const StreamWriter& writer) {
  const std::any socket = writer.GetExtraInfo("socket");
  const int* fd = std::any_cast<int>(&socket);
  if (fd == nullptr) return absl::InternalError("no socket");
  return benchmarks::SetNoDelay(*fd);
}

// ---------------------------------------------------------------------------
// Server.
// ---------------------------------------------------------------------------

struct ServerState {
  explicit ServerState(const Flags& flags, asio::io_context& context)
      : flags(flags), stats(flags), context(context), settle(context) {}

  const Flags& flags;
  benchmarks::ServerStats stats;
  asio::io_context& context;
  std::shared_ptr<streams::Server> server;
  int64_t rss_before_kib = 0;
  asio::steady_timer settle;
  bool reported = false;
  int exit_code = 1;

  void Stop() {
    if (server != nullptr) {
      server->Close();
      server->AbortClients();  // Idle connections: closed, so no warnings.
    }
    context.stop();
  }
};

// The idle case, once every connection is in: give their first reads a
// moment to start, then report the RSS and exit.
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

asio::awaitable<void> Serve(ServerState* state, StreamReader reader,
                            StreamWriter writer) {
  state->stats.Accepted();
  if (absl::Status nodelay = SetNoDelay(writer); !nodelay.ok()) {
    std::fprintf(stderr, "server: %s\n", nodelay.ToString().c_str());
  }
  if (state->flags.bench_case == Case::kIdle && state->stats.all_accepted()) {
    ReportIdleSoon(state);
  }
  if (state->flags.bench_case == Case::kBulk) {
    while (true) {
      absl::StatusOr<std::string> data =
          co_await reader.AsyncRead(benchmarks::kBulkChunk);
      if (!data.ok() || data->empty()) break;
      state->stats.Count(0, static_cast<int64_t>(data->size()));
    }
  } else {
    while (true) {
      absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
      if (!line.ok() || line->empty()) break;
      if (!writer.Write(*line).ok()) break;
      absl::Status drained = co_await writer.AsyncDrain();
      if (!drained.ok()) break;
      state->stats.Count(1, static_cast<int64_t>(line->size()));
    }
  }
  writer.Close();
  if (state->flags.bench_case != Case::kIdle && state->stats.Finished() &&
      !state->reported) {
    state->stats.Print(kImplementation);
    state->reported = true;
    state->exit_code = 0;
    state->Stop();
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
  streams::ServerOptions options;
  if (flags.read_bytes > 0) {
    options.transport.read_chunk_size = static_cast<size_t>(flags.read_bytes);
  }
  streams::AsyncStartServer(
      context.get_executor(),
      [&state](StreamReader reader, StreamWriter writer) {
        return Serve(&state, std::move(reader), std::move(writer));
      },
      std::string("127.0.0.1"), flags.port, options,
      [&state](absl::StatusOr<std::shared_ptr<streams::Server>> server) {
        if (!server.ok()) {
          std::fprintf(stderr, "server: %s\n",
                       streams::PythonString(server.status()).c_str());
          state.Stop();
          return;
        }
        state.server = *std::move(server);
        state.rss_before_kib = benchmarks::VmRssKib();
        benchmarks::PrintListening(state.server->endpoints().at(0).port());
      });
  context.run();
  return state.exit_code;
}

// ---------------------------------------------------------------------------
// Client.
// ---------------------------------------------------------------------------

asio::awaitable<void> PingPong(ClientState* state, StreamReader reader,
                               StreamWriter writer) {
  while (!state->stop && state->ops < state->flags.count) {
    if (absl::Status written = writer.Write(benchmarks::kLine); !written.ok()) {
      state->Fail(written);
      break;
    }
    absl::Status drained = co_await writer.AsyncDrain();
    if (!drained.ok()) {
      state->Fail(drained);
      break;
    }
    absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
    if (!line.ok()) {
      state->Fail(line.status());
      break;
    }
    if (*line != benchmarks::kLine) {
      state->Fail(absl::DataLossError("the echoed line differs"));
      break;
    }
    ++state->ops;
  }
  writer.Close();
  state->ConnectionDone();
}

asio::awaitable<void> Bulk(ClientState* state, StreamReader reader,
                           StreamWriter writer) {
  const std::string chunk(benchmarks::kBulkChunk, 'b');
  while (!state->stop && state->bytes < state->flags.bytes) {
    if (absl::Status written = writer.Write(chunk); !written.ok()) {
      state->Fail(written);
      break;
    }
    absl::Status drained = co_await writer.AsyncDrain();
    if (!drained.ok()) {
      state->Fail(drained);
      break;
    }
    state->bytes += static_cast<int64_t>(chunk.size());
    ++state->ops;
  }
  if (absl::Status eof = writer.WriteEof(); !eof.ok()) state->Fail(eof);
  // The server closes once it has read everything: then the bytes are there.
  absl::StatusOr<std::string> rest = co_await reader.AsyncRead(-1);
  if (!rest.ok()) state->Fail(rest.status());
  writer.Close();
  state->ConnectionDone();
}

asio::awaitable<void> Idle(ClientState* state, StreamReader reader,
                           StreamWriter writer) {
  // Until the server, having measured, closes the connection.
  absl::StatusOr<std::string> rest = co_await reader.AsyncRead(-1);
  (void)rest;  // EOF or a reset: either ends the hold.
  ++state->ops;
  writer.Close();
  state->ConnectionDone();
}

asio::awaitable<void> RunClientConnections(ClientState* state) {
  auto executor = co_await asio::this_coro::executor;
  std::vector<streams::Connection> connections;
  connections.reserve(state->flags.connections);
  for (int i = 0; i < state->flags.connections; ++i) {
    absl::StatusOr<streams::Connection> connection =
        co_await streams::AsyncOpenConnection(
            executor, std::string("127.0.0.1"), state->flags.port);
    if (!connection.ok()) {
      state->Fail(connection.status());
      state->context.stop();
      co_return;
    }
    if (absl::Status nodelay = SetNoDelay(connection->writer); !nodelay.ok()) {
      state->Fail(nodelay);
    }
    connections.push_back(*std::move(connection));
  }
  state->Start(static_cast<int>(connections.size()));
  for (streams::Connection& connection : connections) {
    auto run = state->flags.bench_case == Case::kBulk   ? Bulk
               : state->flags.bench_case == Case::kIdle ? Idle
                                                        : PingPong;
    asio::co_spawn(
        executor,
        run(state, std::move(connection.reader), std::move(connection.writer)),
        asio::detached);
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
