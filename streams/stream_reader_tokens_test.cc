// Completion tokens: every StreamReader read, and StreamWriter's AsyncDrain()
// and AsyncWaitClosed(), work with asio::use_awaitable, asio::use_future,
// asio::deferred (the default token) and plain callbacks; handlers never run
// inside the initiating call, run on their associated executor, allocate with
// their associated allocator, and keep work on both executors while pending.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/bind_allocator.hpp"
#include "boost/asio/bind_executor.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/deferred.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/use_future.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/stream_reader.h"
#include "streams/stream_reader_protocol.h"
#include "streams/stream_writer.h"
#include "streams/testing/fake_connection.h"
#include "streams/testing/status_matchers.h"

namespace streams {
namespace {

namespace asio = ::boost::asio;

using ::streams::testing::FakeConnection;
using ::streams::testing::IsOk;
using ::streams::testing::IsOkAndHolds;
using ::streams::testing::StatusIs;
using ::testing::Optional;

// Everything one round of reads consumes, then EOF.
constexpr char kStream[] = "line1\nfooENDabcdefghij\nlast\n";

// What the reads of one round return, in order (see each test).
void ExpectRound(const std::vector<std::string>& got) {
  EXPECT_THAT(
      got, ::testing::ElementsAre("line1\n", "fooEND", "abc", "defg",
                                  "next=hij\n", "next=last\n", "next=EOF", ""));
}

std::string Show(const absl::StatusOr<std::optional<std::string>>& next) {
  if (!next.ok()) return next.status().ToString();
  return next->has_value() ? "next=" + **next : "next=EOF";
}

std::string Show(const absl::StatusOr<std::string>& value) {
  return value.ok() ? *value : value.status().ToString();
}

// -----------------------------------------------------------------------------
// asio::use_awaitable
// -----------------------------------------------------------------------------

TEST(StreamReaderTokensTest, UseAwaitable) {
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  std::vector<std::string> got;
  bool finished = false;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        // The first read waits: the data is posted after it starts.
        got.push_back(Show(co_await reader.AsyncReadLine(asio::use_awaitable)));
        got.push_back(
            Show(co_await reader.AsyncReadUntil("END", asio::use_awaitable)));
        got.push_back(Show(co_await reader.AsyncRead(3, asio::use_awaitable)));
        got.push_back(
            Show(co_await reader.AsyncReadExactly(4, asio::use_awaitable)));
        for (int i = 0; i < 3; ++i) {
          got.push_back(
              Show(co_await reader.AsyncNextLine(asio::use_awaitable)));
        }
        got.push_back(Show(co_await reader.AsyncRead(-1, asio::use_awaitable)));
        finished = true;
      },
      asio::detached);
  asio::post(ctx, [&] {
    ASSERT_THAT(reader.FeedData(kStream), IsOk());
    reader.FeedEof();
  });
  ctx.run();
  EXPECT_TRUE(finished);
  ExpectRound(got);
  EXPECT_TRUE(reader.AtEof());
}

TEST(StreamReaderTokensTest, UseAwaitableErrors) {
  asio::io_context ctx;
  absl::StatusOr<StreamReader> reader =
      StreamReader::Create(ctx.get_executor(), 3);
  ASSERT_THAT(reader, IsOk());
  ASSERT_THAT(reader->FeedData("toolong\nab"), IsOk());
  reader->FeedEof();
  std::vector<absl::Status> got;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        got.push_back(
            (co_await reader->AsyncReadLine(asio::use_awaitable)).status());
        got.push_back(
            (co_await reader->AsyncReadExactly(3, asio::use_awaitable))
                .status());
      },
      asio::detached);
  ctx.run();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[0],
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "Separator is found, but chunk is longer than limit"));
  EXPECT_THAT(got[1], StatusIs(absl::StatusCode::kOutOfRange,
                               "2 bytes read on a total of 3 expected bytes"));
}

