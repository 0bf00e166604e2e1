// Unit tests of StreamReader: ports of CPython 3.11.7's
// Lib/test/test_asyncio/test_streams.py (each one cites the test it ports),
// then tests of what the ports do not reach.
//
// As in CPython's tests, each test feeds the reader, runs one operation, and
// checks the result (value, or error code, kind and message) *and* what is
// left in the buffer.

#include "streams/stream_reader.h"

#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "boost/asio/bind_cancellation_slot.hpp"
#include "boost/asio/cancellation_signal.hpp"
#include "boost/asio/deferred.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/flow_control.h"
#include "streams/stream_reader_protocol.h"
#include "streams/stream_writer.h"
#include "streams/testing/fake_connection.h"
#include "streams/testing/fake_transport.h"
#include "streams/testing/run_briefly.h"
#include "streams/testing/status_matchers.h"

namespace streams {
namespace {

namespace asio = ::boost::asio;

using ::streams::testing::ErrorKindIs;
using ::streams::testing::FakeConnection;
using ::streams::testing::FakeTransport;
using ::streams::testing::IsOk;
using ::streams::testing::IsOkAndHolds;
using ::streams::testing::StatusIs;
using ::streams::testing::Task;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::IsEmpty;
using ::testing::Optional;

// test_streams.py's StreamTests.DATA.
constexpr absl::string_view kData = "line1\nline2\nline3\n";

class StreamReaderTest : public ::testing::Test {
 protected:
  // test_utils.run_briefly(): runs every ready step, until the context is
  // idle (a waiting read keeps work on it, so run() would block).
  void RunBriefly() { testing::RunBriefly(ctx_); }

  // loop.run_until_complete(op): starts the deferred read and runs the
  // context until idle; the read must be done by then.
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

  // loop.run_until_complete() for an operation completing with a status
  // (drains).
  template <typename DeferredOp>
  absl::Status RunStatusUntilComplete(DeferredOp op) {
    auto result = std::make_shared<std::optional<absl::Status>>();
    std::move(op)([result](absl::Status status) { *result = status; });
    RunBriefly();
    if (!result->has_value()) {
      ADD_FAILURE() << "the operation is still waiting";
      return absl::InternalError("the operation is still waiting");
    }
    return **result;
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
// Ports of test_streams.py.
// -----------------------------------------------------------------------------

// Port of test_streams.py::test_feed_empty_data
TEST_F(StreamReaderTest, FeedEmptyData) {
  StreamReader stream(ctx_.get_executor());
  EXPECT_THAT(stream.FeedData(""), IsOk());
  EXPECT_EQ(stream.buffer(), "");
  EXPECT_EQ(stream.buffer_size(), 0u);
}

// Port of test_streams.py::test_feed_nonempty_data
TEST_F(StreamReaderTest, FeedNonemptyData) {
  StreamReader stream(ctx_.get_executor());
  EXPECT_THAT(stream.FeedData(kData), IsOk());
  EXPECT_EQ(stream.buffer(), kData);
  EXPECT_EQ(stream.buffer_size(), kData.size());
}

// Port of test_streams.py::test_read_zero
TEST_F(StreamReaderTest, ReadZero) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData(kData), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(0, asio::deferred)),
              IsOkAndHolds(""));
  EXPECT_EQ(stream.buffer(), kData);
}

// Port of test_streams.py::test_read
TEST_F(StreamReaderTest, Read) {
  StreamReader stream(ctx_.get_executor());
  Task read_task(stream.AsyncRead(30, asio::deferred));
  RunBriefly();
  EXPECT_FALSE(read_task.done());
  ASSERT_THAT(stream.FeedData(kData), IsOk());
  RunBriefly();
  ASSERT_TRUE(read_task.done());
  EXPECT_THAT(read_task.result(), IsOkAndHolds(std::string(kData)));
  EXPECT_EQ(stream.buffer(), "");
}

// Port of test_streams.py::test_read_line_breaks
TEST_F(StreamReaderTest, ReadLineBreaks) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData("line1"), IsOk());
  ASSERT_THAT(stream.FeedData("line2"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(5, asio::deferred)),
              IsOkAndHolds("line1"));
  EXPECT_EQ(stream.buffer(), "line2");
}

// Port of test_streams.py::test_read_eof
TEST_F(StreamReaderTest, ReadEof) {
  StreamReader stream(ctx_.get_executor());
  Task read_task(stream.AsyncRead(1024, asio::deferred));
  RunBriefly();
  stream.FeedEof();
  RunBriefly();
  ASSERT_TRUE(read_task.done());
  EXPECT_THAT(read_task.result(), IsOkAndHolds(""));
  EXPECT_EQ(stream.buffer(), "");
}

// Port of test_streams.py::test_read_until_eof
TEST_F(StreamReaderTest, ReadUntilEof) {
  StreamReader stream(ctx_.get_executor());
  Task read_task(stream.AsyncRead(-1, asio::deferred));
  RunBriefly();
  ASSERT_THAT(stream.FeedData("chunk1\n"), IsOk());
  ASSERT_THAT(stream.FeedData("chunk2"), IsOk());
  stream.FeedEof();
  RunBriefly();
  ASSERT_TRUE(read_task.done());
  EXPECT_THAT(read_task.result(), IsOkAndHolds("chunk1\nchunk2"));
  EXPECT_EQ(stream.buffer(), "");
}

// Port of test_streams.py::test_read_exception
TEST_F(StreamReaderTest, ReadException) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData("line\n"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(2, asio::deferred)),
              IsOkAndHolds("li"));

  stream.SetException(ValueError(""));
  absl::StatusOr<std::string> data =
      RunUntilComplete(stream.AsyncRead(2, asio::deferred));
  EXPECT_THAT(data, StatusIs(absl::StatusCode::kInvalidArgument, ""));
  EXPECT_THAT(data, ErrorKindIs(ErrorKind::kValueError));
  EXPECT_EQ(stream.buffer(), "ne\n");
}

// Port of test_streams.py::test_invalid_limit
TEST_F(StreamReaderTest, InvalidLimit) {
  for (int64_t limit : {0, -1}) {
    absl::StatusOr<StreamReader> stream =
        StreamReader::Create(ctx_.get_executor(), limit);
    EXPECT_THAT(stream, StatusIs(absl::StatusCode::kInvalidArgument,
                                 "Limit cannot be <= 0"));
    EXPECT_THAT(stream, ErrorKindIs(ErrorKind::kValueError));
  }
}

// Port of test_streams.py::test_read_limit
TEST_F(StreamReaderTest, ReadLimit) {
  StreamReader stream = MakeReader(3);
  ASSERT_THAT(stream.FeedData("chunk"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(5, asio::deferred)),
              IsOkAndHolds("chunk"));
  EXPECT_EQ(stream.buffer(), "");
}

