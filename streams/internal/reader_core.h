// -----------------------------------------------------------------------------
// File: internal/reader_core.h
// -----------------------------------------------------------------------------
//
// The state behind a StreamReader, and its read operations. Private to
// //streams: use stream_reader.h.
//
// asyncio runs each read as a task: one step when it starts, then one step
// each time the reader's `_waiter` future wakes it; a step runs the read's
// code until it returns, raises, or waits again. ReadOperation mirrors that
// exactly (which is what makes the conformance suite agree step by step):
//
//   - Start() posts the first step; nothing happens inside the initiating
//     call.
//   - Waiting = being the reader's `waiter_`. FeedData/FeedEof/SetException
//     take the waiter out and post its next step (asyncio: set the future's
//     result, schedule the task's wakeup).
//   - Cancel() while waiting posts a step that completes with kCancelled; the
//     op stays the reader's `waiter_` until that step runs (asyncio: the
//     cancelled future stays `_waiter` until `finally: self._waiter = None`).
//     Cancel() while a step is already posted marks it: the step completes
//     with kCancelled instead of running (asyncio: `_must_cancel`).
//   - Bytes leave the buffer only inside a step that also delivers the
//     result, so a read cancelled between being woken and running its step
//     (e.g. its `||` timer fired in between) takes nothing.
//
// Awaited reads (`co_await reader.AsyncReadLine()` with the default token or
// `use_awaitable`: see await_read.h) are not tasks: asyncio's `await
// reader.readline()` runs the read's code inside the awaiting coroutine, and
// when it must wait, that coroutine's task awaits the reader's `_waiter`
// future. So their steps run in the awaiting coroutine (RunStep() with no op
// at all: an answer in the buffer costs no allocation and no scheduler round
// trip), and a wait is an AwaitedWait: the coroutine's resumption, held by
// the core (AwaitData()) and posted when the future is done, by the same
// rules as an op's wakeup above (cancelled: posted at once, `_waiter` kept
// until the resumption runs; woken while its resumption is posted: it
// resumes cancelled, taking nothing).
//
// Ownership: the core owns every unfinished op (`ops_`) and every awaited
// wait (`awaited_`); posted steps hold a reference to their op. Ops and
// posted resumptions hold the core weakly: if the reader is destroyed, or its
// execution context shuts down, unfinished ops and waits are destroyed with
// their handlers (an awaited wait's handler owns the suspended coroutine),
// which are never called.

#ifndef STREAMS_INTERNAL_READER_CORE_H_
#define STREAMS_INTERNAL_READER_CORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "boost/asio/any_completion_executor.hpp"
#include "boost/asio/any_completion_handler.hpp"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/cancellation_signal.hpp"
#include "boost/asio/cancellation_type.hpp"
#include "streams/internal/byte_buffer.h"
#include "streams/internal/task.h"
#include "streams/transport.h"

namespace streams::internal {

namespace asio = ::boost::asio;

using ReadHandler =
    asio::any_completion_handler<void(absl::StatusOr<std::string>)>;
using NextLineHandler = asio::any_completion_handler<void(
    absl::StatusOr<std::optional<std::string>>)>;

// kUntilAny: readuntil with a tuple of separators (CPython 3.13).
// kFill: waits until the buffer holds more than `n` bytes or EOF; takes
// nothing (the zero-copy reads).
enum class ReadKind {
  kLine,
  kUntil,
  kRead,
  kExactly,
  kNextLine,
  kUntilAny,
  kFill
};

// A read's arguments as its code uses them, the separator borrowed from
// whoever holds the read (a ReadOperation's ReadRequest, or the awaiting
// frame): the awaited path builds no strings for a readline.
struct ReadArgs {
  ReadKind kind = ReadKind::kLine;
  absl::string_view separator;  // kUntil (readline needs none: it is b"\n")
  int64_t n = 0;                // kRead, kExactly
  // kUntilAny: the separators, shortest first (stable: as sorted(key=len)).
  const std::vector<std::string>* separators = nullptr;
};

// A read's arguments, owned: what an operation that outlives its initiating
// call keeps.
struct ReadRequest {
  ReadKind kind = ReadKind::kLine;
  std::string separator{};
  int64_t n = 0;
  std::vector<std::string> separators{};  // kUntilAny, shortest first

