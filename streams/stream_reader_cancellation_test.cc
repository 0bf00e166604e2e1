// Cancellation and lifetime of StreamReader reads (and of drains).
//
// A cancelled read completes with kCancelled and consumes nothing, even when
// it is cancelled after the data it waited for arrived but before its step
// ran; the next read gets every byte. read(-1) is the exception, as in
// asyncio: cancelled after gathering blocks, it drops them. Destroying the
// reader or its io_context destroys pending handlers without calling them.

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/bind_cancellation_slot.hpp"
#include "boost/asio/cancellation_signal.hpp"
#include "boost/asio/cancellation_type.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/deferred.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/experimental/parallel_group.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/flow_control.h"
#include "streams/stream_reader.h"
#include "streams/stream_reader_protocol.h"
#include "streams/stream_writer.h"
#include "streams/testing/fake_transport.h"
#include "streams/testing/run_briefly.h"
#include "streams/testing/status_matchers.h"

namespace streams {
namespace {

namespace asio = ::boost::asio;

using ::streams::testing::ErrorKindIs;
using ::streams::testing::FakeTransport;
using ::streams::testing::IsOk;
using ::streams::testing::IsOkAndHolds;
using ::streams::testing::RunBriefly;
using ::streams::testing::StatusIs;

// A read started with a callback bound to a cancellation signal.
struct CancellableRead {
  asio::cancellation_signal signal;
  std::optional<absl::StatusOr<std::string>> result;

  auto Handler() {
    return asio::bind_cancellation_slot(
        signal.slot(), [this](absl::StatusOr<std::string> value) {
          result = std::move(value);
        });
  }
};

void ExpectCancelled(const std::optional<absl::StatusOr<std::string>>& result) {
  ASSERT_TRUE(result.has_value()) << "the read is still pending";
  EXPECT_THAT(*result, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(*result, ErrorKindIs(ErrorKind::kCancelledError));
}

// -----------------------------------------------------------------------------
// Timeouts.
// -----------------------------------------------------------------------------

TEST(StreamReaderCancellationTest, TimeoutWithAwaitableOperators) {
  using namespace asio::experimental::awaitable_operators;  // NOLINT
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  ASSERT_THAT(reader.FeedData("par"), IsOk());
  std::optional<size_t> winner;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(ctx, std::chrono::milliseconds(1));
        std::variant<absl::StatusOr<std::string>, std::monostate> result =
            co_await (reader.AsyncReadLine(asio::use_awaitable) ||
                      timer.async_wait(asio::use_awaitable));
        winner = result.index();
      },
      asio::detached);
  ctx.run();              // Returns: the cancelled read holds no more work.
  EXPECT_EQ(winner, 1u);  // The timer.
  // The read took nothing, and no longer waits.
  EXPECT_EQ(reader.buffer(), "par");
  EXPECT_EQ(reader.DebugString(), "<StreamReader 3 bytes>");

