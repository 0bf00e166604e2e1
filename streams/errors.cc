#include "streams/errors.h"

#include <array>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace streams {
namespace {

// Payload type URLs. The kind is stored by Python name, so that it survives
// reordering of the enum and reads well in a printed status.
constexpr absl::string_view kKindUrl = "type.asyncio-streams/kind";
constexpr absl::string_view kPartialUrl = "type.asyncio-streams/partial";
constexpr absl::string_view kExpectedUrl = "type.asyncio-streams/expected";
constexpr absl::string_view kConsumedUrl = "type.asyncio-streams/consumed";
constexpr absl::string_view kErrnoUrl = "type.asyncio-streams/errno";
constexpr absl::string_view kErrorCategoryUrl =
    "type.asyncio-streams/error-category";

struct KindInfo {
  ErrorKind kind;
  absl::string_view python_name;
  absl::StatusCode code;
};

// errors.h's table (docs/design.md, "Errors"), in one place.
constexpr std::array<KindInfo, 22> kKinds = {{
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
    {ErrorKind::kFileNotFoundError, "FileNotFoundError",
     absl::StatusCode::kNotFound},
    {ErrorKind::kPermissionError, "PermissionError",
     absl::StatusCode::kPermissionDenied},
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
}};

const KindInfo& Info(ErrorKind kind) {
  for (const KindInfo& info : kKinds) {
    if (info.kind == kind) return info;
  }
  return kKinds[0];  // Unreachable: every enumerator is in the table.
}

absl::Status Make(ErrorKind kind, absl::StatusCode code,
                  absl::string_view message) {
  absl::Status status(code, message);
  status.SetPayload(kKindUrl, absl::Cord(Info(kind).python_name));
  return status;
}

std::optional<int64_t> GetIntPayload(const absl::Status& status,
                                     absl::string_view url) {
  auto payload = status.GetPayload(url);
  int64_t value = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &value)) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

absl::string_view PythonName(ErrorKind kind) { return Info(kind).python_name; }

std::optional<ErrorKind> ErrorKindFromPythonName(absl::string_view name) {
  for (const KindInfo& info : kKinds) {
    if (info.python_name == name) return info.kind;
  }
  return std::nullopt;
}

absl::Status MakeError(ErrorKind kind, absl::string_view message) {
  return Make(kind, Info(kind).code, message);
}

absl::Status MakeOsError(ErrorKind kind, std::error_code error,
                         absl::string_view message) {
  absl::Status status = MakeError(kind, message);
  status.SetPayload(kErrnoUrl, absl::Cord(absl::StrCat(error.value())));
  status.SetPayload(kErrorCategoryUrl, absl::Cord(error.category().name()));
  return status;
}

absl::Status OsError(std::error_code error, absl::string_view message) {
  ErrorKind kind = ErrorKind::kOSError;
  if (error.category() == std::system_category() ||
      error.category() == std::generic_category()) {
    switch (static_cast<std::errc>(error.value())) {
      case std::errc::connection_reset:
        kind = ErrorKind::kConnectionResetError;
        break;
      case std::errc::broken_pipe:
        kind = ErrorKind::kBrokenPipeError;
        break;
      case std::errc::connection_aborted:
        kind = ErrorKind::kConnectionAbortedError;
        break;
      case std::errc::connection_refused:
        kind = ErrorKind::kConnectionRefusedError;
        break;
      case std::errc::timed_out:
        kind = ErrorKind::kTimeoutError;
        break;
      case std::errc::no_such_file_or_directory:
        kind = ErrorKind::kFileNotFoundError;
        break;
      case std::errc::permission_denied:
      case std::errc::operation_not_permitted:
        kind = ErrorKind::kPermissionError;
        break;
      default:
        break;
    }
  }
  return MakeOsError(kind, error,
                     message.empty() ? absl::StrCat("[Errno ", error.value(),
                                                    "] ", error.message())
                                     : message);
}