TEST(StreamReaderTokensTest, WriterOperationsWithUseAwaitable) {
  asio::io_context ctx;
  StreamReader connection_reader(ctx.get_executor());
  FakeConnection connection(connection_reader);
  std::vector<absl::Status> got;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        EXPECT_THAT(connection.writer->Write("hello\n"), IsOk());
        got.push_back(
            co_await connection.writer->AsyncDrain(asio::use_awaitable));
        // The connection is lost while wait_closed waits.
        asio::post(ctx, [&] {
          connection.transport->StartClosing();
          connection.protocol->ConnectionLost(absl::OkStatus());
        });
        got.push_back(
            co_await connection.writer->AsyncWaitClosed(asio::use_awaitable));
      },
      asio::detached);
  ctx.run();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[0], IsOk());
  EXPECT_THAT(got[1], IsOk());
}

// -----------------------------------------------------------------------------
// asio::deferred, the default token
// -----------------------------------------------------------------------------

TEST(StreamReaderTokensTest, CoAwaitWithTheDefaultToken) {
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  std::vector<std::string> got;
  bool finished = false;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        got.push_back(Show(co_await reader.AsyncReadLine()));
        got.push_back(Show(co_await reader.AsyncReadUntil("END")));
        got.push_back(Show(co_await reader.AsyncRead(3)));
        got.push_back(Show(co_await reader.AsyncReadExactly(4)));
        for (int i = 0; i < 3; ++i) {
          got.push_back(Show(co_await reader.AsyncNextLine()));
        }
        got.push_back(Show(co_await reader.AsyncRead()));
        finished = true;
      },
      asio::detached);
  asio::post(ctx, [&] {
    ASSERT_THAT(reader.FeedData(kStream), IsOk());
    reader.FeedEof();
  });
  ctx.run();
  EXPECT_TRUE(finished);
  ExpectRound(got);
}

TEST(StreamReaderTokensTest, WriterOperationsWithTheDefaultToken) {
  asio::io_context ctx;
  StreamReader connection_reader(ctx.get_executor());
  FakeConnection connection(connection_reader);
  const absl::Status reset = MakeError(ErrorKind::kConnectionResetError,
                                       "[Errno 104] Connection reset by peer");
  std::vector<absl::Status> got;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        got.push_back(co_await connection.writer->AsyncDrain());
        // The connection is lost, with an error, while wait_closed waits.
        asio::post(ctx, [&] {
          connection.transport->StartClosing();
          connection.protocol->ConnectionLost(reset);
        });
        got.push_back(co_await connection.writer->AsyncWaitClosed());
      },
      asio::detached);
  ctx.run();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[0], IsOk());
  EXPECT_EQ(got[1], reset);
}

TEST(StreamReaderTokensTest, DeferredOperationInvokedWithACallback) {
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  ASSERT_THAT(reader.FeedData(kStream), IsOk());
  reader.FeedEof();
  // A deferred operation does nothing until it is invoked.
  auto readline = reader.AsyncReadLine(asio::deferred);
  ctx.poll();
  EXPECT_EQ(reader.buffer(), kStream);

  std::vector<std::string> got;
  auto store = [&got](absl::StatusOr<std::string> value) {
    got.push_back(Show(value));
  };
  auto store_next = [&got](absl::StatusOr<std::optional<std::string>> value) {
    got.push_back(Show(value));
  };
  std::move(readline)(store);
  ctx.restart();
  ctx.poll();
  reader.AsyncReadUntil("END", asio::deferred)(store);
  ctx.restart();
  ctx.poll();
  reader.AsyncRead(3, asio::deferred)(store);
  ctx.restart();
  ctx.poll();
  reader.AsyncReadExactly(4, asio::deferred)(store);
  ctx.restart();
  ctx.poll();
  for (int i = 0; i < 3; ++i) {
    reader.AsyncNextLine(asio::deferred)(store_next);
    ctx.restart();
    ctx.poll();
  }
  reader.AsyncRead(-1, asio::deferred)(store);
  ctx.restart();
  ctx.poll();
  ExpectRound(got);
}

