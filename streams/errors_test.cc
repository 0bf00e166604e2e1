#include "streams/errors.h"

#include <cerrno>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/testing/status_matchers.h"

namespace streams {
namespace {

using ::streams::testing::ErrorKindIs;
using ::streams::testing::StatusIs;
using ::testing::Eq;
using ::testing::Optional;

// Every kind with its Python name and the code errors.h's table gives it
// (docs/design.md, "Errors").
struct KindRow {
  ErrorKind kind;
  const char* python_name;
  absl::StatusCode code;
};

constexpr KindRow kTable[] = {
    {ErrorKind::kIncompleteReadError, "IncompleteReadError",
     absl::StatusCode::kOutOfRange},
    {ErrorKind::kLimitOverrunError, "LimitOverrunError",
     absl::StatusCode::kResourceExhausted},
    {ErrorKind::kValueError, "ValueError", absl::StatusCode::kInvalidArgument},
    {ErrorKind::kRuntimeError, "RuntimeError",
     absl::StatusCode::kFailedPrecondition},
    {ErrorKind::kAssertionError, "AssertionError",
     absl::StatusCode::kFailedPrecondition},
    {ErrorKind::kCancelledError, "CancelledError",
     absl::StatusCode::kCancelled},
    {ErrorKind::kNotImplementedError, "NotImplementedError",
     absl::StatusCode::kUnimplemented},
    {ErrorKind::kOSError, "OSError", absl::StatusCode::kUnavailable},
    {ErrorKind::kConnectionResetError, "ConnectionResetError",
     absl::StatusCode::kUnavailable},
    {ErrorKind::kBrokenPipeError, "BrokenPipeError",
     absl::StatusCode::kUnavailable},
    {ErrorKind::kConnectionAbortedError, "ConnectionAbortedError",
     absl::StatusCode::kUnavailable},
    {ErrorKind::kConnectionRefusedError, "ConnectionRefusedError",
     absl::StatusCode::kUnavailable},
    {ErrorKind::kGaiError, "gaierror", absl::StatusCode::kNotFound},
    {ErrorKind::kTimeoutError, "TimeoutError",
     absl::StatusCode::kDeadlineExceeded},
    {ErrorKind::kSSLError, "SSLError", absl::StatusCode::kUnavailable},
    {ErrorKind::kSSLCertVerificationError, "SSLCertVerificationError",
     absl::StatusCode::kPermissionDenied},
    {ErrorKind::kException, "Exception", absl::StatusCode::kUnknown},
    {ErrorKind::kTypeError, "TypeError", absl::StatusCode::kInvalidArgument},
    {ErrorKind::kEOFError, "EOFError", absl::StatusCode::kOutOfRange},
    {ErrorKind::kConnectionError, "ConnectionError",
     absl::StatusCode::kUnavailable},
};

TEST(ErrorsTest, EveryKindHasItsPythonNameAndCode) {
  for (const KindRow& row : kTable) {
    SCOPED_TRACE(row.python_name);
    EXPECT_EQ(PythonName(row.kind), row.python_name);
    EXPECT_THAT(ErrorKindFromPythonName(row.python_name), Optional(row.kind));
    absl::Status status = MakeError(row.kind, "some message");
    EXPECT_THAT(status, StatusIs(row.code, "some message"));
    EXPECT_THAT(status, ErrorKindIs(row.kind));
    EXPECT_EQ(PythonTypeName(status), row.python_name);
  }
}

TEST(ErrorsTest, UnknownPythonNameHasNoKind) {
  EXPECT_EQ(ErrorKindFromPythonName("KeyError"), std::nullopt);
  EXPECT_EQ(ErrorKindFromPythonName(""), std::nullopt);
  // Names are case-sensitive, as in Python.
  EXPECT_EQ(ErrorKindFromPythonName("valueerror"), std::nullopt);
}

TEST(ErrorsTest, IncompleteReadErrorCarriesPartialAndExpected) {
  // str(asyncio.IncompleteReadError(b'abc', 10)).
  absl::Status status = IncompleteReadError("abc", 10);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kOutOfRange,
                               "3 bytes read on a total of 10 expected bytes"));
  EXPECT_THAT(status, ErrorKindIs(ErrorKind::kIncompleteReadError));
  EXPECT_TRUE(IsIncompleteReadError(status));
  EXPECT_FALSE(IsLimitOverrunError(status));
  std::optional<IncompleteRead> details = GetIncompleteRead(status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->partial, "abc");
  EXPECT_THAT(details->expected, Optional(Eq(10)));
}