absl::Status IncompleteReadError(std::string partial,
                                 std::optional<int64_t> expected) {
  // str(asyncio.IncompleteReadError(partial, expected)), verbatim.
  absl::Status status =
      MakeError(ErrorKind::kIncompleteReadError,
                absl::StrCat(partial.size(), " bytes read on a total of ",
                             expected ? absl::StrCat(*expected) : "undefined",
                             " expected bytes"));
  status.SetPayload(kPartialUrl, absl::Cord(std::move(partial)));
  if (expected) {
    status.SetPayload(kExpectedUrl, absl::Cord(absl::StrCat(*expected)));
  }
  return status;
}

absl::Status LimitOverrunError(absl::string_view message, int64_t consumed) {
  absl::Status status = MakeError(ErrorKind::kLimitOverrunError, message);
  status.SetPayload(kConsumedUrl, absl::Cord(absl::StrCat(consumed)));
  return status;
}

absl::Status ValueError(absl::string_view message) {
  return MakeError(ErrorKind::kValueError, message);
}

absl::Status LineTooLongError(absl::string_view message) {
  return Make(ErrorKind::kValueError, absl::StatusCode::kResourceExhausted,
              message);
}

absl::Status RuntimeError(absl::string_view message) {
  return MakeError(ErrorKind::kRuntimeError, message);
}

absl::Status AssertionError(absl::string_view message) {
  return MakeError(ErrorKind::kAssertionError, message);
}

absl::Status CancelledError() {
  return MakeError(ErrorKind::kCancelledError, "");
}

std::optional<ErrorKind> GetErrorKind(const absl::Status& status) {
  auto payload = status.GetPayload(kKindUrl);
  if (!payload) return std::nullopt;
  return ErrorKindFromPythonName(std::string(*payload));
}

std::string PythonTypeName(const absl::Status& status) {
  if (std::optional<ErrorKind> kind = GetErrorKind(status)) {
    return std::string(PythonName(*kind));
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return "ValueError";
    case absl::StatusCode::kCancelled:
      return "CancelledError";
    case absl::StatusCode::kDeadlineExceeded:
      return "TimeoutError";
    case absl::StatusCode::kUnimplemented:
      return "NotImplementedError";
    case absl::StatusCode::kUnavailable:
      return "OSError";
    default:
      return "Exception";
  }
}

std::string PythonString(const absl::Status& status) {
  if (status.ok()) return "OK";
  if (status.message().empty()) return PythonTypeName(status);
  return absl::StrCat(PythonTypeName(status), ": ", status.message());
}

std::optional<IncompleteRead> GetIncompleteRead(const absl::Status& status) {
  if (!IsIncompleteReadError(status)) return std::nullopt;
  auto partial = status.GetPayload(kPartialUrl);
  return IncompleteRead{partial ? std::string(*partial) : std::string(),
                        GetIntPayload(status, kExpectedUrl)};
}

std::optional<int64_t> GetLimitOverrunConsumed(const absl::Status& status) {
  if (!IsLimitOverrunError(status)) return std::nullopt;
  return GetIntPayload(status, kConsumedUrl);
}

std::optional<std::error_code> GetErrorCode(const absl::Status& status) {
  std::optional<int64_t> value = GetIntPayload(status, kErrnoUrl);
  auto category = status.GetPayload(kErrorCategoryUrl);
  if (!value || !category) return std::nullopt;
  // Categories are singletons; only the two every OS error uses can be named
  // back from text.
  const std::error_category& system = std::system_category();
  const std::error_category& generic = std::generic_category();
  const std::error_category& found =
      std::string(*category) == generic.name() ? generic : system;
  return std::error_code(static_cast<int>(*value), found);
}

bool IsIncompleteReadError(const absl::Status& status) {
  return GetErrorKind(status) == ErrorKind::kIncompleteReadError;
}

bool IsLimitOverrunError(const absl::Status& status) {
  return GetErrorKind(status) == ErrorKind::kLimitOverrunError;
}

bool IsCancelledError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kCancelled;
}

}  // namespace streams
