// -----------------------------------------------------------------------------
// File: flow_control.h
// -----------------------------------------------------------------------------
//
// `streams::FlowControl` is asyncio's FlowControlMixin: the write side's flow
// control, shared by the protocol and the writer. The transport calls
// PauseWriting() when its write buffer passes the high-water mark and
// ResumeWriting() when it drains below the low one; `AsyncDrainHelper()`
// waits while writing is paused. ConnectionLost() wakes the waiters: with its
// error, or with success when there was none.
//
// Threads: the protocol's executor, like the reader's. Create it with
// std::make_shared.

#ifndef STREAMS_FLOW_CONTROL_H_
#define STREAMS_FLOW_CONTROL_H_

#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "boost/asio/any_completion_handler.hpp"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/async_result.hpp"
#include "boost/asio/deferred.hpp"
#include "streams/internal/drain_operation.h"
#include "streams/internal/status_operation.h"
#include "streams/protocol.h"

namespace streams {

class FlowControl : public Protocol,
                    public std::enable_shared_from_this<FlowControl> {
 public:
  using executor_type = boost::asio::any_io_executor;

  explicit FlowControl(const executor_type& executor) : executor_(executor) {}
  ~FlowControl() override = default;
  FlowControl(const FlowControl&) = delete;
  FlowControl& operator=(const FlowControl&) = delete;

  executor_type get_executor() const { return executor_; }

  // FlowControl::PauseWriting(), FlowControl::ResumeWriting()
  //
  // Called by the transport. Pausing twice, or resuming when not paused, is
  // kFailedPrecondition AssertionError and changes nothing. ResumeWriting()
  // wakes every waiting drain.
  absl::Status PauseWriting() override;
  absl::Status ResumeWriting() override;

  // FlowControl::ConnectionLost()
  //
  // `exception` is OK for a clean close. Later drains fail with
  // ConnectionResetError "Connection lost"; drains waiting while paused wake
  // with `exception` (or succeed when OK).
  void ConnectionLost(absl::Status exception) override;

  // FlowControl::ContextShutdown()
  //
  // The execution context is shutting down: drains waiting now are
  // destroyed with their handlers, uncalled; later ones fail at once
  // (ConnectionResetError "Connection lost") instead of posting to a dead
  // context; get_executor() is empty from now on (a strand must not outlive
  // its io_context). The caller holds a reference on this object.
  void ContextShutdown() override;

  bool writing_paused() const { return state_->paused; }
  bool connection_lost() const { return state_->connection_lost; }
  size_t drain_waiters() const { return state_->waiters.size(); }

  // FlowControl::AsyncDrainHelper()
  //
  // asyncio: _drain_helper(). Completes at once (in a later step) unless
  // writing is paused; then when it resumes or the connection is lost.
  //
  // Completion: void(absl::Status). Never inside this call.
  // Errors: kUnavailable ConnectionResetError "Connection lost" after
  //   ConnectionLost(); ConnectionLost()'s error.
  // Cancellation: terminal, partial, total (all types); a cancelled drain
  //   completes with kCancelled.
  // Concurrency: any number may wait; all wake together. On the protocol's
  //   executor only.
  template <boost::asio::completion_token_for<void(absl::Status)>
                CompletionToken = boost::asio::deferred_t>
  auto AsyncDrainHelper(CompletionToken&& token = boost::asio::deferred_t{}) {
    return boost::asio::async_initiate<CompletionToken, void(absl::Status)>(
        [this](auto handler) {
          StartDrain(internal::StatusOperation::Handler(std::move(handler)));
        },
        token);
  }

 protected:
  // Drains refer to it weakly.
  const std::shared_ptr<internal::DrainState>& drain_state() const {
    return state_;
  }

 private:
  void StartDrain(internal::StatusOperation::Handler handler);

  executor_type executor_;
  std::shared_ptr<internal::DrainState> state_ =
      std::make_shared<internal::DrainState>();
};

}  // namespace streams

#endif  // STREAMS_FLOW_CONTROL_H_
