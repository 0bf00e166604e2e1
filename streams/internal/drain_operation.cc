#include "streams/internal/drain_operation.h"

#include <algorithm>
#include <utility>

#include "streams/errors.h"

namespace streams::internal {

DrainOperation::DrainOperation(const asio::any_io_executor& executor,
                               Handler handler, std::weak_ptr<DrainState> flow)
    : StatusOperation(executor, std::move(handler)),
      flow_(std::move(flow)),
      writer_checks_(false) {}

DrainOperation::DrainOperation(const asio::any_io_executor& executor,
                               Handler handler, std::weak_ptr<DrainState> flow,
                               std::weak_ptr<ReaderCore> reader,
                               std::weak_ptr<Transport> transport, bool strict)
    : StatusOperation(executor, std::move(handler)),
      flow_(std::move(flow)),
      reader_(std::move(reader)),
      transport_(std::move(transport)),
      writer_checks_(true),
      strict_(strict) {}

void DrainOperation::Begin() {
  if (writer_checks_) {
    std::shared_ptr<ReaderCore> reader = reader_.lock();
    if (reader != nullptr && !reader->exception().ok()) {
      return Complete(reader->exception());
    }
    std::shared_ptr<Transport> transport = transport_.lock();
    if (transport != nullptr && transport->IsClosing()) {
      // Let connection_lost() run first, so a write/drain loop on a closed
      // connection sees the error instead of spinning.
      stage_ = Stage::kYielded;
      return Yield();
    }
  }
  DrainHelper();
}

void DrainOperation::DrainHelper() {
  stage_ = Stage::kHelper;
  std::shared_ptr<DrainState> flow = flow_.lock();
  if (flow == nullptr) return Complete(absl::OkStatus());
  if (flow->connection_lost) {
    return Complete(
        MakeError(ErrorKind::kConnectionResetError, "Connection lost"));
  }
  if (!flow->paused) return Complete(absl::OkStatus());
  stage_ = Stage::kWaiting;
  auto waiter = std::make_shared<Future>();
  waiter_ = waiter.get();
  flow->waiters.push_back(waiter);
  Await(waiter);
}

void DrainOperation::Resume(absl::Status outcome) {
  if (stage_ == Stage::kYielded) {
    if (!outcome.ok()) return Complete(std::move(outcome));
    if (strict_) return AwaitLoss();
    return DrainHelper();
  }
  // `finally: self._drain_waiters.remove(waiter)`.
  if (std::shared_ptr<DrainState> flow = flow_.lock()) {
    auto& waiters =
        stage_ == Stage::kAwaitingLoss ? flow->loss_waiters : flow->waiters;
    auto it =
        std::find_if(waiters.begin(), waiters.end(),
                     [this](const auto& w) { return w.get() == waiter_; });
    if (it != waiters.end()) waiters.erase(it);
  }
  waiter_ = nullptr;
  if (stage_ == Stage::kAwaitingLoss && outcome.ok()) {
    // Lost without an exception (a close that flushed, or EOF): still not
    // a drained connection that can take more.
    return Complete(
        MakeError(ErrorKind::kConnectionResetError, "Connection lost"));
  }
  Complete(std::move(outcome));
}

void DrainOperation::AwaitLoss() {
  std::shared_ptr<DrainState> flow = flow_.lock();
  if (flow == nullptr || flow->connection_lost) {
    return Complete(
        MakeError(ErrorKind::kConnectionResetError, "Connection lost"));
  }
  stage_ = Stage::kAwaitingLoss;
  auto waiter = std::make_shared<Future>();
  waiter_ = waiter.get();
  flow->loss_waiters.push_back(waiter);
  Await(waiter);
}

}  // namespace streams::internal
