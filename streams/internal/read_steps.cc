// The reads' code: asyncio/streams.py's readuntil, readline, read,
// readexactly and __anext__, line for line, as resumable steps (see
// reader_core.h for how a step maps to an asyncio task step, and how an
// awaited read runs its first step inline).

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "streams/errors.h"
#include "streams/internal/reader_core.h"

namespace streams::internal {
namespace {

// Python's `k` in `buffer[:k]`: negative counts from the end.
size_t SliceEnd(int64_t k, size_t size) {
  if (k < 0) return static_cast<size_t>(std::max<int64_t>(0, size + k));
  return std::min<size_t>(static_cast<size_t>(k), size);
}

}  // namespace

StepResult ReaderCore::RunStep(ReadState& state, bool resumed) {
  switch (state.request.kind) {
    case ReadKind::kLine:
    case ReadKind::kNextLine:
      return RunReadLine(state, resumed);
    case ReadKind::kUntil:
      return RunReadUntil(state, state.request.separator, resumed);
    case ReadKind::kRead:
      return state.request.n < 0 ? RunReadAll(state, resumed)
                                 : RunRead(state, resumed);
    case ReadKind::kExactly:
      return RunReadExactly(state, resumed);
  }
  return absl::InternalError("unknown read kind");
}

StepResult ReaderCore::RunReadUntil(ReadState& state,
                                    absl::string_view separator, bool resumed) {
  const int64_t seplen = separator.size();
  if (!resumed) {
    if (seplen == 0) {
      return ValueError("Separator should be at least one-byte string");
    }
    if (!exception_.ok()) return exception_;
    // Bytes [0, offset) of the buffer hold no separator.
    state.offset = 0;
  }
  int64_t isep = 0;
  while (true) {
    const int64_t buflen = buffer_.size();
    if (buflen - state.offset >= seplen) {
      const size_t found = buffer_.Find(separator, state.offset);
      if (found != absl::string_view::npos) {
        isep = found;
        break;
      }
      // The last seplen - 1 bytes may start a separator: search them again.
      state.offset = buflen + 1 - seplen;
      if (state.offset > limit_) {
        return LimitOverrunError(
            "Separator is not found, and chunk exceed the limit", state.offset);
      }
    }
    // A complete separator may have come with the EOF's last chunk, so EOF
    // is checked after the search.
    if (eof_) {
      return IncompleteReadError(buffer_.Take(buffer_.size()), std::nullopt);
    }
    if (absl::Status waiting = CheckWait("readuntil"); !waiting.ok()) {
      return waiting;
    }
    return std::nullopt;
  }
  if (isep > limit_) {
    return LimitOverrunError(
        "Separator is found, but chunk is longer than limit", isep);
  }
  std::string chunk = buffer_.Take(isep + seplen);
  MaybeResumeTransport();
  return chunk;
}

StepResult ReaderCore::RunReadLine(ReadState& state, bool resumed) {
  StepResult result = RunReadUntil(state, "\n", resumed);
  if (!result.has_value()) return result;
  return EndReadLine(*std::move(result));
}

absl::StatusOr<std::string> ReaderCore::EndReadLine(
    absl::StatusOr<std::string> result) {
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
    const absl::string_view buffer = buffer_.view();
    const size_t at = SliceEnd(*consumed, buffer.size());
    if (at < buffer.size() && buffer[at] == '\n') {
      buffer_.Discard(SliceEnd(*consumed + 1, buffer.size()));
    } else {
      buffer_.Clear();
    }
    MaybeResumeTransport();
    return LineTooLongError(error.message());
  }
  return result;
}

StepResult ReaderCore::RunRead(ReadState& state, bool resumed) {
  const int64_t n = state.request.n;
  if (!resumed) {
    if (!exception_.ok()) return exception_;
    if (n == 0) return std::string();
    if (buffer_.empty() && !eof_) {
      if (absl::Status waiting = CheckWait("read"); !waiting.ok()) {
        return waiting;
      }
      return std::nullopt;
    }
  }
  std::string data = buffer_.Take(n);
  MaybeResumeTransport();
  return data;
}

StepResult ReaderCore::RunReadAll(ReadState& state, bool resumed) {
  // asyncio: `while True: block = await self.read(self._limit)`, so each
  // round checks the exception and reads at most `limit` bytes.
  if (!resumed && !exception_.ok()) return exception_;
  while (true) {
    if (!resumed) {
      if (!exception_.ok()) return exception_;
      if (buffer_.empty() && !eof_) {
        if (absl::Status waiting = CheckWait("read"); !waiting.ok()) {
          return waiting;
        }
        return std::nullopt;
      }
    }
    resumed = false;
    const size_t n = std::min<size_t>(limit_, buffer_.size());
    state.blocks.append(buffer_.view().data(), n);
    buffer_.Discard(n);
    MaybeResumeTransport();
    if (n == 0) return std::move(state.blocks);
  }
}

StepResult ReaderCore::RunReadExactly(ReadState& state, bool resumed) {
  const int64_t n = state.request.n;
  if (!resumed) {
    if (n < 0) return ValueError("readexactly size can not be less than zero");
    if (!exception_.ok()) return exception_;
    if (n == 0) return std::string();
  }
  if (static_cast<int64_t>(buffer_.size()) < n) {
    if (eof_) {
      return IncompleteReadError(buffer_.Take(buffer_.size()), n);
    }
    if (absl::Status waiting = CheckWait("readexactly"); !waiting.ok()) {
      return waiting;
    }
    return std::nullopt;
  }
  std::string data = buffer_.Take(n);
  MaybeResumeTransport();
  return data;
}

absl::Status ReaderCore::CheckWait(absl::string_view func_name) {
  // Two readers waiting at once could not know which one gets the next data.
  if (waiter_ != nullptr) {
    return RuntimeError(absl::StrCat(
        func_name,
        "() called while another coroutine is already waiting for incoming "
        "data"));
  }
  if (eof_) return AssertionError("_wait_for_data after EOF");
  // Waiting while paused would deadlock (readexactly(n > limit)): resume.
  if (paused_) {
    paused_ = false;
    transport_->ResumeReading();
  }
  return absl::OkStatus();
}

}  // namespace streams::internal