  // A later feed and read get the whole line.
  ASSERT_THAT(reader.FeedData("tial\nnext"), IsOk());
  std::optional<absl::StatusOr<std::string>> line;
  reader.AsyncReadLine(
      [&](absl::StatusOr<std::string> value) { line = std::move(value); });
  RunBriefly(ctx);
  ASSERT_TRUE(line.has_value());
  EXPECT_THAT(*line, IsOkAndHolds("partial\n"));
  EXPECT_EQ(reader.buffer(), "next");
}

TEST(StreamReaderCancellationTest, TimedOutReadCompletesWithCancelled) {
  // parallel_group shows the loser's result: the read completes kCancelled.
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  asio::steady_timer timer(ctx, std::chrono::milliseconds(1));
  std::optional<std::array<size_t, 2>> order;
  std::optional<absl::StatusOr<std::string>> line;
  asio::experimental::make_parallel_group(reader.AsyncReadLine(asio::deferred),
                                          timer.async_wait(asio::deferred))
      .async_wait(asio::experimental::wait_for_one(),
                  [&](std::array<size_t, 2> completion_order,
                      absl::StatusOr<std::string> value,
                      boost::system::error_code timer_error) {
                    order = completion_order;
                    line = std::move(value);
                    EXPECT_FALSE(timer_error);
                  });
  ctx.run();
  ASSERT_TRUE(order.has_value());
  EXPECT_EQ((*order)[0], 1u);  // The timer first, then the cancelled read.
  ExpectCancelled(line);
  EXPECT_EQ(reader.DebugString(), "<StreamReader>");
}

// -----------------------------------------------------------------------------
// The race: the data arrives and the cancellation comes before the read's
// step runs.
// -----------------------------------------------------------------------------

TEST(StreamReaderCancellationTest, CancelledAfterDataArrivedTakesNothing) {
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  CancellableRead read;
  reader.AsyncReadLine(read.Handler());
  RunBriefly(ctx);
  ASSERT_FALSE(read.result.has_value());
  ASSERT_THAT(reader.FeedData("whole line\nrest"), IsOk());  // Wakes the read.
  read.signal.emit(asio::cancellation_type::terminal);       // Before it runs.
  RunBriefly(ctx);
  ExpectCancelled(read.result);
  EXPECT_EQ(reader.buffer(), "whole line\nrest");

  std::optional<absl::StatusOr<std::string>> line;
  reader.AsyncReadLine(
      [&](absl::StatusOr<std::string> value) { line = std::move(value); });
  RunBriefly(ctx);
  ASSERT_TRUE(line.has_value());
  EXPECT_THAT(*line, IsOkAndHolds("whole line\n"));
  EXPECT_EQ(reader.buffer(), "rest");
}

TEST(StreamReaderCancellationTest, CancelledAfterDataArrivedForEveryRead) {
  struct Case {
    const char* name;
    std::function<void(StreamReader&, CancellableRead&)> start;
  };
  const std::vector<Case> cases = {
      {"readline", [](StreamReader& r,
                      CancellableRead& c) { r.AsyncReadLine(c.Handler()); }},
      {"readuntil",
       [](StreamReader& r, CancellableRead& c) {
         r.AsyncReadUntil("\n", c.Handler());
       }},
      {"read(n)", [](StreamReader& r,
                     CancellableRead& c) { r.AsyncRead(3, c.Handler()); }},
      {"readexactly",
       [](StreamReader& r, CancellableRead& c) {
         r.AsyncReadExactly(3, c.Handler());
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    asio::io_context ctx;
    StreamReader reader(ctx.get_executor());
    CancellableRead read;
    c.start(reader, read);
    RunBriefly(ctx);
    ASSERT_THAT(reader.FeedData("ab\nc"), IsOk());
    read.signal.emit(asio::cancellation_type::terminal);
    RunBriefly(ctx);
    ExpectCancelled(read.result);
    EXPECT_EQ(reader.buffer(), "ab\nc");
  }
}

TEST(StreamReaderCancellationTest, ReadWinsWhenItsStepRunsFirst) {
  // The other order: the read's step runs, then the cancellation comes (too
  // late: the read is done and nothing is lost).
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  CancellableRead read;
  reader.AsyncReadLine(read.Handler());
  RunBriefly(ctx);
  ASSERT_THAT(reader.FeedData("whole line\nrest"), IsOk());
  RunBriefly(ctx);
  read.signal.emit(asio::cancellation_type::terminal);
  RunBriefly(ctx);
  ASSERT_TRUE(read.result.has_value());
  EXPECT_THAT(*read.result, IsOkAndHolds("whole line\n"));
  EXPECT_EQ(reader.buffer(), "rest");
}

TEST(StreamReaderCancellationTest, TimerAndDataInTheSamePollLoseNoBytes) {
  // With `||`, the timer's expiry and the read's wakeup are ready in the same
  // poll. Either may win; no byte may be lost.
  using namespace asio::experimental::awaitable_operators;  // NOLINT
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  asio::steady_timer timer(ctx, std::chrono::milliseconds(1));
  std::optional<std::variant<absl::StatusOr<std::string>, std::monostate>>
      result;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        result = co_await (reader.AsyncReadLine(asio::use_awaitable) ||
                           timer.async_wait(asio::use_awaitable));
      },
      asio::detached);
  RunBriefly(ctx);
  ASSERT_FALSE(result.has_value());
  // Let the timer expire (1 ms), then feed, so that both are ready at once.
  while (std::chrono::steady_clock::now() < timer.expiry()) {
  }
  ASSERT_THAT(reader.FeedData("line\nrest"), IsOk());
  ctx.restart();
  ctx.run();
  ASSERT_TRUE(result.has_value());
  if (result->index() == 0) {
    EXPECT_THAT(std::get<0>(*result), IsOkAndHolds("line\n"));
    EXPECT_EQ(reader.buffer(), "rest");
  } else {
    EXPECT_EQ(reader.buffer(), "line\nrest");
    std::optional<absl::StatusOr<std::string>> line;
    reader.AsyncReadLine(
        [&](absl::StatusOr<std::string> value) { line = std::move(value); });
    RunBriefly(ctx);
    ASSERT_TRUE(line.has_value());
    EXPECT_THAT(*line, IsOkAndHolds("line\n"));
    EXPECT_EQ(reader.buffer(), "rest");
  }
}

TEST(StreamReaderCancellationTest, CancelledBeforeItsFirstStepTakesNothing) {
  // asyncio: a task cancelled before it starts never runs.
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  ASSERT_THAT(reader.FeedData("line\n"), IsOk());
  CancellableRead read;
  reader.AsyncReadLine(read.Handler());
  read.signal.emit(asio::cancellation_type::terminal);
  RunBriefly(ctx);
  ExpectCancelled(read.result);
  EXPECT_EQ(reader.buffer(), "line\n");
}

// -----------------------------------------------------------------------------
// Cancellation types.
// -----------------------------------------------------------------------------

TEST(StreamReaderCancellationTest, EveryCancellationTypeCancelsEveryRead) {
  const asio::cancellation_type_t types[] = {asio::cancellation_type::terminal,
                                             asio::cancellation_type::partial,
                                             asio::cancellation_type::total};
  struct Case {
    const char* name;
    std::function<void(StreamReader&, CancellableRead&)> start;
  };
  const std::vector<Case> cases = {
      {"readline", [](StreamReader& r,
                      CancellableRead& c) { r.AsyncReadLine(c.Handler()); }},
      {"readuntil",
       [](StreamReader& r, CancellableRead& c) {
         r.AsyncReadUntil("END", c.Handler());
       }},
      {"read(n)", [](StreamReader& r,
                     CancellableRead& c) { r.AsyncRead(3, c.Handler()); }},
      {"readexactly",
       [](StreamReader& r, CancellableRead& c) {
         r.AsyncReadExactly(30, c.Handler());
       }},
  };
  for (asio::cancellation_type_t type : types) {
    for (const Case& c : cases) {
      SCOPED_TRACE(::testing::Message()
                   << c.name << " type=" << static_cast<int>(type));
      asio::io_context ctx;
      StreamReader reader(ctx.get_executor());
      CancellableRead read;
      c.start(reader, read);
      RunBriefly(ctx);
      ASSERT_FALSE(read.result.has_value());
      read.signal.emit(type);
      RunBriefly(ctx);
      ExpectCancelled(read.result);
      EXPECT_EQ(reader.DebugString(), "<StreamReader>");
      EXPECT_TRUE(ctx.stopped());  // No work left behind.
    }
  }
}

TEST(StreamReaderCancellationTest, NextLineIsCancellable) {
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  asio::cancellation_signal signal;
  std::optional<absl::StatusOr<std::optional<std::string>>> next;
  reader.AsyncNextLine(asio::bind_cancellation_slot(
      signal.slot(), [&](absl::StatusOr<std::optional<std::string>> value) {
        next = std::move(value);
      }));
  RunBriefly(ctx);
  signal.emit(asio::cancellation_type::total);
  RunBriefly(ctx);
  ASSERT_TRUE(next.has_value());
  EXPECT_THAT(*next, StatusIs(absl::StatusCode::kCancelled));
}

TEST(StreamReaderCancellationTest, TotalDoesNotCancelReadAll) {
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  CancellableRead read;
  reader.AsyncRead(-1, read.Handler());
  RunBriefly(ctx);
  read.signal.emit(asio::cancellation_type::total);
  RunBriefly(ctx);
  EXPECT_FALSE(read.result.has_value());
  ASSERT_THAT(reader.FeedData("all of it"), IsOk());
  reader.FeedEof();
  RunBriefly(ctx);
  ASSERT_TRUE(read.result.has_value());
  EXPECT_THAT(*read.result, IsOkAndHolds("all of it"));
}

TEST(StreamReaderCancellationTest, TerminalAndPartialCancelReadAll) {
  for (asio::cancellation_type_t type :
       {asio::cancellation_type::terminal, asio::cancellation_type::partial}) {
    SCOPED_TRACE(static_cast<int>(type));
    asio::io_context ctx;
    StreamReader reader(ctx.get_executor());
    CancellableRead read;
    reader.AsyncRead(-1, read.Handler());
    RunBriefly(ctx);
    read.signal.emit(type);
    RunBriefly(ctx);
    ExpectCancelled(read.result);
  }
}

TEST(StreamReaderCancellationTest, ReadAllCancelledAfterGatheringDropsBlocks) {
  // As asyncio (checked against CPython 3.11.7): read(-1) moves what it
  // gathered out of the buffer; cancelled, it drops those bytes.
  asio::io_context ctx;
  absl::StatusOr<StreamReader> reader =
      StreamReader::Create(ctx.get_executor(), 4);
  ASSERT_THAT(reader, IsOk());
  CancellableRead read;
  reader->AsyncRead(-1, read.Handler());
  RunBriefly(ctx);
  ASSERT_THAT(reader->FeedData("abcdefgh"), IsOk());
  RunBriefly(ctx);
  ASSERT_FALSE(read.result.has_value());
  EXPECT_EQ(reader->buffer(), "");  // Gathered.
  read.signal.emit(asio::cancellation_type::terminal);
  RunBriefly(ctx);
  ExpectCancelled(read.result);
  EXPECT_EQ(reader->buffer(), "");

  ASSERT_THAT(reader->FeedData("xyz"), IsOk());
  reader->FeedEof();
  std::optional<absl::StatusOr<std::string>> rest;
  reader->AsyncRead(
      -1, [&](absl::StatusOr<std::string> value) { rest = std::move(value); });
  RunBriefly(ctx);
  ASSERT_TRUE(rest.has_value());
  EXPECT_THAT(*rest, IsOkAndHolds("xyz"));
}

TEST(StreamReaderCancellationTest, NoneTypeCancelsNothing) {
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  CancellableRead read;
  reader.AsyncReadLine(read.Handler());
  RunBriefly(ctx);
  read.signal.emit(asio::cancellation_type::none);
  RunBriefly(ctx);
  EXPECT_FALSE(read.result.has_value());
  ASSERT_THAT(reader.FeedData("x\n"), IsOk());
  RunBriefly(ctx);
  ASSERT_TRUE(read.result.has_value());
  EXPECT_THAT(*read.result, IsOkAndHolds("x\n"));
}

// Like test_streams.py::test_exception_cancel (ported in
// stream_reader_test.cc), for a waiting read cancelled then woken: the reader
// forgets the cancelled waiter, and the next read may wait.
// An awaited read that waits reuses the operation an earlier wait of the
// same reader finished with: cancellation reaches each wait as its own, and
// none that came before.
TEST(StreamReaderCancellationTest, AwaitedReadsWaitingAgainStayCancellable) {
  using namespace asio::experimental::awaitable_operators;  // NOLINT
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  asio::cancellation_signal signal;
  std::vector<absl::StatusOr<std::string>> lines;
  std::vector<size_t> winners;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 4; ++i) {  // Each waits: the test feeds later.
          absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
          lines.push_back(std::move(line));
        }
        for (int i = 0; i < 2; ++i) {  // A timeout, on a reused op too.
          asio::steady_timer timer(ctx, std::chrono::milliseconds(1));
          std::variant<absl::StatusOr<std::string>, std::monostate> raced =
              co_await (reader.AsyncReadLine(asio::use_awaitable) ||
                        timer.async_wait(asio::use_awaitable));
          winners.push_back(raced.index());
        }
        for (int i = 0; i < 2; ++i) {  // One fed, one cancelled.
          absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
          lines.push_back(std::move(line));
        }
      },
      asio::bind_cancellation_slot(signal.slot(), asio::detached));
  for (const char* line : {"a\n", "b\n", "c\n"}) {
    RunBriefly(ctx);
    ASSERT_THAT(reader.FeedData(line), IsOk());
  }
  RunBriefly(ctx);
  ASSERT_THAT(reader.FeedData("d"), IsOk());  // Not a whole line.
  RunBriefly(ctx);
  ASSERT_THAT(reader.FeedData("\npar"), IsOk());
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(100));  // Both timeouts.
  ctx.restart();
  RunBriefly(ctx);
  EXPECT_THAT(winners, ::testing::ElementsAre(1u, 1u));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[3], IsOkAndHolds("d\n"));
  EXPECT_EQ(reader.buffer(), "par");  // The timed-out reads took nothing.
  // The ops the timeouts cancelled wait again, and are woken.
  ASSERT_THAT(reader.FeedData("tial\nrest"), IsOk());
  RunBriefly(ctx);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_THAT(lines[4], IsOkAndHolds("partial\n"));
  signal.emit(asio::cancellation_type::terminal);
  RunBriefly(ctx);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_THAT(lines[5], StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(reader.buffer(), "rest");
}

