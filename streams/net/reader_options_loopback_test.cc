// The reader options beyond 3.11.7 (ReaderOptions in stream_reader.h) over
// real socket pairs: what a user sees, against the default (3.11.7's
// behaviour). The peer waits for the client's "go\n" before it sends the
// rest, so every step is ordered without timing anything.

#include <chrono>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/net/open_connection.h"
#include "streams/net/server.h"
#include "streams/net/testing/loopback.h"
#include "streams/net/testing/transports.h"
#include "streams/stream_reader.h"
#include "streams/testing/co_assert.h"
#include "streams/testing/status_matchers.h"

namespace streams {

namespace asio = ::boost::asio;
namespace {

using ::streams::testing::ErrorKindIs;
using ::streams::testing::IsOk;
using ::streams::testing::IsOkAndHolds;
using ::streams::testing::Loopback;
using ::streams::testing::LoopbackPeer;
using ::streams::testing::RunUntilDone;
using ::streams::testing::StatusIs;

// Sends `first`, waits for the client's "go\n", sends `second`, closes.
auto TwoPartPeer(std::string first, std::string second) {
  return [first, second](StreamReader reader,
                         StreamWriter writer) -> asio::awaitable<void> {
    if (!writer.Write(first).ok()) co_return;
    (void)co_await writer.AsyncDrain();
    absl::StatusOr<std::string> go = co_await reader.AsyncReadLine();
    if (go.ok() && *go == "go\n") {
      (void)writer.Write(second);
      (void)co_await writer.AsyncDrain();
    }
    writer.Close();
  };
}

class OverlongLineLoopbackTest : public ::testing::TestWithParam<Loopback> {};

INSTANTIATE_TEST_SUITE_P(, OverlongLineLoopbackTest,
                         ::testing::Values(Loopback::kTcp, Loopback::kUnix),
                         ::testing::PrintToStringParamName());

// A line longer than the limit whose "\n" has not arrived: readline fails
// in every mode; what the next readline returns is the difference.
TEST_P(OverlongLineLoopbackTest, NextReadLineAfterAnOverlongLine) {
  for (OverlongLine mode : {OverlongLine::kAsyncio, OverlongLine::kKeep,
                            OverlongLine::kDiscardLine}) {
    SCOPED_TRACE(static_cast<int>(mode));
    LoopbackPeer peer(GetParam());
    RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
      auto server = co_await peer.StartServer(
          executor, TwoPartPeer("0123456", "89\nnext\n"));
      CO_ASSERT_OK(server);
      ConnectionOptions options;
      options.limit = 4;
      options.overlong_line = mode;
      auto connection = co_await peer.Connect(executor, **server, options);
      CO_ASSERT_OK(connection);
      StreamReader& reader = connection->reader;

      absl::StatusOr<std::string> first = co_await reader.AsyncReadLine();
      EXPECT_THAT(first, StatusIs(absl::StatusCode::kResourceExhausted));
      EXPECT_THAT(connection->writer.Write("go\n"), IsOk());
      switch (mode) {
        case OverlongLine::kAsyncio: {
          // 3.11.7: the line's tail comes back as a line of its own.
          EXPECT_THAT(first, ErrorKindIs(ErrorKind::kValueError));
          EXPECT_THAT(co_await reader.AsyncReadLine(), IsOkAndHolds("89\n"));
          EXPECT_THAT(co_await reader.AsyncReadLine(), IsOkAndHolds("next\n"));
          break;
        }
        case OverlongLine::kKeep: {
          // The bytes stay: the caller consumes them, then reads on.
          EXPECT_THAT(first, ErrorKindIs(ErrorKind::kLimitOverrunError));
          EXPECT_EQ(reader.buffer(), "0123456");
          EXPECT_THAT(co_await reader.AsyncReadExactly(7),
                      IsOkAndHolds("0123456"));
          EXPECT_THAT(co_await reader.AsyncReadLine(), IsOkAndHolds("89\n"));
          break;
        }
        case OverlongLine::kDiscardLine: {
          // Framing stays in sync: the rest of the long line is dropped.
          EXPECT_THAT(first, ErrorKindIs(ErrorKind::kValueError));
          EXPECT_THAT(co_await reader.AsyncReadLine(), IsOkAndHolds("next\n"));
          break;
        }
      }
      connection->writer.Close();
      EXPECT_THAT(co_await connection->writer.AsyncWaitClosed(), IsOk());
      (*server)->Close();
      EXPECT_THAT(co_await (*server)->AsyncWaitClosed(), IsOk());
    });
  }
}

class CancelSafeReadAllLoopbackTest : public ::testing::TestWithParam<bool> {};

INSTANTIATE_TEST_SUITE_P(, CancelSafeReadAllLoopbackTest, ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "CancelSafe" : "Asyncio";
                         });

// read(-1) with a timeout: the timer wins (the peer sends the rest only
// after "go\n"). 3.11.7 drops what the read had gathered; the option keeps
// it for the next read.
TEST_P(CancelSafeReadAllLoopbackTest, ReadAllTimedOut) {
  using namespace asio::experimental::awaitable_operators;
  LoopbackPeer peer(Loopback::kTcp);
  std::string rest;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server =
        co_await peer.StartServer(executor, TwoPartPeer("abcdef", "rest"));
    CO_ASSERT_OK(server);
    ConnectionOptions options;
    options.limit = 4;
    options.cancel_safe_read_all = GetParam();
    auto connection = co_await peer.Connect(executor, **server, options);
    CO_ASSERT_OK(connection);
    StreamReader& reader = connection->reader;
    // One byte read: the peer's first write is in the buffer now.
    EXPECT_THAT(co_await reader.AsyncReadExactly(1), IsOkAndHolds("a"));

    asio::steady_timer timer(executor, std::chrono::milliseconds(1));
    auto raced = co_await (reader.AsyncRead(-1, asio::use_awaitable) ||
                           timer.async_wait(asio::use_awaitable));
    EXPECT_EQ(raced.index(), 1u);  // the timeout

    EXPECT_THAT(connection->writer.Write("go\n"), IsOk());
    absl::StatusOr<std::string> all = co_await reader.AsyncRead(-1);
    EXPECT_THAT(all, IsOk());
    rest = all.value_or("");
    connection->writer.Close();
    EXPECT_THAT(co_await connection->writer.AsyncWaitClosed(), IsOk());
    (*server)->Close();
    EXPECT_THAT(co_await (*server)->AsyncWaitClosed(), IsOk());
  });
  EXPECT_EQ(rest, GetParam() ? "bcdefrest" : "rest");
}

}  // namespace
}  // namespace streams
