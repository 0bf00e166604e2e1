// The awaited fast path, counted rather than timed: a read awaited from a
// coroutine whose answer is buffered allocates nothing beyond its result,
// never yields to the loop, and does not grow the stack (Asio 1.81 has no
// immediate executor: an operation completing inside its own initiation,
// awaited in a loop, recurses and overflows; a nested awaitable does not).

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/stream_reader.h"
#include "streams/testing/status_matchers.h"

namespace {

// Every heap allocation of the process, counted.
std::atomic<size_t> allocations{0};

}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
// Asio's recycling allocator (its operations, coroutine frames, and our
// ReadOperations) takes its blocks from std::aligned_alloc: counted too.
extern "C" void* aligned_alloc(std::size_t alignment,
                               std::size_t size) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = nullptr;
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  return posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
}

namespace streams {
namespace {

namespace asio = ::boost::asio;
using ::streams::testing::IsOk;

constexpr int kWarmUp = 100;
constexpr int kCounted = 10000;

// Feeds `lines` lines of `size` bytes (newline included), then EOF.
void FeedLines(StreamReader& reader, int lines, size_t size) {
  std::string line(size - 1, 'x');
  line += '\n';
  std::string all;
  all.reserve(line.size() * lines);
  for (int i = 0; i < lines; ++i) all += line;
  ASSERT_THAT(reader.FeedData(all), IsOk());
  reader.FeedEof();
}

// Allocations per read of `read` (an awaitable-returning callable) after
// warm-up reads, all answered from the buffer.
template <typename Read>
double AllocationsPerBufferedRead(size_t line_size, Read read) {
  asio::io_context context;
  StreamReader reader(context.get_executor());
  FeedLines(reader, kWarmUp + kCounted, line_size);
  size_t counted = 0;
  int ok = 0;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < kWarmUp; ++i) (void)co_await read(reader);
        const size_t before = allocations.load();
        for (int i = 0; i < kCounted; ++i) {
          absl::StatusOr<std::string> got = co_await read(reader);
          if (got.ok() && got->size() == line_size) ++ok;
        }
        counted = allocations.load() - before;
      },
      asio::detached);
  context.run();
  EXPECT_EQ(ok, kCounted);
  return static_cast<double>(counted) / kCounted;
}

TEST(StreamReaderFastPathTest, BufferedReadLineAllocatesOnlyItsResult) {
  EXPECT_LE(AllocationsPerBufferedRead(
                100, [](StreamReader& r) { return r.AsyncReadLine(); }),
            1.0);
}

TEST(StreamReaderFastPathTest, BufferedReadLineWithUseAwaitable) {
  EXPECT_LE(
      AllocationsPerBufferedRead(
          100,
          [](StreamReader& r) { return r.AsyncReadLine(asio::use_awaitable); }),
      1.0);
}

TEST(StreamReaderFastPathTest, BufferedReadExactlyAllocatesOnlyItsResult) {
  EXPECT_LE(AllocationsPerBufferedRead(
                100, [](StreamReader& r) { return r.AsyncReadExactly(100); }),
            1.0);
}

TEST(StreamReaderFastPathTest, ShortLinesFitTheStringAndAllocateNothing) {
  // 10-byte lines fit std::string's inline buffer: nothing at all.
  EXPECT_EQ(AllocationsPerBufferedRead(
                10, [](StreamReader& r) { return r.AsyncReadLine(); }),
            0.0);
}

// readline at EOF returns the partial line (asyncio: readuntil raises
// IncompleteReadError, readline catches it and returns e.partial) without
// building the error: a status with three payloads was four allocations or
// more for every connection that ended. 10-byte partial lines: the result
// itself allocates nothing.
TEST(StreamReaderFastPathTest, ReadLineAtEofAllocatesNoError) {
  asio::io_context context;
  size_t counted = 0;
  int ok = 0;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < kWarmUp + kCounted; ++i) {
          StreamReader reader(context.get_executor());
          if (!reader.FeedData("no newline").ok()) co_return;
          reader.FeedEof();
          const size_t before = allocations.load();
          absl::StatusOr<std::string> partial = co_await reader.AsyncReadLine();
          absl::StatusOr<std::string> eof = co_await reader.AsyncReadLine();
          if (i < kWarmUp) continue;
          counted += allocations.load() - before;
          ok += partial.ok() && *partial == "no newline" && eof.ok() &&
                eof->empty();
        }
      },
      asio::detached);
  context.run();
  EXPECT_EQ(ok, kCounted);
  EXPECT_EQ(counted, 0u);
}

