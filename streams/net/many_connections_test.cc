// Many connections at once on 127.0.0.1: 1,000 echo clients all open at the
// same time on one thread, and 200 on an io_context run by 4 threads (run it
// under --config=tsan too).

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/net/open_connection.h"
#include "streams/net/server.h"
#include "streams/net/testing/loopback.h"
#include "streams/stream_reader.h"
#include "streams/stream_writer.h"
#include "streams/testing/co_assert.h"
#include "streams/testing/status_matchers.h"

namespace streams {

namespace asio = ::boost::asio;
namespace {

using ::streams::testing::Echo;
using ::streams::testing::IsOk;
using ::streams::testing::Sleep;

using namespace std::chrono_literals;

constexpr int kLinesPerConnection = 3;

// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the hard
// limit.
rlim_t RaiseFileLimit() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  }
  return limit.rlim_max;
}

// Sends kLinesPerConnection lines, checks each echo, then closes; returns
// the first problem, if any.
asio::awaitable<absl::Status> Converse(Connection* connection, int id) {
  for (int i = 0; i < kLinesPerConnection; ++i) {
    const std::string line = absl::StrCat("connection ", id, " line ", i, "\n");
    EXPECT_THAT(connection->writer.Write(line), IsOk());
    absl::Status drained = co_await connection->writer.AsyncDrain();
    if (!drained.ok()) co_return drained;
    absl::StatusOr<std::string> echo =
        co_await connection->reader.AsyncReadLine();
    if (!echo.ok()) co_return echo.status();
    if (*echo != line) {
      co_return absl::InternalError(absl::StrCat("connection ", id, ": sent '",
                                                 line, "', got '", *echo, "'"));
    }
  }
  connection->writer.Close();
  co_return co_await connection->writer.AsyncWaitClosed();
}

TEST(ManyConnectionsTest, ThousandConnectionsOpenAtOnce) {
  constexpr int kConnections = 1000;
  const rlim_t hard_limit = RaiseFileLimit();
  if (hard_limit < 2100) {
    GTEST_SKIP() << "RLIMIT_NOFILE's hard limit is " << hard_limit
                 << "; 1,000 connections on loopback need about 2,100 "
                    "descriptors (both ends and the listener)";
  }
  int opened = 0;
  size_t peak_active = 0;
  int finished = 0;
  std::vector<absl::Status> failures;
  bool all_done = false;
  asio::io_context context;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        auto executor = co_await asio::this_coro::executor;
        ServerOptions options;
        options.backlog = 1024;
        auto server =
            co_await AsyncStartServer(executor, Echo, "127.0.0.1", 0, options);
        CO_ASSERT_OK(server);
        const uint16_t port = (*server)->endpoints().at(0).port();
        std::vector<Connection> connections;
        connections.reserve(kConnections);
        for (int i = 0; i < kConnections; ++i) {
          absl::StatusOr<Connection> connection =
              co_await AsyncOpenConnection(executor, "127.0.0.1", port);
          if (!connection.ok()) {
            failures.push_back(connection.status());
            break;
          }
          connections.push_back(std::move(*connection));
          ++opened;
        }
        // Every connection is open, on both ends, at the same time.
        while ((*server)->active_connections() < connections.size()) {
          co_await Sleep(1ms);
        }
        peak_active = (*server)->active_connections();
        for (int i = 0; i < static_cast<int>(connections.size()); ++i) {
          asio::co_spawn(
              executor,
              [&, i]() -> asio::awaitable<void> {
                absl::Status status = co_await Converse(&connections[i], i);
                if (!status.ok()) failures.push_back(status);
                ++finished;
              },
              asio::detached);
        }
        while (finished < static_cast<int>(connections.size())) {
          co_await Sleep(1ms);
        }
        while ((*server)->active_connections() != 0) co_await Sleep(1ms);
        (*server)->Close();
        (void)co_await (*server)->AsyncWaitClosed();
        all_done = true;
      },
      asio::detached);
  context.run_for(60s);
  EXPECT_TRUE(context.stopped()) << "not finished within 60 s: " << finished
                                 << " of " << opened << " connections done";
  EXPECT_TRUE(all_done);
  EXPECT_EQ(opened, kConnections);
  EXPECT_EQ(peak_active, static_cast<size_t>(kConnections));
  EXPECT_EQ(finished, kConnections);
  EXPECT_TRUE(failures.empty())
      << failures.size() << " failures, first " << failures.front();
}

// 200 connections on an io_context that 4 threads run. Each client
// coroutine runs on its own strand; its connection's strand is made from
// that one, so the client and its connection never run at the same time.
// The server is touched only on its own executor.
TEST(ManyConnectionsTest, TwoHundredConnectionsOnFourThreads) {
  constexpr int kConnections = 200;
  constexpr int kThreads = 4;
  std::atomic<int> finished = 0;
  std::atomic<int> failed = 0;
  std::atomic<bool> all_done = false;
  absl::Status first_failure;  // written once, under `failed`'s first bump
  asio::io_context context(kThreads);
  asio::co_spawn(
      asio::make_strand(context),
      [&]() -> asio::awaitable<void> {
        auto executor = co_await asio::this_coro::executor;
        auto started = co_await AsyncStartServer(context.get_executor(), Echo,
                                                 "127.0.0.1", 0);
        CO_ASSERT_OK(started);
        std::shared_ptr<Server> server = *started;
        const uint16_t port = server->endpoints().at(0).port();
        for (int i = 0; i < kConnections; ++i) {
          asio::co_spawn(
              asio::make_strand(context),
              [&, i, port]() -> asio::awaitable<void> {
                auto strand = co_await asio::this_coro::executor;
                absl::StatusOr<Connection> connection =
                    co_await AsyncOpenConnection(strand, "127.0.0.1", port);
                absl::Status status = connection.status();
                if (connection.ok()) {
                  status = co_await Converse(&*connection, i);
                }
                if (!status.ok() && failed.fetch_add(1) == 0) {
                  first_failure = status;
                }
                finished.fetch_add(1);
              },
              asio::detached);
        }
        while (finished.load() < kConnections) co_await Sleep(1ms);
        // Close the server on its own executor.
        // (A named lambda: g++ 12 copies a temporary one bitwise in a
        // co_await expression, releasing `server` twice.)
        auto close_server = [server]() -> asio::awaitable<void> {
          while (server->active_connections() != 0) co_await Sleep(1ms);
          server->Close();
          (void)co_await server->AsyncWaitClosed();
        };
        co_await asio::co_spawn(server->get_executor(), std::move(close_server),
                                asio::use_awaitable);
        (void)executor;
        all_done = true;
      },
      asio::detached);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&context] { context.run_for(60s); });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_TRUE(all_done.load())
      << "not finished within 60 s: " << finished.load() << " of "
      << kConnections;
  EXPECT_EQ(finished.load(), kConnections);
  EXPECT_EQ(failed.load(), 0) << first_failure;
}

}  // namespace
}  // namespace streams
