// The read operations' steps: asyncio/streams.py's readuntil, readline, read,
// readexactly and __anext__, line for line, as resumable steps (see
// reader_core.h for how a step maps to an asyncio task step).

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
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

// Python's `k` in `buffer[:k]`: negative counts from the end.
size_t SliceEnd(int64_t k, size_t size) {
  if (k < 0) return static_cast<size_t>(std::max<int64_t>(0, size + k));
  return std::min<size_t>(static_cast<size_t>(k), size);
}

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

ReadOperation::ReadOperation(std::weak_ptr<ReaderCore> core,
                             ReadRequest request,
                             std::variant<ReadHandler, NextLineHandler> handler,
                             const asio::any_io_executor& io_executor)
    : core_(std::move(core)),
      request_(std::move(request)),
      handler_(std::move(handler)),
      io_work_(asio::prefer(io_executor,
                            asio::execution::outstanding_work.tracked)) {}

void ReadOperation::Start() {
  std::visit(
      [this](auto& handler) {
        // Attach to the wrapped handler's slot: any_completion_handler
        // forwards it.
        handler_work_ =
            asio::prefer(asio::get_associated_executor(handler, io_work_),
                         asio::execution::outstanding_work.tracked);
        auto slot = asio::get_associated_cancellation_slot(handler);
        if (slot.is_connected()) {
          slot.template emplace<CancellationHandler>(CancellationHandler{
              weak_from_this(), AcceptedCancellation(request_)});
        }
      },
      handler_);
  Post();
}

void ReadOperation::Post() {
  asio::post(io_work_, [self = shared_from_this()] { self->Step(); });
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
    absl::Status raised = std::exchange(wake_exception_, absl::OkStatus());
    if (request_.kind == ReadKind::kLine ||
        request_.kind == ReadKind::kNextLine) {
      return Complete(*EndReadLine(*core, std::move(raised)));
    }
    return Complete(std::move(raised));
  }
  Result result = Run(*core, resumed);
  if (result.has_value()) Complete(*std::move(result));
}

ReadOperation::Result ReadOperation::Run(ReaderCore& core, bool resumed) {
  switch (request_.kind) {
    case ReadKind::kLine:
    case ReadKind::kNextLine:
      return RunReadLine(core, resumed);
    case ReadKind::kUntil:
      return RunReadUntil(core, request_.separator, resumed);
    case ReadKind::kRead:
      return request_.n < 0 ? RunReadAll(core, resumed)
                            : RunRead(core, resumed);
    case ReadKind::kExactly:
      return RunReadExactly(core, resumed);
  }
  return absl::InternalError("unknown read kind");
}

ReadOperation::Result ReadOperation::RunReadUntil(ReaderCore& core,
                                                  absl::string_view separator,
                                                  bool resumed) {
  const int64_t seplen = separator.size();
  if (!resumed) {
    if (seplen == 0) {
      return ValueError("Separator should be at least one-byte string");
    }
    if (!core.exception_.ok()) return core.exception_;
    // Bytes [0, offset_) of the buffer hold no separator.
    offset_ = 0;
  }
  int64_t isep = 0;
  while (true) {
    const int64_t buflen = core.buffer_.size();
    if (buflen - offset_ >= seplen) {
      const size_t found = core.buffer_.Find(separator, offset_);
      if (found != absl::string_view::npos) {
        isep = found;
        break;
      }
      // The last seplen - 1 bytes may start a separator: search them again.
      offset_ = buflen + 1 - seplen;
      if (offset_ > core.limit_) {
        return LimitOverrunError(
            "Separator is not found, and chunk exceed the limit", offset_);
      }
    }
    // A complete separator may have come with the EOF's last chunk, so EOF
    // is checked after the search.
    if (core.eof_) {
      return IncompleteReadError(core.buffer_.Take(core.buffer_.size()),
                                 std::nullopt);
    }
    if (absl::Status waiting = WaitForData(core, "readuntil"); !waiting.ok()) {
      return waiting;
    }
    return std::nullopt;
  }
  if (isep > core.limit_) {
    return LimitOverrunError(
        "Separator is found, but chunk is longer than limit", isep);
  }
  std::string chunk = core.buffer_.Take(isep + seplen);
  core.MaybeResumeTransport();
  return chunk;
}

ReadOperation::Result ReadOperation::RunReadLine(ReaderCore& core,
                                                 bool resumed) {
  Result result = RunReadUntil(core, "\n", resumed);
  if (!result.has_value()) return result;
  return EndReadLine(core, *std::move(result));
}

