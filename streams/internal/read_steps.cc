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

// Sets a read's result; true: the read is done.
template <typename T>
bool Done(ReadResult& out, T&& value) {
  out = std::forward<T>(value);
  return true;
}

}  // namespace

bool ReaderCore::RunStep(const ReadArgs& args, ReadProgress& progress,
                         bool resumed, ReadResult& out) {
  switch (args.kind) {
    case ReadKind::kLine:
    case ReadKind::kNextLine:
      return RunReadLine(progress, resumed, out);
    case ReadKind::kUntil:
      if (!RunReadUntil(progress, args.separator, resumed, out)) return false;
      if (modes_.overlong == OverlongMode::kDiscardLine &&
          GetLimitOverrunConsumed(out.status()).has_value()) {
        StartDiscarding({std::string(args.separator)});
      }
      return true;
    case ReadKind::kRead:
      return args.n < 0 ? RunReadAll(progress, resumed, out)
                        : RunRead(args.n, resumed, out);
    case ReadKind::kExactly:
      return RunReadExactly(args.n, resumed, out);
    case ReadKind::kFill:
      return RunFill(args.n, resumed, out);
    case ReadKind::kUntilAny:
      if (!RunReadUntilAny(progress, *args.separators, resumed, out))
        return false;
      if (modes_.overlong == OverlongMode::kDiscardLine &&
          GetLimitOverrunConsumed(out.status()).has_value()) {
        StartDiscarding(*args.separators);
      }
      return true;
  }
  out = absl::InternalError("unknown read kind");
  return true;
}

// Inlined into each caller: RunReadUntil() is readline's hot path, and
// called through a function its search costs 2.5% more (callgrind).
template <typename Search>
[[gnu::always_inline]] inline bool ReaderCore::ScanUntil(
    ReadProgress& progress, int64_t min_seplen, int64_t max_seplen,
    const Search& search, ReadResult& out, bool partial_at_eof) {
  std::pair<int64_t, int64_t> match;
  while (true) {
    const int64_t buflen = buffer_.size();
    if (buflen - progress.offset >= min_seplen) {
      match = search(progress.offset);
      if (match.first >= 0) break;
      // The last max_seplen - 1 bytes may start a separator: search them
      // again.
      progress.offset = std::max<int64_t>(0, buflen + 1 - max_seplen);
      if (progress.offset > limit_) {
        return Done(out, LimitOverrunError("Separator is not found, and chunk "
                                           "exceed the limit",
                                           progress.offset));
      }
    }
    // A complete separator may have come with the EOF's last chunk, so EOF
    // is checked after the search.
    if (eof_) {
      std::string partial = buffer_.Take(buffer_.size());
      if (partial_at_eof) return Done(out, std::move(partial));
      return Done(out, IncompleteReadError(std::move(partial), std::nullopt));
    }
    if (absl::Status waiting = CheckWait("readuntil"); !waiting.ok()) {
      return Done(out, std::move(waiting));
    }
    return false;
  }
  if (match.first > limit_) {
    return Done(out, LimitOverrunError(
                         "Separator is found, but chunk is longer than limit",
                         match.first));
  }
  out = TakeFront(match.second);
  return true;
}

[[gnu::always_inline]] inline bool ReaderCore::BeginUntil(
    ReadProgress& progress, size_t min_seplen, bool resumed, ReadResult& out) {
  if (!resumed) {
    if (min_seplen == 0) {
      return Done(out,
                  ValueError("Separator should be at least one-byte string"));
    }
    if (!exception_.ok()) return Done(out, exception_);
    // Bytes [0, offset) of the buffer hold no separator.
    progress.offset = 0;
  }
  Rebase(progress, resumed);
  return false;
}

bool ReaderCore::RunReadUntil(ReadProgress& progress,
                              absl::string_view separator, bool resumed,
                              ReadResult& out, bool partial_at_eof) {
  const int64_t seplen = separator.size();
  if (BeginUntil(progress, seplen, resumed, out)) return true;
  return ScanUntil(
      progress, seplen, seplen,
      [this, separator, seplen](int64_t offset) -> std::pair<int64_t, int64_t> {
        const size_t found = buffer_.Find(separator, offset);
        if (found == absl::string_view::npos) return {-1, -1};
        return {found, found + seplen};
      },
      out, partial_at_eof);
}

// CPython 3.13's readuntil with a tuple of separators (gh-81322, tuples only
// since gh-117722): the shortest result that ends with any separator; the
// scan resumes max_seplen - 1 bytes before the end, and the limit applies to
// the start of the earliest-ending match.
bool ReaderCore::RunReadUntilAny(ReadProgress& progress,
                                 const std::vector<std::string>& separators,
                                 bool resumed, ReadResult& out) {
  if (!resumed) {
    if (separators.empty()) {
      return Done(out,
                  ValueError("Separator should contain at least one element"));
    }
  }
  if (BeginUntil(progress, separators.front().size(), resumed, out)) {
    return true;
  }
  return ScanUntil(
      progress, separators.front().size(), separators.back().size(),
      [this, &separators](int64_t offset) -> std::pair<int64_t, int64_t> {
        std::pair<int64_t, int64_t> first{-1, -1};
        for (const std::string& separator : separators) {
          const size_t found = buffer_.Find(separator, offset);
          if (found == absl::string_view::npos) continue;
          const int64_t end = found + separator.size();
          if (first.second < 0 || end < first.second) first = {found, end};
        }
        return first;
      },
      out);
}

bool ReaderCore::RunReadLine(ReadProgress& progress, bool resumed,
                             ReadResult& out) {
  if (!RunReadUntil(progress, "\n", resumed, out, /*partial_at_eof=*/true)) {
    return false;
  }
  if (!out.ok()) EndReadLine(out, /*own_limit=*/true);
  return true;
}

