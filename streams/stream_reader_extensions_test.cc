// Unit tests of StreamReader's extensions beyond CPython 3.11.7: the 3.13
// readuntil with several separators (ports of 3.13's test_streams.py asserts,
// each citing its test), and the opt-in reader options.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "boost/asio/bind_cancellation_slot.hpp"
#include "boost/asio/cancellation_signal.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/deferred.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/stream_reader.h"
#include "streams/testing/run_briefly.h"
#include "streams/testing/status_matchers.h"

namespace streams {
namespace {

namespace asio = ::boost::asio;

using ::streams::testing::ErrorKindIs;
using ::streams::testing::IsOk;
using ::streams::testing::IsOkAndHolds;
using ::streams::testing::StatusIs;
using ::streams::testing::Task;
using ::testing::Eq;
using ::testing::Optional;

class StreamReaderExtensionsTest : public ::testing::Test {
 protected:
  void RunBriefly() { testing::RunBriefly(ctx_); }

  template <typename T = std::string, typename DeferredOp>
  absl::StatusOr<T> RunUntilComplete(DeferredOp op) {
    Task<T> task(std::move(op));
    RunBriefly();
    if (!task.done()) {
      ADD_FAILURE() << "the read is still waiting";
      return absl::InternalError("the read is still waiting");
    }
    return task.result();
  }

  StreamReader MakeReader(int64_t limit = StreamReader::kDefaultLimit) {
    absl::StatusOr<StreamReader> reader =
        StreamReader::Create(ctx_.get_executor(), limit);
    EXPECT_THAT(reader, IsOk());
    return *std::move(reader);
  }

  asio::io_context ctx_;
};

// -----------------------------------------------------------------------------
// AsyncReadUntilAny(): CPython 3.13's readuntil(tuple).
// -----------------------------------------------------------------------------

// Port of 3.13 test_streams.py::test_readuntil_multi_separator
TEST_F(StreamReaderExtensionsTest, ReaduntilMultiSeparator) {
  StreamReader stream = MakeReader();
  ASSERT_THAT(stream.FeedData("line 1\nline 2\r"), IsOk());
  EXPECT_THAT(
      RunUntilComplete(stream.AsyncReadUntilAny({"\r", "\n"}, asio::deferred)),
      IsOkAndHolds("line 1\n"));
  EXPECT_THAT(
      RunUntilComplete(stream.AsyncReadUntilAny({"\r", "\n"}, asio::deferred)),
      IsOkAndHolds("line 2\r"));
  EXPECT_EQ(stream.buffer(), "");

  // The first end position matches, even if that is a longer match.
  ASSERT_THAT(stream.FeedData("ABCDEFG"), IsOk());
  EXPECT_THAT(RunUntilComplete(
                  stream.AsyncReadUntilAny({"DEF", "BCDE"}, asio::deferred)),
              IsOkAndHolds("ABCDE"));
  EXPECT_EQ(stream.buffer(), "FG");
}

// Port of 3.13 test_streams.py::test_readuntil_multi_separator_limit
TEST_F(StreamReaderExtensionsTest, ReaduntilMultiSeparatorLimit) {
  StreamReader stream = MakeReader(3);
  ASSERT_THAT(stream.FeedData("some dataA"), IsOk());
  absl::StatusOr<std::string> got = RunUntilComplete(
      stream.AsyncReadUntilAny({"A", "ome dataA"}, asio::deferred));
  EXPECT_THAT(got,
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "Separator is found, but chunk is longer than limit"));
  EXPECT_THAT(got, ErrorKindIs(ErrorKind::kLimitOverrunError));
  EXPECT_THAT(GetLimitOverrunConsumed(got.status()), Optional(Eq(9)));
  EXPECT_EQ(stream.buffer(), "some dataA");
}

// Port of 3.13 test_streams.py::test_readuntil_multi_separator_negative_offset
TEST_F(StreamReaderExtensionsTest, ReaduntilMultiSeparatorNegativeOffset) {
  // The buffer is long enough for the shortest separator (without holding
  // it) but too short for the longest: the offset must not go negative.
  StreamReader stream = MakeReader();
  ASSERT_THAT(stream.FeedData("data"), IsOk());
  Task read(stream.AsyncReadUntilAny({"A", "long sep"}, asio::deferred));
  RunBriefly();
  ASSERT_FALSE(read.done());
  ASSERT_THAT(stream.FeedData("Z"), IsOk());
  RunBriefly();
  ASSERT_THAT(stream.FeedData("Aaaa"), IsOk());
  RunBriefly();
  ASSERT_TRUE(read.done());
  EXPECT_THAT(read.result(), IsOkAndHolds("dataZA"));
  EXPECT_EQ(stream.buffer(), "aaa");
}

// 3.13's readuntil(()) and readuntil((b"\n", b"")).
TEST_F(StreamReaderExtensionsTest, ReaduntilAnyEmptyErrors) {
  StreamReader stream = MakeReader();
  ASSERT_THAT(stream.FeedData("anything"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadUntilAny({}, asio::deferred)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "Separator should contain at least one element"));
  absl::StatusOr<std::string> got =
      RunUntilComplete(stream.AsyncReadUntilAny({"\n", ""}, asio::deferred));
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kInvalidArgument,
                            "Separator should be at least one-byte string"));
  EXPECT_THAT(got, ErrorKindIs(ErrorKind::kValueError));
  EXPECT_EQ(stream.buffer(), "anything");
}