ReadOperation::Result ReadOperation::EndReadLine(
    ReaderCore& core, absl::StatusOr<std::string> result) {
  // readline's `except IncompleteReadError` and `except LimitOverrunError`
  // around `await self.readuntil(sep)`.
  if (result.ok()) return result;
  const absl::Status& error = result.status();
  if (std::optional<IncompleteRead> incomplete = GetIncompleteRead(error)) {
    return std::move(incomplete->partial);
  }
  if (std::optional<int64_t> consumed = GetLimitOverrunConsumed(error)) {
    // Drop the over-long line through its separator if it is there,
    // else everything.
    const absl::string_view buffer = core.buffer_.view();
    const size_t at = SliceEnd(*consumed, buffer.size());
    if (at < buffer.size() && buffer[at] == '\n') {
      core.buffer_.Discard(SliceEnd(*consumed + 1, buffer.size()));
    } else {
      core.buffer_.Clear();
    }
    core.MaybeResumeTransport();
    return LineTooLongError(error.message());
  }
  return result;
}

ReadOperation::Result ReadOperation::RunRead(ReaderCore& core, bool resumed) {
  if (!resumed) {
    if (!core.exception_.ok()) return core.exception_;
    if (request_.n == 0) return std::string();
    if (core.buffer_.empty() && !core.eof_) {
      if (absl::Status waiting = WaitForData(core, "read"); !waiting.ok()) {
        return waiting;
      }
      return std::nullopt;
    }
  }
  std::string data = core.buffer_.Take(request_.n);
  core.MaybeResumeTransport();
  return data;
}

ReadOperation::Result ReadOperation::RunReadAll(ReaderCore& core,
                                                bool resumed) {
  // asyncio: `while True: block = await self.read(self._limit)`, so each
  // round checks the exception and reads at most `limit` bytes.
  if (!resumed && !core.exception_.ok()) return core.exception_;
  while (true) {
    if (!resumed) {
      if (!core.exception_.ok()) return core.exception_;
      if (core.buffer_.empty() && !core.eof_) {
        if (absl::Status waiting = WaitForData(core, "read"); !waiting.ok()) {
          return waiting;
        }
        return std::nullopt;
      }
    }
    resumed = false;
    const size_t n = std::min<size_t>(core.limit_, core.buffer_.size());
    blocks_.append(core.buffer_.view().data(), n);
    core.buffer_.Discard(n);
    core.MaybeResumeTransport();
    if (n == 0) return std::move(blocks_);
  }
}

ReadOperation::Result ReadOperation::RunReadExactly(ReaderCore& core,
                                                    bool resumed) {
  const int64_t n = request_.n;
  if (!resumed) {
    if (n < 0) return ValueError("readexactly size can not be less than zero");
    if (!core.exception_.ok()) return core.exception_;
    if (n == 0) return std::string();
  }
  if (static_cast<int64_t>(core.buffer_.size()) < n) {
    if (core.eof_) {
      return IncompleteReadError(core.buffer_.Take(core.buffer_.size()), n);
    }
    if (absl::Status waiting = WaitForData(core, "readexactly");
        !waiting.ok()) {
      return waiting;
    }
    return std::nullopt;
  }
  std::string data = core.buffer_.Take(n);
  core.MaybeResumeTransport();
  return data;
}

absl::Status ReadOperation::WaitForData(ReaderCore& core,
                                        absl::string_view func_name) {
  // Two readers waiting at once could not know which one gets the next data.
  if (core.waiter_ != nullptr) {
    return RuntimeError(absl::StrCat(
        func_name,
        "() called while another coroutine is already waiting for incoming "
        "data"));
  }
  if (core.eof_) return AssertionError("_wait_for_data after EOF");
  // Waiting while paused would deadlock (readexactly(n > limit)): resume.
  if (core.paused_) {
    core.paused_ = false;
    core.transport_->ResumeReading();
  }
  core.waiter_ = shared_from_this();
  state_ = State::kWaiting;
  return absl::OkStatus();
}

void ReadOperation::Complete(absl::StatusOr<std::string> result) {
  state_ = State::kDone;
  std::shared_ptr<ReadOperation> self = shared_from_this();
  if (std::shared_ptr<ReaderCore> core = core_.lock()) core->Forget(this);
  if (auto* handler = std::get_if<NextLineHandler>(&handler_)) {
    Deliver(std::move(*handler), ToNextLine(std::move(result)), io_work_);
  } else {
    Deliver(std::move(std::get<ReadHandler>(handler_)), std::move(result),
            io_work_);
  }
  io_work_ = asio::any_io_executor();
  handler_work_ = asio::any_completion_executor();
}

}  // namespace streams::internal