void ReaderCore::Rebase(ReadProgress& progress, bool resumed) {
  if (resumed && progress.discarded != discarded_) {
    progress.offset = std::max<int64_t>(
        0, progress.offset -
               static_cast<int64_t>(discarded_ - progress.discarded));
  }
  progress.discarded = discarded_;
}

void ReaderCore::EndReadLine(ReadResult& result, bool own_limit) {
  // readline's `except IncompleteReadError` and `except LimitOverrunError`
  // around `await self.readuntil(sep)`.
  if (result.ok()) return;
  const absl::Status error = result.status();
  if (std::optional<IncompleteRead> incomplete = GetIncompleteRead(error)) {
    result = std::move(incomplete->partial);
    return;
  }
  if (std::optional<int64_t> consumed = GetLimitOverrunConsumed(error)) {
    if (own_limit && modes_.overlong == OverlongMode::kKeep) {
      return;  // readuntil's LimitOverrunError, the bytes kept
    }
    if (own_limit && modes_.overlong == OverlongMode::kDiscardLine) {
      StartDiscarding({"\n"});
      result = LineTooLongError(error.message());
      return;
    }
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
    result = LineTooLongError(error.message());
  }
}

bool ReaderCore::RunRead(int64_t n, bool resumed, ReadResult& out) {
  if (!resumed) {
    if (!exception_.ok()) return Done(out, exception_);
    if (n == 0) return Done(out, std::string());
    if (buffer_.empty() && !eof_) {
      if (absl::Status waiting = CheckWait("read"); !waiting.ok()) {
        return Done(out, std::move(waiting));
      }
      return false;
    }
  }
  return Done(out, TakeFront(n));
}

bool ReaderCore::RunReadAllKeeping(bool resumed, ReadResult& out) {
  // Cancel-safe read(-1): nothing leaves the buffer before EOF, so a
  // cancelled or failed read leaves every byte readable.
  if (!resumed && !exception_.ok()) return Done(out, exception_);
  if (!eof_) {
    if (absl::Status waiting = CheckWait("read"); !waiting.ok()) {
      return Done(out, std::move(waiting));
    }
    return false;
  }
  return Done(out, TakeFront(buffer_.size()));
}

bool ReaderCore::RunReadAll(ReadProgress& progress, bool resumed,
                            ReadResult& out) {
  if (modes_.cancel_safe_read_all) return RunReadAllKeeping(resumed, out);
  // asyncio: `while True: block = await self.read(self._limit)`, so each
  // round checks the exception and reads at most `limit` bytes.
  if (!resumed && !exception_.ok()) return Done(out, exception_);
  while (true) {
    if (!resumed) {
      if (!exception_.ok()) return Done(out, exception_);
      if (buffer_.empty() && !eof_) {
        if (absl::Status waiting = CheckWait("read"); !waiting.ok()) {
          return Done(out, std::move(waiting));
        }
        return false;
      }
    }
    resumed = false;
    const size_t n = std::min<size_t>(limit_, buffer_.size());
    progress.blocks.append(buffer_.view().data(), n);
    buffer_.Discard(n);
    MaybeResumeTransport();
    if (n == 0) return Done(out, std::move(progress.blocks));
  }
}

bool ReaderCore::RunReadExactly(int64_t n, bool resumed, ReadResult& out) {
  if (!resumed) {
    if (n < 0)
      return Done(out,
                  ValueError("readexactly size can not be less than zero"));
    if (!exception_.ok()) return Done(out, exception_);
    if (n == 0) return Done(out, std::string());
  }
  if (static_cast<int64_t>(buffer_.size()) < n) {
    if (eof_) {
      return Done(out, IncompleteReadError(buffer_.Take(buffer_.size()), n));
    }
    if (absl::Status waiting = CheckWait("readexactly"); !waiting.ok()) {
      return Done(out, std::move(waiting));
    }
    return false;
  }
  return Done(out, TakeFront(n));
}

bool ReaderCore::RunFill(int64_t n, bool resumed, ReadResult& out) {
  if (!resumed && !exception_.ok()) return Done(out, exception_);
  if (static_cast<int64_t>(buffer_.size()) > n || eof_) {
    return Done(out, std::string());
  }
  if (absl::Status waiting = CheckWait("read"); !waiting.ok()) {
    return Done(out, std::move(waiting));
  }
  return false;
}

std::optional<absl::StatusOr<absl::string_view>>
ReaderCore::TryReadLineViewSlow(size_t at) {
  if (exception_.ok() && at == absl::string_view::npos &&
      buffer_.size() <= static_cast<uint64_t>(limit_) && !eof_) {
    return std::nullopt;  // wait for more
  }
  // Over the limit, EOF, or the reader's exception: readline's own answer
  // (it does not wait here). With an exception set that is readline's
  // except clauses: an IncompleteReadError gives its partial bytes, a
  // LimitOverrunError drops the line.
  ReadProgress progress;
  ReadResult result;
  if (!RunReadLine(progress, /*resumed=*/false, result)) {
    return absl::InternalError("readline view: unexpected wait");
  }
  if (!result.ok()) return result.status();
  view_storage_ = *std::move(result);
  return absl::string_view(view_storage_);
}

absl::Status ReaderCore::Consume(size_t n) {
  if (n > buffer_.size()) {
    return ValueError("consume() of more than the buffer holds");
  }
  buffer_.DiscardKeepingStorage(n);
  MaybeResumeTransport();
  return absl::OkStatus();
}

absl::Status ReaderCore::CheckWait(absl::string_view func_name) {
  // Two readers waiting at once could not know which one gets the next data.
  if (has_waiter()) {
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