// Not found: the offset that is checked against the limit keeps the longest
// separator's length - 1 bytes back.
TEST_F(StreamReaderExtensionsTest, ReaduntilAnyNotFoundUsesLongest) {
  StreamReader stream = MakeReader(3);
  ASSERT_THAT(stream.FeedData("abcde"), IsOk());
  // max(0, 5 + 1 - 3) == 3 is not over the limit: the read waits.
  Task read(stream.AsyncReadUntilAny({"X", "XYZ"}, asio::deferred));
  RunBriefly();
  ASSERT_FALSE(read.done());
  ASSERT_THAT(stream.FeedData("f"), IsOk());
  RunBriefly();
  ASSERT_TRUE(read.done());
  EXPECT_THAT(read.result(),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "Separator is not found, and chunk exceed the limit"));
  EXPECT_THAT(GetLimitOverrunConsumed(read.result().status()), Optional(Eq(4)));
  EXPECT_EQ(stream.buffer(), "abcdef");
}

// Awaited, the same read returns at once with the answer buffered.
TEST_F(StreamReaderExtensionsTest, ReaduntilAnyAwaited) {
  StreamReader stream = MakeReader();
  ASSERT_THAT(stream.FeedData("a;b,"), IsOk());
  std::vector<std::string> got;
  asio::co_spawn(
      ctx_,
      [&]() -> asio::awaitable<void> {
        // Named arguments: g++ 12 mishandles temporaries in a co_await
        // expression (README.md).
        for (int i = 0; i < 2; ++i) {
          std::vector<std::string> separators = {",", ";"};
          absl::StatusOr<std::string> part =
              co_await stream.AsyncReadUntilAny(std::move(separators));
          got.push_back(part.ok() ? *part : part.status().ToString());
        }
        std::vector<std::string> line_ends = {"\r\n", "\n"};
        absl::StatusOr<std::string> waited =
            co_await stream.AsyncReadUntilAny(std::move(line_ends));
        got.push_back(waited.ok() ? *waited : waited.status().ToString());
      },
      asio::detached);
  RunBriefly();
  ASSERT_THAT(stream.FeedData("c\r"), IsOk());
  RunBriefly();
  ASSERT_THAT(stream.FeedData("\nd"), IsOk());
  RunBriefly();
  EXPECT_THAT(got, ::testing::ElementsAre("a;", "b,", "c\r\n"));
  EXPECT_EQ(stream.buffer(), "d");
}

