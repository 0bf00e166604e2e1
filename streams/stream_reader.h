// -----------------------------------------------------------------------------
// File: stream_reader.h
// -----------------------------------------------------------------------------
//
// `streams::StreamReader` is the buffered read side of a connection, with the
// semantics of asyncio.StreamReader (CPython 3.11.7) on a Boost.Asio executor.
// The transport (or a test) pushes bytes in with `FeedData()`/`FeedEof()`;
// callers pull them out with the `Async*` reads, which are Asio asynchronous
// operations completing with `absl::StatusOr<std::string>`.
//
// Example:
//
//   asio::awaitable<absl::Status> PrintLines(streams::StreamReader& reader) {
//     while (true) {
//       absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
//       if (!line.ok()) co_return line.status();
//       if (line->empty()) co_return absl::OkStatus();  // EOF
//       std::cout << *line;
//     }
//   }
//
// Limit and flow control. `limit` (default 64 KiB) bounds what a line or
// separator read may return, and is half the buffer bound: when the buffer
// grows past 2 * limit the reader pauses the transport, and resumes it once
// a read brings the buffer down to <= limit, and before any read waits for
// data (so `AsyncReadExactly(n > limit)` cannot deadlock). A transport that
// cannot pause (PauseReading() returns kUnimplemented) is forgotten and data
// is buffered without bound. The buffer holds at most 2 * limit plus one
// transport chunk, except when the transport cannot pause.
//
// Completion tokens. Every `Async*` operation takes any Asio completion
// token. Awaited, with the default token (`co_await reader.AsyncReadLine()`
// in an `asio::awaitable` coroutine) or `asio::use_awaitable` (also inside
// `awaitable_operators`' `||`), a read behaves as asyncio's `await
// reader.readline()`: its code runs in the awaiting coroutine, so a read
// whose answer is buffered (a line, n bytes, EOF, an error) returns at once,
// without a scheduler round trip and without allocating beyond the returned
// string; only a read that must wait suspends. With any other token
// (`asio::deferred`, `asio::use_future`, a callback) the read is an
// independent operation, as `asyncio.create_task(reader.readline())`: its
// handler is never called inside the initiating call, runs through its
// associated executor, and while the read is pending it keeps work on that
// executor and on the reader's.
//
// Cancellation. Each read honours Asio per-operation cancellation (terminal,
// partial and total; read(-1): terminal and partial), so a timeout is
//
//   using namespace asio::experimental::awaitable_operators;
//   auto result = co_await (reader.AsyncReadLine(asio::use_awaitable) ||
//                           timer.async_wait(asio::use_awaitable));
//
// A cancelled read completes with kCancelled and consumes nothing: bytes leave
// the buffer only in the same step that delivers a read's result, so a read
// that was cancelled after data arrived but before its step ran takes
// nothing, and the next read gets every byte. Exception, as in asyncio:
// `AsyncRead(-1)` cancelled after it gathered some blocks drops them (they
// already left the buffer).
//
// Errors (see errors.h): kOutOfRange IncompleteReadError (EOF first; buffer
// cleared), kResourceExhausted LimitOverrunError (limit hit; buffer kept) or
// ValueError from readline (line dropped), kInvalidArgument ValueError (bad
// argument), kFailedPrecondition RuntimeError (a read waiting while another
// waits) or AssertionError (misuse; the call changes nothing), the reader's
// exception once set (`SetException()`), kCancelled.
//
// Threads and lifetime. A reader, and the protocol and transport feeding it,
// live on one executor (use a strand when the io_context runs on several
// threads); calling any member from elsewhere is a precondition violation.
// Destroying the reader, or shutting down its execution context (destroying
// the io_context), destroys pending reads' handlers without calling them;
// buffered bytes stay with the reader. After its io_context is gone a reader
// may only be destroyed. StreamReader is movable; a moved-from reader may only
// be destroyed or assigned to.

#ifndef STREAMS_STREAM_READER_H_
#define STREAMS_STREAM_READER_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/async_result.hpp"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "streams/byte_view.h"
#include "streams/internal/await_read.h"
#include "streams/internal/reader_core.h"
#include "streams/transport.h"