TEST(StreamReaderTokensTest, WriterDeferredOperationsInvokedWithACallback) {
  asio::io_context ctx;
  StreamReader connection_reader(ctx.get_executor());
  FakeConnection connection(connection_reader);
  std::vector<absl::Status> got;
  auto store = [&got](absl::Status status) { got.push_back(status); };
  connection.writer->AsyncDrain(asio::deferred)(store);
  connection.writer->AsyncWaitClosed(asio::deferred)(store);
  ctx.poll();
  ASSERT_EQ(got.size(), 1u);
  connection.transport->StartClosing();
  connection.protocol->ConnectionLost(absl::OkStatus());
  ctx.restart();
  ctx.poll();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[0], IsOk());
  EXPECT_THAT(got[1], IsOk());
}

// -----------------------------------------------------------------------------
// asio::use_future
// -----------------------------------------------------------------------------

TEST(StreamReaderTokensTest, UseFuturePolledBeforeGet) {
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  ASSERT_THAT(reader.FeedData(kStream), IsOk());
  reader.FeedEof();
  std::vector<std::string> got;
  auto get = [&ctx](auto future) {
    ctx.restart();
    ctx.poll();
    EXPECT_EQ(future.wait_for(std::chrono::seconds(0)),
              std::future_status::ready);
    return future.get();
  };
  got.push_back(Show(get(reader.AsyncReadLine(asio::use_future))));
  got.push_back(Show(get(reader.AsyncReadUntil("END", asio::use_future))));
  got.push_back(Show(get(reader.AsyncRead(3, asio::use_future))));
  got.push_back(Show(get(reader.AsyncReadExactly(4, asio::use_future))));
  for (int i = 0; i < 3; ++i) {
    got.push_back(Show(get(reader.AsyncNextLine(asio::use_future))));
  }
  got.push_back(Show(get(reader.AsyncRead(-1, asio::use_future))));
  ExpectRound(got);
}

TEST(StreamReaderTokensTest, UseFutureWithTheContextOnAnotherThread) {
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  // Started before run(): the pending read is what keeps run() going.
  std::future<absl::StatusOr<std::string>> line =
      reader.AsyncReadLine(asio::use_future);
  std::thread runner([&ctx] { ctx.run(); });
  asio::post(ctx,
             [&reader] { ASSERT_THAT(reader.FeedData("hi\nrest"), IsOk()); });
  EXPECT_THAT(line.get(), IsOkAndHolds("hi\n"));
  runner.join();  // run() returns: nothing is pending any more.
  EXPECT_EQ(reader.buffer(), "rest");
}

TEST(StreamReaderTokensTest, WriterOperationsWithUseFuture) {
  asio::io_context ctx;
  StreamReader connection_reader(ctx.get_executor());
  FakeConnection connection(connection_reader);
  std::future<absl::Status> drained =
      connection.writer->AsyncDrain(asio::use_future);
  std::future<absl::Status> closed =
      connection.writer->AsyncWaitClosed(asio::use_future);
  std::thread runner([&ctx] { ctx.run(); });
  EXPECT_THAT(drained.get(), IsOk());
  asio::post(ctx, [&connection] {
    connection.transport->StartClosing();
    connection.protocol->ConnectionLost(absl::OkStatus());
  });
  EXPECT_THAT(closed.get(), IsOk());
  runner.join();
}

// -----------------------------------------------------------------------------
// Plain callbacks, and what every handler can rely on.
// -----------------------------------------------------------------------------

TEST(StreamReaderTokensTest, PlainCallbacks) {
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  std::vector<std::string> got;
  auto store = [&got](absl::StatusOr<std::string> value) {
    got.push_back(Show(value));
  };
  auto store_next = [&got](absl::StatusOr<std::optional<std::string>> value) {
    got.push_back(Show(value));
  };
  reader.AsyncReadLine(store);
  ctx.poll();
  EXPECT_TRUE(got.empty());
  ASSERT_THAT(reader.FeedData(kStream), IsOk());
  reader.FeedEof();
  ctx.restart();
  ctx.poll();
  reader.AsyncReadUntil("END", store);
  ctx.restart();
  ctx.poll();
  reader.AsyncRead(3, store);
  ctx.restart();
  ctx.poll();
  reader.AsyncReadExactly(4, store);
  ctx.restart();
  ctx.poll();
  for (int i = 0; i < 3; ++i) {
    reader.AsyncNextLine(store_next);
    ctx.restart();
    ctx.poll();
  }
  reader.AsyncRead(-1, store);
  ctx.restart();
  ctx.poll();
  ExpectRound(got);
}