// Port of test_streams.py::test_readline
TEST_F(StreamReaderTest, Readline) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData("chunk1 "), IsOk());
  Task read_task(stream.AsyncReadLine(asio::deferred));
  RunBriefly();
  EXPECT_FALSE(read_task.done());
  ASSERT_THAT(stream.FeedData("chunk2 "), IsOk());
  ASSERT_THAT(stream.FeedData("chunk3 "), IsOk());
  ASSERT_THAT(stream.FeedData("\n chunk4"), IsOk());
  RunBriefly();
  ASSERT_TRUE(read_task.done());
  EXPECT_THAT(read_task.result(), IsOkAndHolds("chunk1 chunk2 chunk3 \n"));
  EXPECT_EQ(stream.buffer(), " chunk4");
}

// Port of test_streams.py::test_readline_limit_with_existing_data
TEST_F(StreamReaderTest, ReadlineLimitWithExistingData) {
  {
    StreamReader stream = MakeReader(3);
    ASSERT_THAT(stream.FeedData("li"), IsOk());
    ASSERT_THAT(stream.FeedData("ne1\nline2\n"), IsOk());
    absl::StatusOr<std::string> line =
        RunUntilComplete(stream.AsyncReadLine(asio::deferred));
    EXPECT_THAT(line,
                StatusIs(absl::StatusCode::kResourceExhausted,
                         "Separator is found, but chunk is longer than limit"));
    EXPECT_THAT(line, ErrorKindIs(ErrorKind::kValueError));
    // The buffer should contain the remaining data after exception.
    EXPECT_EQ(stream.buffer(), "line2\n");
  }
  {
    StreamReader stream = MakeReader(3);
    ASSERT_THAT(stream.FeedData("li"), IsOk());
    ASSERT_THAT(stream.FeedData("ne1"), IsOk());
    ASSERT_THAT(stream.FeedData("li"), IsOk());
    absl::StatusOr<std::string> line =
        RunUntilComplete(stream.AsyncReadLine(asio::deferred));
    EXPECT_THAT(line,
                StatusIs(absl::StatusCode::kResourceExhausted,
                         "Separator is not found, and chunk exceed the limit"));
    EXPECT_THAT(line, ErrorKindIs(ErrorKind::kValueError));
    // No "\n" at the end: readline consumed the entire buffer.
    EXPECT_EQ(stream.buffer(), "");
  }
}

// Port of test_streams.py::test_at_eof
TEST_F(StreamReaderTest, AtEof) {
  StreamReader stream(ctx_.get_executor());
  EXPECT_FALSE(stream.AtEof());

  ASSERT_THAT(stream.FeedData("some data\n"), IsOk());
  EXPECT_FALSE(stream.AtEof());

  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              IsOkAndHolds("some data\n"));
  EXPECT_FALSE(stream.AtEof());

  ASSERT_THAT(stream.FeedData("some data\n"), IsOk());
  stream.FeedEof();
  EXPECT_FALSE(stream.AtEof());  // EOF, but bytes are still buffered.
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              IsOkAndHolds("some data\n"));
  EXPECT_TRUE(stream.AtEof());
}

// Port of test_streams.py::test_readline_limit
TEST_F(StreamReaderTest, ReadlineLimit) {
  {
    StreamReader stream = MakeReader(7);
    Task read_task(stream.AsyncReadLine(asio::deferred));
    RunBriefly();
    ASSERT_THAT(stream.FeedData("chunk1"), IsOk());
    ASSERT_THAT(stream.FeedData("chunk2"), IsOk());
    ASSERT_THAT(stream.FeedData("chunk3\n"), IsOk());
    stream.FeedEof();
    RunBriefly();
    ASSERT_TRUE(read_task.done());
    EXPECT_THAT(read_task.result(),
                StatusIs(absl::StatusCode::kResourceExhausted,
                         "Separator is found, but chunk is longer than limit"));
    EXPECT_THAT(read_task.result(), ErrorKindIs(ErrorKind::kValueError));
    // The buffer had just one line of data: it is empty now.
    EXPECT_EQ(stream.buffer(), "");
  }
  {
    StreamReader stream = MakeReader(7);
    Task read_task(stream.AsyncReadLine(asio::deferred));
    RunBriefly();
    ASSERT_THAT(stream.FeedData("chunk1"), IsOk());
    ASSERT_THAT(stream.FeedData("chunk2\n"), IsOk());
    ASSERT_THAT(stream.FeedData("chunk3\n"), IsOk());
    stream.FeedEof();
    RunBriefly();
    ASSERT_TRUE(read_task.done());
    EXPECT_THAT(read_task.result(),
                StatusIs(absl::StatusCode::kResourceExhausted,
                         "Separator is found, but chunk is longer than limit"));
    EXPECT_EQ(stream.buffer(), "chunk3\n");
  }
  // Check strictness of the limit.
  StreamReader stream = MakeReader(7);
  ASSERT_THAT(stream.FeedData("1234567\n"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              IsOkAndHolds("1234567\n"));
  EXPECT_EQ(stream.buffer(), "");

  ASSERT_THAT(stream.FeedData("12345678\n"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "Separator is found, but chunk is longer than limit"));
  EXPECT_EQ(stream.buffer(), "");

  ASSERT_THAT(stream.FeedData("12345678"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "Separator is not found, and chunk exceed the limit"));
  EXPECT_EQ(stream.buffer(), "");
}

// Port of test_streams.py::test_readline_nolimit_nowait
TEST_F(StreamReaderTest, ReadlineNolimitNowait) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData(kData.substr(0, 6)), IsOk());
  ASSERT_THAT(stream.FeedData(kData.substr(6)), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              IsOkAndHolds("line1\n"));
  EXPECT_EQ(stream.buffer(), "line2\nline3\n");
}

// Port of test_streams.py::test_readline_eof
TEST_F(StreamReaderTest, ReadlineEof) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData("some data"), IsOk());
  stream.FeedEof();
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              IsOkAndHolds("some data"));
  EXPECT_EQ(stream.buffer(), "");
}

// Port of test_streams.py::test_readline_empty_eof
TEST_F(StreamReaderTest, ReadlineEmptyEof) {
  StreamReader stream(ctx_.get_executor());
  stream.FeedEof();
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              IsOkAndHolds(""));
  EXPECT_EQ(stream.buffer(), "");
}

// Port of test_streams.py::test_readline_read_byte_count
TEST_F(StreamReaderTest, ReadlineReadByteCount) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData(kData), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              IsOkAndHolds("line1\n"));
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(7, asio::deferred)),
              IsOkAndHolds("line2\nl"));
  EXPECT_EQ(stream.buffer(), "ine3\n");
}

// Port of test_streams.py::test_readline_exception
TEST_F(StreamReaderTest, ReadlineException) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData("line\n"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              IsOkAndHolds("line\n"));

  stream.SetException(ValueError(""));
  absl::StatusOr<std::string> line =
      RunUntilComplete(stream.AsyncReadLine(asio::deferred));
  EXPECT_THAT(line, StatusIs(absl::StatusCode::kInvalidArgument, ""));
  EXPECT_THAT(line, ErrorKindIs(ErrorKind::kValueError));
  EXPECT_EQ(stream.buffer(), "");
}

