// -----------------------------------------------------------------------------
// File: net/spawn.h
// -----------------------------------------------------------------------------
//
// Running an operation's coroutine body for an Asio completion handler, and
// C++ exceptions as statuses. Private to //streams/net.

#ifndef STREAMS_NET_SPAWN_H_
#define STREAMS_NET_SPAWN_H_

#include <exception>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/associated_cancellation_slot.hpp"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/bind_cancellation_slot.hpp"
#include "boost/asio/co_spawn.hpp"
#include "streams/errors.h"
#include "streams/internal/deliver.h"

namespace streams::net {

// A C++ exception that escaped user code or a coroutine, as Python's
// Exception(<what()>).
inline absl::Status ExceptionStatus(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return MakeError(ErrorKind::kException, e.what());
  } catch (...) {
    return MakeError(ErrorKind::kException, "unknown C++ exception");
  }
}

// Runs `body` on `executor`; its result (an exception becomes
// ExceptionStatus()) goes to `handler`, whose cancellation slot cancels the
// body.
template <typename T, typename Handler>
void Spawn(const boost::asio::any_io_executor& executor,
           boost::asio::awaitable<absl::StatusOr<T>> body, Handler handler) {
  auto slot = boost::asio::get_associated_cancellation_slot(handler);
  boost::asio::co_spawn(
      executor, std::move(body),
      boost::asio::bind_cancellation_slot(
          slot,
          [handler = std::move(handler), executor](
              std::exception_ptr error, absl::StatusOr<T> result) mutable {
            if (error) result = ExceptionStatus(error);
            ::streams::internal::Deliver(std::move(handler), std::move(result),
                                         executor);
          }));
}

}  // namespace streams::net

#endif  // STREAMS_NET_SPAWN_H_