  ReadArgs args() const { return {kind, separator, n, &separators}; }
};

// The reader's behaviours beyond 3.11.7 (streams::ReaderOptions).
enum class OverlongMode { kAsyncio, kKeep, kDiscardLine };
struct ReaderModes {
  OverlongMode overlong = OverlongMode::kAsyncio;
  bool cancel_safe_read_all = false;
};

// What a read's code keeps across waits.
struct ReadProgress {
  int64_t offset = 0;  // readuntil: where the separator search resumes
  // readuntil: ReaderCore::discarded_ when `offset` was computed (bytes a
  // kDiscardLine discard took from the front since then shift it).
  uint64_t discarded = 0;
  std::string blocks;  // read(-1): what it gathered so far
};

// A read in progress.
struct ReadState {
  ReadRequest request;
  ReadProgress progress;
};

// What a read completes with.
using ReadResult = absl::StatusOr<std::string>;

// A readline's result as AsyncNextLine() gives it: nullopt at EOF (asyncio:
// StopAsyncIteration).
absl::StatusOr<std::optional<std::string>> ToNextLine(ReadResult line);

// How an awaited read's wait ends (asyncio: `await self._waiter` returns or
// raises): resumes the coroutine with OK (data or EOF), the reader's
// exception, or kCancelled, directly when `running` (the executor the
// posted resumption runs on) is the coroutine's, else through its executor.
// Small enough to be stored without allocating.
using AwaitedHandler = absl::AnyInvocable<void(
    absl::Status, const asio::any_io_executor& running)>;

// Which cancellation requests a read honours. Cancelling takes no bytes, so
// every type is honoured, except for read(-1): like asyncio, it drops the
// blocks it already gathered, so it is not "total" cancellation.
asio::cancellation_type_t AcceptedCancellation(ReadKind kind, int64_t n,
                                               bool cancel_safe_read_all);

class ReaderService;
class ReadOperation;

class ReaderCore : public std::enable_shared_from_this<ReaderCore> {
 public:
  ReaderCore(const asio::any_io_executor& executor, int64_t limit,
             ReaderModes modes = {});
  ~ReaderCore();
  ReaderCore(const ReaderCore&) = delete;
  ReaderCore& operator=(const ReaderCore&) = delete;

  const asio::any_io_executor& executor() const { return executor_; }
  int64_t limit() const { return limit_; }
  const ReaderModes& modes() const { return modes_; }
  // kDiscardLine: whether an over-long line is being dropped.
  bool discarding() const { return !discard_through_.empty(); }

  // Producer side (asyncio: feed_data, feed_eof, set_exception,
  // set_transport).
  absl::Status FeedData(absl::string_view data);
  void FeedEof();
  void SetException(absl::Status exception);
  absl::Status SetTransport(std::shared_ptr<Transport> transport);

  // Observers.
  bool AtEof() const { return eof_ && buffer_.empty(); }
  bool eof() const { return eof_; }
  const absl::Status& exception() const { return exception_; }
  const ByteBuffer& buffer() const { return buffer_; }
  bool paused() const { return paused_; }
  bool has_waiter() const { return waiter_ != nullptr || awaited_waiter_ != 0; }
  bool has_transport() const { return transport_ != nullptr; }

  // For a TLS upgrade: the buffered bytes (they belong to the handshake),
  // and the transport to pause and resume from now on.
  std::string TakeBuffer() { return buffer_.Take(buffer_.size()); }
  void ReplaceTransport(std::shared_ptr<Transport> transport) {
    transport_ = std::move(transport);
    paused_ = false;
  }

  // Starts a read as a task; `handler` is a ReadHandler or, for kNextLine, a
  // NextLineHandler.
  void StartRead(ReadRequest request,
                 std::variant<ReadHandler, NextLineHandler> handler);

