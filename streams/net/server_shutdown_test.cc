// Server::AsyncServeForever() (asyncio 3.11.7's serve_forever()) and the
// graceful shutdown extension Server::AsyncShutdown(), over TCP loopback.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/bind_cancellation_slot.hpp"
#include "boost/asio/cancellation_signal.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/net/open_connection.h"
#include "streams/net/server.h"
#include "streams/net/testing/loopback.h"
#include "streams/testing/co_assert.h"
#include "streams/testing/status_matchers.h"

namespace streams {
namespace {

namespace asio = ::boost::asio;
using ::streams::testing::Echo;
using ::streams::testing::IsOk;
using ::streams::testing::RunUntilDone;
using namespace std::chrono_literals;

// Until the peer leaves.
asio::awaitable<void> Hold(StreamReader reader, StreamWriter writer) {
  (void)co_await reader.AsyncRead();
  writer.Close();
}

// serve_forever(): serves until cancelled; then the server is closed and
// new connections are refused.
TEST(ServerShutdownTest, ServeForeverServesUntilCancelled) {
  std::optional<absl::Status> served;
  std::optional<std::string> echoed;
  bool serving_while_waiting = false;
  absl::Status refused;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    ServerOptions options;
    options.start_serving = false;
    auto server =
        co_await AsyncStartServer(executor, Echo, "127.0.0.1", 0, options);
    CO_ASSERT_OK(server);
    const uint16_t port = (*server)->endpoints().at(0).port();
    asio::cancellation_signal stop;
    (*server)->AsyncServeForever(asio::bind_cancellation_slot(
        stop.slot(), [&](absl::Status status) { served = status; }));
    co_await testing::Sleep(0ms);
    serving_while_waiting = (*server)->IsServing();
    auto connection = co_await AsyncOpenConnection(executor, "127.0.0.1", port);
    CO_ASSERT_OK(connection);
    EXPECT_THAT(connection->writer.Write("ping\n"), IsOk());
    absl::StatusOr<std::string> line =
        co_await connection->reader.AsyncReadLine();
    if (line.ok()) echoed = *line;
    stop.emit(asio::cancellation_type::terminal);
    co_await testing::Sleep(0ms);
    EXPECT_FALSE((*server)->IsServing());
    refused =
        (co_await AsyncOpenConnection(executor, "127.0.0.1", port)).status();
    connection->writer.Close();
    (void)co_await connection->writer.AsyncWaitClosed();
  });
  EXPECT_TRUE(serving_while_waiting);
  EXPECT_EQ(echoed, "ping\n");
  ASSERT_TRUE(served.has_value());
  EXPECT_EQ(served->code(), absl::StatusCode::kCancelled) << *served;
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
}

// asyncio 3.11.7: close() cancels the serve_forever() future.
TEST(ServerShutdownTest, CloseEndsServeForeverWithCancelled) {
  absl::Status served = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server = co_await AsyncStartServer(executor, Echo, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    (*server)->AsyncServeForever([&](absl::Status status) { served = status; });
    co_await testing::Sleep(0ms);
    (*server)->Close();
  });
  EXPECT_EQ(served.code(), absl::StatusCode::kCancelled) << served;
}

// RuntimeError for a second serve_forever() and on a closed server.
TEST(ServerShutdownTest, ServeForeverTwiceOrClosedIsRuntimeError) {
  absl::Status second = absl::UnknownError("not run");
  absl::Status closed = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server = co_await AsyncStartServer(executor, Echo, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    (*server)->AsyncServeForever([](absl::Status) {});
    co_await testing::Sleep(0ms);
    second = co_await (*server)->AsyncServeForever(asio::use_awaitable);
    (*server)->Close();
    closed = co_await (*server)->AsyncServeForever(asio::use_awaitable);
  });
  EXPECT_EQ(second.code(), absl::StatusCode::kFailedPrecondition) << second;
  EXPECT_EQ(GetErrorKind(second), ErrorKind::kRuntimeError);
  EXPECT_EQ(second.message(),
            "server is already being awaited on serve_forever()");
  EXPECT_EQ(closed.code(), absl::StatusCode::kFailedPrecondition) << closed;
  EXPECT_EQ(closed.message(), "server is closed");
}

// A connection that ends within the grace period counts as finished; the
// shutdown completes when it does, and no new connection is accepted.
TEST(ServerShutdownTest, ShutdownWaitsForAConnectionToFinish) {
  absl::StatusOr<Server::ShutdownReport> report = absl::UnknownError("not run");
  std::optional<std::string> echoed;
  absl::Status refused;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server = co_await AsyncStartServer(executor, Echo, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    const uint16_t port = (*server)->endpoints().at(0).port();
    auto connection = co_await AsyncOpenConnection(executor, "127.0.0.1", port);
    CO_ASSERT_OK(connection);
    EXPECT_THAT(connection->writer.Write("first\n"), IsOk());
    (void)co_await connection->reader.AsyncReadLine();
    (*server)->AsyncShutdown(
        60s, [&](absl::StatusOr<Server::ShutdownReport> r) { report = r; });
    refused =
        (co_await AsyncOpenConnection(executor, "127.0.0.1", port)).status();
    // The connection is still served during the grace period.
    EXPECT_THAT(connection->writer.Write("last\n"), IsOk());
    absl::StatusOr<std::string> line =
        co_await connection->reader.AsyncReadLine();
    if (line.ok()) echoed = *line;
    connection->writer.Close();  // Echo reads EOF and closes: finished.
    (void)co_await connection->writer.AsyncWaitClosed();
  });
  EXPECT_EQ(echoed, "last\n");
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->finished, 1u);
  EXPECT_EQ(report->aborted, 0u);
}

// A connection still open when the grace period ends is aborted: the
// client sees the connection end.
TEST(ServerShutdownTest, ShutdownAbortsWhatOutlivesTheGracePeriod) {
  absl::StatusOr<Server::ShutdownReport> report = absl::UnknownError("not run");
  absl::StatusOr<std::string> client_read = absl::UnknownError("not run");
  size_t active_after = 99;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server = co_await AsyncStartServer(executor, Hold, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    const uint16_t port = (*server)->endpoints().at(0).port();
    auto holder = co_await AsyncOpenConnection(executor, "127.0.0.1", port);
    CO_ASSERT_OK(holder);
    co_await testing::Sleep(0ms);
    report = co_await (*server)->AsyncShutdown(10ms, asio::use_awaitable);
    active_after = (*server)->active_connections();
    client_read = co_await holder->reader.AsyncRead();
    holder->writer.Close();
  });
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->aborted, 1u);
  EXPECT_EQ(report->finished, 0u);
  EXPECT_EQ(active_after, 0u);
  // Aborted: EOF or a reset, as asyncio's abort() gives.
  EXPECT_TRUE(client_read.ok() ? client_read->empty()
                               : client_read.status().code() ==
                                     absl::StatusCode::kUnavailable)
      << client_read.status();
}

// With no connection open it completes at once.
TEST(ServerShutdownTest, ShutdownWithoutConnections) {
  absl::StatusOr<Server::ShutdownReport> report = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server = co_await AsyncStartServer(executor, Echo, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    report = co_await (*server)->AsyncShutdown(60s, asio::use_awaitable);
    EXPECT_FALSE((*server)->IsServing());
  });
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->finished, 0u);
  EXPECT_EQ(report->aborted, 0u);
}

}  // namespace
}  // namespace streams
