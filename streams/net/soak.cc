// A soak: many echo connections for a while, with random sizes and random
// cancellations, checking every byte and watching resident memory. Not part
// of `bazel test`; run it by hand:
//
//   bazel run //streams/net:soak -- --seconds=60   (-c opt: more load)
//
// Flags (all optional): --seconds=60 --connections=1000 --threads=2 --seed=1.
//
// What it does. A line echo server (AsyncStartServer: a strand per
// connection) and `connections` clients, each on its own strand, share one
// io_context run by `threads` threads. Each client opens a connection, sends
// 1 to 64 random lines (mostly small, some up to 256 KiB), reads each echo
// with AsyncReadExactly() and compares its FNV-1a checksum, then closes and
// starts over until the time is up. A third of the client reads race a timer
// of 0 to 5 ms (`read || timer`): when the timer wins, the read must have
// taken nothing, and reading again must give the whole echo. A fifth of the
// server's reads race a 0 to 10 ms timer the same way. Every 5 s it prints
// the resident memory and counters; the last line says whether memory
// stayed flat (the last sample within 10% of the one at 10 s) and the exit
// status is 0 only if it did and nothing failed.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "streams/net/open_connection.h"
#include "streams/net/server.h"
#include "streams/net/testing/process_stats.h"
#include "streams/stream_reader.h"
#include "streams/stream_writer.h"

namespace streams {

namespace asio = ::boost::asio;
namespace {

using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

struct Flags {
  int seconds = 60;
  int connections = 1000;
  int threads = 2;
  uint32_t seed = 1;
};

bool ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t equals = arg.find('=');
    const std::string name = arg.substr(0, equals);
    const std::string value =
        equals == std::string::npos ? "" : arg.substr(equals + 1);
    bool ok = false;
    if (name == "--seconds") ok = absl::SimpleAtoi(value, &flags.seconds);
    if (name == "--connections") {
      ok = absl::SimpleAtoi(value, &flags.connections);
    }
    if (name == "--threads") ok = absl::SimpleAtoi(value, &flags.threads);
    if (name == "--seed") ok = absl::SimpleAtoi(value, &flags.seed);
    if (!ok) {
      std::fprintf(stderr,
                   "usage: soak [--seconds=60] [--connections=1000] "
                   "[--threads=2] [--seed=1]; bad argument: %s\n",
                   arg.c_str());
      return false;
    }
  }
  return flags.seconds > 0 && flags.connections > 0 && flags.threads > 0;
}

uint64_t Fnv1a(absl::string_view data) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

struct Counters {
  std::atomic<int64_t> messages{0};
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> cancelled_reads{0};
  std::atomic<int64_t> server_timeouts{0};
  std::atomic<int64_t> connections_opened{0};
  std::atomic<int64_t> live_connections{0};
  std::atomic<int64_t> mismatches{0};
  std::atomic<int64_t> failures{0};
  std::atomic<int> clients_running{0};
};

// A line of `size` bytes (newline included) of random bytes other than '\n',
// eight bytes per draw.
std::string RandomLine(std::mt19937_64& random, size_t size) {
  std::string line(size, '\0');
  for (size_t i = 0; i + 1 < size; i += 8) {
    uint64_t bits = random();
    for (size_t j = i; j < i + 8 && j + 1 < size; ++j, bits >>= 8) {
      const char c = static_cast<char>(bits & 0xff);
      line[j] = c == '\n' ? 'N' : c;
    }
  }
  line[size - 1] = '\n';
  return line;
}

// Mostly small lines, some medium, a few up to 256 KiB.
size_t RandomSize(std::mt19937_64& random) {
  const int bucket = std::uniform_int_distribution<int>(0, 99)(random);
  const size_t max = bucket < 90 ? 4096 : bucket < 99 ? 65536 : 262144;
  return std::uniform_int_distribution<size_t>(1, max)(random);
}

Counters counters;

// The server's client-connected callback: echoes lines; some reads race a
// short timer, and a read that loses takes nothing from the buffer.
asio::awaitable<void> SoakEcho(StreamReader reader, StreamWriter writer) {
  std::mt19937_64 random(std::random_device{}());
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (true) {
    absl::StatusOr<std::string> line;
    if (std::uniform_int_distribution<int>(0, 4)(random) == 0) {
      timer.expires_after(std::chrono::microseconds(
          std::uniform_int_distribution<int>(0, 10000)(random)));
      auto result = co_await (reader.AsyncReadLine(asio::use_awaitable) ||
                              timer.async_wait(asio::use_awaitable));
      if (result.index() == 1) {
        counters.server_timeouts.fetch_add(1);
        continue;
      }
      line = std::get<0>(std::move(result));
    } else {
      line = co_await reader.AsyncReadLine();
    }
    if (!line.ok()) {
      counters.failures.fetch_add(1);
      std::fprintf(stderr, "server read: %s\n",
                   line.status().ToString().c_str());
      break;
    }
    if (line->empty()) break;
    if (!writer.Write(*line).ok()) break;
    if (!(co_await writer.AsyncDrain()).ok()) break;
  }
  writer.Close();
}