  // The awaited path (await_read.h). TryReadNow() runs one of the read's
  // steps in the awaiting coroutine (`resumed`: after a wait): true with
  // `result` set, or false when it must wait, in which case the coroutine
  // suspends and calls AwaitData() before anything else runs. The caller
  // checks cancellation.
  bool TryReadNow(const ReadArgs& args, ReadProgress& progress, bool resumed,
                  ReadResult& result);
  // What the awaited path tries before TryReadNow(): BufferedAnswer() on a
  // live reader, 0 when the full step decides. Then TakeFront(n) takes it.
  ABSL_ATTRIBUTE_ALWAYS_INLINE size_t
  TryBufferedAnswer(const ReadArgs& args) const {
    return service_ != nullptr ? BufferedAnswer(args) : 0;
  }
  // A read's bytes leave the buffer: asyncio's `data = bytes(buffer[:n]);
  // del buffer[:n]; self._maybe_resume_transport()` (at most size() bytes).
  std::string TakeFront(size_t n) {
    std::string bytes = buffer_.Take(n);
    MaybeResumeTransport();
    return bytes;
  }
  // asyncio: `self._waiter = future; await self._waiter` in
  // _wait_for_data, awaited by the calling coroutine: the core keeps
  // `handler` and calls it from a posted resumption once the future is done
  // (woken, or cancelled through `slot` by a type in `accepted`). Until then
  // this wait is the reader's waiter.
  void AwaitData(AwaitedHandler handler, asio::cancellation_slot slot,
                 asio::cancellation_type_t accepted);

  // One step of the read's code (streams.py's readuntil, readline, read,
  // readexactly, __anext__): `resumed` after a wait. True: done, with
  // `out` set; false: it must wait for data (the checks of asyncio's
  // _wait_for_data passed). The result is built in place: an awaited read
  // moves it once more, into the caller. read_steps.cc.
  bool RunStep(const ReadArgs& args, ReadProgress& progress, bool resumed,
               ReadResult& out);
  // The first step's commonest answer, found before anything else runs:
  // how many bytes to take (TakeFront()) when the reader has no exception
  // and the read's bytes are buffered (readline or readuntil: a separator
  // within the limit; readexactly(n > 0): n bytes; read(n > 0): any), or 0:
  // nothing changed, the full step decides. Inline, and free of StatusOr:
  // this is what an awaited read costs when its answer is there (callgrind:
  // about 100 instructions fewer than RunStep() per read), and the taken
  // string goes straight into the caller's result. It is the success branch
  // of ScanUntil(), RunReadExactly() and RunRead() for a first step, and must
  // stay that; when it gives 0, the full step searches the buffered bytes
  // once more (the first step only: resumed steps search from where they
  // stopped).
  ABSL_ATTRIBUTE_ALWAYS_INLINE size_t
  BufferedAnswer(const ReadArgs& args) const {
    if (!exception_.ok()) return 0;
    switch (args.kind) {
      case ReadKind::kLine:
      case ReadKind::kNextLine: {
        const size_t at = buffer_.FindByte('\n', 0);
        if (at == absl::string_view::npos ||
            at > static_cast<uint64_t>(limit_)) {
          return 0;
        }
        return at + 1;
      }
      case ReadKind::kUntil: {
        const absl::string_view separator = args.separator;
        if (separator.empty()) return 0;
        const size_t at = buffer_.Find(separator, 0);
        if (at == absl::string_view::npos ||
            at > static_cast<uint64_t>(limit_)) {
          return 0;
        }
        return at + separator.size();
      }
      case ReadKind::kExactly:
        if (args.n <= 0 || buffer_.size() < static_cast<uint64_t>(args.n)) {
          return 0;
        }
        return static_cast<size_t>(args.n);
      case ReadKind::kRead:
        if (args.n <= 0) return 0;
        return std::min(buffer_.size(), static_cast<size_t>(args.n));
      default:
        return 0;
    }
  }
  // TryReadLineView() once its inline part found no line within the limit
  // (`at`: where it found "\n", or npos), or the reader has an exception.
  // read_steps.cc.
  std::optional<absl::StatusOr<absl::string_view>> TryReadLineViewSlow(
      size_t at);
  // Zero-copy readline: the line as a view into the buffer (consumed, its
  // storage kept until the next FeedData), or nullopt when it must wait for
  // more than buffer().size() bytes. Errors and EOF's partial line as
  // readline's (a partial line is copied once, into `view_storage_`).
  ABSL_ATTRIBUTE_ALWAYS_INLINE std::optional<absl::StatusOr<absl::string_view>>
  TryReadLineView() {
    size_t at = absl::string_view::npos;
    if (exception_.ok()) {  // The commonest answer, inline: a whole line.
      at = buffer_.FindByte('\n', 0);
      if (at != absl::string_view::npos &&
          at <= static_cast<uint64_t>(limit_)) {
        const absl::string_view line(buffer_.view().data(), at + 1);
        buffer_.DiscardKeepingStorage(at + 1);
        MaybeResumeTransport();
        return line;
      }
    }
    return TryReadLineViewSlow(at);
  }
  // tokio's consume(): drops n <= buffer().size() bytes.
  absl::Status Consume(size_t n);

