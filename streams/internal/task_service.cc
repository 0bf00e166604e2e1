#include "streams/internal/task_service.h"

#include <memory>

#include "streams/internal/task.h"

namespace streams::internal {

void TaskService::Register(Task* task) {
  std::lock_guard<std::mutex> lock(mutex_);
  task->service_ = this;
  task->prev_ = nullptr;
  task->next_ = head_;
  if (head_ != nullptr) head_->prev_ = task;
  head_ = task;
}

void TaskService::Unregister(Task* task) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (task->service_ == nullptr) return;  // already abandoned
  if (task->prev_ != nullptr) {
    task->prev_->next_ = task->next_;
  } else {
    head_ = task->next_;
  }
  if (task->next_ != nullptr) task->next_->prev_ = task->prev_;
  task->service_ = nullptr;
  task->prev_ = task->next_ = nullptr;
}

void TaskService::shutdown() {
  // One at a time, as ReaderService does: dropping a handler can destroy a
  // coroutine frame that owns the last handle on other operations, which
  // then unregister themselves instead of being visited after they were
  // freed.
  while (true) {
    std::shared_ptr<Task> task;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (head_ == nullptr) return;
      Task* first = head_;
      head_ = first->next_;
      if (head_ != nullptr) head_->prev_ = nullptr;
      first->service_ = nullptr;
      first->prev_ = first->next_ = nullptr;
      // A task whose last owner is going away right now (its destructor
      // waits for this mutex to unregister) is not visited.
      task = first->weak_from_this().lock();
    }
    if (task != nullptr) task->Abandon();
  }
}

}  // namespace streams::internal
