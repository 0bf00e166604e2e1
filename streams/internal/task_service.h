// -----------------------------------------------------------------------------
// File: internal/task_service.h
// -----------------------------------------------------------------------------
//
// An Asio service that knows every live StatusOperation (drain, wait_closed,
// start_tls) of its execution context, so that shutting the context down
// (destroying an io_context) abandons them: each is marked done and drops its
// executor (with the outstanding work it counts on the scheduler) and its
// handler, uncalled, as Asio's own I/O objects do. Without it an operation
// waiting on a future that outlives the context (a protocol's closed future,
// when the protocol has no socket transport to tell it) releases that work
// on a scheduler already freed. internal/reader_service.h does the same for
// reads.

#ifndef STREAMS_INTERNAL_TASK_SERVICE_H_
#define STREAMS_INTERNAL_TASK_SERVICE_H_

#include <mutex>

#include "boost/asio/execution_context.hpp"

namespace streams::internal {

class Task;

class TaskService : public boost::asio::execution_context::service {
 public:
  using key_type = TaskService;
  static inline boost::asio::execution_context::id id;

  explicit TaskService(boost::asio::execution_context& context)
      : boost::asio::execution_context::service(context) {}

  // Intrusive (no allocation): the links live in the Task.
  void Register(Task* task);
  void Unregister(Task* task);

 private:
  void shutdown() override;

  std::mutex mutex_;
  Task* head_ = nullptr;
};

}  // namespace streams::internal

#endif  // STREAMS_INTERNAL_TASK_SERVICE_H_
