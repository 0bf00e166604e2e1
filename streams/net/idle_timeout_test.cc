// TransportOptions::idle_timeout over TCP loopback: a connection with no
// bytes in either direction for that long is aborted with TimeoutError, its
// waiting read fails with it; bytes that keep coming keep it open; without
// the option (asyncio's behaviour) a silent peer is waited for forever.
//
// The durations are bounds with wide margins, not measurements: a
// connection that should time out is given no bytes at all, and one that
// should not gets a byte every tenth of the timeout.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/awaitable.hpp"
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
using ::streams::testing::IsOk;
using ::streams::testing::RunUntilDone;
using ::streams::testing::Sleep;
using namespace std::chrono_literals;

// The server writes `lines` lines, one every `interval` after a first
// `delay`, then "end\n"; the client, with `idle_timeout`, reads lines until
// "end\n" or an error. Returns what the client got: the lines, then the
// error's text if any.
struct Outcome {
  int lines = 0;
  absl::Status error;
};

Outcome ReadFromAPausingServer(std::optional<std::chrono::milliseconds> idle,
                               std::chrono::milliseconds delay, int lines,
                               std::chrono::milliseconds interval) {
  Outcome outcome;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto pausing = [&](StreamReader,
                       StreamWriter writer) -> asio::awaitable<void> {
      co_await Sleep(delay);
      for (int i = 0; i < lines; ++i) {
        if (!writer.Write("line\n").ok()) break;
        co_await Sleep(interval);
      }
      (void)writer.Write("end\n");
      writer.Close();
      (void)co_await writer.AsyncWaitClosed();
    };
    auto server = co_await AsyncStartServer(executor, pausing, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    ConnectionOptions options;
    options.transport.idle_timeout = idle;
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port(), options);
    CO_ASSERT_OK(connection);
    while (true) {
      absl::StatusOr<std::string> line =
          co_await connection->reader.AsyncReadLine();
      if (!line.ok()) {
        outcome.error = line.status();
        break;
      }
      if (*line != "line\n") break;
      ++outcome.lines;
    }
    connection->writer.Close();
    (void)co_await connection->writer.AsyncWaitClosed();
    (*server)->Close();
    (void)co_await (*server)->AsyncWaitClosed();
  });
  return outcome;
}

TEST(IdleTimeoutTest, ASilentPeerIsAbortedWithTimeoutError) {
  // The server says nothing for 3 s; the client gives up after 100 ms.
  const Outcome outcome = ReadFromAPausingServer(100ms, 3s, 0, 0ms);
  EXPECT_EQ(outcome.error.code(), absl::StatusCode::kDeadlineExceeded)
      << outcome.error;
  EXPECT_EQ(GetErrorKind(outcome.error), ErrorKind::kTimeoutError);
  EXPECT_THAT(std::string(outcome.error.message()),
              ::testing::HasSubstr("connection idle for 100 ms"));
}

TEST(IdleTimeoutTest, WithoutItASilentPeerIsWaitedFor) {
  // asyncio's behaviour (the default): 300 ms of silence, then the lines.
  const Outcome outcome = ReadFromAPausingServer(std::nullopt, 300ms, 2, 0ms);
  EXPECT_THAT(outcome.error, IsOk());
  EXPECT_EQ(outcome.lines, 2);
}

TEST(IdleTimeoutTest, BytesThatKeepComingKeepTheConnection) {
  // 12 lines 100 ms apart (1.2 s in all) under a 1 s idle timeout: each
  // byte resets the clock, so the connection outlives the timeout.
  const Outcome outcome = ReadFromAPausingServer(1000ms, 0ms, 12, 100ms);
  EXPECT_THAT(outcome.error, IsOk());
  EXPECT_EQ(outcome.lines, 12);
}

}  // namespace
}  // namespace streams
