// -----------------------------------------------------------------------------
// File: internal/deliver.h
// -----------------------------------------------------------------------------
//
// How every operation of //streams completes: detach from the handler's
// cancellation slot, then call the handler with the result through its
// associated executor (inline when that is the executor running now).

#ifndef STREAMS_INTERNAL_DELIVER_H_
#define STREAMS_INTERNAL_DELIVER_H_

#include <utility>

#include "boost/asio/append.hpp"
#include "boost/asio/associated_cancellation_slot.hpp"
#include "boost/asio/associated_executor.hpp"
#include "boost/asio/dispatch.hpp"

namespace streams::internal {

// `fallback` runs the handler when it has no associated executor.
template <typename Handler, typename Value, typename Executor>
void Deliver(Handler handler, Value value, const Executor& fallback) {
  auto slot = boost::asio::get_associated_cancellation_slot(handler);
  if (slot.is_connected()) slot.clear();
  auto executor = boost::asio::get_associated_executor(handler, fallback);
  boost::asio::dispatch(
      executor, boost::asio::append(std::move(handler), std::move(value)));
}

}  // namespace streams::internal

#endif  // STREAMS_INTERNAL_DELIVER_H_