TEST(ErrorsTest, IncompleteReadErrorWithoutExpectedSaysUndefined) {
  // str(asyncio.IncompleteReadError(b'abc', None)), as readuntil raises it.
  absl::Status status = IncompleteReadError("abc", std::nullopt);
  EXPECT_THAT(status,
              StatusIs(absl::StatusCode::kOutOfRange,
                       "3 bytes read on a total of undefined expected bytes"));
  std::optional<IncompleteRead> details = GetIncompleteRead(status);
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->partial, "abc");
  EXPECT_EQ(details->expected, std::nullopt);
}

TEST(ErrorsTest, IncompleteReadErrorKeepsBinaryPartial) {
  const std::string partial("\0\xff\n", 3);
  std::optional<IncompleteRead> details =
      GetIncompleteRead(IncompleteReadError(partial, 5));
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->partial, partial);
}

TEST(ErrorsTest, LimitOverrunErrorCarriesConsumed) {
  absl::Status status = LimitOverrunError("message", 10);
  EXPECT_THAT(status,
              StatusIs(absl::StatusCode::kResourceExhausted, "message"));
  EXPECT_THAT(status, ErrorKindIs(ErrorKind::kLimitOverrunError));
  EXPECT_TRUE(IsLimitOverrunError(status));
  EXPECT_FALSE(IsIncompleteReadError(status));
  EXPECT_THAT(GetLimitOverrunConsumed(status), Optional(Eq(10)));
}

// Port of test_streams.py::test_IncompleteReadError_pickleable
TEST(ErrorsTest, IncompleteReadErrorPickleable) {
  // A copied (and a moved) status keeps every detail, as pickling does.
  const absl::Status original = IncompleteReadError("abc", 10);
  absl::Status copy = original;
  absl::Status moved = absl::Status(original);
  absl::Status moved_to = std::move(moved);
  for (const absl::Status* status : {&copy, &moved_to}) {
    EXPECT_EQ(status->message(), original.message());
    EXPECT_EQ(status->message(),
              "3 bytes read on a total of 10 expected bytes");
    EXPECT_THAT(*status, ErrorKindIs(ErrorKind::kIncompleteReadError));
    std::optional<IncompleteRead> details = GetIncompleteRead(*status);
    ASSERT_TRUE(details.has_value());
    EXPECT_EQ(details->partial, "abc");
    EXPECT_THAT(details->expected, Optional(Eq(10)));
  }
  EXPECT_EQ(copy, original);
}

// Port of test_streams.py::test_LimitOverrunError_pickleable
TEST(ErrorsTest, LimitOverrunErrorPickleable) {
  const absl::Status original = LimitOverrunError("message", 10);
  absl::Status copy = original;
  absl::Status moved = absl::Status(original);
  absl::Status moved_to = std::move(moved);
  for (const absl::Status* status : {&copy, &moved_to}) {
    EXPECT_THAT(*status,
                StatusIs(absl::StatusCode::kResourceExhausted, "message"));
    EXPECT_THAT(*status, ErrorKindIs(ErrorKind::kLimitOverrunError));
    EXPECT_THAT(GetLimitOverrunConsumed(*status), Optional(Eq(10)));
  }
  EXPECT_EQ(copy, original);
}

TEST(ErrorsTest, ValueErrorIsInvalidArgument) {
  absl::Status status = ValueError("Limit cannot be <= 0");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               "Limit cannot be <= 0"));
  EXPECT_THAT(status, ErrorKindIs(ErrorKind::kValueError));
}

TEST(ErrorsTest, LineTooLongErrorIsAValueErrorWithResourceExhausted) {
  absl::Status status =
      LineTooLongError("Separator is found, but chunk is longer than limit");
  EXPECT_THAT(status,
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "Separator is found, but chunk is longer than limit"));
  EXPECT_THAT(status, ErrorKindIs(ErrorKind::kValueError));
  EXPECT_EQ(PythonTypeName(status), "ValueError");
  // readline's ValueError is not a LimitOverrunError and has no `consumed`.
  EXPECT_FALSE(IsLimitOverrunError(status));
  EXPECT_EQ(GetLimitOverrunConsumed(status), std::nullopt);
}

