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

}  // namespace
}  // namespace streams