  // readline's handlers of readuntil's errors, applied to `result`;
  // `own_limit`: the error is the read's own (not a SetException()), so the
  // overlong-line mode applies.
  void EndReadLine(ReadResult& result, bool own_limit = false);
  // A read of `kind` resumed with `exception` raised at `await self._waiter`
  // (the reader's exception, or CancelledError): the read's answer, which
  // readline's handlers see first.
  ReadResult RaisedAtWait(ReadKind kind, absl::Status exception) {
    ReadResult raised = std::move(exception);
    if (kind == ReadKind::kLine || kind == ReadKind::kNextLine) {
      EndReadLine(raised);  // nothing for CancelledError
    }
    return raised;
  }

 private:
  friend class ReadOperation;
  friend class ReaderService;

  // `partial_at_eof`: readline's `except IncompleteReadError as e: return
  // e.partial`, applied where readuntil would raise it: at EOF the partial
  // bytes are the answer, and the error it would catch is never built (a
  // status with three payloads, one per connection that ends).
  bool RunReadUntil(ReadProgress& progress, absl::string_view separator,
                    bool resumed, ReadResult& out, bool partial_at_eof = false);
  bool RunReadUntilAny(ReadProgress& progress,
                       const std::vector<std::string>& separators, bool resumed,
                       ReadResult& out);
  // Both readuntil forms' first checks (`min_seplen`: the shortest
  // separator's length) and the offset to search from; true when the checks
  // answer the read.
  bool BeginUntil(ReadProgress& progress, size_t min_seplen, bool resumed,
                  ReadResult& out);
  // What both readuntil forms do after their argument checks: search from
  // progress.offset with `search(offset)`, which gives the match that ends
  // first as {start, end}, or {-1, -1}; fail past the limit, at EOF or when
  // another read waits; else wait (false).
  template <typename Search>
  bool ScanUntil(ReadProgress& progress, int64_t min_seplen, int64_t max_seplen,
                 const Search& search, ReadResult& out,
                 bool partial_at_eof = false);
  bool RunReadLine(ReadProgress& progress, bool resumed, ReadResult& out);
  bool RunRead(int64_t n, bool resumed, ReadResult& out);
  bool RunReadAll(ReadProgress& progress, bool resumed, ReadResult& out);
  bool RunReadAllKeeping(bool resumed, ReadResult& out);
  // readuntil's offset, shifted by what discarding took since it was set.
  void Rebase(ReadProgress& progress, bool resumed);
  // kDiscardLine: after an over-limit error, drop through the next
  // separator (now or as data arrives).
  void StartDiscarding(std::vector<std::string> separators);
  void Discard();
  bool RunReadExactly(int64_t n, bool resumed, ReadResult& out);
  bool RunFill(int64_t n, bool resumed, ReadResult& out);
  // asyncio: the checks of _wait_for_data(func_name); OK: it may wait.
  absl::Status CheckWait(absl::string_view func_name);

