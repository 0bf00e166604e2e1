// ReadOperation: a read run as an asyncio task (see reader_core.h).

#include <utility>

#include "boost/asio/associated_cancellation_slot.hpp"
#include "boost/asio/associated_executor.hpp"
#include "streams/errors.h"
#include "streams/internal/deliver.h"
#include "streams/internal/reader_core.h"

namespace streams::internal {
asio::cancellation_type_t AcceptedCancellation(ReadKind kind, int64_t n,
                                               bool cancel_safe_read_all) {
  if (kind == ReadKind::kRead && n < 0 && !cancel_safe_read_all) {
    return asio::cancellation_type::terminal | asio::cancellation_type::partial;
  }
  return asio::cancellation_type::terminal | asio::cancellation_type::partial |
         asio::cancellation_type::total;
}

absl::StatusOr<std::optional<std::string>> ToNextLine(ReadResult line) {
  if (!line.ok()) return line.status();
  // asyncio: `if val == b'': raise StopAsyncIteration`.
  if (line->empty()) return std::nullopt;
  return std::optional<std::string>(std::move(*line));
}

ReadOperation::ReadOperation(std::weak_ptr<ReaderCore> core, ReadState&& state,
                             Handler&& handler,
                             const asio::any_io_executor& io_executor)
    : Task(io_executor),
      core_(std::move(core)),
      read_(std::move(state)),
      handler_(std::move(handler)) {}

void ReadOperation::StartTask(const ReaderCore& core) {
  std::visit(
      [this, &core](auto& handler) {
        // Attach to the wrapped handler's slot: any_completion_handler
        // forwards it.
        TrackHandlerExecutor(
            asio::get_associated_executor(handler, executor()));
        InstallCancellation(
            asio::get_associated_cancellation_slot(handler),
            AcceptedCancellation(read_.request.kind, read_.request.n,
                                 core.modes().cancel_safe_read_all));
      },
      handler_);
  Start();
}

void ReadOperation::BecomeWaiter(ReaderCore& core) {
  core.waiter_ = self();
  SetWaiting();
}

void ReadOperation::Wake(absl::Status exception) {
  wake_exception_ = std::move(exception);
  Wakeup();
}

void ReadOperation::CancelWaiting() {
  waiter_cancelled_ = true;
  Task::CancelWaiting();
}

void ReadOperation::Step(bool resumed) {
  std::shared_ptr<ReaderCore> core = core_.lock();
  if (core == nullptr || core->service_ == nullptr) return;  // Dies uncalled.
  // asyncio: `finally: self._waiter = None` in _wait_for_data.
  if (resumed) core->ClearWaiter();
  if (cancel_requested_) return Complete(*core, ReadResult(CancelledError()));
  if (resumed && !wake_exception_.ok()) {
    return Complete(*core, core->RaisedAtWait(read_.request.kind,
                                              std::exchange(wake_exception_,
                                                            absl::OkStatus())));
  }
  // The commonest first step, as the awaited path takes it (AwaitRead()).
  if (const size_t n = resumed ? 0 : core->BufferedAnswer(read_.request.args());
      n != 0) {
    return Complete(*core, ReadResult(core->TakeFront(n)));
  }
  ReadResult result;
  if (!core->RunStep(read_.request.args(), read_.progress, resumed, result))
    return BecomeWaiter(*core);
  Complete(*core, std::move(result));
}

void ReadOperation::Complete(ReaderCore& core, ReadResult&& result) {
  std::shared_ptr<ReadOperation> keep = self();
  const asio::any_io_executor executor = SetDone();
  core.Forget(keep);
  if (auto* next = std::get_if<NextLineHandler>(&handler_)) {
    Deliver(std::move(*next), ToNextLine(std::move(result)), executor);
  } else {
    Deliver(std::move(std::get<ReadHandler>(handler_)), std::move(result),
            executor);
  }
  ReleaseHandlerWork();
}

}  // namespace streams::internal