// Port of test_streams.py::test_readuntil_separator
TEST_F(StreamReaderTest, ReaduntilSeparator) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData("data"), IsOk());
  absl::StatusOr<std::string> data =
      RunUntilComplete(stream.AsyncReadUntil("", asio::deferred));
  EXPECT_THAT(data, StatusIs(absl::StatusCode::kInvalidArgument,
                             "Separator should be at least one-byte string"));
  EXPECT_THAT(data, ErrorKindIs(ErrorKind::kValueError));
  EXPECT_EQ(stream.buffer(), "data");
}

// Port of test_streams.py::test_readuntil_multi_chunks
TEST_F(StreamReaderTest, ReaduntilMultiChunks) {
  StreamReader stream(ctx_.get_executor());

  ASSERT_THAT(stream.FeedData("lineAAA"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadUntil("AAA", asio::deferred)),
              IsOkAndHolds("lineAAA"));
  EXPECT_EQ(stream.buffer(), "");

  ASSERT_THAT(stream.FeedData("lineAAA"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadUntil("AAA", asio::deferred)),
              IsOkAndHolds("lineAAA"));
  EXPECT_EQ(stream.buffer(), "");

  ASSERT_THAT(stream.FeedData("lineAAAxxx"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadUntil("AAA", asio::deferred)),
              IsOkAndHolds("lineAAA"));
  EXPECT_EQ(stream.buffer(), "xxx");
}

// Port of test_streams.py::test_readuntil_multi_chunks_1
TEST_F(StreamReaderTest, ReaduntilMultiChunks1) {
  StreamReader stream(ctx_.get_executor());

  ASSERT_THAT(stream.FeedData("QWEaa"), IsOk());
  ASSERT_THAT(stream.FeedData("XYaa"), IsOk());
  ASSERT_THAT(stream.FeedData("a"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadUntil("aaa", asio::deferred)),
              IsOkAndHolds("QWEaaXYaaa"));
  EXPECT_EQ(stream.buffer(), "");

  ASSERT_THAT(stream.FeedData("QWEaa"), IsOk());
  ASSERT_THAT(stream.FeedData("XYa"), IsOk());
  ASSERT_THAT(stream.FeedData("aa"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadUntil("aaa", asio::deferred)),
              IsOkAndHolds("QWEaaXYaaa"));
  EXPECT_EQ(stream.buffer(), "");

  ASSERT_THAT(stream.FeedData("aaa"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadUntil("aaa", asio::deferred)),
              IsOkAndHolds("aaa"));
  EXPECT_EQ(stream.buffer(), "");

  ASSERT_THAT(stream.FeedData("Xaaa"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadUntil("aaa", asio::deferred)),
              IsOkAndHolds("Xaaa"));
  EXPECT_EQ(stream.buffer(), "");

  ASSERT_THAT(stream.FeedData("XXX"), IsOk());
  ASSERT_THAT(stream.FeedData("a"), IsOk());
  ASSERT_THAT(stream.FeedData("a"), IsOk());
  ASSERT_THAT(stream.FeedData("a"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadUntil("aaa", asio::deferred)),
              IsOkAndHolds("XXXaaa"));
  EXPECT_EQ(stream.buffer(), "");
}

// The same chunks as test_readuntil_multi_chunks_1, fed while the read waits,
// so the separator search resumes across chunk boundaries.
TEST_F(StreamReaderTest, ReaduntilFindsSeparatorSplitAcrossWakeups) {
  StreamReader stream(ctx_.get_executor());
  Task read_task(stream.AsyncReadUntil("aaa", asio::deferred));
  for (absl::string_view chunk : {"QWEaa", "XYa", "aa"}) {
    RunBriefly();
    EXPECT_FALSE(read_task.done());
    ASSERT_THAT(stream.FeedData(chunk), IsOk());
  }
  RunBriefly();
  ASSERT_TRUE(read_task.done());
  EXPECT_THAT(read_task.result(), IsOkAndHolds("QWEaaXYaaa"));
  EXPECT_EQ(stream.buffer(), "");
}

// Port of test_streams.py::test_readuntil_eof
TEST_F(StreamReaderTest, ReaduntilEof) {
  StreamReader stream(ctx_.get_executor());
  const std::string data = "some dataAA";
  ASSERT_THAT(stream.FeedData(data), IsOk());
  stream.FeedEof();

  absl::StatusOr<std::string> got =
      RunUntilComplete(stream.AsyncReadUntil("AAA", asio::deferred));
  EXPECT_THAT(got,
              StatusIs(absl::StatusCode::kOutOfRange,
                       "11 bytes read on a total of undefined expected bytes"));
  EXPECT_THAT(got, ErrorKindIs(ErrorKind::kIncompleteReadError));
  std::optional<IncompleteRead> details = GetIncompleteRead(got.status());
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->partial, data);
  EXPECT_EQ(details->expected, std::nullopt);
  EXPECT_EQ(stream.buffer(), "");
}

// Port of test_streams.py::test_readuntil_limit_found_sep
TEST_F(StreamReaderTest, ReaduntilLimitFoundSep) {
  StreamReader stream = MakeReader(3);
  ASSERT_THAT(stream.FeedData("some dataAA"), IsOk());
  absl::StatusOr<std::string> got =
      RunUntilComplete(stream.AsyncReadUntil("AAA", asio::deferred));
  EXPECT_THAT(got,
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "Separator is not found, and chunk exceed the limit"));
  EXPECT_THAT(got, ErrorKindIs(ErrorKind::kLimitOverrunError));
  EXPECT_THAT(GetLimitOverrunConsumed(got.status()), Optional(Eq(9)));
  EXPECT_EQ(stream.buffer(), "some dataAA");

  ASSERT_THAT(stream.FeedData("A"), IsOk());
  got = RunUntilComplete(stream.AsyncReadUntil("AAA", asio::deferred));
  EXPECT_THAT(got,
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "Separator is found, but chunk is longer than limit"));
  EXPECT_THAT(got, ErrorKindIs(ErrorKind::kLimitOverrunError));
  EXPECT_THAT(GetLimitOverrunConsumed(got.status()), Optional(Eq(9)));
  EXPECT_EQ(stream.buffer(), "some dataAAA");
}

// Port of test_streams.py::test_readexactly_zero_or_less
TEST_F(StreamReaderTest, ReadexactlyZeroOrLess) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData(kData), IsOk());

  EXPECT_THAT(RunUntilComplete(stream.AsyncReadExactly(0, asio::deferred)),
              IsOkAndHolds(""));
  EXPECT_EQ(stream.buffer(), kData);

  absl::StatusOr<std::string> got =
      RunUntilComplete(stream.AsyncReadExactly(-1, asio::deferred));
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kInvalidArgument,
                            "readexactly size can not be less than zero"));
  EXPECT_THAT(got, ErrorKindIs(ErrorKind::kValueError));
  EXPECT_EQ(stream.buffer(), kData);
}

