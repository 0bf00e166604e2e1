// streams::WithTimeout() over a StreamReader fed by hand: the result in
// time, TimeoutError when nothing comes (and nothing consumed), any
// Abseil status type.

#include "streams/deadline.h"

#include <chrono>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/stream_reader.h"
#include "streams/testing/status_matchers.h"

namespace streams {
namespace {

namespace asio = ::boost::asio;
using ::streams::testing::IsOk;
using namespace std::chrono_literals;

TEST(DeadlineTest, BufferedLineReturnsAtOnce) {
  asio::io_context io;
  StreamReader reader = *StreamReader::Create(io.get_executor());
  ASSERT_THAT(reader.FeedData("line\n"), IsOk());
  absl::StatusOr<std::string> line = absl::UnknownError("not run");
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        line = co_await WithTimeout(reader.AsyncReadLine(asio::use_awaitable),
                                    60s);
      },
      asio::detached);
  io.run();
  EXPECT_EQ(line.value_or("<error>"), "line\n") << line.status();
}

// Nothing arrives: TimeoutError, and the partial line stays buffered for
// the next read.
TEST(DeadlineTest, TimeoutLeavesTheBufferedBytes) {
  asio::io_context io;
  StreamReader reader = *StreamReader::Create(io.get_executor());
  ASSERT_THAT(reader.FeedData("part"), IsOk());
  absl::StatusOr<std::string> timed_out = absl::UnknownError("not run");
  absl::StatusOr<std::string> next = absl::UnknownError("not run");
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        timed_out = co_await WithTimeout(
            reader.AsyncReadLine(asio::use_awaitable), 10ms);
        EXPECT_THAT(reader.FeedData("ial\n"), IsOk());
        next = co_await WithTimeout(reader.AsyncReadLine(asio::use_awaitable),
                                    60s);
      },
      asio::detached);
  io.run();
  EXPECT_EQ(timed_out.status().code(), absl::StatusCode::kDeadlineExceeded)
      << timed_out.status();
  EXPECT_TRUE(IsTimeoutError(timed_out.status()));
  EXPECT_EQ(next.value_or("<error>"), "partial\n") << next.status();
}

// Data that comes in time completes the read; a plain absl::Status
// operation (here AsyncReadExactly's status only) works too.
TEST(DeadlineTest, DataInTimeAndStatusOperations) {
  asio::io_context io;
  StreamReader reader = *StreamReader::Create(io.get_executor());
  absl::StatusOr<std::string> exactly = absl::UnknownError("not run");
  absl::Status status = absl::UnknownError("not run");
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        exactly = co_await WithTimeout(
            reader.AsyncReadExactly(3, asio::use_awaitable), 60s);
        auto status_only = [&]() -> asio::awaitable<absl::Status> {
          co_return (co_await reader.AsyncReadExactly(1, asio::use_awaitable))
              .status();
        };
        status = co_await WithTimeout(status_only(), 10ms);
      },
      asio::detached);
  io.poll();
  ASSERT_THAT(reader.FeedData("abc"), IsOk());
  io.run();
  EXPECT_EQ(exactly.value_or("<error>"), "abc") << exactly.status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
}

}  // namespace
}  // namespace streams