// Reads the echo of a `size`-byte line, maybe racing a timer first.
asio::awaitable<absl::StatusOr<std::string>> ReadEcho(StreamReader& reader,
                                                      size_t size,
                                                      std::mt19937_64& random) {
  if (std::uniform_int_distribution<int>(0, 2)(random) == 0) {
    asio::steady_timer timer(
        co_await asio::this_coro::executor,
        std::chrono::microseconds(
            std::uniform_int_distribution<int>(0, 5000)(random)));
    auto result =
        co_await (reader.AsyncReadExactly(size, asio::use_awaitable) ||
                  timer.async_wait(asio::use_awaitable));
    if (result.index() == 0) co_return std::get<0>(std::move(result));
    counters.cancelled_reads.fetch_add(1);
  }
  co_return co_await reader.AsyncReadExactly(size);
}

asio::awaitable<void> Client(int id, uint16_t port, Clock::time_point deadline,
                             uint32_t seed) {
  std::mt19937_64 random(seed * 1000003u + id);
  const asio::any_io_executor strand = co_await asio::this_coro::executor;
  while (Clock::now() < deadline) {
    absl::StatusOr<Connection> connection =
        co_await AsyncOpenConnection(strand, "127.0.0.1", port);
    if (!connection.ok()) {
      counters.failures.fetch_add(1);
      std::fprintf(stderr, "connect: %s\n",
                   connection.status().ToString().c_str());
      asio::steady_timer pause(strand, 100ms);
      co_await pause.async_wait(asio::use_awaitable);
      continue;
    }
    counters.connections_opened.fetch_add(1);
    counters.live_connections.fetch_add(1);
    auto& [reader, writer] = *connection;
    const int messages = std::uniform_int_distribution<int>(1, 64)(random);
    for (int i = 0; i < messages && Clock::now() < deadline; ++i) {
      const std::string line = RandomLine(random, RandomSize(random));
      if (!writer.Write(line).ok()) break;
      if (absl::Status drained = co_await writer.AsyncDrain(); !drained.ok()) {
        counters.failures.fetch_add(1);
        std::fprintf(stderr, "drain: %s\n", drained.ToString().c_str());
        break;
      }
      absl::StatusOr<std::string> echo =
          co_await ReadEcho(reader, line.size(), random);
      if (!echo.ok()) {
        counters.failures.fetch_add(1);
        std::fprintf(stderr, "read: %s\n", echo.status().ToString().c_str());
        break;
      }
      if (Fnv1a(*echo) != Fnv1a(line)) counters.mismatches.fetch_add(1);
      counters.messages.fetch_add(1);
      counters.bytes.fetch_add(static_cast<int64_t>(line.size()));
    }
    writer.Close();
    if (absl::Status closed = co_await writer.AsyncWaitClosed(); !closed.ok()) {
      counters.failures.fetch_add(1);
      std::fprintf(stderr, "close: %s\n", closed.ToString().c_str());
    }
    counters.live_connections.fetch_sub(1);
  }
  counters.clients_running.fetch_sub(1);
}

