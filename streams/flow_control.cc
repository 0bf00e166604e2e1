#include "streams/flow_control.h"

#include <memory>
#include <vector>

#include "streams/errors.h"
#include "streams/internal/drain_operation.h"

namespace streams {

absl::Status FlowControl::PauseWriting() {
  if (state_->paused) return AssertionError("");
  state_->paused = true;
  return absl::OkStatus();
}

absl::Status FlowControl::ResumeWriting() {
  if (!state_->paused) return AssertionError("");
  state_->paused = false;
  for (const std::shared_ptr<internal::Future>& waiter : state_->waiters) {
    if (!waiter->done()) waiter->SetResult();
  }
  return absl::OkStatus();
}

void FlowControl::ConnectionLost(absl::Status exception) {
  state_->connection_lost = true;
  // Strict drains (an extension) wait for the loss, paused or not.
  for (const std::shared_ptr<internal::Future>& waiter :
       std::vector<std::shared_ptr<internal::Future>>(state_->loss_waiters)) {
    if (waiter->done()) continue;
    if (exception.ok()) {
      waiter->SetResult();
    } else {
      waiter->SetException(exception);
    }
  }
  // Wake up the writer(s) if currently paused.
  if (!state_->paused) return;
  for (const std::shared_ptr<internal::Future>& waiter : state_->waiters) {
    if (waiter->done()) continue;
    if (exception.ok()) {
      waiter->SetResult();
    } else {
      waiter->SetException(exception);
    }
  }
}

void FlowControl::ContextShutdown() {
  state_->connection_lost = true;
  executor_ = executor_type();
  std::vector<std::shared_ptr<internal::Future>> waiters;
  waiters.swap(state_->waiters);
  std::vector<std::shared_ptr<internal::Future>> loss_waiters;
  loss_waiters.swap(state_->loss_waiters);
  // Destroying `waiters` here destroys the drains waiting on them.
}

void FlowControl::StartDrain(internal::StatusOperation::Handler handler) {
  auto op = std::make_shared<internal::DrainOperation>(
      executor_, std::move(handler), state_);
  op->Start();
}

}  // namespace streams