TEST(StreamReaderTokensTest, HandlerIsNeverCalledInsideTheInitiatingCall) {
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  ASSERT_THAT(reader.FeedData("line\nmore"), IsOk());
  StreamReader connection_reader(ctx.get_executor());
  FakeConnection connection(connection_reader);
  int calls = 0;
  auto count = [&calls](auto) { ++calls; };
  // Each of these could complete at once, from the buffer or its arguments.
  reader.AsyncReadLine(count);
  reader.AsyncReadUntil("", count);      // ValueError
  reader.AsyncRead(0, count);            // b''
  reader.AsyncRead(2, count);            // buffered
  reader.AsyncReadExactly(-1, count);    // ValueError
  reader.AsyncReadExactly(0, count);     // b''
  reader.AsyncNextLine(count);           // waits (the others ran first)
  connection.writer->AsyncDrain(count);  // not paused
  connection.protocol->AsyncDrainHelper(count);
  EXPECT_EQ(calls, 0);
  ctx.poll();
  EXPECT_EQ(calls, 8);
  // Immediate errors too: the reader's exception.
  reader.SetException(RuntimeError("boom"));  // wakes AsyncNextLine
  reader.AsyncRead(1, count);
  reader.AsyncReadLine(count);
  EXPECT_EQ(calls, 8);
  ctx.restart();
  ctx.poll();
  EXPECT_EQ(calls, 11);
}

TEST(StreamReaderTokensTest, CompletionRunsOnTheHandlersStrand) {
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  auto strand = asio::make_strand(ctx);
  std::optional<bool> on_strand;
  std::optional<absl::StatusOr<std::string>> line;
  reader.AsyncReadLine(
      asio::bind_executor(strand, [&](absl::StatusOr<std::string> value) {
        on_strand = strand.running_in_this_thread();
        line = std::move(value);
      }));
  ctx.poll();
  EXPECT_FALSE(line.has_value());
  ASSERT_THAT(reader.FeedData("a\n"), IsOk());
  ctx.restart();
  ctx.poll();
  ASSERT_TRUE(line.has_value());
  EXPECT_THAT(*line, IsOkAndHolds("a\n"));
  EXPECT_THAT(on_strand, Optional(true));
}

TEST(StreamReaderTokensTest, CompletionRunsOnASecondIoContextAndKeepsItBusy) {
  asio::io_context ctx;
  asio::io_context other;
  StreamReader reader(ctx.get_executor());
  std::optional<bool> on_other;
  std::optional<absl::StatusOr<std::string>> line;
  reader.AsyncReadLine(asio::bind_executor(
      other.get_executor(), [&](absl::StatusOr<std::string> value) {
        on_other = other.get_executor().running_in_this_thread();
        line = std::move(value);
      }));
  ctx.poll();
  other.poll();
  // The pending read keeps work on both contexts: neither ran out of work.
  EXPECT_FALSE(ctx.stopped());
  EXPECT_FALSE(other.stopped());
  ASSERT_THAT(reader.FeedData("a\nb"), IsOk());
  ctx.restart();
  ctx.poll();
  // The read's step ran on the reader's context; the handler waits for its
  // own.
  EXPECT_FALSE(line.has_value());
  EXPECT_EQ(reader.buffer(), "b");
  other.poll();
  ASSERT_TRUE(line.has_value());
  EXPECT_THAT(*line, IsOkAndHolds("a\n"));
  EXPECT_THAT(on_other, Optional(true));
  // Done: no more work anywhere.
  ctx.restart();
  ctx.poll();
  EXPECT_TRUE(ctx.stopped());
  other.restart();
  other.poll();
  EXPECT_TRUE(other.stopped());
}