// -----------------------------------------------------------------------------
// ReaderOptions::overlong_line.
// -----------------------------------------------------------------------------

class OverlongLineTest : public StreamReaderExtensionsTest {
 protected:
  StreamReader MakeReader(OverlongLine mode, int64_t limit = 4) {
    ReaderOptions options;
    options.limit = limit;
    options.overlong_line = mode;
    absl::StatusOr<StreamReader> reader =
        StreamReader::Create(ctx_.get_executor(), options);
    EXPECT_THAT(reader, IsOk());
    return *std::move(reader);
  }
};

TEST_F(OverlongLineTest, OptionsLimitMustBePositive) {
  ReaderOptions options;
  options.limit = 0;
  EXPECT_THAT(
      StreamReader::Create(ctx_.get_executor(), options),
      StatusIs(absl::StatusCode::kInvalidArgument, "Limit cannot be <= 0"));
}

// The complaint: with 3.11.7's rule the tail of an over-long line whose "\n"
// had not arrived yet comes back as a line of its own.
TEST_F(OverlongLineTest, AsyncioReturnsTheTailAsALine) {
  StreamReader stream = MakeReader(OverlongLine::kAsyncio);
  ASSERT_THAT(stream.FeedData("0123456"), IsOk());
  absl::StatusOr<std::string> got =
      RunUntilComplete(stream.AsyncReadLine(asio::deferred));
  EXPECT_THAT(got, ErrorKindIs(ErrorKind::kValueError));
  EXPECT_EQ(stream.buffer(), "");
  ASSERT_THAT(stream.FeedData("89\nnext\n"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              IsOkAndHolds("89\n"));
}

TEST_F(OverlongLineTest, DiscardLineDropsThroughTheNextNewline) {
  StreamReader stream = MakeReader(OverlongLine::kDiscardLine);
  ASSERT_THAT(stream.FeedData("0123456"), IsOk());
  absl::StatusOr<std::string> got =
      RunUntilComplete(stream.AsyncReadLine(asio::deferred));
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kResourceExhausted,
                            "Separator is not found, and chunk exceed the "
                            "limit"));
  EXPECT_THAT(got, ErrorKindIs(ErrorKind::kValueError));
  EXPECT_EQ(stream.buffer(), "");
  // A read started while the line is being dropped waits for the next one.
  Task next(stream.AsyncReadLine(asio::deferred));
  RunBriefly();
  ASSERT_THAT(stream.FeedData("789"), IsOk());
  RunBriefly();
  EXPECT_FALSE(next.done());
  EXPECT_EQ(stream.buffer(), "");
  ASSERT_THAT(stream.FeedData("9\nnext\nmore"), IsOk());
  RunBriefly();
  ASSERT_TRUE(next.done());
  EXPECT_THAT(next.result(), IsOkAndHolds("next\n"));
  EXPECT_EQ(stream.buffer(), "more");
}

TEST_F(OverlongLineTest, DiscardLineFoundDropsThroughIt) {
  StreamReader stream = MakeReader(OverlongLine::kDiscardLine);
  ASSERT_THAT(stream.FeedData("012345\nok\n"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "Separator is found, but chunk is longer than limit"));
  EXPECT_EQ(stream.buffer(), "ok\n");
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              IsOkAndHolds("ok\n"));
}

TEST_F(OverlongLineTest, DiscardLineReadUntilKeepsPartialSeparator) {
  StreamReader stream = MakeReader(OverlongLine::kDiscardLine);
  ASSERT_THAT(stream.FeedData("0123456\r"), IsOk());
  absl::StatusOr<std::string> got =
      RunUntilComplete(stream.AsyncReadUntil("\r\n", asio::deferred));
  EXPECT_THAT(got, ErrorKindIs(ErrorKind::kLimitOverrunError));
  EXPECT_EQ(stream.buffer(), "\r");  // may start the separator
  ASSERT_THAT(stream.FeedData("\nab\r\n"), IsOk());
  EXPECT_EQ(stream.buffer(), "ab\r\n");
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadUntil("\r\n", asio::deferred)),
              IsOkAndHolds("ab\r\n"));
}

