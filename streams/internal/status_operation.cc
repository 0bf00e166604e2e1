#include "streams/internal/status_operation.h"

#include <utility>

#include "boost/asio/associated_cancellation_slot.hpp"
#include "boost/asio/associated_executor.hpp"
#include "boost/asio/execution/outstanding_work.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/prefer.hpp"
#include "streams/errors.h"
#include "streams/internal/deliver.h"

namespace streams::internal {

namespace asio = ::boost::asio;

absl::Status Future::outcome() const {
  switch (state_) {
    case State::kPending:
      return AssertionError("Result is not set.");
    case State::kDone:
      return status_;
    case State::kCancelled:
      return CancelledError();
  }
  return status_;
}

bool Future::Cancel() {
  if (done()) return false;
  Finish(State::kCancelled, absl::OkStatus());
  return true;
}

void Future::Finish(State state, absl::Status status) {
  state_ = state;
  status_ = std::move(status);
  std::vector<std::shared_ptr<StatusOperation>> awaiting;
  awaiting.swap(awaiting_);
  for (const std::shared_ptr<StatusOperation>& op : awaiting) op->Wake();
}

StatusOperation::StatusOperation(const asio::any_io_executor& executor,
                                 Handler handler)
    : Task(executor), handler_(std::move(handler)) {
  TrackHandlerExecutor(asio::get_associated_executor(handler_, executor));
  WatchContextShutdown();
}

void StatusOperation::InstallCancellation() {
  // Cancelling takes nothing: every cancellation type is honoured.
  Task::InstallCancellation(asio::get_associated_cancellation_slot(handler_),
                            asio::cancellation_type::all);
}

void StatusOperation::Start() {
  InstallCancellation();
  Task::Start();
}

void StatusOperation::StartInline() {
  InstallCancellation();
  StartNow();
}

void StatusOperation::Step(bool resumed) {
  if (!resumed) {
    if (cancel_requested_) return Complete(CancelledError());
    return Begin();
  }
  absl::Status outcome =
      cancel_requested_ ? CancelledError()
                        : std::exchange(awaited_outcome_, absl::OkStatus());
  cancel_requested_ = false;
  Resume(std::move(outcome));
}

void StatusOperation::Wake() {
  // Abandoned at context shutdown: a future finished later (a protocol's
  // connection_lost after its io_context is gone) wakes nothing.
  if (state() == State::kDone) return;
  std::shared_ptr<Future> future = awaiting_.lock();
  awaited_outcome_ = future ? future->outcome() : absl::OkStatus();
  awaiting_.reset();
  Wakeup();
}

void StatusOperation::CancelWaiting() {
  if (std::shared_ptr<Future> future = awaiting_.lock()) {
    if (future->Cancel()) return;
  }
  cancel_requested_ = true;  // asyncio: Task._must_cancel
}

void StatusOperation::Await(const std::shared_ptr<Future>& future) {
  if (future->done()) {
    // asyncio: awaiting a done future does not yield.
    awaited_outcome_ = future->outcome();
    return Resume(std::exchange(awaited_outcome_, absl::OkStatus()));
  }
  SetWaiting();
  awaiting_ = future;
  future->awaiting_.push_back(
      std::static_pointer_cast<StatusOperation>(shared_from_this()));
}

void StatusOperation::Yield() {
  awaited_outcome_ = absl::OkStatus();
  Wakeup();
}

void StatusOperation::Complete(absl::Status status) {
  const asio::any_io_executor executor = SetDone();
  Deliver(std::move(handler_), std::move(status), executor);
  ReleaseHandlerWork();
}

}  // namespace streams::internal