namespace streams {

namespace internal {
class Access;
}  // namespace internal

// OverlongLine
//
// What AsyncReadLine()/AsyncNextLine()/AsyncReadUntil()/AsyncReadUntilAny()
// do with a line (the bytes before the separator) longer than the limit.
//
//   kAsyncio (default): 3.11.7's rule. readline fails with ValueError and
//     drops the line through its "\n" if buffered, else the whole buffer, so
//     the tail of an over-long line whose "\n" had not arrived comes back as
//     an ordinary line. readuntil fails with LimitOverrunError and keeps the
//     bytes. Memory: 2 * limit plus one transport chunk.
//   kKeep: readline, too, fails with readuntil's kResourceExhausted
//     LimitOverrunError (with `consumed`) and keeps every byte; the caller
//     must consume (AsyncRead(n), AsyncReadExactly(n)) to make progress: a
//     retried readline fails again. The failing read does not wait, so the
//     transport stays paused once the buffer passes 2 * limit. Memory:
//     2 * limit plus one transport chunk.
//   kDiscardLine: fail once (readline: ValueError, as 3.11.7; readuntil:
//     LimitOverrunError), then drop everything up to and including the next
//     separator, now or as data arrives (tokio-util's
//     LinesCodec::new_with_max_length), so framing never goes out of sync.
//     While dropping, the buffer holds at most len(longest separator) - 1
//     bytes, the transport is never paused for it, reads see none of the
//     dropped bytes, and an EOF drops the rest. Memory: 2 * limit plus one
//     transport chunk.
enum class OverlongLine { kAsyncio, kKeep, kDiscardLine };

// ReaderOptions
//
// A reader's options, fixed at construction (StreamReader::Create()). The
// defaults are CPython 3.11.7's behaviour, byte for byte.
//
//   streams::ReaderOptions options;
//   options.overlong_line = streams::OverlongLine::kDiscardLine;
//   absl::StatusOr<streams::StreamReader> reader =
//       streams::StreamReader::Create(executor, options);
struct ReaderOptions {
  // asyncio's `limit` (see "Limit and flow control" above): > 0.
  int64_t limit = 64 * 1024;
  // See OverlongLine.
  OverlongLine overlong_line = OverlongLine::kAsyncio;
  // AsyncRead(-1) leaves every byte in the buffer until EOF, then takes them
  // all at once: a cancelled or failed read-to-EOF leaves every byte it saw
  // readable (3.11.7 drops the blocks it gathered), and it honours total
  // cancellation too. The transport is resumed each time the read waits,
  // as in 3.11.7, so memory is the whole stream, as 3.11.7's read(-1).
  // Default false.
  bool cancel_safe_read_all = false;
};

class StreamReader {
 public:
  using executor_type = boost::asio::any_io_executor;
  // The reads' completion signatures.
  using Signature = void(absl::StatusOr<std::string>);
  using NextLineSignature = void(absl::StatusOr<std::optional<std::string>>);
  // The completion token used when none is given: `co_await` the read in an
  // `asio::awaitable` coroutine (see "Completion tokens" above).
  using DefaultToken = boost::asio::use_awaitable_t<>;

  // asyncio's _DEFAULT_LIMIT.
  static constexpr int64_t kDefaultLimit = 64 * 1024;

  // A reader with the default limit.
  explicit StreamReader(const executor_type& executor);

  // StreamReader::Create()
  //
  // A reader with `limit`; kInvalidArgument ValueError "Limit cannot be <= 0"
  // when limit <= 0 (asyncio raises it from the constructor).
  static absl::StatusOr<StreamReader> Create(const executor_type& executor,
                                             int64_t limit = kDefaultLimit);
  // A reader with `options` (see ReaderOptions); the same error for its
  // limit.
  static absl::StatusOr<StreamReader> Create(const executor_type& executor,
                                             const ReaderOptions& options);

  StreamReader(StreamReader&&) noexcept = default;
  StreamReader& operator=(StreamReader&&) noexcept = default;
  ~StreamReader() = default;

  executor_type get_executor() const { return core_->executor(); }
  int64_t limit() const { return core_->limit(); }

  // ---------------------------------------------------------------------------
  // Producer side: the transport's (or a test's).
  // ---------------------------------------------------------------------------

  // StreamReader::FeedData()
  //
  // Appends `data`, wakes a waiting read, and pauses the transport past
  // 2 * limit. After FeedEof() it changes nothing and returns
  // kFailedPrecondition AssertionError "feed_data after feed_eof".
  absl::Status FeedData(ByteView data) { return core_->FeedData(data); }

  // StreamReader::FeedEof()
  void FeedEof() { core_->FeedEof(); }

