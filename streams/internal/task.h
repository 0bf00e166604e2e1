// -----------------------------------------------------------------------------
// File: internal/task.h
// -----------------------------------------------------------------------------
//
// `Task` is the one asyncio-task engine of //streams: every operation that
// runs as an asyncio task does (reads started with a token other than
// use_awaitable, drains, wait_closed, start_tls) is a Task; an awaited read
// runs in the awaiting coroutine, the task asyncio would see (reader_core.h).
// Private to //streams.
//
// asyncio runs a task in steps: one when it starts, then one each time what
// it awaits wakes it (the future's callback schedules the task's __wakeup);
// a step runs the task's code until it returns, raises, or awaits again.
// Task mirrors that:
//
//   - Start() posts the first step; StartNow() runs it at once (for an
//     awaited operation whose first step is known to wait or yield);
//   - Wakeup() schedules the next step (asyncio: __wakeup via call_soon);
//   - Cancel() is asyncio's Task.cancel(): a scheduled task's next step
//     raises CancelledError (`_must_cancel`); a waiting task cancels what it
//     awaits (CancelWaiting(), by default scheduling that step).
//
// Steps are posted to the operation's executor, which they keep busy while
// pending (and the handler's executor: TrackHandlerExecutor()).
// Ownership: posted steps hold the task; whoever it waits on holds it while
// it waits (the reader's waiter, a Future).

#ifndef STREAMS_INTERNAL_TASK_H_
#define STREAMS_INTERNAL_TASK_H_

#include <memory>

#include "boost/asio/any_completion_executor.hpp"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/cancellation_signal.hpp"
#include "boost/asio/cancellation_type.hpp"

namespace streams::internal {

class TaskService;

class Task : public std::enable_shared_from_this<Task> {
 public:
  virtual ~Task();
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  // asyncio: Task.cancel().
  void Cancel();

 protected:
  enum class State { kScheduled, kWaiting, kDone };

  explicit Task(const boost::asio::any_io_executor& executor);

  // One step of the task's code; `resumed` after a wait or a yield. It ends
  // by completing (SetDone(), delivering, ReleaseHandlerWork()), waiting
  // (SetWaiting()), or
  // scheduling itself (Wakeup()).
  virtual void Step(bool resumed) = 0;
  // Cancel() while waiting. The default marks the task and schedules the
  // step that raises CancelledError.
  virtual void CancelWaiting();

  void Start() { Post(); }
  void StartNow();
  // asyncio: __wakeup scheduled by call_soon.
  void Wakeup();
  void SetWaiting() { state_ = State::kWaiting; }
  // Marks the task done and hands over its executor (still tracking work)
  // to deliver the result through; then ReleaseHandlerWork() once the
  // handler is dispatched, so its executor cannot run out of work before.
  boost::asio::any_io_executor SetDone();
  void ReleaseHandlerWork();

  // Cancellation from `slot` for the `accepted` types.
  void InstallCancellation(boost::asio::cancellation_slot slot,
                           boost::asio::cancellation_type_t accepted);
  // Keeps the handler's executor busy until SetDone().
  void TrackHandlerExecutor(boost::asio::any_completion_executor executor);

  // Registers with the TaskService of the executor's context, which calls
  // Abandon() if the context shuts down while this task lives.
  void WatchContextShutdown();
  // The context shut down: mark the task done, release its executor (and
  // the handler's), and DropHandler(). Nothing runs again.
  void Abandon();
  // Destroys the handler, uncalled. The default has none to drop.
  virtual void DropHandler() {}

  const boost::asio::any_io_executor& executor() const { return executor_; }
  State state() const { return state_; }

  bool cancel_requested_ = false;  // asyncio: Task._must_cancel

 private:
  void Post();
  void RunStep();

  boost::asio::any_io_executor executor_;
  boost::asio::any_completion_executor handler_work_;
  State state_ = State::kScheduled;
  bool resuming_ = false;  // the next step resumes after a wait or yield

  // TaskService's intrusive list; service_ is null when not registered.
  friend class TaskService;
  TaskService* service_ = nullptr;
  Task* prev_ = nullptr;
  Task* next_ = nullptr;
};

}  // namespace streams::internal

#endif  // STREAMS_INTERNAL_TASK_H_
