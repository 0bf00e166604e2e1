// -----------------------------------------------------------------------------
// File: internal/drain_operation.h
// -----------------------------------------------------------------------------
//
// StreamWriter.drain() and FlowControlMixin._drain_helper() as one operation,
// step for step:
//
//   drain():  raise the reader's exception, if any; if the transport is
//             closing, `await sleep(0)` (so connection_lost can run first);
//             then _drain_helper().
//   _drain_helper(): ConnectionResetError('Connection lost') after loss;
//             return unless paused; else wait on a new waiter future, and
//             remove it from the waiters when woken (`finally`).

#ifndef STREAMS_INTERNAL_DRAIN_OPERATION_H_
#define STREAMS_INTERNAL_DRAIN_OPERATION_H_

#include <memory>
#include <vector>

#include "streams/internal/reader_core.h"
#include "streams/internal/status_operation.h"
#include "streams/transport.h"

namespace streams::internal {

// The write side's flow-control state (asyncio: FlowControlMixin's fields),
// shared by FlowControl and its drains.
struct DrainState {
  bool paused = false;
  bool connection_lost = false;
  std::vector<std::shared_ptr<Future>> waiters;  // asyncio: _drain_waiters
  // Strict drains (StreamWriter::SetStrictDrain()) waiting for the loss:
  // woken by every ConnectionLost(), paused or not.
  std::vector<std::shared_ptr<Future>> loss_waiters;
};

class DrainOperation : public StatusOperation {
 public:
  // Just _drain_helper().
  DrainOperation(const asio::any_io_executor& executor, Handler handler,
                 std::weak_ptr<DrainState> flow);
  // StreamWriter.drain(): `reader` may be empty (a writer without reader).
  DrainOperation(const asio::any_io_executor& executor, Handler handler,
                 std::weak_ptr<DrainState> flow,
                 std::weak_ptr<ReaderCore> reader,
                 std::weak_ptr<Transport> transport, bool strict = false);

 private:
  enum class Stage { kHelper, kYielded, kWaiting, kAwaitingLoss };

  void Begin() override;
  void Resume(absl::Status outcome) override;
  void DrainHelper();
  // Strict drain on a closing transport: until the connection is lost.
  void AwaitLoss();

  std::weak_ptr<DrainState> flow_;
  std::weak_ptr<ReaderCore> reader_;
  std::weak_ptr<Transport> transport_;
  const bool writer_checks_;
  const bool strict_ = false;
  Stage stage_ = Stage::kHelper;
  // Identity only: the flow control owns the waiter, which owns this op
  // while it waits.
  const Future* waiter_ = nullptr;
};

}  // namespace streams::internal

#endif  // STREAMS_INTERNAL_DRAIN_OPERATION_H_