  // StreamReader::SetException()
  //
  // Every later read fails with `exception` (a read already waiting is woken
  // with it). Any status works; those made with errors.h keep their asyncio
  // kind. An OK status is ignored.
  void SetException(absl::Status exception) {
    core_->SetException(std::move(exception));
  }

  // StreamReader::SetTransport()
  //
  // The transport to pause and resume. A second call changes nothing and
  // returns kFailedPrecondition AssertionError "Transport already set".
  absl::Status SetTransport(std::shared_ptr<Transport> transport) {
    return core_->SetTransport(std::move(transport));
  }

  // ---------------------------------------------------------------------------
  // Observers.
  // ---------------------------------------------------------------------------

  // True once FeedEof() was called and the buffer is empty.
  bool AtEof() const { return core_->AtEof(); }
  // The exception set by SetException(); OK when none.
  const absl::Status& exception() const { return core_->exception(); }
  size_t buffer_size() const { return core_->buffer().size(); }
  // The buffered bytes; valid until the next call on this reader.
  absl::string_view buffer() const { return core_->buffer().view(); }
  // Whether the reader has paused its transport.
  bool transport_paused() const { return core_->paused(); }
  // Bytes the buffer copied to compact itself (see internal/byte_buffer.h).
  uint64_t buffer_bytes_moved() const { return core_->buffer().bytes_moved(); }
  // asyncio's repr(): "<StreamReader 4 bytes eof limit=123 ...>".
  std::string DebugString() const;

  // ---------------------------------------------------------------------------
  // Consumer side. One read may wait at a time: a read that must wait while
  // another waits completes with kFailedPrecondition RuntimeError
  // "<readuntil|read|readexactly>() called while another coroutine is already
  // waiting for incoming data".
  // ---------------------------------------------------------------------------

  // StreamReader::AsyncReadLine()
  //
  // Reads through the next b"\n". asyncio: StreamReader.readline().
  //
  // Completion: void(absl::StatusOr<std::string>): the line with its "\n";
  //   at EOF the rest without one; "" at EOF with an empty buffer.
  //   Never inside this call, except awaited (default token, use_awaitable)
  //   with the answer buffered: then it returns at once, as asyncio's await.
  // Errors: kResourceExhausted ValueError when the line (not counting "\n")
  //   exceeds the limit: the line through its "\n" is dropped if the "\n" was
  //   buffered, else the whole buffer (ReaderOptions::overlong_line changes
  //   this: see OverlongLine); the reader's exception.
  // Cancellation: terminal, partial, total (Asio per-operation, or the
  //   awaiting coroutine's); completes with kCancelled, consuming nothing.
  // Concurrency: one read waits at a time (another completes with
  //   kFailedPrecondition RuntimeError); on the reader's executor only.
  template <boost::asio::completion_token_for<Signature> CompletionToken =
                DefaultToken>
  auto AsyncReadLine(CompletionToken&& token = DefaultToken{}) {
    return Initiate<Signature>(std::forward<CompletionToken>(token),
                               {internal::ReadKind::kLine, {}, 0});
  }

  // StreamReader::AsyncReadUntil()
  //
  // Reads up to and including `separator`. asyncio: readuntil().
  //
  // Completion: void(absl::StatusOr<std::string>): through the separator.
  //   Never inside this call, except awaited (default token, use_awaitable)
  //   with the answer buffered: then it returns at once, as asyncio's await.
  // Errors: kInvalidArgument ValueError (empty separator); kOutOfRange
  //   IncompleteReadError with the partial bytes and no expected size (EOF
  //   first; buffer cleared); kResourceExhausted LimitOverrunError with
  //   `consumed` (the data before the separator exceeds the limit, or no
  //   separator within limit + len(separator) - 1 bytes; buffer kept, so the
  //   read can be retried after consuming some of it); the reader's exception.
  // Cancellation: terminal, partial, total (Asio per-operation, or the
  //   awaiting coroutine's); completes with kCancelled, consuming nothing.
  // Concurrency: one read waits at a time (another completes with
  //   kFailedPrecondition RuntimeError); on the reader's executor only.
  template <boost::asio::completion_token_for<Signature> CompletionToken =
                DefaultToken>
  auto AsyncReadUntil(ByteView separator = "\n",
                      CompletionToken&& token = DefaultToken{}) {
    // Copied: a deferred or waiting read outlives the caller's bytes.
    return Initiate<Signature>(std::forward<CompletionToken>(token),
                               {internal::ReadKind::kUntil, {}, 0},
                               separator.ToString());
  }