TEST_F(OverlongLineTest, DiscardLineEofDropsTheRest) {
  StreamReader stream = MakeReader(OverlongLine::kDiscardLine);
  ASSERT_THAT(stream.FeedData("0123456"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              ErrorKindIs(ErrorKind::kValueError));
  ASSERT_THAT(stream.FeedData("789"), IsOk());
  stream.FeedEof();
  EXPECT_TRUE(stream.AtEof());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              IsOkAndHolds(""));
}

TEST_F(OverlongLineTest, KeepFailsAsReadUntilAndKeepsTheBytes) {
  StreamReader stream = MakeReader(OverlongLine::kKeep);
  ASSERT_THAT(stream.FeedData("0123456"), IsOk());
  absl::StatusOr<std::string> got =
      RunUntilComplete(stream.AsyncReadLine(asio::deferred));
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kResourceExhausted,
                            "Separator is not found, and chunk exceed the "
                            "limit"));
  EXPECT_THAT(got, ErrorKindIs(ErrorKind::kLimitOverrunError));
  EXPECT_THAT(GetLimitOverrunConsumed(got.status()), Optional(Eq(7)));
  EXPECT_EQ(stream.buffer(), "0123456");
  // The caller consumes, then reads on.
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(7, asio::deferred)),
              IsOkAndHolds("0123456"));
  ASSERT_THAT(stream.FeedData("ab\n"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              IsOkAndHolds("ab\n"));
}

// -----------------------------------------------------------------------------
// ReaderOptions::cancel_safe_read_all.
// -----------------------------------------------------------------------------

class CancelSafeReadAllTest : public StreamReaderExtensionsTest,
                              public ::testing::WithParamInterface<bool> {
 protected:
  StreamReader MakeReader() {
    ReaderOptions options;
    options.limit = 4;
    options.cancel_safe_read_all = GetParam();
    absl::StatusOr<StreamReader> reader =
        StreamReader::Create(ctx_.get_executor(), options);
    EXPECT_THAT(reader, IsOk());
    return *std::move(reader);
  }
};

TEST_P(CancelSafeReadAllTest, CancelledReadAll) {
  StreamReader stream = MakeReader();
  asio::cancellation_signal signal;
  std::optional<absl::StatusOr<std::string>> got;
  stream.AsyncRead(-1, asio::bind_cancellation_slot(
                           signal.slot(), [&](absl::StatusOr<std::string> r) {
                             got = std::move(r);
                           }));
  RunBriefly();
  ASSERT_THAT(stream.FeedData("0123456789"), IsOk());
  RunBriefly();
  signal.emit(asio::cancellation_type::terminal);
  RunBriefly();
  ASSERT_TRUE(got.has_value());
  EXPECT_THAT(*got, StatusIs(absl::StatusCode::kCancelled));
  // 3.11.7 dropped the blocks it had gathered; the option keeps them.
  EXPECT_EQ(stream.buffer(), GetParam() ? "0123456789" : "");
}

