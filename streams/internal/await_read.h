// -----------------------------------------------------------------------------
// File: internal/await_read.h
// -----------------------------------------------------------------------------
//
// The awaited path of the reads: what `co_await reader.AsyncReadLine()` (the
// default token) and `AsyncReadLine(asio::use_awaitable)` run. Private to
// //streams: use stream_reader.h.
//
// asyncio's `await reader.readline()` runs readline's code inside the
// awaiting coroutine: with the line buffered it returns without yielding to
// the loop. So does this: AwaitRead() is a nested `asio::awaitable` that runs
// the read's first step inline and `co_return`s the answer without ever
// suspending (Asio's awaitable_thread pumps the caller again: no recursion,
// no scheduler round trip, and the frame comes from Asio's per-thread
// recycling allocator: no allocation beyond the returned string). Only a read
// that must wait suspends, on the reader's `_waiter` (WaitData(),
// ReaderCore::AwaitData()); its wakeup is a posted resumption (asyncio: the
// future's callback schedules the task), after which the coroutine runs the
// read's next step itself, as asyncio's readuntil loops in the task.
//
// Cancellation: the coroutine's cancellation state. A read started after the
// coroutine was cancelled (e.g. `||`'s other operand won before this one
// ran) completes with kCancelled and takes nothing; while it waits, the
// coroutine's slot cancels the wait (asyncio: Task.cancel() cancels the
// future it awaits), and a wait cancelled after its wakeup was posted
// resumes cancelled, taking nothing.

#ifndef STREAMS_INTERNAL_AWAIT_READ_H_
#define STREAMS_INTERNAL_AWAIT_READ_H_

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/asio/append.hpp"
#include "boost/asio/associated_cancellation_slot.hpp"
#include "boost/asio/associated_executor.hpp"
#include "boost/asio/async_result.hpp"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/deferred.hpp"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/this_coro.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "streams/errors.h"
#include "streams/internal/reader_core.h"

namespace streams::internal {

// Whether a completion token is asio::use_awaitable_t<Executor>.
template <typename Token>
struct IsUseAwaitable : std::false_type {};
template <typename Executor>
struct IsUseAwaitable<asio::use_awaitable_t<Executor>> : std::true_type {
  using executor_type = Executor;
};

// Converts a read's result to what the awaiting caller gets: the same, or
// for AsyncNextLine() nullopt at EOF (asyncio: StopAsyncIteration).
template <typename Value>
Value ToAwaited(ReadResult result) {
  if constexpr (std::is_same_v<Value, ReadResult>) {
    return result;
  } else {
    return ToNextLine(std::move(result));
  }
}

// Whether a coroutine on `executor` may be resumed right here, from a step
// running on `running`: what asio::dispatch() would do inline (the same
// strand, or an io_context executor whose context runs on this thread),
// without wrapping the call in a type-erased function.
template <typename Executor>
bool CanResumeHere(const Executor& executor,
                   const asio::any_io_executor& running) {
  if constexpr (std::is_same_v<Executor, asio::any_io_executor>) {
    if (executor == running) return true;
    const auto* io =
        executor.template target<asio::io_context::executor_type>();
    return io != nullptr && io->running_in_this_thread();
  } else {
    return false;
  }
}

// A buffered answer's bytes, taken from the reader when the frame's result
// is built from this: StatusOr<std::string>'s converting constructor makes
// its string from the conversion's prvalue, so the bytes are copied once,
// into the result, with no string moved on the way (callgrind: a move
// constructor and a destructor fewer per read).
struct TakenFront {
  ReaderCore* core;
  size_t n;
  operator std::string() && { return core->TakeFront(n); }
};

// What an awaited read owns besides its arguments: readuntil's separator
// (std::string), its separators (std::vector<std::string>), or nothing
// (NoSeparator).
struct NoSeparator {};

// WaitData()
//
// asyncio's `await self._waiter` in _wait_for_data, for an awaited read whose
// step must wait: the awaiting coroutine suspends and becomes the reader's
// waiter before anything else runs (the initiation runs right after the
// suspension); it resumes with the future's outcome: OK, the reader's
// exception, or kCancelled. A deferred operation: `co_await` suspends the
// coroutine on it without a frame of its own (use_awaitable's initiation is
// a coroutine: one more frame per wait, and more than Asio's per-thread
// cache of two frames keeps, so a wait allocated one).
inline auto WaitData(ReaderCore* core, asio::cancellation_type_t accepted) {
  return asio::async_initiate<const asio::deferred_t&, void(absl::Status)>(
      [core, accepted](auto handler) {
        asio::cancellation_slot slot =
            asio::get_associated_cancellation_slot(handler);
        core->AwaitData(
            [handler = std::move(handler)](
                absl::Status outcome,
                const asio::any_io_executor& running) mutable {
              auto executor = asio::get_associated_executor(handler);
              if (CanResumeHere(executor, running)) {
                return std::move(handler)(std::move(outcome));
              }
              asio::dispatch(executor, asio::append(std::move(handler),
                                                    std::move(outcome)));
            },
            slot, accepted);
      },
      asio::deferred);
}

// AwaitRead()
//
// `core` must outlive the read (the caller's StreamReader is alive while it
// awaits); a wait ends uncalled, its coroutine destroyed, if the core dies
// or its execution context shuts down meanwhile.
// A readuntil's `args.separator` is set here, to `separator`, which the
// frame owns.
template <typename Value, typename Executor, typename Separator>
asio::awaitable<Value, Executor> AwaitRead(ReaderCore* core, ReadArgs args,
                                           Separator separator) {
  if constexpr (std::is_same_v<Separator, std::string>) {
    args.separator = separator;
  } else if constexpr (std::is_same_v<Separator, std::vector<std::string>>) {
    args.separators = &separator;
  }
  const asio::cancellation_state cancellation =
      co_await asio::this_coro::cancellation_state;
  if (cancellation.cancelled() != asio::cancellation_type::none) {
    co_return ToAwaited<Value>(CancelledError());
  }
  // The answer is buffered: taken straight into the frame's result.
  if (const size_t n = core->TryBufferedAnswer(args); n != 0) {
    if constexpr (std::is_same_v<Value, ReadResult>) {
      co_return TakenFront{core, n};
    } else {
      co_return ToAwaited<Value>(core->TakeFront(n));
    }
  }
  // The read's steps, here in the coroutine (asyncio: readuntil's loop
  // around `await self._wait_for_data(...)`).
  ReadProgress progress;
  ReadResult result;
  bool resumed = false;
  while (!core->TryReadNow(args, progress, resumed, result)) {
    absl::Status woken = co_await WaitData(
        core, AcceptedCancellation(args.kind, args.n,
                                   core->modes().cancel_safe_read_all));
    resumed = true;
    if (!woken.ok()) {
      result = core->RaisedAtWait(args.kind, std::move(woken));
      break;
    }
  }
  if constexpr (std::is_same_v<Value, ReadResult>) {
    co_return std::move(result);
  } else {
    co_return ToAwaited<Value>(std::move(result));
  }
}

}  // namespace streams::internal

#endif  // STREAMS_INTERNAL_AWAIT_READ_H_