  // StreamReader::AsyncReadUntilAny()
  //
  // Reads up to and including the first of several separators, as CPython
  // 3.13's readuntil() with a tuple (gh-81322; tuples only since
  // gh-117722). Beyond 3.11.7 (which takes one separator only).
  //
  //   // An HTTP/1 header line ends with "\r\n", a lenient one with "\n".
  //   absl::StatusOr<std::string> line =
  //       co_await reader.AsyncReadUntilAny({"\r\n", "\n"});
  //
  // The result is the shortest one that ends with any separator (the match
  // that ends first; on a tie, the shorter separator). The scan resumes
  // len(longest) - 1 bytes before the buffer's end, so "not found" is
  // reported once that offset passes the limit; "found" is over the limit
  // when the match starts after it. One separator behaves as
  // AsyncReadUntil(). Memory: as AsyncReadUntil() (2 * limit plus a chunk).
  //
  // Completion: void(absl::StatusOr<std::string>): through the separator.
  //   Never inside this call, except awaited (default token, use_awaitable)
  //   with the answer buffered: then it returns at once, as asyncio's await.
  // Errors: kInvalidArgument ValueError "Separator should contain at least
  //   one element" (no separators) or "Separator should be at least one-byte
  //   string" (an empty one); otherwise as AsyncReadUntil(): kOutOfRange
  //   IncompleteReadError (EOF first; buffer cleared), kResourceExhausted
  //   LimitOverrunError with `consumed` (buffer kept), the reader's
  //   exception.
  // Cancellation: terminal, partial, total (Asio per-operation, or the
  //   awaiting coroutine's); completes with kCancelled, consuming nothing.
  // Concurrency: one read waits at a time (another completes with
  //   kFailedPrecondition RuntimeError); on the reader's executor only.
  template <boost::asio::completion_token_for<Signature> CompletionToken =
                DefaultToken>
  auto AsyncReadUntilAny(std::vector<std::string> separators,
                         CompletionToken&& token = DefaultToken{}) {
    // Python: sorted(separator, key=len), which is stable.
    std::stable_sort(separators.begin(), separators.end(),
                     [](const std::string& a, const std::string& b) {
                       return a.size() < b.size();
                     });
    return Initiate<Signature>(std::forward<CompletionToken>(token),
                               {internal::ReadKind::kUntilAny, {}, 0},
                               std::move(separators));
  }

  // StreamReader::AsyncRead()
  //
  // asyncio: read(n). n > 0: up to n bytes, as soon as any are buffered ("" at
  // EOF). n == 0: "" at once. n < 0: everything until EOF, gathered in blocks
  // of `limit` bytes (the transport keeps being resumed, so this holds the
  // whole stream in memory: the one unbounded read). Not limited by `limit`.
  //
  // Completion: void(absl::StatusOr<std::string>).
  //   Never inside this call, except awaited (default token, use_awaitable)
  //   with the answer buffered: then it returns at once, as asyncio's await.
  // Errors: the reader's exception (n < 0: also when set mid-way; the blocks
  //   gathered so far are dropped, as in asyncio).
  // Cancellation: terminal, partial, total; n < 0: terminal and partial only,
  //   since a cancelled read(-1) drops the blocks it gathered (as asyncio's),
  //   unless ReaderOptions::cancel_safe_read_all: then all three, and a
  //   cancelled or failed read(-1) leaves every byte in the buffer.
  //   Completes with kCancelled; n >= 0 consumes nothing.
  // Concurrency: one read waits at a time (another completes with
  //   kFailedPrecondition RuntimeError); on the reader's executor only.
  template <boost::asio::completion_token_for<Signature> CompletionToken =
                DefaultToken>
  auto AsyncRead(int64_t n = -1, CompletionToken&& token = DefaultToken{}) {
    return Initiate<Signature>(std::forward<CompletionToken>(token),
                               {internal::ReadKind::kRead, {}, n});
  }