TEST(StreamReaderTokensTest, WriterCompletionRunsOnTheHandlersExecutor) {
  asio::io_context ctx;
  asio::io_context other;
  StreamReader connection_reader(ctx.get_executor());
  FakeConnection connection(connection_reader);
  std::optional<bool> on_other;
  connection.writer->AsyncDrain(
      asio::bind_executor(other.get_executor(), [&](absl::Status status) {
        EXPECT_THAT(status, IsOk());
        on_other = other.get_executor().running_in_this_thread();
      }));
  ctx.poll();
  EXPECT_FALSE(on_other.has_value());
  other.poll();
  EXPECT_THAT(on_other, Optional(true));
}

// An allocator that counts what it allocates.
struct AllocationCounts {
  std::atomic<int> allocations{0};
  std::atomic<int> deallocations{0};
};

template <typename T>
class CountingAllocator {
 public:
  using value_type = T;

  explicit CountingAllocator(AllocationCounts* counts) : counts_(counts) {}
  template <typename U>
  CountingAllocator(const CountingAllocator<U>& other)  // NOLINT
      : counts_(other.counts()) {}

  T* allocate(size_t n) {
    ++counts_->allocations;
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, size_t n) {
    ++counts_->deallocations;
    std::allocator<T>().deallocate(p, n);
  }
  AllocationCounts* counts() const { return counts_; }

  template <typename U>
  bool operator==(const CountingAllocator<U>& other) const {
    return counts_ == other.counts();
  }

 private:
  AllocationCounts* counts_;
};

TEST(StreamReaderTokensTest, UsesTheHandlersAllocator) {
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  AllocationCounts counts;
  std::optional<absl::StatusOr<std::string>> line;
  reader.AsyncReadLine(asio::bind_allocator(
      CountingAllocator<void>(&counts),
      [&](absl::StatusOr<std::string> value) { line = std::move(value); }));
  ctx.poll();
  ASSERT_THAT(reader.FeedData("a\n"), IsOk());
  ctx.restart();
  ctx.poll();
  ASSERT_TRUE(line.has_value());
  EXPECT_THAT(*line, IsOkAndHolds("a\n"));
  EXPECT_GE(counts.allocations.load(), 1);
  EXPECT_EQ(counts.allocations.load(), counts.deallocations.load());
}

TEST(StreamReaderTokensTest, WriterUsesTheHandlersAllocator) {
  asio::io_context ctx;
  StreamReader connection_reader(ctx.get_executor());
  FakeConnection connection(connection_reader);
  AllocationCounts counts;
  std::optional<absl::Status> drained;
  connection.writer->AsyncDrain(
      asio::bind_allocator(CountingAllocator<void>(&counts),
                           [&](absl::Status status) { drained = status; }));
  ctx.poll();
  EXPECT_THAT(drained, Optional(IsOk()));
  EXPECT_GE(counts.allocations.load(), 1);
  EXPECT_EQ(counts.allocations.load(), counts.deallocations.load());
}

TEST(StreamReaderTokensTest, PendingReadKeepsRunFromReturningUntilDataArrives) {
  asio::io_context ctx;
  StreamReader reader(ctx.get_executor());
  std::optional<absl::StatusOr<std::string>> line;
  reader.AsyncReadLine(
      [&](absl::StatusOr<std::string> value) { line = std::move(value); });
  // Data comes in two parts; only the read holds work between them.
  asio::steady_timer timer(ctx, std::chrono::milliseconds(1));
  timer.async_wait([&](const boost::system::error_code& error) {
    ASSERT_FALSE(error);
    ASSERT_THAT(reader.FeedData("la"), IsOk());
    asio::post(ctx, [&] {
      asio::post(ctx, [&] { ASSERT_THAT(reader.FeedData("te\n"), IsOk()); });
    });
  });
  ctx.run();
  ASSERT_TRUE(line.has_value());
  EXPECT_THAT(*line, IsOkAndHolds("late\n"));
  EXPECT_TRUE(ctx.stopped());
}

}  // namespace
}  // namespace streams
