#include "streams/internal/reader_core.h"

#include <algorithm>
#include <utility>

#include "boost/asio/execution/context.hpp"
#include "boost/asio/query.hpp"
#include "boost/asio/recycling_allocator.hpp"
#include "streams/errors.h"
#include "streams/internal/post.h"
#include "streams/internal/reader_service.h"

namespace streams::internal {
namespace {

// Task reads' operations are allocated as Asio allocates its own: from the
// running thread's small cache of recently freed blocks (plain new
// elsewhere), so a read started after the previous one completed reuses its
// block instead of a malloc() and free() each.
using OperationAllocator = asio::recycling_allocator<ReadOperation>;

}  // namespace

ReaderCore::ReaderCore(const asio::any_io_executor& executor, int64_t limit,
                       ReaderModes modes)
    : executor_(executor), limit_(limit), modes_(modes) {
  service_ = &asio::use_service<ReaderService>(
      asio::query(executor_, asio::execution::context));
  service_->Register(this);
}

ReaderCore::~ReaderCore() {
  if (service_ != nullptr) service_->Unregister(this);
}

absl::Status ReaderCore::FeedData(absl::string_view data) {
  if (eof_) return AssertionError("feed_data after feed_eof");
  if (data.empty()) return absl::OkStatus();

  buffer_.Append(data);
  if (discarding()) Discard();
  WakeWaiter(absl::OkStatus());

  if (transport_ != nullptr && !paused_ &&
      buffer_.size() > 2 * static_cast<uint64_t>(limit_)) {
    absl::Status paused = transport_->PauseReading();
    if (absl::IsUnimplemented(paused)) {
      // The transport can't be paused: buffer everything, and forget the
      // transport so we don't keep trying.
      transport_ = nullptr;
    } else if (!paused.ok()) {
      return paused;
    } else {
      paused_ = true;
    }
  }
  return absl::OkStatus();
}

void ReaderCore::FeedEof() {
  if (discarding()) {  // The rest of the over-long line never ends: drop it.
    discarded_ += buffer_.size();
    buffer_.Clear();
    discard_through_.clear();
  }
  eof_ = true;
  WakeWaiter(absl::OkStatus());
}

void ReaderCore::SetException(absl::Status exception) {
  if (exception.ok()) return;
  exception_ = exception;
  WakeWaiter(exception_);
}

absl::Status ReaderCore::SetTransport(std::shared_ptr<Transport> transport) {
  if (transport_ != nullptr) return AssertionError("Transport already set");
  transport_ = std::move(transport);
  return absl::OkStatus();
}

void ReaderCore::StartRead(ReadRequest request,
                           std::variant<ReadHandler, NextLineHandler> handler) {
  if (service_ == nullptr) return;  // Context shut down: handler destroyed.
  // emplace, not assignment: any_completion_handler converts from any
  // handler, so a converting assignment would wrap one in another.
  ReadOperation::Handler erased;
  if (auto* read = std::get_if<ReadHandler>(&handler)) {
    erased.emplace<ReadHandler>(std::move(*read));
  } else {
    erased.emplace<NextLineHandler>(
        std::move(std::get<NextLineHandler>(handler)));
  }
  auto op = std::allocate_shared<ReadOperation>(
      OperationAllocator(), weak_from_this(), ReadState{std::move(request), {}},
      std::move(erased), executor_);
  ops_.push_back(op);
  op->StartTask(*this);
}

bool ReaderCore::TryReadNow(const ReadArgs& args, ReadProgress& progress,
                            bool resumed, ReadResult& result) {
  if (service_ == nullptr) {  // Context shut down.
    result = CancelledError();
    return true;
  }
  return RunStep(args, progress, resumed, result);
}

// The awaiting coroutine's cancellation, while its read waits.
struct ReaderCore::AwaitedCancellation {
  std::weak_ptr<ReaderCore> core;
  uint64_t id;
  asio::cancellation_type_t accepted;

