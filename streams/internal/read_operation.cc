// ReadOperation: a read run as an asyncio task (see reader_core.h), and an
// awaited read once it has to wait.

#include <utility>

#include "boost/asio/any_completion_executor.hpp"
#include "boost/asio/associated_cancellation_slot.hpp"
#include "boost/asio/associated_executor.hpp"
#include "boost/asio/execution/outstanding_work.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/prefer.hpp"
#include "streams/errors.h"
#include "streams/internal/deliver.h"
#include "streams/internal/reader_core.h"

namespace streams::internal {
namespace {

// Which cancellation requests an op honours. Cancelling takes no bytes, so
// every type is honoured, except for read(-1): like asyncio, it drops the
// blocks it already gathered, so it is not "total" cancellation.
asio::cancellation_type_t AcceptedCancellation(const ReadRequest& request) {
  if (request.kind == ReadKind::kRead && request.n < 0) {
    return asio::cancellation_type::terminal | asio::cancellation_type::partial;
  }
  return asio::cancellation_type::terminal | asio::cancellation_type::partial |
         asio::cancellation_type::total;
}

struct CancellationHandler {
  std::weak_ptr<ReadOperation> op;
  asio::cancellation_type_t accepted;

  void operator()(asio::cancellation_type_t type) {
    if ((type & accepted) == asio::cancellation_type::none) return;
    if (std::shared_ptr<ReadOperation> locked = op.lock()) locked->Cancel();
  }
};

absl::StatusOr<std::optional<std::string>> ToNextLine(
    absl::StatusOr<std::string> line) {
  if (!line.ok()) return line.status();
  // asyncio: `if val == b'': raise StopAsyncIteration`.
  if (line->empty()) return std::nullopt;
  return std::optional<std::string>(std::move(*line));
}

}  // namespace

ReadOperation::ReadOperation(std::weak_ptr<ReaderCore> core, ReadState state,
                             Handler handler,
                             const asio::any_io_executor& io_executor,
                             bool track_work)
    : core_(std::move(core)),
      read_(std::move(state)),
      handler_(std::move(handler)),
      executor_(track_work
                    ? asio::prefer(io_executor,
                                   asio::execution::outstanding_work.tracked)
                    : io_executor) {}

void ReadOperation::InstallCancellation(asio::cancellation_slot slot) {
  if (slot.is_connected()) {
    slot.template emplace<CancellationHandler>(CancellationHandler{
        weak_from_this(), AcceptedCancellation(read_.request)});
  }
}

void ReadOperation::Start() {
  std::visit(
      [this](auto& handler) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(handler)>,
                                      AwaitedHandler>) {
          // Attach to the wrapped handler's slot: any_completion_handler
          // forwards it.
          handler_work_ =
              asio::prefer(asio::get_associated_executor(handler, executor_),
                           asio::execution::outstanding_work.tracked);
          InstallCancellation(asio::get_associated_cancellation_slot(handler));
        }
      },
      handler_);
  Post();
}

void ReadOperation::StartWaiting(asio::cancellation_slot slot) {
  InstallCancellation(slot);
  if (std::shared_ptr<ReaderCore> core = core_.lock()) BecomeWaiter(*core);
}

void ReadOperation::BecomeWaiter(ReaderCore& core) {
  core.waiter_ = shared_from_this();
  state_ = State::kWaiting;
}

void ReadOperation::Post() {
  asio::post(executor_, [self = shared_from_this()] { self->Step(); });
}

void ReadOperation::Wake(absl::Status exception) {
  state_ = State::kScheduled;
  resuming_ = true;
  wake_exception_ = std::move(exception);
  Post();
}

void ReadOperation::Cancel() {
  switch (state_) {
    case State::kDone:
      return;
    case State::kScheduled:
      cancel_requested_ = true;
      return;
    case State::kWaiting:
      cancel_requested_ = true;
      waiter_cancelled_ = true;
      state_ = State::kScheduled;
      resuming_ = true;
      Post();
      return;
  }
}

void ReadOperation::Step() {
  std::shared_ptr<ReaderCore> core = core_.lock();
  if (core == nullptr || core->service_ == nullptr) return;  // Dies uncalled.
  const bool resumed = std::exchange(resuming_, false);
  // asyncio: `finally: self._waiter = None` in _wait_for_data, whoever the
  // waiter is by now.
  if (resumed) core->waiter_ = nullptr;
  if (cancel_requested_) return Complete(CancelledError());
  if (resumed && !wake_exception_.ok()) {
    // Raised at `await self._waiter`, inside the read: readline's handlers
    // see it too.
    ReadResult raised = std::exchange(wake_exception_, absl::OkStatus());
    if (read_.request.kind == ReadKind::kLine ||
        read_.request.kind == ReadKind::kNextLine) {
      core->EndReadLine(raised);
    }
    return Complete(std::move(raised));
  }
  ReadResult result;
  if (!core->RunStep(read_, resumed, result)) return BecomeWaiter(*core);
  Complete(std::move(result));
}

void ReadOperation::Complete(absl::StatusOr<std::string> result) {
  state_ = State::kDone;
  std::shared_ptr<ReadOperation> self = shared_from_this();
  if (std::shared_ptr<ReaderCore> core = core_.lock()) core->Forget(this);
  if (auto* awaited = std::get_if<AwaitedHandler>(&handler_)) {
    AwaitedHandler handler = std::move(*awaited);
    std::move(handler)(std::move(result));
  } else if (auto* next = std::get_if<NextLineHandler>(&handler_)) {
    Deliver(std::move(*next), ToNextLine(std::move(result)), executor_);
  } else {
    Deliver(std::move(std::get<ReadHandler>(handler_)), std::move(result),
            executor_);
  }
  executor_ = asio::any_io_executor();
  handler_work_ = asio::any_completion_executor();
}

}  // namespace streams::internal
