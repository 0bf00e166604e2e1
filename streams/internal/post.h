// -----------------------------------------------------------------------------
// File: internal/post.h
// -----------------------------------------------------------------------------
//
// PostTo(): asio::post(), as //streams schedules asyncio's call_soon()
// callbacks (a task's next step, a transport's next receive). When the
// executor is an any_io_executor wrapping an io_context's own executor (the
// common case, with or without tracked work), the function is posted to
// that executor directly: the same queue, the same order, without
// any_io_executor's type-erased prefer() and execute() (callgrind,
// ping-pong server, two posts per round trip: about 370 instructions per
// round trip).

#ifndef STREAMS_INTERNAL_POST_H_
#define STREAMS_INTERNAL_POST_H_

#include <type_traits>
#include <utility>

#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/execution/outstanding_work.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/prefer.hpp"

namespace streams::internal {

template <typename Executor, typename Function>
void PostTo(const Executor& executor, Function&& f) {
  namespace asio = ::boost::asio;
  using IoExecutor = asio::io_context::executor_type;
  using TrackedIoExecutor = std::decay_t<decltype(asio::prefer(
      std::declval<IoExecutor>(), asio::execution::outstanding_work.tracked))>;
  if constexpr (std::is_same_v<Executor, asio::any_io_executor>) {
    if (const auto* io = executor.template target<IoExecutor>()) {
      return asio::post(*io, std::forward<Function>(f));
    }
    if (const auto* tracked = executor.template target<TrackedIoExecutor>()) {
      return asio::post(*tracked, std::forward<Function>(f));
    }
  }
  asio::post(executor, std::forward<Function>(f));
}

}  // namespace streams::internal

#endif  // STREAMS_INTERNAL_POST_H_