  // StreamReader::AsyncReadExactly()
  //
  // Reads exactly n bytes (n may exceed the limit). asyncio: readexactly().
  //
  // Completion: void(absl::StatusOr<std::string>); "" for n == 0.
  //   Never inside this call, except awaited (default token, use_awaitable)
  //   with the answer buffered: then it returns at once, as asyncio's await.
  // Errors: kInvalidArgument ValueError (n < 0); kOutOfRange
  //   IncompleteReadError with the partial bytes and expected n (EOF first;
  //   buffer cleared); the reader's exception.
  // Cancellation: terminal, partial, total (Asio per-operation, or the
  //   awaiting coroutine's); completes with kCancelled, consuming nothing.
  // Concurrency: one read waits at a time (another completes with
  //   kFailedPrecondition RuntimeError); on the reader's executor only.
  template <boost::asio::completion_token_for<Signature> CompletionToken =
                DefaultToken>
  auto AsyncReadExactly(int64_t n, CompletionToken&& token = DefaultToken{}) {
    return Initiate<Signature>(std::forward<CompletionToken>(token),
                               {internal::ReadKind::kExactly, {}, n});
  }

  // ---------------------------------------------------------------------------
  // Zero-copy reads, beyond asyncio (Go's bufio.Reader.ReadSlice; tokio's
  // fill_buf + consume). Awaitable only: co_await them in an
  // asio::awaitable coroutine on the reader's executor.
  //
  // Lifetime of a view: a view (AsyncReadLineView()'s result, buffer())
  // points into the reader's buffer and is valid until the caller's
  // coroutine next suspends or until any call on the reader (FeedData()
  // included: a transport's feed may compact or regrow the buffer),
  // whichever comes first. Copy what must live longer. Memory: as the
  // copying reads (2 * limit plus one transport chunk).
  // ---------------------------------------------------------------------------

  // StreamReader::AsyncReadLineView()
  //
  // AsyncReadLine() without the copy: the line (through its "\n") as a view
  // into the buffer, consumed. Same results and errors as AsyncReadLine()
  // ("" at EOF; at EOF or over the limit the answer is readline's own, a
  // partial line copied once into the reader).
  //
  //   while (true) {
  //     absl::StatusOr<absl::string_view> line =
  //         co_await reader.AsyncReadLineView();
  //     if (!line.ok() || line->empty()) break;
  //     Parse(*line);  // before the next co_await or call on `reader`
  //   }
  //
  // Completion: awaitable only; returns at once when the line is buffered.
  // Errors: as AsyncReadLine().
  // Cancellation: the awaiting coroutine's (terminal, partial, total): a
  //   cancelled read completes with kCancelled, consuming nothing.
  // Concurrency: as AsyncReadLine().
  boost::asio::awaitable<absl::StatusOr<absl::string_view>>
  AsyncReadLineView() {
    while (true) {
      std::optional<absl::StatusOr<absl::string_view>> now =
          core_->TryReadLineView();
      if (now.has_value()) co_return *std::move(now);
      // Named, not a temporary in the co_await (g++ 12: README.md).
      internal::ReadArgs fill{internal::ReadKind::kFill,
                              {},
                              static_cast<int64_t>(core_->buffer().size())};
      absl::StatusOr<std::string> filled =
          co_await internal::AwaitRead<absl::StatusOr<std::string>,
                                       boost::asio::any_io_executor>(
              core_.get(), fill, internal::NoSeparator{});
      // Woken by the reader's exception: loop, so that readline's answer
      // to it comes back (an IncompleteReadError's partial bytes...).
      if (!filled.ok() && core_->exception().ok()) co_return filled.status();
    }
  }

  // StreamReader::TryReadLineView()
  //
  // AsyncReadLineView()'s answer when it needs no wait, without a coroutine
  // frame: the line's view (or readline's error, or "" at EOF), or nullopt
  // when the read would wait (then co_await AsyncReadLineView()). Same
  // view lifetime. Not inside a pending read's wait (one read at a time).
  //
  //   auto now = reader.TryReadLineView();
  //   absl::StatusOr<absl::string_view> line =
  //       now ? *std::move(now) : co_await reader.AsyncReadLineView();
  std::optional<absl::StatusOr<absl::string_view>> TryReadLineView() {
    return core_->TryReadLineView();
  }

