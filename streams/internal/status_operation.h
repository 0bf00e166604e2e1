// -----------------------------------------------------------------------------
// File: internal/status_operation.h
// -----------------------------------------------------------------------------
//
// `StatusOperation` is an asynchronous operation completing with
// `void(absl::Status)` that runs as an asyncio task does: in steps posted to
// an executor, waiting between them on a `Future` (asyncio.Future: pending,
// then done with a result, an exception, or cancelled). StreamWriter's drain
// and wait_closed are built on it.
//
// Cancellation follows asyncio's Task.cancel(): while the task waits on a
// pending future, the FUTURE is cancelled (so every task awaiting a shared
// future, like the protocol's closed future, sees CancelledError); when a
// step is already posted, that step raises CancelledError instead of running.
//
// Ownership: a waiting operation is owned by the future it awaits, a
// scheduled one by its posted step; operations refer to everything else
// weakly. Destroying a future destroys its awaiting operations' handlers,
// uncalled.

#ifndef STREAMS_INTERNAL_STATUS_OPERATION_H_
#define STREAMS_INTERNAL_STATUS_OPERATION_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "boost/asio/any_completion_executor.hpp"
#include "boost/asio/any_completion_handler.hpp"
#include "boost/asio/any_io_executor.hpp"
#include "streams/internal/task.h"

namespace streams::internal {

class StatusOperation;

class Future {
 public:
  bool done() const { return state_ != State::kPending; }
  bool cancelled() const { return state_ == State::kCancelled; }
  // What awaiting it yields: OK, the exception, or CancelledError.
  absl::Status outcome() const;

  // asyncio: set_result(None) / set_exception(exc) / cancel(); each wakes the
  // awaiting operations in the order they started waiting. Precondition for
  // the first two: !done().
  void SetResult() { Finish(State::kDone, absl::OkStatus()); }
  void SetException(absl::Status exception) {
    Finish(State::kDone, std::move(exception));
  }
  bool Cancel();

 private:
  friend class StatusOperation;
  enum class State { kPending, kDone, kCancelled };

  void Finish(State state, absl::Status status);

  State state_ = State::kPending;
  absl::Status status_;
  std::vector<std::shared_ptr<StatusOperation>> awaiting_;
};

class StatusOperation : public Task {
 public:
  using Handler = boost::asio::any_completion_handler<void(absl::Status)>;

  StatusOperation(const boost::asio::any_io_executor& executor,
                  Handler handler);

  // Installs the cancellation handler and posts the first step.
  void Start();
  // Installs the cancellation handler and runs the first step now: for an
  // awaited operation whose first step is known to wait or yield (its
  // handler must not run inside this call).
  void StartInline();

 protected:
  // The first step; it must end by calling Complete(), Await() or Yield().
  virtual void Begin() = 0;
  // A later step, after Await() or Yield(): `outcome` is what the await gave
  // (CancelledError when cancelled). The default completes with it.
  virtual void Resume(absl::Status outcome) { Complete(std::move(outcome)); }

  void Complete(absl::Status status);
  // Waits until `future` is done (at once, without waiting, if it is).
  void Await(const std::shared_ptr<Future>& future);
  // asyncio: `await sleep(0)`: the next step runs after what is ready now.
  void Yield();

 private:
  friend class Future;

  void Step(bool resumed) override;
  void DropHandler() override { handler_ = nullptr; }
  // asyncio: `self._fut_waiter.cancel()`, which wakes this task (and every
  // other task awaiting the same future) with CancelledError.
  void CancelWaiting() override;
  void InstallCancellation();
  // The awaited future is done.
  void Wake();

  Handler handler_;
  std::weak_ptr<Future> awaiting_;
  absl::Status awaited_outcome_;
};

// Awaits one future: asyncio's `await future` as a task of its own.
class AwaitOperation : public StatusOperation {
 public:
  AwaitOperation(const boost::asio::any_io_executor& executor, Handler handler,
                 std::weak_ptr<Future> future)
      : StatusOperation(executor, std::move(handler)),
        future_(std::move(future)) {}

 private:
  void Begin() override {
    std::shared_ptr<Future> future = future_.lock();
    if (future == nullptr) return Complete(absl::OkStatus());
    Await(future);
  }

  std::weak_ptr<Future> future_;
};

}  // namespace streams::internal

#endif  // STREAMS_INTERNAL_STATUS_OPERATION_H_