TEST(StreamReaderCancellationTest, CancelledWaiterIsForgotten) {
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  CancellableRead read;
  reader.AsyncReadLine(read.Handler());
  RunBriefly(ctx);
  read.signal.emit(asio::cancellation_type::terminal);
  RunBriefly(ctx);
  ExpectCancelled(read.result);
  std::optional<absl::StatusOr<std::string>> next;
  reader.AsyncReadLine(
      [&](absl::StatusOr<std::string> value) { next = std::move(value); });
  RunBriefly(ctx);
  EXPECT_FALSE(next.has_value());  // Waits, with no RuntimeError.
  ASSERT_THAT(reader.FeedData("ok\n"), IsOk());
  RunBriefly(ctx);
  ASSERT_TRUE(next.has_value());
  EXPECT_THAT(*next, IsOkAndHolds("ok\n"));
}

// -----------------------------------------------------------------------------
// Drains.
// -----------------------------------------------------------------------------

TEST(StreamReaderCancellationTest, CancelledDrainLeavesTheWaiters) {
  asio::io_context ctx;
  auto flow = std::make_shared<FlowControl>(ctx.get_executor());
  ASSERT_THAT(flow->PauseWriting(), IsOk());
  asio::cancellation_signal signal;
  std::optional<absl::Status> cancelled;
  std::optional<absl::Status> other;
  flow->AsyncDrainHelper(asio::bind_cancellation_slot(
      signal.slot(), [&](absl::Status status) { cancelled = status; }));
  flow->AsyncDrainHelper([&](absl::Status status) { other = status; });
  RunBriefly(ctx);
  EXPECT_EQ(flow->drain_waiters(), 2u);
  signal.emit(asio::cancellation_type::terminal);
  RunBriefly(ctx);
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_THAT(*cancelled, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(flow->drain_waiters(), 1u);
  EXPECT_FALSE(other.has_value());
  ASSERT_THAT(flow->ResumeWriting(), IsOk());
  RunBriefly(ctx);
  ASSERT_TRUE(other.has_value());
  EXPECT_THAT(*other, IsOk());
  EXPECT_EQ(flow->drain_waiters(), 0u);
}

// -----------------------------------------------------------------------------
// Lifetime.
// -----------------------------------------------------------------------------

// A handler that records whether it ran, and keeps `token` alive while it
// exists.
struct TrackedHandler {
  std::shared_ptr<int> token;
  bool* called;

  template <typename T>
  void operator()(T) const {
    *called = true;
  }
};

TEST(StreamReaderCancellationTest, DestroyingTheReaderDestroysWaitingHandler) {
  asio::io_context ctx;
  auto token = std::make_shared<int>(0);
  bool called = false;
  {
    StreamReader reader(ctx.get_executor());
    reader.AsyncReadLine(TrackedHandler{token, &called});
    RunBriefly(ctx);
    EXPECT_EQ(token.use_count(), 2);
  }
  EXPECT_EQ(token.use_count(), 1);
  RunBriefly(ctx);
  EXPECT_FALSE(called);
  EXPECT_TRUE(ctx.stopped());  // Its work went with it.
}

TEST(StreamReaderCancellationTest,
     DestroyingTheReaderDestroysScheduledHandler) {
  // The read's first step is posted, not run, when the reader goes.
  asio::io_context ctx;
  auto token = std::make_shared<int>(0);
  bool called = false;
  {
    StreamReader reader(ctx.get_executor());
    ASSERT_THAT(reader.FeedData("line\n"), IsOk());
    reader.AsyncReadLine(TrackedHandler{token, &called});
    reader.AsyncNextLine(TrackedHandler{token, &called});
  }
  RunBriefly(ctx);
  EXPECT_FALSE(called);
  EXPECT_EQ(token.use_count(), 1);
  EXPECT_TRUE(ctx.stopped());
}

TEST(StreamReaderCancellationTest, DestroyingTheReaderAfterWakeupDropsHandler) {
  // Woken (its step posted) and then destroyed.
  asio::io_context ctx;
  auto token = std::make_shared<int>(0);
  bool called = false;
  {
    StreamReader reader(ctx.get_executor());
    reader.AsyncReadExactly(3, TrackedHandler{token, &called});
    RunBriefly(ctx);
    ASSERT_THAT(reader.FeedData("abc"), IsOk());
  }
  RunBriefly(ctx);
  EXPECT_FALSE(called);
  EXPECT_EQ(token.use_count(), 1);
}

TEST(StreamReaderCancellationTest,
     DestroyingTheReaderAfterWakeupDestroysAwaitingCoroutine) {
  // An awaited read waits, is woken (its resumption posted), and then its
  // reader goes: the coroutine is destroyed, never resumed (its reference to
  // the reader would dangle). Found by reader_fuzz.
  struct Flag {
    bool* destroyed;
    ~Flag() { *destroyed = true; }
  };
  asio::io_context ctx;
  bool destroyed = false;
  bool resumed = false;
  auto reader = std::make_unique<StreamReader>(ctx.get_executor());
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        Flag flag{&destroyed};
        (void)co_await reader->AsyncReadLine();
        resumed = true;
      },
      asio::detached);
  RunBriefly(ctx);
  ASSERT_THAT(reader->FeedData("line\n"), IsOk());
  reader.reset();
  // Asio unwinds an abandoned coroutine through its executor: once the
  // context runs.
  RunBriefly(ctx);
  EXPECT_TRUE(destroyed);
  EXPECT_FALSE(resumed);
  EXPECT_TRUE(ctx.stopped());
}