  // StreamReader::AsyncFill()
  //
  // tokio's fill_buf(): waits until at least one byte is buffered or EOF,
  // taking nothing; then look at buffer() and Consume() what was used.
  // OK with an empty buffer() means EOF.
  //
  //   absl::Status filled = co_await reader.AsyncFill();
  //   if (!filled.ok()) co_return filled;
  //   size_t used = parser.Feed(reader.buffer());
  //   reader.Consume(used).IgnoreError();
  //
  // Completion: awaitable only; returns at once when bytes are buffered.
  // Errors: the reader's exception; kFailedPrecondition RuntimeError when
  //   another read waits.
  // Cancellation: the awaiting coroutine's; nothing is consumed anyway.
  // Concurrency: as the reads.
  boost::asio::awaitable<absl::Status> AsyncFill() {
    absl::StatusOr<std::string> filled =
        co_await internal::AwaitRead<absl::StatusOr<std::string>,
                                     boost::asio::any_io_executor>(
            core_.get(), {internal::ReadKind::kFill, {}, 0},
            internal::NoSeparator{});
    co_return filled.status();
  }

  // StreamReader::Consume()
  //
  // tokio's consume(): drops the first `n` buffered bytes (resuming the
  // transport at <= limit, as the reads do). kInvalidArgument ValueError
  // when n > buffer_size(), changing nothing.
  absl::Status Consume(size_t n) { return core_->Consume(n); }

  // StreamReader::AsyncNextLine()
  //
  // One step of `async for line in reader`: the next line, or nullopt at EOF
  // (asyncio: StopAsyncIteration).
  //
  //   while (true) {
  //     absl::StatusOr<std::optional<std::string>> line =
  //         co_await reader.AsyncNextLine();
  //     if (!line.ok()) co_return line.status();
  //     if (!line->has_value()) break;  // EOF
  //     Handle(**line);
  //   }
  //
  // Completion: void(absl::StatusOr<std::optional<std::string>>).
  //   Never inside this call, except awaited (default token, use_awaitable)
  //   with the answer buffered: then it returns at once, as asyncio's await.
  // Errors: as AsyncReadLine().
  // Cancellation: terminal, partial, total (Asio per-operation, or the
  //   awaiting coroutine's); completes with kCancelled, consuming nothing.
  // Concurrency: one read waits at a time (another completes with
  //   kFailedPrecondition RuntimeError); on the reader's executor only.
  template <boost::asio::completion_token_for<NextLineSignature>
                CompletionToken = DefaultToken>
  auto AsyncNextLine(CompletionToken&& token = DefaultToken{}) {
    return Initiate<NextLineSignature>(std::forward<CompletionToken>(token),
                                       {internal::ReadKind::kNextLine, {}, 0});
  }

 private:
  friend class internal::Access;

  explicit StreamReader(std::shared_ptr<internal::ReaderCore> core)
      : core_(std::move(core)) {}

  // `separator`: readuntil's (std::string), or its separators
  // (std::vector<std::string>); the other reads have none.
  template <typename Sig, typename CompletionToken,
            typename Separator = internal::NoSeparator>
  auto Initiate(CompletionToken&& token, internal::ReadArgs args,
                Separator&& separator = {}) {
    using Token = std::decay_t<CompletionToken>;
    if constexpr (internal::IsUseAwaitable<Token>::value) {
      // Awaited: the read's code runs in the awaiting coroutine (see
      // internal/await_read.h).
      using Value =
          std::conditional_t<std::is_same_v<Sig, NextLineSignature>,
                             absl::StatusOr<std::optional<std::string>>,
                             absl::StatusOr<std::string>>;
      return internal::AwaitRead<
          Value, typename internal::IsUseAwaitable<Token>::executor_type>(
          core_.get(), args, std::forward<Separator>(separator));
    } else {
      internal::ReadRequest request{args.kind, {}, args.n};
      if constexpr (std::is_same_v<std::decay_t<Separator>, std::string>) {
        request.separator = std::move(separator);
      } else if constexpr (std::is_same_v<std::decay_t<Separator>,
                                          std::vector<std::string>>) {
        request.separators = std::move(separator);
      }
      return InitiateTask<Sig>(std::forward<CompletionToken>(token),
                               std::move(request));
    }
  }

  // Any other token: the read runs as its own asyncio task.
  template <typename Sig, typename CompletionToken>
  auto InitiateTask(CompletionToken&& token, internal::ReadRequest request) {
    return boost::asio::async_initiate<CompletionToken, Sig>(
        [](auto handler, std::shared_ptr<internal::ReaderCore> core,
           internal::ReadRequest request) {
          using Erased = boost::asio::any_completion_handler<Sig>;
          core->StartRead(std::move(request), Erased(std::move(handler)));
        },
        token, core_, std::move(request));
  }

  std::shared_ptr<internal::ReaderCore> core_;
};

}  // namespace streams

#endif  // STREAMS_STREAM_READER_H_
