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
    : io_work_(
          asio::prefer(executor, asio::execution::outstanding_work.tracked)),
      handler_work_(
          asio::prefer(asio::get_associated_executor(handler, executor),
                       asio::execution::outstanding_work.tracked)),
      handler_(std::move(handler)) {}

void StatusOperation::InstallCancellation() {
  auto slot = asio::get_associated_cancellation_slot(handler_);
  if (slot.is_connected()) {
    // Cancelling takes nothing: every cancellation type is honoured.
    slot.assign([weak = weak_from_this()](asio::cancellation_type_t type) {
      if (type == asio::cancellation_type::none) return;
      if (std::shared_ptr<StatusOperation> op = weak.lock()) op->Cancel();
    });
  }
}

void StatusOperation::Start() {
  InstallCancellation();
  Post();
}

void StatusOperation::StartInline() {
  InstallCancellation();
  std::shared_ptr<StatusOperation> self = shared_from_this();
  Step();
}

void StatusOperation::Post() {
  asio::post(io_work_, [self = shared_from_this()] { self->Step(); });
}

void StatusOperation::Step() {
  if (state_ == State::kDone) return;
  const bool resumed = std::exchange(resuming_, false);
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
  std::shared_ptr<Future> future = awaiting_.lock();
  awaited_outcome_ = future ? future->outcome() : absl::OkStatus();
  awaiting_.reset();
  state_ = State::kScheduled;
  resuming_ = true;
  Post();
}

void StatusOperation::Cancel() {
  switch (state_) {
    case State::kDone:
      return;
    case State::kWaiting:
      // asyncio: `self._fut_waiter.cancel()`, which wakes us (and any other
      // task awaiting the same future) with CancelledError.
      if (std::shared_ptr<Future> future = awaiting_.lock()) {
        if (future->Cancel()) return;
      }
      [[fallthrough]];
    case State::kScheduled:
      cancel_requested_ = true;  // asyncio: Task._must_cancel
      return;
  }
}

void StatusOperation::Await(const std::shared_ptr<Future>& future) {
  if (future->done()) {
    // asyncio: awaiting a done future does not yield.
    awaited_outcome_ = future->outcome();
    return Resume(std::exchange(awaited_outcome_, absl::OkStatus()));
  }
  state_ = State::kWaiting;
  awaiting_ = future;
  future->awaiting_.push_back(shared_from_this());
}

void StatusOperation::Yield() {
  state_ = State::kScheduled;
  resuming_ = true;
  awaited_outcome_ = absl::OkStatus();
  Post();
}

void StatusOperation::Complete(absl::Status status) {
  state_ = State::kDone;
  Deliver(std::move(handler_), std::move(status), io_work_);
  io_work_ = asio::any_io_executor();
  handler_work_ = asio::any_completion_executor();
}

}  // namespace streams::internal
