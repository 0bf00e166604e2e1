// -----------------------------------------------------------------------------
// File: deadline.h
// -----------------------------------------------------------------------------
//
// `streams::WithTimeout()` bounds one awaited operation (a read, a drain,
// a wait_closed, or any `asio::awaitable` yielding an Abseil status type)
// by a duration, as Python's `asyncio.wait_for(reader.readline(), t)`
// without the boilerplate of a timer and `awaitable_operators`' `||`. It is
// built on the operations' own cancellation: when the time is up the
// operation gets terminal cancellation, and a cancelled read consumes
// nothing, so the next read still gets every byte. Extension (issue 12,
// item 7): no asyncio stream has it.
//
// Example:
//
//   absl::StatusOr<std::string> line = co_await streams::WithTimeout(
//       reader.AsyncReadLine(asio::use_awaitable), std::chrono::seconds(5));
//   if (IsTimeoutError(line.status())) { ... }  // nothing was consumed

#ifndef STREAMS_DEADLINE_H_
#define STREAMS_DEADLINE_H_

#include <chrono>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/this_coro.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "streams/errors.h"

namespace streams {

// TimeoutError()
//
// What WithTimeout() completes with when the time is up: kDeadlineExceeded
// with asyncio's kind TimeoutError (asyncio.wait_for() raises TimeoutError,
// with no message).
inline absl::Status TimeoutError() {
  return MakeError(ErrorKind::kTimeoutError, "");
}

// IsTimeoutError()
inline bool IsTimeoutError(const absl::Status& status) {
  return GetErrorKind(status) == ErrorKind::kTimeoutError;
}

// WithTimeout()
//
// Runs `operation` (an `asio::awaitable<T>`, T absl::Status or
// absl::StatusOr<U>: e.g. `reader.AsyncReadLine(asio::use_awaitable)`) in
// the awaiting coroutine; if it has not completed after `timeout`, cancels
// it (terminal) and yields TimeoutError(). An operation that completes at
// once (a line already buffered) returns at once, as awaited.
//
// Completion: yields T: the operation's result, or TimeoutError().
// Errors: the operation's; kDeadlineExceeded TimeoutError after `timeout`.
// Cancellation: terminal (awaitable_operators' `||` passes it on to both
//   the operation and the timer); what a cancelled operation leaves behind
//   is the operation's (a read: nothing consumed).
// Concurrency: the operation's. Memory: a timer per call.
template <typename T, typename Rep, typename Period>
boost::asio::awaitable<T> WithTimeout(
    boost::asio::awaitable<T> operation,
    std::chrono::duration<Rep, Period> timeout) {
  static_assert(std::is_convertible_v<absl::Status, T>,
                "WithTimeout() takes an awaitable yielding absl::Status or "
                "absl::StatusOr<U>");
  using namespace boost::asio::experimental::awaitable_operators;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                  timeout);
  std::variant<T, std::tuple<boost::system::error_code>> result = co_await (
      std::move(operation) ||
      timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
  if (result.index() == 0) co_return std::move(std::get<0>(result));
  co_return T(TimeoutError());
}

}  // namespace streams

#endif  // STREAMS_DEADLINE_H_