// Port of test_streams.py::test_readexactly
TEST_F(StreamReaderTest, Readexactly) {
  StreamReader stream(ctx_.get_executor());
  const int64_t n = 2 * kData.size();
  Task read_task(stream.AsyncReadExactly(n, asio::deferred));
  RunBriefly();
  ASSERT_THAT(stream.FeedData(kData), IsOk());
  ASSERT_THAT(stream.FeedData(kData), IsOk());
  ASSERT_THAT(stream.FeedData(kData), IsOk());
  RunBriefly();
  ASSERT_TRUE(read_task.done());
  EXPECT_THAT(read_task.result(), IsOkAndHolds(absl::StrCat(kData, kData)));
  EXPECT_EQ(stream.buffer(), kData);
}

// Port of test_streams.py::test_readexactly_limit
TEST_F(StreamReaderTest, ReadexactlyLimit) {
  StreamReader stream = MakeReader(3);
  ASSERT_THAT(stream.FeedData("chunk"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadExactly(5, asio::deferred)),
              IsOkAndHolds("chunk"));
  EXPECT_EQ(stream.buffer(), "");
}

// Port of test_streams.py::test_readexactly_eof
TEST_F(StreamReaderTest, ReadexactlyEof) {
  StreamReader stream(ctx_.get_executor());
  const int64_t n = 2 * kData.size();
  Task read_task(stream.AsyncReadExactly(n, asio::deferred));
  RunBriefly();
  ASSERT_THAT(stream.FeedData(kData), IsOk());
  stream.FeedEof();
  RunBriefly();
  ASSERT_TRUE(read_task.done());
  EXPECT_THAT(read_task.result(),
              StatusIs(absl::StatusCode::kOutOfRange,
                       "18 bytes read on a total of 36 expected bytes"));
  EXPECT_THAT(read_task.result(), ErrorKindIs(ErrorKind::kIncompleteReadError));
  std::optional<IncompleteRead> details =
      GetIncompleteRead(read_task.result().status());
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->partial, kData);
  EXPECT_THAT(details->expected, Optional(Eq(n)));
  EXPECT_EQ(stream.buffer(), "");
}

// Port of test_streams.py::test_readexactly_exception
TEST_F(StreamReaderTest, ReadexactlyException) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData("line\n"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadExactly(2, asio::deferred)),
              IsOkAndHolds("li"));

  stream.SetException(ValueError(""));
  absl::StatusOr<std::string> got =
      RunUntilComplete(stream.AsyncReadExactly(2, asio::deferred));
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kInvalidArgument, ""));
  EXPECT_THAT(got, ErrorKindIs(ErrorKind::kValueError));
  EXPECT_EQ(stream.buffer(), "ne\n");
}

// Port of test_streams.py::test_exception
TEST_F(StreamReaderTest, Exception) {
  StreamReader stream(ctx_.get_executor());
  EXPECT_THAT(stream.exception(), IsOk());

  const absl::Status exc = ValueError("");
  stream.SetException(exc);
  EXPECT_EQ(stream.exception(), exc);
  EXPECT_THAT(stream.exception(), ErrorKindIs(ErrorKind::kValueError));
}

// Port of test_streams.py::test_exception_waiter
TEST_F(StreamReaderTest, ExceptionWaiter) {
  StreamReader stream(ctx_.get_executor());
  Task t1(stream.AsyncReadLine(asio::deferred));
  // t2: `async def set_err(): stream.set_exception(ValueError())`.
  asio::post(ctx_, [&stream] { stream.SetException(ValueError("")); });
  RunBriefly();
  ASSERT_TRUE(t1.done());
  EXPECT_THAT(t1.result(), StatusIs(absl::StatusCode::kInvalidArgument, ""));
  EXPECT_THAT(t1.result(), ErrorKindIs(ErrorKind::kValueError));
}

