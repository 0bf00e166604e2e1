#include "streams/internal/task.h"

#include <utility>

#include "boost/asio/execution/context.hpp"
#include "boost/asio/execution/outstanding_work.hpp"
#include "boost/asio/prefer.hpp"
#include "boost/asio/query.hpp"
#include "streams/internal/post.h"
#include "streams/internal/task_service.h"

namespace streams::internal {
namespace {

namespace asio = ::boost::asio;

struct CancellationHandler {
  std::weak_ptr<Task> task;
  asio::cancellation_type_t accepted;

  void operator()(asio::cancellation_type_t type) {
    if ((type & accepted) == asio::cancellation_type::none) return;
    if (std::shared_ptr<Task> locked = task.lock()) locked->Cancel();
  }
};

}  // namespace

Task::Task(const asio::any_io_executor& executor)
    : executor_(
          asio::prefer(executor, asio::execution::outstanding_work.tracked)) {}

Task::~Task() {
  if (service_ != nullptr) service_->Unregister(this);
}

void Task::WatchContextShutdown() {
  asio::use_service<TaskService>(
      asio::query(executor_, asio::execution::context))
      .Register(this);
}

void Task::Abandon() {
  state_ = State::kDone;
  executor_ = asio::any_io_executor();
  handler_work_ = asio::any_completion_executor();
  DropHandler();
}

void Task::Cancel() {
  switch (state_) {
    case State::kDone:
      return;
    case State::kScheduled:
      cancel_requested_ = true;
      return;
    case State::kWaiting:
      return CancelWaiting();
  }
}

void Task::CancelWaiting() {
  cancel_requested_ = true;
  Wakeup();
}

void Task::StartNow() {
  std::shared_ptr<Task> self = shared_from_this();
  RunStep();
}

void Task::Wakeup() {
  state_ = State::kScheduled;
  resuming_ = true;
  Post();
}

asio::any_io_executor Task::SetDone() {
  state_ = State::kDone;
  return std::move(executor_);
}

void Task::ReleaseHandlerWork() {
  handler_work_ = asio::any_completion_executor();
}

void Task::InstallCancellation(asio::cancellation_slot slot,
                               asio::cancellation_type_t accepted) {
  if (slot.is_connected()) {
    slot.template emplace<CancellationHandler>(
        CancellationHandler{weak_from_this(), accepted});
  }
}

void Task::TrackHandlerExecutor(asio::any_completion_executor executor) {
  handler_work_ =
      asio::prefer(executor, asio::execution::outstanding_work.tracked);
}

void Task::Post() {
  PostTo(executor_, [self = shared_from_this()] { self->RunStep(); });
}

void Task::RunStep() {
  if (state_ == State::kDone) return;
  Step(std::exchange(resuming_, false));
}

}  // namespace streams::internal
