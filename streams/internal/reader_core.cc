#include "streams/internal/reader_core.h"

#include <algorithm>
#include <utility>

#include "boost/asio/execution/context.hpp"
#include "boost/asio/query.hpp"
#include "boost/asio/recycling_allocator.hpp"
#include "streams/errors.h"
#include "streams/internal/reader_service.h"

namespace streams::internal {
namespace {

// Operations are allocated as Asio allocates its own: from the running
// thread's small cache of recently freed blocks (plain new elsewhere), so a
// read that waits, one per round trip on a connection, reuses the block the
// previous one freed instead of a malloc() and free() each (callgrind,
// ping-pong server: about 130 instructions per round trip).
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
      std::move(erased), executor_, /*track_work=*/true);
  ops_.push_back(op);
  op->StartTask(*this);
}

bool ReaderCore::TryReadNow(const ReadArgs& args, ReadProgress& progress,
                            ReadResult& result) {
  if (service_ == nullptr) {  // Context shut down.
    result = CancelledError();
    return true;
  }
  return RunStep(args, progress, /*resumed=*/false, result);
}

void ReaderCore::WaitFor(ReadState&& state, AwaitedHandler handler,
                         asio::cancellation_slot slot) {
  if (service_ == nullptr) return;  // Context shut down: handler destroyed.
  std::shared_ptr<ReadOperation> op = TakeSpareWaiter();
  if (op != nullptr) {
    op->Reuse(std::move(state), std::move(handler), executor_);
  } else {
    op = std::allocate_shared<ReadOperation>(
        OperationAllocator(), weak_from_this(), std::move(state),
        ReadOperation::Handler(std::in_place_type<AwaitedHandler>,
                               std::move(handler)),
        executor_, /*track_work=*/false);
  }
  // In ops_ as every unfinished op: the core's waiter_ alone would not do,
  // since another read's `finally` may clear it (asyncio leaves that task
  // waiting on its future until it is cancelled).
  ops_.push_back(op);
  op->StartWaiting(*this, slot);
}

void ReaderCore::WakeWaiter(const absl::Status& exception) {
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
  if (op->awaited()) {
    for (std::shared_ptr<ReadOperation>& spare : spare_waiters_) {
      if (spare == nullptr) {
        spare = std::move(*it);  // (an op in use is never among the spares)
        break;
      }
    }
  }
  ops_.erase(std::next(it).base());
}

std::shared_ptr<ReadOperation> ReaderCore::TakeSpareWaiter() {
  for (std::shared_ptr<ReadOperation>& spare : spare_waiters_) {
    // Held by the spare alone: no step posted, no Complete() running.
    if (spare != nullptr && spare.use_count() == 1) return std::move(spare);
  }
  return nullptr;
}

void ReaderCore::Shutdown() {
  service_ = nullptr;
  waiter_ = nullptr;
  // A strand must not outlive its io_context (its destructor reaches into
  // the context's strand service): a reader kept past the context holds
  // none. Reads started after this are a precondition violation.
  executor_ = asio::any_io_executor();
  // Destroying the ops destroys their handlers, uncalled.
  std::vector<std::shared_ptr<ReadOperation>> ops;
  ops.swap(ops_);
  for (std::shared_ptr<ReadOperation>& spare : spare_waiters_) spare = nullptr;
}

}  // namespace streams::internal