// Port of test_streams.py::test_exception_cancel
TEST_F(StreamReaderTest, ExceptionCancel) {
  StreamReader stream(ctx_.get_executor());
  asio::cancellation_signal cancel;
  std::optional<absl::StatusOr<std::string>> t;
  stream.AsyncReadLine(asio::bind_cancellation_slot(
      cancel.slot(),
      [&t](absl::StatusOr<std::string> line) { t = std::move(line); }));
  RunBriefly();
  EXPECT_EQ(stream.DebugString(), "<StreamReader waiter=<pending read>>");
  cancel.emit(asio::cancellation_type::terminal);
  RunBriefly();
  ASSERT_TRUE(t.has_value());
  EXPECT_THAT(*t, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(*t, ErrorKindIs(ErrorKind::kCancelledError));
  // The following line fails if SetException() isn't careful.
  stream.SetException(RuntimeError("message"));
  RunBriefly();
  EXPECT_EQ(stream.DebugString(),
            "<StreamReader exception=RuntimeError('message')>");
}

// Port of test_streams.py::test_read_all_from_pipe_reader (the reader part).
// The pipe's bytes come through the protocol in chunks, into a reader whose
// limit is far below the data's size; read(-1) gets them all.
TEST_F(StreamReaderTest, ReadAllFromPipeReader) {
  StreamReader reader = MakeReader(1);
  auto protocol = StreamReaderProtocol::Create(reader);
  auto transport = std::make_shared<FakeTransport>();
  ASSERT_THAT(protocol->ConnectionMade(transport), IsOk());

  std::string data;
  for (int i = 0; data.size() < (1 << 20); ++i) {
    absl::StrAppend(&data, "data", i, ";");
  }
  Task read_task(reader.AsyncRead(-1, asio::deferred));
  RunBriefly();
  constexpr size_t kChunk = 4096;
  for (size_t at = 0; at < data.size(); at += kChunk) {
    ASSERT_THAT(
        protocol->DataReceived(absl::string_view(data).substr(at, kChunk)),
        IsOk());
    RunBriefly();
    ASSERT_FALSE(read_task.done());
  }
  protocol->ConnectionLost(absl::OkStatus());  // The pipe closed: EOF.
  RunBriefly();
  ASSERT_TRUE(read_task.done());
  ASSERT_THAT(read_task.result(), IsOk());
  EXPECT_EQ(read_task.result()->size(), data.size());
  EXPECT_TRUE(*read_task.result() == data);
  EXPECT_EQ(reader.buffer(), "");
  EXPECT_TRUE(reader.AtEof());
  // Every chunk paused the transport past 2 * limit; read(-1) resumed it.
  std::vector<std::string> calls = transport->CallNames();
  ASSERT_EQ(calls.size() % 2, 0u);
  ASSERT_FALSE(calls.empty());
  for (size_t i = 0; i < calls.size(); i += 2) {
    EXPECT_EQ(calls[i], "pause_reading");
    EXPECT_EQ(calls[i + 1], "resume_reading");
  }
}

// Port of test_streams.py::test_multiple_drain
TEST_F(StreamReaderTest, MultipleDrain) {
  auto stream = std::make_shared<FlowControl>(ctx_.get_executor());
  ASSERT_THAT(stream->PauseWriting(), IsOk());
  int drained = 0;
  std::vector<absl::Status> results;
  for (int i = 0; i < 10; ++i) {
    stream->AsyncDrainHelper([&](absl::Status status) {
      results.push_back(status);
      ++drained;
    });
  }
  RunBriefly();
  EXPECT_EQ(drained, 0);
  EXPECT_EQ(stream->drain_waiters(), 10u);
  // loop.call_later(0.1, stream.resume_writing), without the wait.
  asio::post(ctx_, [stream] { ASSERT_THAT(stream->ResumeWriting(), IsOk()); });
  RunBriefly();
  EXPECT_EQ(drained, 10);
  for (const absl::Status& status : results) EXPECT_THAT(status, IsOk());
  EXPECT_EQ(stream->drain_waiters(), 0u);
  EXPECT_FALSE(stream->writing_paused());
}

// Port of test_streams.py::test_drain_raises (the protocol part): the peer
// closes the connection while the client writes and drains in a loop; drain
// must raise instead of spinning. With an error, drain raises the reader's
// exception (the error itself).
TEST_F(StreamReaderTest, DrainRaises) {
  StreamReader reader(ctx_.get_executor());
  FakeConnection connection(reader);
  StreamWriter& writer = *connection.writer;

  EXPECT_THAT(writer.Write("foo\n"), IsOk());
  EXPECT_THAT(RunStatusUntilComplete(writer.AsyncDrain(asio::deferred)),
              IsOk());

  const absl::Status reset =
      MakeOsError(ErrorKind::kConnectionResetError,
                  std::error_code(ECONNRESET, std::generic_category()),
                  "[Errno 104] Connection reset by peer");
  connection.Lose(reset);
  EXPECT_THAT(writer.Write("foo\n"), IsOk());
  absl::Status drained =
      RunStatusUntilComplete(writer.AsyncDrain(asio::deferred));
  EXPECT_THAT(drained, StatusIs(absl::StatusCode::kUnavailable,
                                "[Errno 104] Connection reset by peer"));
  EXPECT_THAT(drained, ErrorKindIs(ErrorKind::kConnectionResetError));
  EXPECT_EQ(drained, reset);
}

// Port of test_streams.py::test_drain_raises (the protocol part), for a
// clean close: the reader only gets EOF, so drain yields once (the transport
// is closing) and then raises ConnectionResetError('Connection lost').
TEST_F(StreamReaderTest, DrainRaisesConnectionLostAfterCleanClose) {
  StreamReader reader(ctx_.get_executor());
  FakeConnection connection(reader);
  StreamWriter& writer = *connection.writer;

  connection.Lose(absl::OkStatus());
  EXPECT_THAT(writer.Write("foo\n"), IsOk());
  absl::Status drained =
      RunStatusUntilComplete(writer.AsyncDrain(asio::deferred));
  EXPECT_THAT(drained,
              StatusIs(absl::StatusCode::kUnavailable, "Connection lost"));
  EXPECT_THAT(drained, ErrorKindIs(ErrorKind::kConnectionResetError));
  EXPECT_TRUE(reader.AtEof());
}

// Port of test_streams.py::test___repr__
TEST_F(StreamReaderTest, Repr) {
  StreamReader stream(ctx_.get_executor());
  EXPECT_EQ(stream.DebugString(), "<StreamReader>");
}

// Port of test_streams.py::test___repr__nondefault_limit
TEST_F(StreamReaderTest, ReprNondefaultLimit) {
  StreamReader stream = MakeReader(123);
  EXPECT_EQ(stream.DebugString(), "<StreamReader limit=123>");
}

// Port of test_streams.py::test___repr__eof
TEST_F(StreamReaderTest, ReprEof) {
  StreamReader stream(ctx_.get_executor());
  stream.FeedEof();
  EXPECT_EQ(stream.DebugString(), "<StreamReader eof>");
}

// Port of test_streams.py::test___repr__data
TEST_F(StreamReaderTest, ReprData) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData("data"), IsOk());
  EXPECT_EQ(stream.DebugString(), "<StreamReader 4 bytes>");
}

// Port of test_streams.py::test___repr__exception
TEST_F(StreamReaderTest, ReprException) {
  StreamReader stream(ctx_.get_executor());
  stream.SetException(RuntimeError(""));
  EXPECT_EQ(stream.DebugString(), "<StreamReader exception=RuntimeError()>");
}

// Port of test_streams.py::test___repr__waiter
TEST_F(StreamReaderTest, ReprWaiter) {
  StreamReader stream(ctx_.get_executor());
  Task read_task(stream.AsyncRead(1, asio::deferred));
  RunBriefly();
  EXPECT_EQ(stream.DebugString(), "<StreamReader waiter=<pending read>>");
  ASSERT_THAT(stream.FeedData("x"), IsOk());
  RunBriefly();
  ASSERT_TRUE(read_task.done());
  EXPECT_THAT(read_task.result(), IsOkAndHolds("x"));
  EXPECT_EQ(stream.DebugString(), "<StreamReader>");
}

// Port of test_streams.py::test___repr__transport
TEST_F(StreamReaderTest, ReprTransport) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.SetTransport(std::make_shared<FakeTransport>()), IsOk());
  EXPECT_EQ(stream.DebugString(), "<StreamReader transport=<Transport>>");
}

// -----------------------------------------------------------------------------
// Beyond the ports.
// -----------------------------------------------------------------------------

TEST_F(StreamReaderTest, ReprShowsEveryFieldInAsyncioOrder) {
  StreamReader stream = MakeReader(2);
  auto transport = std::make_shared<FakeTransport>();
  ASSERT_THAT(stream.SetTransport(transport), IsOk());
  ASSERT_THAT(stream.FeedData("12345"), IsOk());  // > 2 * limit: paused.
  stream.FeedEof();
  stream.SetException(ValueError("bad"));
  EXPECT_EQ(stream.DebugString(),
            "<StreamReader 5 bytes eof limit=2 exception=ValueError('bad') "
            "transport=<Transport> paused>");
}

TEST_F(StreamReaderTest, DefaultLimitIs64KiB) {
  StreamReader stream(ctx_.get_executor());
  EXPECT_EQ(stream.limit(), 64 * 1024);
  EXPECT_EQ(MakeReader(5).limit(), 5);
}

TEST_F(StreamReaderTest, FeedDataAfterFeedEofFailsAndChangesNothing) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData("abc"), IsOk());
  stream.FeedEof();
  absl::Status fed = stream.FeedData("def");
  EXPECT_THAT(fed, StatusIs(absl::StatusCode::kFailedPrecondition,
                            "feed_data after feed_eof"));
  EXPECT_THAT(fed, ErrorKindIs(ErrorKind::kAssertionError));
  EXPECT_EQ(stream.buffer(), "abc");
}

TEST_F(StreamReaderTest, SetTransportTwiceFails) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.SetTransport(std::make_shared<FakeTransport>()), IsOk());
  absl::Status set = stream.SetTransport(std::make_shared<FakeTransport>());
  EXPECT_THAT(set, StatusIs(absl::StatusCode::kFailedPrecondition,
                            "Transport already set"));
  EXPECT_THAT(set, ErrorKindIs(ErrorKind::kAssertionError));
}