TEST_P(CancelSafeReadAllTest, FailedReadAll) {
  StreamReader stream = MakeReader();
  Task read(stream.AsyncRead(-1, asio::deferred));
  RunBriefly();
  ASSERT_THAT(stream.FeedData("abcdef"), IsOk());
  RunBriefly();
  stream.SetException(absl::UnavailableError("reset"));
  RunBriefly();
  ASSERT_TRUE(read.done());
  EXPECT_THAT(read.result(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(stream.buffer(), GetParam() ? "abcdef" : "");
}

TEST_P(CancelSafeReadAllTest, ReadAllToEof) {
  StreamReader stream = MakeReader();
  Task read(stream.AsyncRead(-1, asio::deferred));
  RunBriefly();
  ASSERT_THAT(stream.FeedData("abcdef"), IsOk());
  RunBriefly();
  ASSERT_THAT(stream.FeedData("ghij"), IsOk());
  stream.FeedEof();
  RunBriefly();
  ASSERT_TRUE(read.done());
  EXPECT_THAT(read.result(), IsOkAndHolds("abcdefghij"));
  EXPECT_TRUE(stream.AtEof());
}

INSTANTIATE_TEST_SUITE_P(Modes, CancelSafeReadAllTest, ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "CancelSafe" : "Asyncio";
                         });

// -----------------------------------------------------------------------------
// Zero-copy reads.
// -----------------------------------------------------------------------------

// Whether this build runs under AddressSanitizer.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif

TEST_F(StreamReaderExtensionsTest, ReadLineViewPointsIntoTheBuffer) {
  StreamReader stream = MakeReader(8);
  ASSERT_THAT(stream.FeedData("ab\ncd"), IsOk());
  std::vector<std::string> got;
  asio::co_spawn(
      ctx_,
      [&]() -> asio::awaitable<void> {
        const char* front = stream.buffer().data();
        absl::StatusOr<absl::string_view> line =
            co_await stream.AsyncReadLineView();
        EXPECT_THAT(line, IsOkAndHolds("ab\n"));
        EXPECT_EQ(line->data(), front);  // no copy
        got.emplace_back(*line);
        line = co_await stream.AsyncReadLineView();  // waits for "\n"
        got.emplace_back(line.ok() ? *line : line.status().ToString());
        line = co_await stream.AsyncReadLineView();  // over the limit
        EXPECT_THAT(line, StatusIs(absl::StatusCode::kResourceExhausted));
        EXPECT_THAT(line, ErrorKindIs(ErrorKind::kValueError));
        line = co_await stream.AsyncReadLineView();  // EOF: the partial line
        got.emplace_back(line.ok() ? *line : line.status().ToString());
        line = co_await stream.AsyncReadLineView();
        EXPECT_THAT(line, IsOkAndHolds(""));
      },
      asio::detached);
  RunBriefly();
  ASSERT_THAT(stream.FeedData("e"), IsOk());
  RunBriefly();
  ASSERT_THAT(stream.FeedData("f\n0123456789\nxy"), IsOk());
  RunBriefly();
  stream.FeedEof();
  RunBriefly();
  EXPECT_THAT(got, ::testing::ElementsAre("ab\n", "cdef\n", "xy"));
}

TEST_F(StreamReaderExtensionsTest, TryReadLineViewNeverWaits) {
  StreamReader stream = MakeReader(8);
  EXPECT_EQ(stream.TryReadLineView(), std::nullopt);  // would wait
  ASSERT_THAT(stream.FeedData("ab\ncd"), IsOk());
  std::optional<absl::StatusOr<absl::string_view>> line =
      stream.TryReadLineView();
  ASSERT_TRUE(line.has_value());
  EXPECT_THAT(*line, IsOkAndHolds("ab\n"));
  EXPECT_EQ(stream.TryReadLineView(), std::nullopt);
  EXPECT_EQ(stream.buffer(), "cd");
  stream.FeedEof();
  line = stream.TryReadLineView();
  ASSERT_TRUE(line.has_value());
  EXPECT_THAT(*line, IsOkAndHolds("cd"));
}

// readline answers a set IncompleteReadError with its partial bytes (its
// own except clause): so does the view, buffered or woken, and any other
// exception comes back as it is.
TEST_F(StreamReaderExtensionsTest, ViewAnswersASetExceptionAsReadlineDoes) {
  StreamReader stream = MakeReader();
  stream.SetException(IncompleteReadError("part", std::nullopt));
  std::optional<absl::StatusOr<absl::string_view>> now =
      stream.TryReadLineView();
  ASSERT_TRUE(now.has_value());
  EXPECT_THAT(*now, IsOkAndHolds("part"));

  StreamReader woken = MakeReader();
  std::optional<absl::StatusOr<std::string>> got;
  asio::co_spawn(
      ctx_,
      [&]() -> asio::awaitable<void> {
        absl::StatusOr<absl::string_view> line =
            co_await woken.AsyncReadLineView();
        got = line.ok() ? absl::StatusOr<std::string>(std::string(*line))
                        : absl::StatusOr<std::string>(line.status());
      },
      asio::detached);
  RunBriefly();
  EXPECT_FALSE(got.has_value());  // waiting
  woken.SetException(IncompleteReadError("tail", std::nullopt));
  RunBriefly();
  ASSERT_TRUE(got.has_value());
  EXPECT_THAT(*got, IsOkAndHolds("tail"));

  StreamReader failed = MakeReader();
  failed.SetException(ValueError("boom"));
  now = failed.TryReadLineView();
  ASSERT_TRUE(now.has_value());
  EXPECT_THAT(*now, ErrorKindIs(ErrorKind::kValueError));
}

TEST_F(StreamReaderExtensionsTest, FillAndConsume) {
  StreamReader stream = MakeReader();
  std::string framed;
  asio::co_spawn(
      ctx_,
      [&]() -> asio::awaitable<void> {
        while (true) {
          absl::Status filled = co_await stream.AsyncFill();
          EXPECT_THAT(filled, IsOk());
          if (stream.buffer().empty()) break;  // EOF
          // A parser that frames 2-byte records and leaves a half one.
          const size_t used = stream.buffer().size() / 2 * 2;
          framed.append(stream.buffer().data(), used);
          if (used == 0) {
            framed += "|";
            // Not enough for a record: wait for more than is buffered.
            absl::StatusOr<std::string> more =
                co_await stream.AsyncReadExactly(2);
            framed.append(more.value_or(""));
            continue;
          }
          EXPECT_THAT(stream.Consume(used), IsOk());
        }
      },
      asio::detached);
  RunBriefly();
  ASSERT_THAT(stream.FeedData("abc"), IsOk());
  RunBriefly();
  ASSERT_THAT(stream.FeedData("d"), IsOk());
  RunBriefly();
  stream.FeedEof();
  RunBriefly();
  EXPECT_EQ(framed, "ab|cd");
  EXPECT_THAT(stream.Consume(1), StatusIs(absl::StatusCode::kInvalidArgument));
}

// A view is valid until the next call on the reader: a feed that regrows
// the buffer frees the bytes it points at. Under --config=asan the use is
// reported (heap-use-after-free); without ASan the test checks, without
// reading it, that the view no longer points into the buffer.
TEST_F(StreamReaderExtensionsTest, ViewAfterFeedIsUseAfterFree) {
  StreamReader stream = MakeReader();
  // Longer than std::string's inline buffer: the bytes live on the heap.
  const std::string first(40, 'a');
  ASSERT_THAT(stream.FeedData(first + "\n"), IsOk());
  absl::string_view view;
  asio::co_spawn(
      ctx_,
      [&]() -> asio::awaitable<void> {
        absl::StatusOr<absl::string_view> line =
            co_await stream.AsyncReadLineView();
        EXPECT_THAT(line, IsOkAndHolds(first + "\n"));
        view = line.value_or("");
      },
      asio::detached);
  RunBriefly();
  ASSERT_EQ(view, first + "\n");
  // Big enough to regrow the storage (and free the old one).
  ASSERT_THAT(stream.FeedData(std::string(1 << 16, 'x')), IsOk());
  EXPECT_NE(stream.buffer().data(), view.data());
  if constexpr (kAsan) {
    EXPECT_DEATH(
        {
          volatile char first = view[0];
          (void)first;
        },
        "heap-use-after-free");
  }
}

}  // namespace
}  // namespace streams