  // asyncio: _wakeup_waiter (exception OK) and the waiter part of
  // set_exception.
  void WakeWaiter(const absl::Status& exception);
  // asyncio: _maybe_resume_transport. Inline: a read calls it each time.
  void MaybeResumeTransport() {
    if (paused_) ResumeTransportBelowLimit();
  }
  void ResumeTransportBelowLimit();
  // asyncio: `finally: self._waiter = None` in _wait_for_data, when a read
  // resumes after a wait: whoever the waiter is by now.
  void ClearWaiter() {
    waiter_ = nullptr;
    awaited_waiter_ = 0;
  }
  // Done: the core drops `op`.
  void Forget(const std::shared_ptr<ReadOperation>& op);

  // An awaited read's wait (AwaitData()): asyncio's `_waiter` future as the
  // awaiting coroutine's task sees it.
  struct AwaitedWait {
    uint64_t id = 0;
    AwaitedHandler resume;
    absl::Status exception;  // set_exception(); OK: set_result(None)
    bool cancelled = false;  // the future, or the task awaiting it
    bool scheduled = false;  // done: the resumption is posted
  };
  AwaitedWait* FindAwaited(uint64_t id);
  // Posts the resumption of a done (woken or cancelled) wait.
  void ScheduleAwaited(AwaitedWait& wait);
  // The posted resumption: the future's outcome goes to the coroutine.
  void ResumeAwaited(uint64_t id);
  // The awaiting coroutine was cancelled (asyncio: Task.cancel() while it
  // awaits the future, or after the future is done but before it resumed).
  void CancelAwaited(uint64_t id);
  // The slot handler that calls CancelAwaited().
  struct AwaitedCancellation;
  // The execution context is shutting down: drop every op, post nothing more.
  void Shutdown();

  asio::any_io_executor executor_;
  const int64_t limit_;
  const ReaderModes modes_;
  ByteBuffer buffer_;
  std::vector<std::string> discard_through_;  // kDiscardLine, while dropping
  uint64_t discarded_ = 0;    // bytes dropped from the front by Discard()
  std::string view_storage_;  // TryReadLineView()'s copied results
  bool eof_ = false;
  absl::Status exception_;  // OK: None
  std::shared_ptr<Transport> transport_;
  bool paused_ = false;
  // asyncio: _waiter, when it is a task read's (an op) or, by its id, an
  // awaited read's: at most one of the two is set.
  std::shared_ptr<ReadOperation> waiter_;
  uint64_t awaited_waiter_ = 0;
  std::vector<std::shared_ptr<ReadOperation>> ops_;
  // Awaited reads waiting, or woken and not yet resumed: usually one, kept
  // even when another read's `finally` cleared `_waiter` (asyncio leaves
  // that coroutine awaiting its future until it is cancelled).
  std::vector<AwaitedWait> awaited_;
  uint64_t last_awaited_id_ = 0;
  ReaderService* service_ = nullptr;  // null once the context shut down
};

class ReadOperation : public Task {
 public:
  using Handler = std::variant<ReadHandler, NextLineHandler>;

  ReadOperation(std::weak_ptr<ReaderCore> core, ReadState&& state,
                Handler&& handler, const asio::any_io_executor& io_executor);

  // Installs the cancellation handler and posts the first step.
  void StartTask(const ReaderCore& core);

  // The reader woke this op (its waiter): OK for data/EOF, else the
  // exception.
  void Wake(absl::Status exception);

  // asyncio: the `_waiter` future was cancelled.
  bool waiter_cancelled() const { return waiter_cancelled_; }

 private:
  void Step(bool resumed) override;
  // asyncio: cancelling the task cancels its `_waiter` future, which stays
  // the reader's `_waiter` until the task's `finally` runs.
  void CancelWaiting() override;
  void BecomeWaiter(ReaderCore& core);
  // Done: `core` (locked by the step) forgets the op, the handler runs.
  void Complete(ReaderCore& core, ReadResult&& result);

  std::shared_ptr<ReadOperation> self() {
    return std::static_pointer_cast<ReadOperation>(shared_from_this());
  }

  std::weak_ptr<ReaderCore> core_;
  ReadState read_;
  Handler handler_;
  bool waiter_cancelled_ = false;
  absl::Status wake_exception_;
};

}  // namespace streams::internal

#endif  // STREAMS_INTERNAL_READER_CORE_H_