TEST_F(StreamReaderTest, SetExceptionWithOkIsIgnored) {
  StreamReader stream(ctx_.get_executor());
  stream.SetException(absl::OkStatus());
  EXPECT_THAT(stream.exception(), IsOk());
  ASSERT_THAT(stream.FeedData("a\n"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              IsOkAndHolds("a\n"));
}

TEST_F(StreamReaderTest, ExceptionWinsOverBufferedData) {
  // asyncio checks the exception before looking at the buffer.
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData("line\n"), IsOk());
  stream.SetException(RuntimeError("boom"));
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "boom"));
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadUntil("\n", asio::deferred)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "boom"));
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(-1, asio::deferred)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "boom"));
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(0, asio::deferred)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "boom"));
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadExactly(0, asio::deferred)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "boom"));
  EXPECT_EQ(stream.buffer(), "line\n");
}

TEST_F(StreamReaderTest, ExceptionWakesEveryKindOfWaitingRead) {
  struct Case {
    const char* name;
    std::function<Task<>(StreamReader&)> start;
  };
  const std::vector<Case> cases = {
      {"readuntil",
       [](StreamReader& r) {
         return Task(r.AsyncReadUntil("X", asio::deferred));
       }},
      {"read",
       [](StreamReader& r) { return Task(r.AsyncRead(4, asio::deferred)); }},
      {"read(-1)",
       [](StreamReader& r) { return Task(r.AsyncRead(-1, asio::deferred)); }},
      {"readexactly",
       [](StreamReader& r) {
         return Task(r.AsyncReadExactly(4, asio::deferred));
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    StreamReader stream(ctx_.get_executor());
    Task<> task = c.start(stream);
    RunBriefly();
    ASSERT_FALSE(task.done());
    stream.SetException(MakeError(ErrorKind::kEOFError, "gone"));
    RunBriefly();
    ASSERT_TRUE(task.done());
    EXPECT_THAT(task.result(), StatusIs(absl::StatusCode::kOutOfRange, "gone"));
    EXPECT_THAT(task.result(), ErrorKindIs(ErrorKind::kEOFError));
    EXPECT_EQ(stream.DebugString(),
              "<StreamReader exception=EOFError('gone')>");
  }
}

TEST_F(StreamReaderTest, ExceptionSetAfterAWakeupWaitsForTheNextOne) {
  // As asyncio (checked against CPython 3.11.7): feed_data() takes the
  // waiter out, so set_exception() right after it finds no waiter; the read
  // resumes, finds no line, and waits again, with the exception set. The
  // next wakeup (here EOF) lets it see the exception.
  StreamReader stream(ctx_.get_executor());
  Task read_task(stream.AsyncReadLine(asio::deferred));
  RunBriefly();
  ASSERT_THAT(stream.FeedData("partial"), IsOk());
  stream.SetException(RuntimeError("x"));
  RunBriefly();
  EXPECT_FALSE(read_task.done());
  EXPECT_EQ(stream.DebugString(),
            "<StreamReader 7 bytes waiter=<pending read> "
            "exception=RuntimeError('x')>");
  stream.FeedEof();
  RunBriefly();
  ASSERT_TRUE(read_task.done());
  EXPECT_THAT(read_task.result(), IsOkAndHolds("partial"));
}

TEST_F(StreamReaderTest, ReadAllDropsGatheredBlocksWhenExceptionIsSet) {
  // As asyncio: read(-1) raises and the blocks it gathered are lost.
  StreamReader stream = MakeReader(4);
  Task read_task(stream.AsyncRead(-1, asio::deferred));
  RunBriefly();
  ASSERT_THAT(stream.FeedData("abcdefgh"), IsOk());
  RunBriefly();
  EXPECT_FALSE(read_task.done());
  EXPECT_EQ(stream.buffer(), "");
  stream.SetException(RuntimeError("boom"));
  RunBriefly();
  ASSERT_TRUE(read_task.done());
  EXPECT_THAT(read_task.result(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "boom"));
  EXPECT_EQ(stream.buffer(), "");
}

TEST_F(StreamReaderTest, SecondWaitingReadFailsWithRuntimeError) {
  struct Case {
    const char* func_name;
    std::function<Task<>(StreamReader&)> start;
  };
  const std::vector<Case> cases = {
      {"readuntil",
       [](StreamReader& r) {
         return Task(r.AsyncReadUntil("X", asio::deferred));
       }},
      {"readuntil",
       [](StreamReader& r) { return Task(r.AsyncReadLine(asio::deferred)); }},
      {"read",
       [](StreamReader& r) { return Task(r.AsyncRead(3, asio::deferred)); }},
      {"read",
       [](StreamReader& r) { return Task(r.AsyncRead(-1, asio::deferred)); }},
      {"readexactly",
       [](StreamReader& r) {
         return Task(r.AsyncReadExactly(3, asio::deferred));
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.func_name);
    StreamReader stream(ctx_.get_executor());
    Task first(stream.AsyncReadLine(asio::deferred));
    RunBriefly();
    Task<> second = c.start(stream);
    RunBriefly();
    ASSERT_TRUE(second.done());
    EXPECT_THAT(second.result(),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         absl::StrCat(c.func_name,
                                      "() called while another coroutine is "
                                      "already waiting for incoming data")));
    EXPECT_THAT(second.result(), ErrorKindIs(ErrorKind::kRuntimeError));
    // The first read still gets its line.
    EXPECT_FALSE(first.done());
    ASSERT_THAT(stream.FeedData("xy\n"), IsOk());
    RunBriefly();
    ASSERT_TRUE(first.done());
    EXPECT_THAT(first.result(), IsOkAndHolds("xy\n"));
    EXPECT_EQ(stream.buffer(), "");
  }
}

TEST_F(StreamReaderTest, ReadsThatDoNotWaitMayRunWhileAnotherWaits) {
  // Only waiting is exclusive: a read satisfied from the buffer completes.
  StreamReader stream(ctx_.get_executor());
  Task first(stream.AsyncReadUntil("END", asio::deferred));
  RunBriefly();
  ASSERT_THAT(stream.FeedData("ab"), IsOk());
  Task second(stream.AsyncRead(1, asio::deferred));
  RunBriefly();
  ASSERT_TRUE(second.done());
  EXPECT_THAT(second.result(), IsOkAndHolds("a"));
  EXPECT_FALSE(first.done());
  EXPECT_EQ(stream.buffer(), "b");
}

TEST_F(StreamReaderTest, ReadPositiveReturnsWhatIsBufferedUpToN) {
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData("abc"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(100, asio::deferred)),
              IsOkAndHolds("abc"));
  EXPECT_EQ(stream.buffer(), "");
  ASSERT_THAT(stream.FeedData("abc"), IsOk());
  stream.FeedEof();
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(2, asio::deferred)),
              IsOkAndHolds("ab"));
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(2, asio::deferred)),
              IsOkAndHolds("c"));
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(2, asio::deferred)),
              IsOkAndHolds(""));
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(-1, asio::deferred)),
              IsOkAndHolds(""));
  EXPECT_TRUE(stream.AtEof());
}