TEST(StreamReaderCancellationTest, DestroyingTheIoContextDestroysHandlers) {
  auto token = std::make_shared<int>(0);
  bool called = false;
  auto ctx = std::make_unique<asio::io_context>();
  StreamReader reader(ctx->get_executor());
  reader.AsyncReadLine(TrackedHandler{token, &called});  // Will wait.
  RunBriefly(*ctx);
  StreamReader other(ctx->get_executor());
  ASSERT_THAT(other.FeedData("x\n"), IsOk());
  other.AsyncReadLine(TrackedHandler{token, &called});  // Scheduled.
  EXPECT_EQ(token.use_count(), 3);
  ctx.reset();
  EXPECT_FALSE(called);
  EXPECT_EQ(token.use_count(), 1);
  // The readers outlive their io_context; they may still be destroyed, and
  // keep their bytes.
  EXPECT_EQ(other.buffer(), "x\n");
}

TEST(StreamReaderCancellationTest, DestroyingTheIoContextDestroysCoroutine) {
  // A coroutine awaiting a read is destroyed with its io_context, unresumed.
  struct Flag {
    bool* destroyed;
    ~Flag() { *destroyed = true; }
  };
  bool destroyed = false;
  bool resumed = false;
  auto ctx = std::make_unique<asio::io_context>();
  StreamReader reader(ctx->get_executor());
  asio::co_spawn(
      *ctx,
      [&]() -> asio::awaitable<void> {
        Flag flag{&destroyed};
        (void)co_await reader.AsyncReadLine(asio::use_awaitable);
        resumed = true;
      },
      asio::detached);
  RunBriefly(*ctx);
  EXPECT_FALSE(destroyed);
  ctx.reset();
  EXPECT_TRUE(destroyed);
  EXPECT_FALSE(resumed);
}