int Run(const Flags& flags) {
  if (!testing::RaiseFdLimit(2 * flags.connections + 256)) {
    std::fprintf(stderr, "cannot raise RLIMIT_NOFILE to %d\n",
                 2 * flags.connections + 256);
    return 2;
  }
  asio::io_context context(flags.threads);
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline =
      start + std::chrono::seconds(flags.seconds);
  std::vector<int64_t> rss_samples;  // every 5 s, from the monitor only
  bool started = false;
  asio::co_spawn(
      asio::make_strand(context),
      [&]() -> asio::awaitable<void> {
        ServerOptions options;
        options.limit = 1 << 20;  // lines up to 256 KiB
        // Room for every client connecting at once (asyncio's default of
        // 100 overflows: dropped SYNs, then retransmits a second later).
        options.backlog = 2 * flags.connections;
        auto server = co_await AsyncStartServer(
            context.get_executor(), SoakEcho, "127.0.0.1", 0, options);
        if (!server.ok()) {
          std::fprintf(stderr, "server: %s\n",
                       server.status().ToString().c_str());
          co_return;
        }
        started = true;
        const uint16_t port = (*server)->endpoints().at(0).port();
        counters.clients_running = flags.connections;
        for (int i = 0; i < flags.connections; ++i) {
          asio::co_spawn(asio::make_strand(context),
                         Client(i, port, deadline, flags.seed), asio::detached);
        }
        // The monitor: a sample every 5 s until the deadline, then wait for
        // the clients to finish their last exchange.
        asio::steady_timer timer(co_await asio::this_coro::executor);
        int64_t last_messages = 0;
        for (int tick = 1; tick * 5 <= flags.seconds; ++tick) {
          timer.expires_at(start + tick * 5s);
          co_await timer.async_wait(asio::use_awaitable);
          const int64_t rss = testing::ResidentKb();
          rss_samples.push_back(rss);
          const int64_t messages = counters.messages.load();
          std::printf(
              "t=%3ds rss=%7lld KiB live=%4lld msgs=%9lld (%lld/s) "
              "MB=%8.1f cancelled_reads=%lld server_timeouts=%lld "
              "opened=%lld mismatches=%lld failures=%lld\n",
              tick * 5, static_cast<long long>(rss),
              static_cast<long long>(counters.live_connections.load()),
              static_cast<long long>(messages),
              static_cast<long long>((messages - last_messages) / 5),
              counters.bytes.load() / 1e6,
              static_cast<long long>(counters.cancelled_reads.load()),
              static_cast<long long>(counters.server_timeouts.load()),
              static_cast<long long>(counters.connections_opened.load()),
              static_cast<long long>(counters.mismatches.load()),
              static_cast<long long>(counters.failures.load()));
          std::fflush(stdout);
          last_messages = messages;
        }
        while (counters.clients_running.load() > 0) {
          timer.expires_after(10ms);
          co_await timer.async_wait(asio::use_awaitable);
        }
        // Close the server on its own executor. (A named lambda: g++ 12
        // copies a temporary one bitwise in a co_await expression.)
        std::shared_ptr<Server> shared = *server;
        auto close_server = [shared]() -> asio::awaitable<void> {
          shared->Close();
          asio::steady_timer wait(co_await asio::this_coro::executor);
          while (shared->active_connections() != 0) {
            wait.expires_after(1ms);
            co_await wait.async_wait(asio::use_awaitable);
          }
        };
        co_await asio::co_spawn(shared->get_executor(), std::move(close_server),
                                asio::use_awaitable);
      },
      asio::detached);
  std::vector<std::thread> threads;
  for (int i = 0; i < flags.threads; ++i) {
    threads.emplace_back([&context] { context.run(); });
  }
  for (std::thread& thread : threads) thread.join();
  if (!started) return 2;

  const double seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  const int64_t mismatches = counters.mismatches.load();
  const int64_t failures = counters.failures.load();
  std::printf(
      "soak: %.1f s, %d connections at a time, %d threads: %lld messages, "
      "%.1f MB echoed, %lld checksum mismatches, %lld failures, %lld "
      "cancelled client reads, %lld server read timeouts, %lld connections "
      "opened\n",
      seconds, flags.connections, flags.threads,
      static_cast<long long>(counters.messages.load()),
      counters.bytes.load() / 1e6, static_cast<long long>(mismatches),
      static_cast<long long>(failures),
      static_cast<long long>(counters.cancelled_reads.load()),
      static_cast<long long>(counters.server_timeouts.load()),
      static_cast<long long>(counters.connections_opened.load()));
  bool flat = false;
  if (rss_samples.size() >= 2) {
    // The sample at 10 s (the first one on a shorter run) against the last,
    // taken at the deadline while the connections are still live.
    const size_t reference = rss_samples.size() >= 3 ? 1 : 0;
    const size_t last = rss_samples.size() - 1;
    const double change = 100.0 * (rss_samples[last] - rss_samples[reference]) /
                          rss_samples[reference];
    flat = change <= 10.0;
    std::printf("RSS at %zu s: %lld KiB, at %zu s: %lld KiB (%+.1f%%): %s\n",
                (reference + 1) * 5,
                static_cast<long long>(rss_samples[reference]), (last + 1) * 5,
                static_cast<long long>(rss_samples[last]), change,
                flat ? "flat" : "NOT flat (grew more than 10%)");
  } else {
    std::printf("RSS: too few samples (run for 10 s or more)\n");
  }
  return flat && mismatches == 0 && failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace streams

int main(int argc, char** argv) {
  streams::Flags flags;
  if (!streams::ParseFlags(argc, argv, flags)) return 2;
  return streams::Run(flags);
}