TEST(ErrorsTest, RuntimeAssertionAndCancelledErrors) {
  EXPECT_THAT(RuntimeError("read() called while another coroutine is already "
                           "waiting for incoming data"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "read() called while another coroutine is already "
                       "waiting for incoming data"));
  EXPECT_THAT(RuntimeError("x"), ErrorKindIs(ErrorKind::kRuntimeError));
  EXPECT_THAT(AssertionError("feed_data after feed_eof"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "feed_data after feed_eof"));
  EXPECT_THAT(AssertionError(""), ErrorKindIs(ErrorKind::kAssertionError));
  absl::Status cancelled = CancelledError();
  EXPECT_THAT(cancelled, StatusIs(absl::StatusCode::kCancelled, ""));
  EXPECT_THAT(cancelled, ErrorKindIs(ErrorKind::kCancelledError));
  EXPECT_TRUE(IsCancelledError(cancelled));
  // Any kCancelled status is a cancellation, e.g. one made by Abseil.
  EXPECT_TRUE(IsCancelledError(absl::CancelledError("operation aborted")));
  EXPECT_FALSE(IsCancelledError(absl::OkStatus()));
}

TEST(ErrorsTest, OsErrorCarriesItsErrorCode) {
  const std::error_code code(ECONNRESET, std::generic_category());
  absl::Status status = MakeOsError(ErrorKind::kConnectionResetError, code,
                                    "[Errno 104] Connection reset by peer");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable,
                               "[Errno 104] Connection reset by peer"));
  EXPECT_THAT(status, ErrorKindIs(ErrorKind::kConnectionResetError));
  EXPECT_THAT(GetErrorCode(status), Optional(code));
  // A copy keeps it.
  absl::Status copy = status;
  EXPECT_THAT(GetErrorCode(copy), Optional(code));
}

TEST(ErrorsTest, OsErrorKeepsTheSystemCategory) {
  const std::error_code code(EPIPE, std::system_category());
  absl::Status status =
      MakeOsError(ErrorKind::kBrokenPipeError, code, "[Errno 32] Broken pipe");
  EXPECT_THAT(status, ErrorKindIs(ErrorKind::kBrokenPipeError));
  std::optional<std::error_code> got = GetErrorCode(status);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->value(), EPIPE);
  EXPECT_EQ(&got->category(), &std::system_category());
}

TEST(ErrorsTest, DetailsAreAbsentFromOtherStatuses) {
  for (const absl::Status& status :
       {absl::OkStatus(), absl::OutOfRangeError("3 bytes"),
        absl::ResourceExhaustedError("message"), ValueError("x"),
        MakeError(ErrorKind::kEOFError, "eof")}) {
    SCOPED_TRACE(status.ToString());
    EXPECT_EQ(GetIncompleteRead(status), std::nullopt);
    EXPECT_EQ(GetLimitOverrunConsumed(status), std::nullopt);
    EXPECT_EQ(GetErrorCode(status), std::nullopt);
    EXPECT_FALSE(IsIncompleteReadError(status));
    EXPECT_FALSE(IsLimitOverrunError(status));
  }
  EXPECT_EQ(GetErrorKind(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(GetErrorKind(absl::OutOfRangeError("x")), std::nullopt);
}

TEST(ErrorsTest, PythonTypeNameOfForeignStatusesFollowsTheCode) {
  EXPECT_EQ(PythonTypeName(absl::InvalidArgumentError("x")), "ValueError");
  EXPECT_EQ(PythonTypeName(absl::CancelledError("x")), "CancelledError");
  EXPECT_EQ(PythonTypeName(absl::DeadlineExceededError("x")), "TimeoutError");
  EXPECT_EQ(PythonTypeName(absl::UnimplementedError("x")),
            "NotImplementedError");
  EXPECT_EQ(PythonTypeName(absl::UnavailableError("x")), "OSError");
  EXPECT_EQ(PythonTypeName(absl::InternalError("x")), "Exception");
  EXPECT_EQ(PythonTypeName(absl::OutOfRangeError("x")), "Exception");
}

TEST(ErrorsTest, PythonStringIsHowPythonPrintsTheException) {
  EXPECT_EQ(PythonString(absl::OkStatus()), "OK");
  EXPECT_EQ(PythonString(CancelledError()), "CancelledError");
  EXPECT_EQ(PythonString(LimitOverrunError(
                "Separator is not found, and chunk exceed the limit", 9)),
            "LimitOverrunError: Separator is not found, and chunk exceed the "
            "limit");
  EXPECT_EQ(PythonString(IncompleteReadError("ab", 5)),
            "IncompleteReadError: 2 bytes read on a total of 5 expected bytes");
  EXPECT_EQ(PythonString(absl::InvalidArgumentError("bad")), "ValueError: bad");
}

}  // namespace
}  // namespace streams