TEST(StreamReaderCancellationTest, DestroyingTheIoContextDestroysDrains) {
  auto token = std::make_shared<int>(0);
  bool called = false;
  auto ctx = std::make_unique<asio::io_context>();
  // The transport's reference: a real one keeps its protocol until the
  // connection ends, here with the io_context (stream_reader_protocol.h).
  std::shared_ptr<StreamReaderProtocol> held;
  {
    StreamReader reader(ctx->get_executor());
    auto protocol = StreamReaderProtocol::Create(reader);
    held = protocol;
    auto transport = std::make_shared<FakeTransport>();
    ASSERT_THAT(protocol->ConnectionMade(transport), IsOk());
    StreamWriter writer(transport, protocol, &reader);
    ASSERT_THAT(protocol->PauseWriting(), IsOk());
    writer.AsyncDrain(TrackedHandler{token, &called});
    writer.AsyncWaitClosed(TrackedHandler{token, &called});
    RunBriefly(*ctx);
    transport->StartClosing();  // No "unclosed" warning.
  }
  // The drain and wait_closed are held by the protocol's futures (and the
  // drain holds the writer). As the io_context goes, the transport ends the
  // connection as a socket transport does: ContextShutdown() destroys them.
  held->ContextShutdown();
  held.reset();
  ctx.reset();
  EXPECT_FALSE(called);
  EXPECT_EQ(token.use_count(), 1);
}

}  // namespace
}  // namespace streams