TEST_F(StreamReaderTest, ReadAllGathersMoreThanTheLimit) {
  StreamReader stream = MakeReader(3);
  ASSERT_THAT(stream.FeedData("0123456789"), IsOk());
  stream.FeedEof();
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(-1, asio::deferred)),
              IsOkAndHolds("0123456789"));
  EXPECT_EQ(stream.buffer(), "");
}

TEST_F(StreamReaderTest, ReadlineKeepsBinaryBytes) {
  StreamReader stream(ctx_.get_executor());
  const std::string line("a\0b\xff\r\n", 6);
  ASSERT_THAT(stream.FeedData(line + "rest"), IsOk());
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadLine(asio::deferred)),
              IsOkAndHolds(line));
  EXPECT_EQ(stream.buffer(), "rest");
}

TEST_F(StreamReaderTest, ReaduntilMultiByteSeparatorAtEofIsFound) {
  // The separator arrives with the last chunk, together with EOF.
  StreamReader stream(ctx_.get_executor());
  Task read_task(stream.AsyncReadUntil("\r\n", asio::deferred));
  RunBriefly();
  ASSERT_THAT(stream.FeedData("GET /\r"), IsOk());
  ASSERT_THAT(stream.FeedData("\n"), IsOk());
  stream.FeedEof();
  RunBriefly();
  ASSERT_TRUE(read_task.done());
  EXPECT_THAT(read_task.result(), IsOkAndHolds("GET /\r\n"));
  EXPECT_TRUE(stream.AtEof());
}

TEST_F(StreamReaderTest, ReaduntilLimitCountsTheSeparatorTail) {
  // No separator within limit + len(separator) - 1 bytes: consumed is
  // buflen + 1 - seplen.
  StreamReader stream = MakeReader(4);
  ASSERT_THAT(stream.FeedData("abcdAB"), IsOk());  // 6 bytes, offset 4: waits
  Task read_task(stream.AsyncReadUntil("ABC", asio::deferred));
  RunBriefly();
  EXPECT_FALSE(read_task.done());
  ASSERT_THAT(stream.FeedData("x"), IsOk());  // 7 bytes, offset 5 > 4
  RunBriefly();
  ASSERT_TRUE(read_task.done());
  EXPECT_THAT(read_task.result(),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "Separator is not found, and chunk exceed the limit"));
  EXPECT_THAT(GetLimitOverrunConsumed(read_task.result().status()),
              Optional(Eq(5)));
  EXPECT_EQ(stream.buffer(), "abcdABx");
}

TEST_F(StreamReaderTest, NextLineIteratesUntilEof) {
  // `async for line in reader`.
  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData(kData), IsOk());
  ASSERT_THAT(stream.FeedData("tail"), IsOk());
  stream.FeedEof();
  std::vector<std::string> lines;
  while (true) {
    absl::StatusOr<std::optional<std::string>> line =
        RunUntilComplete<std::optional<std::string>>(
            stream.AsyncNextLine(asio::deferred));
    ASSERT_THAT(line, IsOk());
    if (!line->has_value()) break;
    lines.push_back(**line);
  }
  EXPECT_THAT(lines, ElementsAre("line1\n", "line2\n", "line3\n", "tail"));
  EXPECT_TRUE(stream.AtEof());
}

TEST_F(StreamReaderTest, NextLineRaisesReadlineErrors) {
  StreamReader stream = MakeReader(3);
  ASSERT_THAT(stream.FeedData("toolong\nok\n"), IsOk());
  absl::StatusOr<std::optional<std::string>> line =
      RunUntilComplete<std::optional<std::string>>(
          stream.AsyncNextLine(asio::deferred));
  EXPECT_THAT(line,
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "Separator is found, but chunk is longer than limit"));
  EXPECT_THAT(line, ErrorKindIs(ErrorKind::kValueError));
  EXPECT_EQ(stream.buffer(), "ok\n");
  EXPECT_THAT(RunUntilComplete<std::optional<std::string>>(
                  stream.AsyncNextLine(asio::deferred)),
              IsOkAndHolds(Optional(std::string("ok\n"))));
  stream.SetException(RuntimeError("boom"));
  EXPECT_THAT(RunUntilComplete<std::optional<std::string>>(
                  stream.AsyncNextLine(asio::deferred)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "boom"));
}

TEST_F(StreamReaderTest, NextLineWaitsForData) {
  StreamReader stream(ctx_.get_executor());
  Task<std::optional<std::string>> next(stream.AsyncNextLine(asio::deferred));
  RunBriefly();
  EXPECT_FALSE(next.done());
  ASSERT_THAT(stream.FeedData("a\nb"), IsOk());
  RunBriefly();
  ASSERT_TRUE(next.done());
  EXPECT_THAT(next.result(), IsOkAndHolds(Optional(std::string("a\n"))));
  EXPECT_EQ(stream.buffer(), "b");
}

TEST_F(StreamReaderTest, MovedReaderKeepsItsStateAndPendingRead) {
  StreamReader original = MakeReader(10);
  ASSERT_THAT(original.FeedData("ab"), IsOk());
  Task read_task(original.AsyncReadLine(asio::deferred));
  RunBriefly();
  StreamReader moved = std::move(original);
  ASSERT_THAT(moved.FeedData("c\n"), IsOk());
  RunBriefly();
  ASSERT_TRUE(read_task.done());
  EXPECT_THAT(read_task.result(), IsOkAndHolds("abc\n"));
  EXPECT_EQ(moved.limit(), 10);
  EXPECT_EQ(moved.buffer(), "");
}

// -----------------------------------------------------------------------------
// Flow control of the read side (FakeTransport).
// -----------------------------------------------------------------------------

TEST_F(StreamReaderTest, PausesTransportPastTwiceTheLimitNotAtIt) {
  StreamReader stream = MakeReader(4);
  auto transport = std::make_shared<FakeTransport>();
  ASSERT_THAT(stream.SetTransport(transport), IsOk());
  ASSERT_THAT(stream.FeedData("12345678"), IsOk());  // == 2 * limit
  EXPECT_FALSE(stream.transport_paused());
  EXPECT_THAT(transport->CallNames(), IsEmpty());
  ASSERT_THAT(stream.FeedData("9"), IsOk());  // > 2 * limit
  EXPECT_TRUE(stream.transport_paused());
  EXPECT_THAT(transport->CallNames(), ElementsAre("pause_reading"));
  // Already paused: not paused again.
  ASSERT_THAT(stream.FeedData("0"), IsOk());
  EXPECT_THAT(transport->CallNames(), ElementsAre("pause_reading"));
  EXPECT_EQ(stream.DebugString(),
            "<StreamReader 10 bytes limit=4 transport=<Transport> paused>");
}