  void operator()(asio::cancellation_type_t type) const {
    if ((type & accepted) == asio::cancellation_type::none) return;
    if (std::shared_ptr<ReaderCore> locked = core.lock()) {
      locked->CancelAwaited(id);
    }
  }
};

void ReaderCore::AwaitData(AwaitedHandler handler, asio::cancellation_slot slot,
                           asio::cancellation_type_t accepted) {
  if (service_ == nullptr) return;  // Context shut down: handler destroyed.
  const uint64_t id = ++last_awaited_id_;
  AwaitedWait& wait = awaited_.emplace_back();
  wait.id = id;
  wait.resume = std::move(handler);
  awaited_waiter_ = id;
  if (slot.is_connected()) {
    slot.template emplace<AwaitedCancellation>(
        AwaitedCancellation{weak_from_this(), id, accepted});
  }
}

ReaderCore::AwaitedWait* ReaderCore::FindAwaited(uint64_t id) {
  for (AwaitedWait& wait : awaited_) {
    if (wait.id == id) return &wait;
  }
  return nullptr;
}

void ReaderCore::ScheduleAwaited(AwaitedWait& wait) {
  wait.scheduled = true;
  // Weakly, as a task's step holds its reader: a reader destroyed before the
  // resumption runs destroys the wait's handler, and with it the coroutine,
  // uncalled.
  PostTo(executor_, [core = weak_from_this(), id = wait.id] {
    if (std::shared_ptr<ReaderCore> locked = core.lock()) {
      locked->ResumeAwaited(id);
    }
  });
}

void ReaderCore::ResumeAwaited(uint64_t id) {
  if (service_ == nullptr) return;  // Shut down: the handler is gone.
  AwaitedWait* wait = FindAwaited(id);
  if (wait == nullptr) return;
  ClearWaiter();  // asyncio: `finally: self._waiter = None`
  AwaitedHandler resume = std::move(wait->resume);
  absl::Status outcome =
      wait->cancelled ? CancelledError() : std::move(wait->exception);
  awaited_.erase(awaited_.begin() + (wait - awaited_.data()));
  std::move(resume)(std::move(outcome), executor_);
}

void ReaderCore::CancelAwaited(uint64_t id) {
  AwaitedWait* wait = FindAwaited(id);
  if (wait == nullptr || wait->cancelled) return;
  // Waiting: the future is cancelled and stays `_waiter` until the
  // resumption runs. Woken: the resumption is posted already and raises
  // CancelledError instead (asyncio: Task._must_cancel).
  wait->cancelled = true;
  if (!wait->scheduled) ScheduleAwaited(*wait);
}

void ReaderCore::WakeWaiter(const absl::Status& exception) {
  // asyncio: `self._waiter = None; if not waiter.cancelled(): ...`
  if (awaited_waiter_ != 0) {
    AwaitedWait* wait = FindAwaited(std::exchange(awaited_waiter_, 0));
    if (wait != nullptr && !wait->cancelled) {
      wait->exception = exception;
      ScheduleAwaited(*wait);
    }
    return;
  }
  std::shared_ptr<ReadOperation> waiter = std::move(waiter_);
  waiter_ = nullptr;
  if (waiter != nullptr && !waiter->waiter_cancelled()) {
    waiter->Wake(exception);
  }
}

void ReaderCore::ResumeTransportBelowLimit() {
  if (buffer_.size() <= static_cast<uint64_t>(limit_)) {
    paused_ = false;
    transport_->ResumeReading();
  }
}

void ReaderCore::StartDiscarding(std::vector<std::string> separators) {
  discard_through_ = std::move(separators);
  Discard();
}

void ReaderCore::Discard() {
  int64_t end = -1;
  size_t longest = 0;
  for (const std::string& separator : discard_through_) {
    longest = std::max(longest, separator.size());
    const size_t found = buffer_.Find(separator, 0);
    if (found == absl::string_view::npos) continue;
    const int64_t found_end = found + separator.size();
    if (end < 0 || found_end < end) end = found_end;
  }
  size_t drop = 0;
  if (end >= 0) {
    drop = end;
    discard_through_.clear();
  } else {
    // Keep what may start a separator.
    drop = buffer_.size() - std::min(buffer_.size(), longest - 1);
  }
  buffer_.Discard(drop);
  discarded_ += drop;
  MaybeResumeTransport();
}

void ReaderCore::Forget(const std::shared_ptr<ReadOperation>& op) {
  // The newest first: most often the only one.
  auto it = std::find(ops_.rbegin(), ops_.rend(), op);
  if (it == ops_.rend()) return;
  ops_.erase(std::next(it).base());
}

void ReaderCore::Shutdown() {
  service_ = nullptr;
  ClearWaiter();
  // A strand must not outlive its io_context (its destructor reaches into
  // the context's strand service): a reader kept past the context holds
  // none. Reads started after this are a precondition violation.
  executor_ = asio::any_io_executor();
  // Destroying the ops and waits destroys their handlers, uncalled (at the
  // end, with the core consistent: a handler owns a coroutine's frames).
  std::vector<std::shared_ptr<ReadOperation>> ops;
  ops.swap(ops_);
  std::vector<AwaitedWait> awaited;
  awaited.swap(awaited_);
}

}  // namespace streams::internal
