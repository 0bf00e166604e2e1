// -----------------------------------------------------------------------------
// File: errors.h
// -----------------------------------------------------------------------------
//
// Every error this library returns is an `absl::Status` that carries the
// asyncio exception it stands for (`ErrorKind`, as a status payload), its
// details (partial bytes, expected size, consumed count, OS error code), and,
// as its message, `str()` of the Python exception, verbatim: users grep for
// "Separator is not found, and chunk exceed the limit".
//
// The status code is chosen for C++ callers (the README has the same table):
//
// clang-format off
//   asyncio (CPython 3.11.7)                code                 details
//   --------------------------------------  -------------------  -----------------
//   IncompleteReadError                     kOutOfRange          partial, expected
//   LimitOverrunError                       kResourceExhausted   consumed
//   ValueError from readline over limit     kResourceExhausted
//   ValueError (bad argument)               kInvalidArgument
//   RuntimeError (two readers)              kFailedPrecondition
//   AssertionError (API misuse)             kFailedPrecondition
//   ConnectionResetError, BrokenPipeError,
//     ConnectionAbortedError, OSError       kUnavailable         error code
//   ConnectionRefusedError                  kUnavailable         error code
//   FileNotFoundError (Unix socket path)    kNotFound            error code
//   PermissionError                         kPermissionDenied    error code
//   socket.gaierror (resolver)              kNotFound            error code
//   TimeoutError                            kDeadlineExceeded
//   SSLError                                kUnavailable         error code
//   SSLCertVerificationError                kPermissionDenied    error code
//   CancelledError                          kCancelled
//   NotImplementedError                     kUnimplemented
//   Exception, TypeError, EOFError,         kUnknown, kInvalidArgument,
//     ConnectionError (user-set)            kOutOfRange, kUnavailable
// clang-format on
//
// Details travel as `absl::Cord` payloads, so copies of a status keep them and
// //streams never needs protobuf.
//
// Example:
//
//   absl::StatusOr<std::string> data = co_await reader.AsyncReadExactly(4);
//   if (std::optional<streams::IncompleteRead> short_read =
//           streams::GetIncompleteRead(data.status())) {
//     // EOF after short_read->partial.size() bytes.
//   }

#ifndef STREAMS_ERRORS_H_
#define STREAMS_ERRORS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace streams {

// ErrorKind
//
// The asyncio (Python) exception class an error stands for.
enum class ErrorKind {
  kIncompleteReadError,
  kLimitOverrunError,
  kValueError,
  kRuntimeError,
  kAssertionError,
  kCancelledError,
  kNotImplementedError,
  kOSError,
  kConnectionResetError,
  kBrokenPipeError,
  kConnectionAbortedError,
  kConnectionRefusedError,
  kFileNotFoundError,
  kPermissionError,
  kGaiError,
  kTimeoutError,
  kSSLError,
  kSSLCertVerificationError,
  // Generic Python classes, for exceptions set by users (SetException).
  kException,
  kTypeError,
  kEOFError,
  kConnectionError,
};

// PythonName()
//
// The Python class name of `kind`, e.g. "IncompleteReadError"; "gaierror" for
// kGaiError.
absl::string_view PythonName(ErrorKind kind);

// ErrorKindFromPythonName()
//
// The inverse of `PythonName()`; nullopt for names not in the table.
std::optional<ErrorKind> ErrorKindFromPythonName(absl::string_view name);

// MakeError()
//
// A status of `kind` with `message` as str() of the exception, and the code
// the table above gives (ValueError: kInvalidArgument).
absl::Status MakeError(ErrorKind kind, absl::string_view message);

// MakeOsError()
//
// An OSError-family status carrying `error` (see `GetErrorCode()`).
absl::Status MakeOsError(ErrorKind kind, std::error_code error,
                         absl::string_view message);

// OsError()
//
// The OSError subclass Python raises for `error` (ECONNRESET:
// ConnectionResetError, EPIPE: BrokenPipeError, ECONNABORTED:
// ConnectionAbortedError, ECONNREFUSED: ConnectionRefusedError, ETIMEDOUT:
// TimeoutError, ENOENT: FileNotFoundError, EACCES/EPERM: PermissionError,
// else OSError), with Python's message "[Errno N] <strerror>"
// (or `message` when given), carrying `error`.
absl::Status OsError(std::error_code error, absl::string_view message = "");

// IncompleteReadError()
//
// asyncio.IncompleteReadError(partial, expected): EOF came first. `expected`
// is nullopt for Python's None (readuntil). kOutOfRange.
absl::Status IncompleteReadError(std::string partial,
                                 std::optional<int64_t> expected);

// LimitOverrunError()
//
// asyncio.LimitOverrunError(message, consumed). kResourceExhausted.
absl::Status LimitOverrunError(absl::string_view message, int64_t consumed);

// ValueError()
//
// ValueError(message) for a bad argument. kInvalidArgument.
absl::Status ValueError(absl::string_view message);

// LineTooLongError()
//
// The ValueError that readline() raises when the limit is hit: kind
// kValueError, code kResourceExhausted.
absl::Status LineTooLongError(absl::string_view message);

// RuntimeError(), AssertionError(), CancelledError()
absl::Status RuntimeError(absl::string_view message);
absl::Status AssertionError(absl::string_view message);
absl::Status CancelledError();

// GetErrorKind()
//
// The asyncio kind a status carries; nullopt for OK and for statuses made
// elsewhere (see `PythonTypeName()` for those).
std::optional<ErrorKind> GetErrorKind(const absl::Status& status);

// PythonTypeName()
//
// The Python class name to show for `status`: its kind's, or for a status
// without one, a name derived from its code (kInvalidArgument: "ValueError",
// kCancelled: "CancelledError", ...; "Exception" otherwise).
std::string PythonTypeName(const absl::Status& status);

// PythonString()
//
// The last line of Python's traceback for the exception, "<type>: <str>":
// "ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1',
// 8888)" ("OK" for an OK status). Python's str(e) alone is
// `status.message()`. For messages to people; `operator<<` on a status also
// prints its payloads.
std::string PythonString(const absl::Status& status);

// IncompleteRead
//
// The details of an IncompleteReadError.
struct IncompleteRead {
  std::string partial;
  std::optional<int64_t> expected;  // nullopt: Python's None
};

// GetIncompleteRead()
//
// The details of an IncompleteReadError; nullopt for any other status.
std::optional<IncompleteRead> GetIncompleteRead(const absl::Status& status);

// GetLimitOverrunConsumed()
//
// LimitOverrunError.consumed; nullopt for any other status.
std::optional<int64_t> GetLimitOverrunConsumed(const absl::Status& status);

// GetErrorCode()
//
// The OS error code an OSError-family status carries, if any.
std::optional<std::error_code> GetErrorCode(const absl::Status& status);

// Predicates, one per kind that callers branch on.
bool IsIncompleteReadError(const absl::Status& status);
bool IsLimitOverrunError(const absl::Status& status);
bool IsCancelledError(const absl::Status& status);

}  // namespace streams

#endif  // STREAMS_ERRORS_H_