TEST_F(StreamReaderTest, ResumesTransportAtOrBelowTheLimit) {
  StreamReader stream = MakeReader(4);
  auto transport = std::make_shared<FakeTransport>();
  ASSERT_THAT(stream.SetTransport(transport), IsOk());
  ASSERT_THAT(stream.FeedData("123456789"), IsOk());
  ASSERT_TRUE(stream.transport_paused());
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(4, asio::deferred)),
              IsOkAndHolds("1234"));
  EXPECT_EQ(stream.buffer(), "56789");  // 5 > limit: still paused
  EXPECT_TRUE(stream.transport_paused());
  EXPECT_THAT(transport->CallNames(), ElementsAre("pause_reading"));
  EXPECT_THAT(RunUntilComplete(stream.AsyncReadExactly(1, asio::deferred)),
              IsOkAndHolds("5"));
  EXPECT_EQ(stream.buffer(), "6789");  // == limit: resumed
  EXPECT_FALSE(stream.transport_paused());
  EXPECT_THAT(transport->CallNames(),
              ElementsAre("pause_reading", "resume_reading"));
}

TEST_F(StreamReaderTest, EveryConsumingReadResumesTheTransport) {
  struct Case {
    const char* name;
    std::function<Task<>(StreamReader&)> start;
    const char* result;
  };
  const std::vector<Case> cases = {
      {"readline",
       [](StreamReader& r) { return Task(r.AsyncReadLine(asio::deferred)); },
       "12345\n"},
      {"readuntil",
       [](StreamReader& r) {
         return Task(r.AsyncReadUntil("5\n", asio::deferred));
       },
       "12345\n"},
      {"read",
       [](StreamReader& r) { return Task(r.AsyncRead(6, asio::deferred)); },
       "12345\n"},
      {"readexactly",
       [](StreamReader& r) {
         return Task(r.AsyncReadExactly(6, asio::deferred));
       },
       "12345\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    StreamReader stream = MakeReader(5);
    auto transport = std::make_shared<FakeTransport>();
    ASSERT_THAT(stream.SetTransport(transport), IsOk());
    ASSERT_THAT(stream.FeedData("12345\nabcde"), IsOk());
    ASSERT_TRUE(stream.transport_paused());
    Task<> task = c.start(stream);
    RunBriefly();
    ASSERT_TRUE(task.done());
    EXPECT_THAT(task.result(), IsOkAndHolds(c.result));
    EXPECT_EQ(stream.buffer(), "abcde");  // == limit
    EXPECT_FALSE(stream.transport_paused());
    EXPECT_THAT(transport->CallNames(),
                ElementsAre("pause_reading", "resume_reading"));
  }
}

TEST_F(StreamReaderTest, ResumesTransportBeforeWaiting) {
  // readexactly(n > limit) would deadlock if it waited with the transport
  // paused.
  StreamReader stream = MakeReader(4);
  auto transport = std::make_shared<FakeTransport>();
  ASSERT_THAT(stream.SetTransport(transport), IsOk());
  ASSERT_THAT(stream.FeedData("123456789"), IsOk());
  ASSERT_TRUE(stream.transport_paused());
  Task read_task(stream.AsyncReadExactly(20, asio::deferred));
  RunBriefly();
  EXPECT_FALSE(read_task.done());
  EXPECT_FALSE(stream.transport_paused());
  EXPECT_THAT(transport->TakeCalls(),
              ElementsAre(FakeTransport::Call{"pause_reading", "", {}},
                          FakeTransport::Call{"resume_reading", "", {}}));
  ASSERT_THAT(stream.FeedData("0123456789a"), IsOk());  // 20 bytes: paused
  EXPECT_THAT(transport->CallNames(), ElementsAre("pause_reading"));
  RunBriefly();
  ASSERT_TRUE(read_task.done());
  EXPECT_THAT(read_task.result(), IsOkAndHolds("1234567890123456789a"));
  EXPECT_EQ(stream.buffer(), "");
  EXPECT_FALSE(stream.transport_paused());
  EXPECT_THAT(transport->CallNames(),
              ElementsAre("pause_reading", "resume_reading"));
}

TEST_F(StreamReaderTest, TransportThatCannotPauseIsForgotten) {
  StreamReader stream = MakeReader(4);
  auto transport = std::make_shared<FakeTransport>(
      FakeTransport::Options{.cannot_pause = true});
  ASSERT_THAT(stream.SetTransport(transport), IsOk());
  EXPECT_EQ(stream.DebugString(),
            "<StreamReader limit=4 transport=<Transport>>");
  ASSERT_THAT(stream.FeedData("123456789"), IsOk());
  EXPECT_FALSE(stream.transport_paused());
  // Forgotten: no transport any more, and everything is buffered.
  EXPECT_EQ(stream.DebugString(), "<StreamReader 9 bytes limit=4>");
  ASSERT_THAT(stream.FeedData(std::string(100, 'x')), IsOk());
  EXPECT_EQ(stream.buffer_size(), 109u);
  EXPECT_FALSE(stream.transport_paused());
  EXPECT_THAT(RunUntilComplete(stream.AsyncRead(109, asio::deferred)),
              IsOkAndHolds(absl::StrCat("123456789", std::string(100, 'x'))));
  EXPECT_THAT(transport->CallNames(), IsEmpty());
  // A new transport may be set, since the old one was forgotten.
  EXPECT_THAT(stream.SetTransport(std::make_shared<FakeTransport>()), IsOk());
}

// 32 MiB of 100-byte lines, fed at once and consumed line by line: every
// line arrives intact, and the buffer moved no more bytes than were fed
// (front consumption is O(1) amortized; a naive erase-from-front would move
// about N^2 / 200 bytes here).
TEST_F(StreamReaderTest, LargeFeedConsumedLineByLineMovesAtMostWhatWasFed) {
  constexpr size_t kLineSize = 100;
  constexpr size_t kLines = (32u << 20) / kLineSize;
  auto line_at = [](size_t i) {
    std::string line = absl::StrCat("line ", i, " ");
    line.resize(kLineSize - 1, static_cast<char>('a' + i % 26));
    line.push_back('\n');
    return line;
  };
  std::string data;
  data.reserve(kLines * kLineSize);
  for (size_t i = 0; i < kLines; ++i) data += line_at(i);

  StreamReader stream(ctx_.get_executor());
  ASSERT_THAT(stream.FeedData(data), IsOk());
  const uint64_t fed = data.size();
  data.clear();
  data.shrink_to_fit();

  size_t wrong = 0;
  for (size_t i = 0; i < kLines; ++i) {
    std::optional<absl::StatusOr<std::string>> line;
    stream.AsyncReadLine(
        [&line](absl::StatusOr<std::string> got) { line = std::move(got); });
    RunBriefly();
    ASSERT_TRUE(line.has_value()) << "line " << i;
    ASSERT_THAT(*line, IsOk()) << "line " << i;
    if (**line != line_at(i)) {
      ++wrong;
      ADD_FAILURE() << "line " << i << " is " << **line;
      if (wrong > 5) break;
    }
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(stream.buffer(), "");
  EXPECT_LE(stream.buffer_bytes_moved(), fed);
}

}  // namespace
}  // namespace streams