// A read that must wait suspends on the reader's waiter; once warm, that
// costs no allocation either: the wait is kept in the reader's vector, the
// posted wakeup's block and the coroutine frames are reused from Asio's
// per-thread cache. 10-byte lines: the results allocate nothing.
TEST(StreamReaderFastPathTest, WaitingReadsReuseTheirBlocks) {
  asio::io_context context;
  StreamReader reader(context.get_executor());
  const std::string line = "123456789\n";
  size_t counted = 0;
  int ok = 0;
  int fed = 0;
  auto wait_for_a_line = [&]() -> asio::awaitable<bool> {
    // The reader is empty: the read waits until the producer feeds.
    absl::StatusOr<std::string> got = co_await reader.AsyncReadLine();
    co_return got.ok() && *got == line;
  };
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < kWarmUp; ++i) (void)co_await wait_for_a_line();
        const size_t before = allocations.load();
        for (int i = 0; i < kCounted; ++i) ok += co_await wait_for_a_line();
        counted = allocations.load() - before;
      },
      asio::detached);
  // The producer: one line per loop iteration, after the read waits.
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < kWarmUp + kCounted; ++i) {
          co_await asio::post(context, asio::use_awaitable);
          // The last line was read; no matcher here: matchers allocate.
          fed += reader.buffer_size() == 0 && reader.FeedData(line).ok();
        }
      },
      asio::detached);
  context.run();
  EXPECT_EQ(fed, kWarmUp + kCounted);
  EXPECT_EQ(ok, kCounted);
  // None per read: at most a one-off growth of some container.
  EXPECT_LE(counted, static_cast<size_t>(kCounted / 1000));
}

// asyncio: `await reader.readline()` with the line buffered does not yield.
TEST(StreamReaderFastPathTest, BufferedReadsNeverYieldToTheLoop) {
  asio::io_context context;
  StreamReader reader(context.get_executor());
  FeedLines(reader, 1000, 10);
  int other_runs = 0;
  int other_runs_when_done = -1;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 1000; ++i) (void)co_await reader.AsyncReadLine();
        other_runs_when_done = other_runs;
      },
      asio::detached);
  // Another task that counts loop iterations.
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 10; ++i) {
          ++other_runs;
          co_await asio::post(context, asio::use_awaitable);
        }
      },
      asio::detached);
  context.run();
  EXPECT_EQ(other_runs_when_done, 0);
}

TEST(StreamReaderFastPathTest, MillionBufferedLinesInALoopDoNotRecurse) {
  constexpr int kLines = 1000000;
  asio::io_context context;
  StreamReader reader(context.get_executor());
  FeedLines(reader, kLines, 2);
  int read = 0;
  bool eof = false;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        while (true) {
          absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
          if (!line.ok() || line->empty()) break;
          ++read;
        }
        eof = reader.AtEof();
      },
      asio::detached);
  context.run();
  EXPECT_EQ(read, kLines);
  EXPECT_TRUE(eof);
}

TEST(StreamReaderFastPathTest, BufferedReadsInsideOrWithATimer) {
  using namespace asio::experimental::awaitable_operators;
  constexpr int kLines = 10000;
  asio::io_context context;
  StreamReader reader(context.get_executor());
  FeedLines(reader, kLines, 10);
  int read = 0;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(context);
        for (int i = 0; i < kLines; ++i) {
          timer.expires_after(std::chrono::seconds(10));
          auto result = co_await (reader.AsyncReadLine() ||
                                  timer.async_wait(asio::use_awaitable));
          if (result.index() == 0 && std::get<0>(result).ok()) ++read;
        }
      },
      asio::detached);
  context.run();
  EXPECT_EQ(read, kLines);
  EXPECT_EQ(reader.buffer_size(), 0u);
}

}  // namespace
}  // namespace streams
