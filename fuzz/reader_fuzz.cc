// reader_fuzz: a StreamReader driven by fuzzer bytes, with its invariants
// checked after every handler the io_context runs and at every completion.
//
// The input is a program (fuzz/README.md has the grammar; reader_program.py
// reads it the same way, to turn it into a conformance scenario):
//
//   header byte   limit = 1 + b % 64; ending = (b >> 6) & 3
//   then ops      feed text, feed a run of one byte, feed EOF, set an
//                 exception, set a fake transport (can or cannot pause), a
//                 read as its own task (asio::deferred, then a callback bound
//                 to a cancellation slot), a task awaiting 1-3 reads with the
//                 default token (`co_await reader.AsyncReadLine()`), cancel
//                 (terminal, partial or total), run until idle, run one
//                 handler.
//   extended      a first byte 0xFF, then the header, then an options byte
//                 (ReaderOptions: overlong_line, cancel_safe_read_all); its
//                 reads also include readuntil with 1-3 separators, the line
//                 view and fill + consume.
//   ending        0, 1: cancel everything pending and run until idle, then
//                 every operation must have completed exactly once;
//                 2: destroy the reader with operations pending, then run;
//                 3: destroy the io_context first. In 2 and 3 every pending
//                 handler must be destroyed without being called.
//
// Invariants (each FUZZ_CHECK says which one broke):
//
// - Bytes: the buffer is always the tail of what was fed. Every byte that
//   leaves it is accounted for, in stream order: returned by the read that
//   completes in the same handler (its value, or an IncompleteReadError's
//   partial, which clears the buffer), dropped by readline over the limit
//   (the line through its b"\n", else the whole buffer; or what a
//   LimitOverrunError set as the reader's exception makes it drop), or
//   gathered by a pending read(-1), which returns it later or, failed or
//   cancelled, drops it; or dropped by kDiscardLine, exactly as the model
//   of its drop computes (through the next separator, else all but
//   len(longest) - 1 bytes; at EOF the rest). A cancel-safe read(-1) takes
//   everything at EOF in one step, or nothing. Nothing else takes bytes; a
//   cancelled read takes none.
// - Flow control, while a fake transport that can pause is attached: pause
//   and resume calls alternate; the reader's `transport_paused()` matches the
//   transport; after a feed the transport is paused if the buffer is over
//   2 * limit; paused implies buffer > limit (or EOF: IncompleteReadError
//   clears without resuming, as asyncio does); and the buffer never exceeds
//   max(2 * limit, what a pending read needs) + one feed, where readexactly(n)
//   needs n, readuntil limit + len(separator), readline limit + 1, and read(-1)
//   is unbounded by design (readuntil with separators: limit + the longest;
//   the line view and fill: limit + 1). While kDiscardLine drops, the
//   buffer holds at most len(longest separator) - 1 bytes and the
//   transport is never paused. The fake transport delivers nothing while
//   paused, as a real one. Without a transport, or with one that cannot pause,
//   the buffer is unbounded by design (and the reader must forget that
//   transport the first time it tries to pause it).
// - Operations: no handler runs inside its initiating call; nothing completes
//   twice; a completion has the shape its read promises (a line ends with its
//   only b"\n" and is at most limit + 1 long, readexactly(n) returns n bytes,
//   ...); after a graceful ending nothing is pending; after the reader or the
//   io_context is destroyed nothing completes, and every pending handler is
//   destroyed (LeakSanitizer, in the libFuzzer build, finds any that is not).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/bind_cancellation_slot.hpp"
#include "boost/asio/cancellation_signal.hpp"
#include "boost/asio/cancellation_type.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/deferred.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/this_coro.hpp"
#include "fuzz/fuzz_support.h"
#include "streams/errors.h"
#include "streams/stream_reader.h"
#include "streams/testing/fake_transport.h"

namespace streams::fuzz {
namespace {

namespace asio = ::boost::asio;
using ::streams::testing::FakeTransport;

// What fed bytes are made of: separators' bytes, so lines and separators
// are common.
constexpr char kAlphabet[] = {'\n', 'a', 'b', 'A', 'Z', 'x', '-', '\r'};
const char* const kSeparators[] = {"\n", "a",    "ab", "AZ",
                                   "--", "\r\n", "",   "xxx"};
// The largest single feed (FeedRun: 255 bytes and a b"\n").
constexpr size_t kMaxFeed = 256;
constexpr size_t kUnbounded = std::numeric_limits<size_t>::max() / 2;

// The first byte of an extended input: a header byte and an options byte
// follow (see Run()). No seed of the original format starts with it.
constexpr uint8_t kExtendedMarker = 0xFF;

// kUntilAny, kLineView and kFill exist in extended inputs only.
enum class Kind {
  kLine,
  kUntil,
  kRead,
  kExactly,
  kNext,
  kUntilAny,
  kLineView,
  kFill
};

struct ReadSpec {
  Kind kind = Kind::kLine;
  std::string separator;                // kUntil
  std::vector<std::string> separators;  // kUntilAny, as given
  int64_t n = 0;                        // kRead, kExactly; kFill: to consume
};

// `extended`: an extended input, whose reads also include readuntil with
// 1-3 separators, the line view and fill + consume.
ReadSpec DecodeRead(FuzzInput& input, bool extended) {
  ReadSpec spec;
  switch (input.Byte() % (extended ? 8 : 5)) {
    case 0:
      spec.kind = Kind::kLine;
      break;
    case 1:
      spec.kind = Kind::kUntil;
      spec.separator = kSeparators[input.Byte() % 8];
      break;
    case 2:
      spec.kind = Kind::kRead;
      spec.n = static_cast<int8_t>(input.Byte());
      break;
    case 3:
      spec.kind = Kind::kExactly;
      spec.n = static_cast<int8_t>(input.Byte());
      break;
    case 4:
      spec.kind = Kind::kNext;
      break;
    case 5: {
      spec.kind = Kind::kUntilAny;
      const int count = 1 + input.Byte() % 3;
      for (int i = 0; i < count; ++i) {
        spec.separators.push_back(kSeparators[input.Byte() % 8]);
      }
      break;
    }
    case 6:
      spec.kind = Kind::kLineView;
      break;
    default:
      spec.kind = Kind::kFill;
      spec.n = input.Byte() % 32;
      break;
  }
  return spec;
}

std::string Show(const ReadSpec& spec) {
  switch (spec.kind) {
    case Kind::kLine:
      return "readline()";
    case Kind::kUntil:
      return absl::StrCat("readuntil(b\"", absl::CEscape(spec.separator),
                          "\")");
    case Kind::kRead:
      return absl::StrCat("read(", spec.n, ")");
    case Kind::kExactly:
      return absl::StrCat("readexactly(", spec.n, ")");
    case Kind::kNext:
      return "anext()";
    case Kind::kUntilAny: {
      std::vector<std::string> shown;
      for (const std::string& separator : spec.separators) {
        shown.push_back(absl::StrCat("b\"", absl::CEscape(separator), "\""));
      }
      return absl::StrCat("readuntil((", absl::StrJoin(shown, ", "), "))");
    }
    case Kind::kLineView:
      return "readline view";
    case Kind::kFill:
      return absl::StrCat("fill, consume(", spec.n, ")");
  }
  return "?";
}

std::string Show(const absl::StatusOr<std::string>& result) {
  if (result.ok()) return absl::StrCat("b\"", absl::CEscape(*result), "\"");
  return PythonString(result.status());
}

bool IsReadAll(const ReadSpec& spec) {
  return spec.kind == Kind::kRead && spec.n < 0;
}

bool IsLineRead(const ReadSpec& spec) {
  return spec.kind == Kind::kLine || spec.kind == Kind::kNext ||
         spec.kind == Kind::kLineView;
}

bool IsUntilRead(const ReadSpec& spec) {
  return spec.kind == Kind::kUntil || spec.kind == Kind::kUntilAny;
}

// What kDiscardLine drops through after `spec` failed over the limit.
std::vector<std::string> DiscardSeparators(const ReadSpec& spec) {
  if (spec.kind == Kind::kUntil) return {spec.separator};
  if (spec.kind == Kind::kUntilAny) return spec.separators;
  return {"\n"};
}

// The ValueError readline raises over the limit (errors.h: kind ValueError,
// code kResourceExhausted), as opposed to a ValueError for a bad argument.
bool IsLineTooLong(const absl::Status& status) {
  return GetErrorKind(status) == ErrorKind::kValueError &&
         absl::IsResourceExhausted(status);
}

// Python's `k` in `buffer[:k]`, as EndReadLine() computes it.
size_t SliceEnd(int64_t k, size_t size) {
  if (k < 0) return static_cast<size_t>(std::max<int64_t>(0, size + k));
  return std::min<size_t>(static_cast<size_t>(k), size);
}

// `no_limit_overrun`: kind 5 (LimitOverrunError) gives RuntimeError instead
// (extended inputs with overlong_line kKeep or kDiscardLine: see Run()).
absl::Status DecodeException(FuzzInput& input, bool no_limit_overrun) {
  const uint8_t kind = input.Byte() % 6;
  const uint8_t argument = input.Byte();
  if (kind == 5 && no_limit_overrun) return RuntimeError("rt");
  switch (kind) {
    case 0:
      return MakeError(ErrorKind::kValueError, "boom");
    case 1:
      return MakeError(ErrorKind::kConnectionResetError, "reset");
    case 2:
      return RuntimeError("rt");
    case 3:
      return CancelledError();
    case 4:
      return IncompleteReadError(std::string(argument % 4, 'p'),
                                 argument % 4 + 1);
    default:
      return LimitOverrunError("over", argument % 8);
  }
}

struct Op {
  enum class Type { kRead, kAwaitedRead, kTask };

  int id = 0;
  Type type = Type::kRead;
  ReadSpec read;
  Op* task = nullptr;        // kAwaitedRead: the task awaiting it
  std::vector<Op*> awaits;   // kTask: its reads, in order
  bool pending = false;      // started, not yet completed
  int completions = 0;       // the read's or the task's own end
  int handler_calls = 0;     // calls of its completion handler
  bool dropped = false;      // its handler was destroyed uncalled
  bool cancel_sent = false;  // a cancellation it honours was emitted
  bool unstarted = false;    // kTask: spawned, first step not run yet
  bool cancel_before_start = false;
  bool abandoned = false;  // kTask: started after the reader was gone
  asio::cancellation_signal signal;
};

class ReaderFuzz;

// Reports its op as dropped when destroyed without having been called.
class HandlerTracker {
 public:
  HandlerTracker(ReaderFuzz* fuzz, Op* op) : fuzz_(fuzz), op_(op) {}
  ~HandlerTracker();
  HandlerTracker(const HandlerTracker&) = delete;
  HandlerTracker& operator=(const HandlerTracker&) = delete;

  ReaderFuzz* fuzz() const { return fuzz_; }
  Op& op() const { return *op_; }
  void Called() { called_ = true; }

 private:
  ReaderFuzz* fuzz_;
  Op* op_;
  bool called_ = false;
};

class ReaderFuzz {
 public:
  ReaderFuzz(const uint8_t* data, size_t size) : input_(data, size) {}

  void Run();

  // Completions (handler calls).
  void OnTaskRead(Op& op, absl::StatusOr<std::string> result);
  void OnTaskNextLine(Op& op, absl::StatusOr<std::optional<std::string>> line);
  void OnTaskHandler(Op& op, std::exception_ptr error);
  void OnDropped(Op& op) {
    FUZZ_CHECK(!op.dropped, "a handler was destroyed twice");
    op.dropped = true;
  }

 private:
  // A read's handler, for the asio::deferred form.
  struct ReadCallback {
    std::unique_ptr<HandlerTracker> tracker;
    void operator()(absl::StatusOr<std::string> result) {
      tracker->Called();
      tracker->fuzz()->OnTaskRead(tracker->op(), std::move(result));
    }
  };
  struct NextLineCallback {
    std::unique_ptr<HandlerTracker> tracker;
    void operator()(absl::StatusOr<std::optional<std::string>> line) {
      tracker->Called();
      tracker->fuzz()->OnTaskNextLine(tracker->op(), std::move(line));
    }
  };
  // co_spawn's handler. It carries its cancellation slot itself (not
  // bind_cancellation_slot), so that cancellation takes effect at once, as
  // the C++ testee's TaskHandler explains.
  struct TaskHandler {
    using cancellation_slot_type = asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept {
      return slot;
    }
    void operator()(std::exception_ptr error) {
      tracker->Called();
      tracker->fuzz()->OnTaskHandler(tracker->op(), error);
    }
    asio::cancellation_slot slot;
    std::unique_ptr<HandlerTracker> tracker;
  };

  Op& NewOp(Op::Type type) {
    Op& op = ops_.emplace_back();
    op.id = static_cast<int>(ops_.size());
    op.type = type;
    return op;
  }

  // Program steps.
  void Feed(std::string data);
  void FeedEof();
  void SetException(absl::Status exception);
  void SetTransport(bool cannot_pause);
  void StartRead(ReadSpec spec);
  void TryReadLineViewNow(Op& op);
  absl::StatusOr<std::string> ConsumeNow(size_t n);
  void CompleteNow(Op& op, const absl::StatusOr<std::string>& result);
  void StartTask(FuzzInput& input);
  void Cancel(uint8_t target, uint8_t type);
  void RunUntilIdle();
  bool RunOne();
  void End(int ending);

  asio::awaitable<void> RunTask(Op* task);
  asio::awaitable<void> AwaitRead(Op* read);
  void FinishTask(Op& task, bool cancelled);

  // The checks.
  std::string TakeRemoved();
  void Checkpoint();
  void CheckRead(Op& op, const absl::StatusOr<std::string>& result);
  void CheckValue(const Op& op, const std::string& value,
                  const std::string& removed);
  void CheckError(const Op& op, const absl::Status& error,
                  const std::string& removed);
  void CheckReadAll(const Op& op, const absl::StatusOr<std::string>& result,
                    const std::string& removed);
  bool StartsDiscarding(const Op& op,
                        const absl::StatusOr<std::string>& result) const;
  size_t ModelDiscard(absl::string_view buffer);
  void NoteReadAlls();
  void SettleGathered();
  void CheckFlowControl();
  size_t PendingReadAlls() const;
  size_t Need() const;
  bool WasSet(const absl::Status& error) const {
    return std::find(exceptions_.begin(), exceptions_.end(), error) !=
           exceptions_.end();
  }
  bool CancelSent(const Op& op) const {
    return op.cancel_sent || (op.task != nullptr && op.task->cancel_sent);
  }
  // A read(-1) that gathers blocks as it goes (3.11.7's), as opposed to the
  // cancel-safe one, which takes everything in one step at EOF.
  bool GathersReadAll(const ReadSpec& spec) const {
    return IsReadAll(spec) && !options_.cancel_safe_read_all;
  }

  FuzzInput input_;
  int64_t limit_ = 1;
  bool extended_ = false;  // the input starts with kExtendedMarker
  ReaderOptions options_;
  std::deque<Op> ops_;  // stable addresses; outlives the context and reader
  std::unique_ptr<asio::io_context> context_ =
      std::make_unique<asio::io_context>();
  std::optional<StreamReader> reader_;

  struct Transport {
    std::shared_ptr<FakeTransport> fake;
    bool can_pause = false;
    bool paused = false;  // from its calls
  };
  std::vector<Transport> transports_;
  // The transport the reader uses, as far as the model knows: the last one
  // set, until the reader forgets one that cannot pause.
  std::optional<size_t> current_;

  // The byte model.
  std::string fed_;    // every byte fed, in order
  size_t cursor_ = 0;  // fed_[0, cursor_) left the buffer and is accounted
  // See CheckReadAll().
  std::vector<std::string> gathered_;       // taken by pending read(-1)s
  bool gathered_dropped_ = false;           // a read(-1) failed holding some
  size_t claimed_ = 0;                      // bytes of gathered_ returned
  absl::flat_hash_set<int> epoch_readers_;  // read(-1)s pending meanwhile
  // kDiscardLine: the separators the reader drops through, while it drops
  // (empty otherwise), and the bytes it dropped so far.
  std::vector<std::string> discard_through_;
  size_t discarded_ = 0;
  bool eof_ = false;
  absl::Status exception_;
  // Every exception set, oldest first: a read woken by one completes with it
  // even after a later SetException() replaced it.
  std::vector<absl::Status> exceptions_;
  size_t allowance_ = 0;  // see CheckFlowControl()

  bool initiating_ = false;  // inside an initiating call
  bool reader_gone_ = false;
  bool context_gone_ = false;
};

HandlerTracker::~HandlerTracker() {
  if (!called_) fuzz_->OnDropped(*op_);
}

void ReaderFuzz::Run() {
  uint8_t header = input_.Byte();
  if (header == kExtendedMarker) {
    // Extended: the header byte, then an options byte: bits 0-1
    // overlong_line (kAsyncio, kKeep, kDiscardLine, kAsyncio), bit 2
    // cancel_safe_read_all; reads decode from 8 kinds instead of 5.
    extended_ = true;
    header = input_.Byte();
    const uint8_t options = input_.Byte();
    static constexpr OverlongLine kOverlong[] = {
        OverlongLine::kAsyncio, OverlongLine::kKeep, OverlongLine::kDiscardLine,
        OverlongLine::kAsyncio};
    options_.overlong_line = kOverlong[options & 3];
    options_.cancel_safe_read_all = (options & 4) != 0;
  }
  limit_ = 1 + header % 64;
  options_.limit = limit_;
  const int ending = (header >> 6) & 3;
  if (FuzzTracing() && extended_) {
    FuzzTrace(absl::StrCat("options: limit ", limit_, ", overlong_line ",
                           static_cast<int>(options_.overlong_line),
                           ", cancel_safe_read_all ",
                           options_.cancel_safe_read_all));
  }
  absl::StatusOr<StreamReader> reader =
      StreamReader::Create(context_->get_executor(), options_);
  FUZZ_CHECK(reader.ok(), "a reader with a positive limit");
  reader_.emplace(*std::move(reader));
  while (!input_.empty()) {
    switch (input_.Byte() % 10) {
      case 0: {
        std::string data(input_.Byte() % 16, '\0');
        for (char& c : data) c = kAlphabet[input_.Byte() % 8];
        Feed(std::move(data));
        break;
      }
      case 1: {
        std::string data(input_.Byte(), '\0');
        const char c = kAlphabet[input_.Byte() % 8];
        std::fill(data.begin(), data.end(), c);
        if (input_.Byte() & 1) data.push_back('\n');
        Feed(std::move(data));
        break;
      }
      case 2:
        FeedEof();
        break;
      case 3:
        // A LimitOverrunError set as the reader's exception, under kKeep or
        // kDiscardLine, acts differently on a read that was waiting (woken
        // with it: asyncio's readline drop) and one that was not (its step
        // sees it as its own overrun), and the model cannot tell the two.
        SetException(DecodeException(
            input_, options_.overlong_line != OverlongLine::kAsyncio));
        break;
      case 4:
        SetTransport(input_.Byte() & 1);
        break;
      case 5:
        StartRead(DecodeRead(input_, extended_));
        break;
      case 6:
        StartTask(input_);
        break;
      case 7: {
        const uint8_t target = input_.Byte();
        Cancel(target, input_.Byte());
        break;
      }
      case 8:
        RunUntilIdle();
        break;
      default:
        RunOne();
        break;
    }
  }
  End(ending);
}

// -- Program steps ------------------------------------------------------------

void ReaderFuzz::Feed(std::string data) {
  if (FuzzTracing()) {
    FuzzTrace(absl::StrCat("feed_data(b\"", absl::CEscape(data), "\")"));
  }
  const bool flow_controlled =
      current_.has_value() && transports_[*current_].can_pause;
  // A paused transport delivers nothing.
  if (flow_controlled && reader_->transport_paused()) return;
  const bool was_paused = reader_->transport_paused();
  // kDiscardLine, while dropping: the feed drops through the next separator,
  // or all but what may start one.
  std::optional<size_t> drop;
  if (!eof_ && !data.empty() && !discard_through_.empty()) {
    drop = ModelDiscard(absl::StrCat(reader_->buffer(), data));
  }
  absl::Status fed = reader_->FeedData(data);
  if (eof_) {
    FUZZ_CHECK(GetErrorKind(fed) == ErrorKind::kAssertionError,
               "feed_data after feed_eof is an AssertionError");
  } else {
    FUZZ_CHECK(fed.ok(), "feed_data succeeds before EOF");
    fed_.append(data);
    if (drop.has_value()) {
      FUZZ_CHECK(TakeRemoved().size() == *drop,
                 "kDiscardLine: a feed while dropping dropped other than "
                 "through the next separator, or all but len(longest "
                 "separator) - 1 bytes");
    }
    if (!data.empty() && current_.has_value() && !was_paused &&
        reader_->buffer_size() > 2 * static_cast<size_t>(limit_)) {
      if (flow_controlled) {
        FUZZ_CHECK(reader_->transport_paused(),
                   "the transport is paused once the buffer passes 2 * limit");
      } else {
        // The reader tried to pause a transport that cannot, and forgot it.
        current_.reset();
      }
    }
  }
  Checkpoint();
}

void ReaderFuzz::FeedEof() {
  FuzzTrace("feed_eof()");
  const size_t buffered = reader_->buffer_size();
  reader_->FeedEof();
  if (!discard_through_.empty()) {
    FUZZ_CHECK(TakeRemoved().size() == buffered && reader_->buffer_size() == 0,
               "kDiscardLine: EOF while dropping did not drop the rest");
    discarded_ += buffered;
    discard_through_.clear();
  }
  eof_ = true;
  Checkpoint();
}

void ReaderFuzz::SetException(absl::Status exception) {
  if (FuzzTracing()) {
    FuzzTrace(absl::StrCat("set_exception(", PythonString(exception), ")"));
  }
  reader_->SetException(exception);
  exception_ = exception;
  exceptions_.push_back(exception);
  FUZZ_CHECK(reader_->exception() == exception_,
             "exception() is the exception set last");
  Checkpoint();
}

void ReaderFuzz::SetTransport(bool cannot_pause) {
  FuzzTrace(cannot_pause ? "set_transport(cannot pause)"
                         : "set_transport(can pause)");
  auto fake = std::make_shared<FakeTransport>(
      FakeTransport::Options{cannot_pause, false, false});
  absl::Status set = reader_->SetTransport(fake);
  if (current_.has_value()) {
    FUZZ_CHECK(GetErrorKind(set) == ErrorKind::kAssertionError,
               "a second transport is an AssertionError");
    return;
  }
  FUZZ_CHECK(set.ok(), "set_transport succeeds when the reader has none");
  transports_.push_back(Transport{fake, !cannot_pause, false});
  current_ = transports_.size() - 1;
  allowance_ =
      std::max(2 * static_cast<size_t>(limit_), reader_->buffer_size());
  Checkpoint();
}

void ReaderFuzz::StartRead(ReadSpec spec) {
  Op& op = NewOp(Op::Type::kRead);
  op.read = std::move(spec);
  op.pending = true;
  if (FuzzTracing()) {
    FuzzTrace(absl::StrCat("read #", op.id, " ", Show(op.read)));
  }
  // The zero-copy reads are awaitable only; as their own operation they are
  // the synchronous halves, TryReadLineView() and Consume().
  if (op.read.kind == Kind::kLineView) return TryReadLineViewNow(op);
  if (op.read.kind == Kind::kFill) {
    const absl::StatusOr<std::string> consumed = ConsumeNow(op.read.n);
    return CompleteNow(op, consumed);
  }
  auto tracker = std::make_unique<HandlerTracker>(this, &op);
  initiating_ = true;
  switch (op.read.kind) {
    case Kind::kLine:
      reader_->AsyncReadLine(asio::deferred)(asio::bind_cancellation_slot(
          op.signal.slot(), ReadCallback{std::move(tracker)}));
      break;
    case Kind::kUntil:
      reader_->AsyncReadUntil(op.read.separator,
                              asio::deferred)(asio::bind_cancellation_slot(
          op.signal.slot(), ReadCallback{std::move(tracker)}));
      break;
    case Kind::kRead:
      reader_->AsyncRead(op.read.n,
                         asio::deferred)(asio::bind_cancellation_slot(
          op.signal.slot(), ReadCallback{std::move(tracker)}));
      break;
    case Kind::kExactly:
      reader_->AsyncReadExactly(op.read.n,
                                asio::deferred)(asio::bind_cancellation_slot(
          op.signal.slot(), ReadCallback{std::move(tracker)}));
      break;
    case Kind::kNext:
      reader_->AsyncNextLine(asio::deferred)(asio::bind_cancellation_slot(
          op.signal.slot(), NextLineCallback{std::move(tracker)}));
      break;
    case Kind::kUntilAny:
      reader_->AsyncReadUntilAny(op.read.separators,
                                 asio::deferred)(asio::bind_cancellation_slot(
          op.signal.slot(), ReadCallback{std::move(tracker)}));
      break;
    case Kind::kLineView:
    case Kind::kFill:
      break;  // above
  }
  initiating_ = false;
  Checkpoint();
}

// TryReadLineView(): a line, readline's error or b"" at EOF now, or nullopt
// exactly when readline would wait (no b"\n" buffered, at most `limit`
// bytes, no EOF, no exception), having taken nothing.
void ReaderFuzz::TryReadLineViewNow(Op& op) {
  const std::string before(reader_->buffer());
  std::optional<absl::StatusOr<absl::string_view>> now =
      reader_->TryReadLineView();
  if (!now.has_value()) {
    FUZZ_CHECK(TakeRemoved().empty(), "TryReadLineView() waited, taking bytes");
    FUZZ_CHECK(exception_.ok() && !eof_ &&
                   before.find('\n') == std::string::npos &&
                   before.size() <= static_cast<size_t>(limit_),
               "TryReadLineView() would wait with an answer buffered");
    op.pending = false;
    ++op.completions;
    ++op.handler_calls;
    FuzzTrace("  (would wait)");
    Checkpoint();
    return;
  }
  // Copied at once: the view lives until the next call on the reader.
  absl::StatusOr<std::string> line =
      now->ok() ? absl::StatusOr<std::string>(std::string(**now))
                : absl::StatusOr<std::string>(now->status());
  CompleteNow(op, line);
}

// Consume(n), with what it took as its result (kFill).
absl::StatusOr<std::string> ReaderFuzz::ConsumeNow(size_t n) {
  const size_t before = reader_->buffer_size();
  std::string taken(reader_->buffer().substr(0, n));
  const absl::Status consumed = reader_->Consume(n);
  if (n > before) {
    FUZZ_CHECK(GetErrorKind(consumed) == ErrorKind::kValueError &&
                   absl::IsInvalidArgument(consumed),
               "Consume() of more than the buffer holds is a ValueError");
    FUZZ_CHECK(reader_->buffer_size() == before,
               "a failed Consume() changed the buffer");
    return consumed;
  }
  FUZZ_CHECK(consumed.ok(), "Consume() within the buffer succeeds");
  return taken;
}

// A synchronous operation's end (it has no handler).
void ReaderFuzz::CompleteNow(Op& op,
                             const absl::StatusOr<std::string>& result) {
  op.pending = false;
  ++op.completions;
  ++op.handler_calls;
  CheckRead(op, result);
}

void ReaderFuzz::StartTask(FuzzInput& input) {
  Op& task = NewOp(Op::Type::kTask);
  const int count = 1 + input.Byte() % 3;
  for (int i = 0; i < count; ++i) {
    ReadSpec spec = DecodeRead(input, extended_);
    Op& read = NewOp(Op::Type::kAwaitedRead);
    read.read = std::move(spec);
    read.task = &task;
    task.awaits.push_back(&read);
  }
  task.pending = true;
  task.unstarted = true;
  if (FuzzTracing()) {
    std::string reads;
    for (const Op* read : task.awaits) {
      absl::StrAppend(&reads, " #", read->id, " ", Show(read->read));
    }
    FuzzTrace(absl::StrCat("task #", task.id, " awaits", reads));
  }
  asio::co_spawn(context_->get_executor(), RunTask(&task),
                 TaskHandler{task.signal.slot(),
                             std::make_unique<HandlerTracker>(this, &task)});
  Checkpoint();
}

void ReaderFuzz::Cancel(uint8_t target, uint8_t type_byte) {
  if (ops_.empty()) return;
  Op& op = ops_[target % ops_.size()];
  static constexpr asio::cancellation_type kTypes[] = {
      asio::cancellation_type::terminal, asio::cancellation_type::partial,
      asio::cancellation_type::total};
  const asio::cancellation_type type = kTypes[type_byte % 3];
  if (FuzzTracing()) {
    FuzzTrace(absl::StrCat("cancel #", op.id, " (type ", static_cast<int>(type),
                           ")"));
  }
  switch (op.type) {
    case Op::Type::kAwaitedRead:
      // Awaited reads are cancelled through their task only.
      return;
    case Op::Type::kTask:
      if (!op.pending) return;
      // co_spawn lets only terminal cancellation through.
      if (type != asio::cancellation_type::terminal) return;
      op.cancel_sent = true;
      if (op.unstarted) {
        // Terminal cancellation of a co_spawn'ed coroutine before its first
        // step makes Boost 1.81 throw out of poll() (see cpp_testee.cc): the
        // coroutine checks this mark instead.
        op.cancel_before_start = true;
      } else {
        op.signal.emit(type);
      }
      break;
    case Op::Type::kRead:
      if (!op.pending) return;
      // read(-1) does not honour total cancellation: it would drop bytes.
      if (!(GathersReadAll(op.read) &&
            type == asio::cancellation_type::total)) {
        op.cancel_sent = true;
      }
      op.signal.emit(type);
      break;
  }
  Checkpoint();
}

bool ReaderFuzz::RunOne() {
  context_->restart();
  const bool ran = context_->poll_one() != 0;
  if (ran) FuzzTrace("(ran one handler)");
  Checkpoint();
  return ran;
}

void ReaderFuzz::RunUntilIdle() {
  while (RunOne()) {
  }
}

void ReaderFuzz::End(int ending) {
  if (ending < 2) {
    for (Op& op : ops_) {
      if (!op.pending) continue;
      if (op.type == Op::Type::kTask) {
        op.cancel_sent = true;
        if (op.unstarted) {
          op.cancel_before_start = true;
        } else {
          op.signal.emit(asio::cancellation_type::terminal);
        }
      } else if (op.type == Op::Type::kRead) {
        op.cancel_sent = true;
        op.signal.emit(asio::cancellation_type::terminal);
      }
    }
    RunUntilIdle();
    for (const Op& op : ops_) {
      const bool reached =
          op.type != Op::Type::kAwaitedRead || op.pending || op.completions > 0;
      FUZZ_CHECK(!op.pending,
                 "an operation is still pending after "
                 "cancellation and running until idle");
      FUZZ_CHECK(!reached || op.completions == 1,
                 "an operation did not complete exactly once");
      FUZZ_CHECK(!op.dropped, "a handler was destroyed uncalled");
    }
    reader_.reset();
    context_.reset();
    return;
  }
  if (ending == 2) {
    // Destroying the reader destroys pending reads' handlers, uncalled.
    reader_.reset();
    reader_gone_ = true;
    context_->restart();
    context_->poll();
    context_.reset();
    context_gone_ = true;
  } else {
    // Shutting the io_context down destroys every pending handler, uncalled;
    // then the reader may only be destroyed.
    context_.reset();
    context_gone_ = true;
    reader_.reset();
    reader_gone_ = true;
  }
  for (const Op& op : ops_) {
    if (op.type == Op::Type::kAwaitedRead) continue;
    FUZZ_CHECK(op.handler_calls + (op.dropped ? 1 : 0) == 1,
               "a handler was neither called nor destroyed exactly once");
  }
}

// -- Tasks --------------------------------------------------------------------

asio::awaitable<void> ReaderFuzz::RunTask(Op* task) {
  task->unstarted = false;
  if (task->cancel_before_start) {
    FinishTask(*task, /*cancelled=*/true);
    co_return;
  }
  if (!reader_.has_value()) {
    // The reader was destroyed before this task ran (ending 2): nothing to
    // await.
    task->abandoned = true;
    co_return;
  }
  for (Op* read : task->awaits) {
    read->pending = true;
    co_await AwaitRead(read);
    const bool cancelled =
        (co_await asio::this_coro::cancellation_state).cancelled() !=
        asio::cancellation_type::none;
    if (cancelled) {
      FinishTask(*task, /*cancelled=*/true);
      co_return;
    }
  }
  FinishTask(*task, /*cancelled=*/false);
}

// Arguments and results are named variables: g++ 12 mishandles temporaries
// in a co_await expression (README.md).
asio::awaitable<void> ReaderFuzz::AwaitRead(Op* read) {
  absl::StatusOr<std::string> result;
  switch (read->read.kind) {
    case Kind::kLine:
      result = co_await reader_->AsyncReadLine();
      break;
    case Kind::kUntil: {
      std::string separator = read->read.separator;
      result = co_await reader_->AsyncReadUntil(std::move(separator));
      break;
    }
    case Kind::kRead:
      result = co_await reader_->AsyncRead(read->read.n);
      break;
    case Kind::kExactly:
      result = co_await reader_->AsyncReadExactly(read->read.n);
      break;
    case Kind::kNext: {
      absl::StatusOr<std::optional<std::string>> line =
          co_await reader_->AsyncNextLine();
      if (!line.ok()) {
        result = line.status();
      } else {
        result = line->value_or("");
      }
      break;
    }
    case Kind::kUntilAny: {
      std::vector<std::string> separators = read->read.separators;
      result = co_await reader_->AsyncReadUntilAny(std::move(separators));
      break;
    }
    case Kind::kLineView: {
      absl::StatusOr<absl::string_view> line =
          co_await reader_->AsyncReadLineView();
      // Copied at once: the view lives until the next call on the reader.
      if (!line.ok()) {
        result = line.status();
      } else {
        result = std::string(*line);
      }
      break;
    }
    case Kind::kFill: {
      absl::Status filled = co_await reader_->AsyncFill();
      // The bytes come from Consume(), below.
      if (filled.ok()) {
        result = std::string();
      } else {
        result = filled;
      }
      break;
    }
  }
  FUZZ_CHECK(!reader_gone_ && !context_gone_,
             "an awaited read resumed after the reader or its io_context was "
             "destroyed");
  if (read->read.kind == Kind::kFill && result.ok()) {
    FUZZ_CHECK(reader_->buffer_size() > 0 || eof_,
               "AsyncFill() returned with an empty buffer before EOF");
    FUZZ_CHECK(TakeRemoved().empty(), "AsyncFill() took bytes");
    result = ConsumeNow(read->read.n);
  }
  FUZZ_CHECK(read->completions == 0, "an awaited read completed twice");
  ++read->completions;
  read->pending = false;
  CheckRead(*read, result);
}

void ReaderFuzz::FinishTask(Op& task, bool cancelled) {
  FUZZ_CHECK(task.completions == 0, "a task ended twice");
  FUZZ_CHECK(!cancelled || task.cancel_sent,
             "a task was cancelled that nobody cancelled");
  ++task.completions;
  task.pending = false;
}

void ReaderFuzz::OnTaskHandler(Op& op, std::exception_ptr error) {
  FUZZ_CHECK(error == nullptr, "a task's coroutine threw");
  FUZZ_CHECK(!context_gone_, "a handler ran after its io_context was gone");
  ++op.handler_calls;
  FUZZ_CHECK(op.handler_calls == 1, "co_spawn's handler was called twice");
  FUZZ_CHECK(op.completions == 1 || op.abandoned,
             "co_spawn completed before its task ended");
}

void ReaderFuzz::OnTaskRead(Op& op, absl::StatusOr<std::string> result) {
  FUZZ_CHECK(!initiating_, "a handler ran inside its initiating call");
  FUZZ_CHECK(!reader_gone_ && !context_gone_,
             "a read completed after the reader or its io_context was "
             "destroyed");
  ++op.handler_calls;
  FUZZ_CHECK(op.completions == 0, "a read completed twice");
  ++op.completions;
  op.pending = false;
  CheckRead(op, result);
}

void ReaderFuzz::OnTaskNextLine(
    Op& op, absl::StatusOr<std::optional<std::string>> line) {
  if (!line.ok()) return OnTaskRead(op, line.status());
  FUZZ_CHECK(!line->has_value() || !(*line)->empty(),
             "async iteration yields non-empty lines, then ends");
  OnTaskRead(op, line->value_or(""));
}

// -- Checks -------------------------------------------------------------------

// The bytes that left the buffer since the last call, after checking that
// the buffer is the tail of what was fed.
std::string ReaderFuzz::TakeRemoved() {
  const size_t buffered = reader_->buffer_size();
  FUZZ_CHECK(buffered <= fed_.size() - cursor_,
             "the buffer holds bytes nobody fed, or bytes came back");
  FUZZ_CHECK(reader_->buffer() ==
                 absl::string_view(fed_).substr(fed_.size() - buffered),
             "the buffer is not the tail of the bytes fed");
  const size_t removed = fed_.size() - buffered - cursor_;
  std::string bytes = fed_.substr(cursor_, removed);
  cursor_ += removed;
  return bytes;
}

// After an action or a handler that completed nothing: bytes that left the
// buffer were gathered by a pending read(-1).
void ReaderFuzz::Checkpoint() {
  if (!reader_.has_value()) return;
  NoteReadAlls();
  std::string removed = TakeRemoved();
  if (!removed.empty()) {
    if (FuzzTracing()) {
      FuzzTrace(absl::StrCat("  read(-1) gathered b\"", absl::CEscape(removed),
                             "\""));
    }
    FUZZ_CHECK(PendingReadAlls() > 0,
               "bytes left the buffer, and no read returned or holds them");
    gathered_.push_back(std::move(removed));
  }
  SettleGathered();
  CheckFlowControl();
}

void ReaderFuzz::CheckRead(Op& op, const absl::StatusOr<std::string>& result) {
  NoteReadAlls();
  const std::string removed = TakeRemoved();
  if (FuzzTracing()) {
    FuzzTrace(absl::StrCat("  #", op.id, " ", Show(op.read), " -> ",
                           Show(result), "; took b\"", absl::CEscape(removed),
                           "\", buffer now b\"",
                           absl::CEscape(reader_->buffer()), "\""));
  }
  if (StartsDiscarding(op, result)) {
    // kDiscardLine: the read failed over the limit, taking nothing, and the
    // reader then dropped through the next separator (or all but what may
    // start one).
    FUZZ_CHECK(IsLineRead(op.read) ? IsLineTooLong(result.status())
                                   : GetErrorKind(result.status()) ==
                                         ErrorKind::kLimitOverrunError,
               "kDiscardLine: an over-long line failed with another error "
               "than the mode's");
    discard_through_ = DiscardSeparators(op.read);
    const size_t drop = ModelDiscard(absl::StrCat(removed, reader_->buffer()));
    FUZZ_CHECK(removed.size() == drop,
               "kDiscardLine: the failing read dropped other than through the "
               "next separator, or all but len(longest separator) - 1 bytes");
  } else if (GathersReadAll(op.read)) {
    CheckReadAll(op, result, removed);
  } else if (result.ok()) {
    CheckValue(op, *result, removed);
  } else {
    CheckError(op, result.status(), removed);
  }
  if (!result.ok() && IsCancelledError(result.status())) {
    FUZZ_CHECK(CancelSent(op) || WasSet(result.status()),
               "a read was cancelled that nobody cancelled");
  }
  SettleGathered();
  CheckFlowControl();
}

void ReaderFuzz::CheckValue(const Op& op, const std::string& value,
                            const std::string& removed) {
  const size_t limit = limit_;
  // readline returns the partial bytes of an IncompleteReadError set as the
  // reader's exception (asyncio: `except IncompleteReadError as e: return
  // e.partial`); they never were in the buffer.
  if (IsLineRead(op.read) && removed.empty()) {
    for (const absl::Status& exception : exceptions_) {
      std::optional<IncompleteRead> set = GetIncompleteRead(exception);
      if (set && set->partial == value) return;
    }
  }
  FUZZ_CHECK(value == removed,
             "a read returned other bytes than those it took from the buffer");
  const bool at_end = eof_ && reader_->buffer_size() == 0;
  if (IsReadAll(op.read)) {
    // The cancel-safe read(-1) (ReaderOptions::cancel_safe_read_all): the
    // whole stream, in one step, at EOF.
    FUZZ_CHECK(at_end, "a cancel-safe read(-1) returned before EOF");
    return;
  }
  // A line or a readuntil() chunk ends with its separator, found at most
  // `limit` bytes in. It may hold more separators: asyncio's readuntil keeps
  // its search offset across the wait, so when other reads took bytes from
  // the buffer meanwhile it resumes past separators that moved under the
  // offset, and returns them too (streams.py does; so does the port).
  switch (op.read.kind) {
    case Kind::kLine:
    case Kind::kNext:
    case Kind::kLineView:
      if (!value.empty() && value.back() == '\n') {
        FUZZ_CHECK(value.size() <= limit + 1, "a line is over the limit");
      } else {
        FUZZ_CHECK(at_end, "a line without b\"\\n\" before EOF");
        FUZZ_CHECK(value.size() <= limit, "the last line is over the limit");
      }
      break;
    case Kind::kUntil: {
      const std::string& separator = op.read.separator;
      FUZZ_CHECK(absl::EndsWith(value, separator),
                 "readuntil() returned a chunk without its separator");
      FUZZ_CHECK(value.size() - separator.size() <= limit,
                 "readuntil() returned a chunk over the limit");
      break;
    }
    case Kind::kRead:
      // b"" before EOF is asyncio's answer too when another read took the
      // bytes whose arrival woke this one.
      FUZZ_CHECK(value.size() <= static_cast<size_t>(op.read.n),
                 "read(n) returned more than n bytes");
      break;
    case Kind::kExactly:
      FUZZ_CHECK(value.size() == static_cast<size_t>(op.read.n),
                 "readexactly(n) returned other than n bytes");
      break;
    case Kind::kUntilAny: {
      // Ends with one of its separators, whose match starts within `limit`.
      const bool ends = std::any_of(
          op.read.separators.begin(), op.read.separators.end(),
          [&](const std::string& separator) {
            return !separator.empty() && absl::EndsWith(value, separator) &&
                   value.size() - separator.size() <= limit;
          });
      FUZZ_CHECK(ends,
                 "readuntil() with several separators returned a chunk "
                 "without one, or over the limit");
      break;
    }
    case Kind::kFill:
      FUZZ_CHECK(value.size() == static_cast<size_t>(op.read.n),
                 "Consume(n) took other than n bytes");
      break;
  }
}

void ReaderFuzz::CheckError(const Op& op, const absl::Status& error,
                            const std::string& removed) {
  const size_t limit = limit_;
  if (std::optional<IncompleteRead> incomplete = GetIncompleteRead(error)) {
    if (WasSet(error) && removed.empty()) return;  // one set
    FUZZ_CHECK(incomplete->partial == removed,
               "an IncompleteReadError's partial is not what left the buffer");
    FUZZ_CHECK(eof_ && reader_->buffer_size() == 0,
               "an IncompleteReadError without EOF, or the buffer not cleared");
    if (op.read.kind == Kind::kExactly) {
      FUZZ_CHECK(
          incomplete->expected == op.read.n &&
              incomplete->partial.size() < static_cast<size_t>(op.read.n),
          "readexactly()'s IncompleteReadError has the wrong sizes");
    } else {
      FUZZ_CHECK(IsUntilRead(op.read) && !incomplete->expected,
                 "an IncompleteReadError from a read that cannot raise it");
    }
    return;
  }
  if (IsLineTooLong(error)) {
    FUZZ_CHECK(IsLineRead(op.read),
               "LineTooLong from a read other than "
               "readline");
    // What the buffer held before the drop.
    const std::string before = removed + std::string(reader_->buffer());
    for (const absl::Status& exception : exceptions_) {
      // A LimitOverrunError set as the reader's exception: readline drops
      // as if the separator search had stopped at `consumed`.
      std::optional<int64_t> consumed = GetLimitOverrunConsumed(exception);
      if (!consumed || exception.message() != error.message()) continue;
      const size_t at = SliceEnd(*consumed, before.size());
      const size_t drop = at < before.size() && before[at] == '\n'
                              ? SliceEnd(*consumed + 1, before.size())
                              : before.size();
      if (removed.size() == drop) return;
    }
    // The long line through its b"\n", or (no b"\n" found) the whole
    // buffer. Either may hold earlier b"\n"s: see the stale search offset
    // in CheckValue().
    const bool line_dropped = !removed.empty() && removed.back() == '\n' &&
                              removed.size() >= limit + 2;
    const bool buffer_dropped =
        reader_->buffer_size() == 0 && removed.size() > limit;
    FUZZ_CHECK(line_dropped || buffer_dropped,
               "readline over the limit dropped other than the long line or "
               "the whole buffer");
    return;
  }
  FUZZ_CHECK(removed.empty(), "a read that failed took bytes");
}

// read(-1) gathers blocks over several steps, and its value is what it
// gathered, then what it took in its last step. While it is the only
// read(-1) pending since the gathered list was last empty (an "epoch"), the
// blocks are known to be its own and must be exactly its value. Several
// read(-1)s may gather at once (one woken, another starting before its step
// runs), and which block is whose is not observable: then each value must
// be an in-order selection of the blocks, and at the epoch's end the values
// must account for every block (or at most all of them, if a read(-1)
// failed and so dropped its own).
void ReaderFuzz::CheckReadAll(const Op& op,
                              const absl::StatusOr<std::string>& result,
                              const std::string& removed) {
  // It belongs to the epoch even if it started and ended within one
  // handler, between two checkpoints.
  epoch_readers_.insert(op.id);
  if (!result.ok()) {
    // A failed or cancelled read(-1) drops what it gathered (asyncio does),
    // including in the step that failed.
    if (!removed.empty()) gathered_.push_back(removed);
    if (!gathered_.empty()) gathered_dropped_ = true;
    return;
  }
  const std::string& value = *result;
  FUZZ_CHECK(absl::EndsWith(value, removed),
             "read(-1) did not end with what it took last");
  const absl::string_view head(value.data(), value.size() - removed.size());
  if (epoch_readers_.size() == 1 && epoch_readers_.contains(op.id)) {
    FUZZ_CHECK(head == absl::StrJoin(gathered_, ""),
               "read(-1) returned other bytes than those it gathered");
    gathered_.clear();
    gathered_dropped_ = false;
    claimed_ = 0;
    return;
  }
  int budget = 4096;  // the search is short; give up (pass) past this
  auto fit = [&](auto& self, size_t position, size_t next) -> bool {
    if (position == head.size() || --budget < 0) return true;
    for (size_t i = next; i < gathered_.size(); ++i) {
      const std::string& block = gathered_[i];
      if (absl::StartsWith(head.substr(position), block) &&
          self(self, position + block.size(), i + 1)) {
        return true;
      }
    }
    return false;
  };
  FUZZ_CHECK(fit(fit, 0, 0),
             "read(-1) returned bytes that no read(-1) gathered");
  claimed_ += head.size();
  // Not necessarily at EOF: like asyncio's, read(-1) ends at the first
  // empty block, which a wakeup whose bytes another read took also gives.
}

// At the end of an epoch (no read(-1) pending), the gathered blocks are
// accounted for.
void ReaderFuzz::SettleGathered() {
  if (PendingReadAlls() > 0) return;
  size_t total = 0;
  for (const std::string& block : gathered_) total += block.size();
  FUZZ_CHECK(claimed_ <= total, "read(-1)s returned more than they gathered");
  FUZZ_CHECK(gathered_dropped_ || claimed_ == total,
             "bytes gathered by read(-1) were neither returned nor dropped by "
             "a failed read(-1)");
  gathered_.clear();
  gathered_dropped_ = false;
  claimed_ = 0;
  epoch_readers_.clear();
}

// Whether `result` makes a kDiscardLine reader start dropping: readline's
// own LineTooLong (a LimitOverrunError set as the exception is not decoded
// under kDiscardLine), readuntil's LimitOverrunError.
bool ReaderFuzz::StartsDiscarding(
    const Op& op, const absl::StatusOr<std::string>& result) const {
  if (options_.overlong_line != OverlongLine::kDiscardLine || result.ok()) {
    return false;
  }
  if (IsLineRead(op.read)) return IsLineTooLong(result.status());
  return IsUntilRead(op.read) &&
         GetLimitOverrunConsumed(result.status()).has_value();
}

// The model of kDiscardLine's drop over `buffer` (what the reader holds
// before it drops): through the earliest-ending separator of
// discard_through_, which ends the dropping, else all but len(longest) - 1
// bytes. Returns how many bytes go; counts them in discarded_.
size_t ReaderFuzz::ModelDiscard(absl::string_view buffer) {
  std::optional<size_t> end;
  size_t longest = 0;
  for (const std::string& separator : discard_through_) {
    longest = std::max(longest, separator.size());
    const size_t found = buffer.find(separator);
    if (found == absl::string_view::npos) continue;
    end = std::min(end.value_or(buffer.size()), found + separator.size());
  }
  size_t drop = 0;
  if (end.has_value()) {
    drop = *end;
    discard_through_.clear();
  } else {
    drop = buffer.size() -
           std::min(buffer.size(), std::max<size_t>(longest, 1) - 1);
  }
  discarded_ += drop;
  if (FuzzTracing()) {
    FuzzTrace(absl::StrCat("  kDiscardLine drops b\"",
                           absl::CEscape(buffer.substr(0, drop)), "\"",
                           discard_through_.empty() ? ", done" : ""));
  }
  return drop;
}

// Every read(-1) pending now belongs to the current epoch.
void ReaderFuzz::NoteReadAlls() {
  for (const Op& op : ops_) {
    if (op.type != Op::Type::kTask && op.pending && GathersReadAll(op.read)) {
      epoch_readers_.insert(op.id);
    }
  }
}

size_t ReaderFuzz::PendingReadAlls() const {
  return std::count_if(ops_.begin(), ops_.end(), [this](const Op& op) {
    return op.type != Op::Type::kTask && op.pending && GathersReadAll(op.read);
  });
}

// The most bytes a pending read may wait for before it completes.
size_t ReaderFuzz::Need() const {
  size_t need = 0;
  for (const Op& op : ops_) {
    if (op.type == Op::Type::kTask || !op.pending) continue;
    switch (op.read.kind) {
      case Kind::kLine:
      case Kind::kNext:
      case Kind::kLineView:
      case Kind::kFill:
        need = std::max<size_t>(need, limit_ + 1);
        break;
      case Kind::kUntilAny:
        for (const std::string& separator : op.read.separators) {
          need = std::max<size_t>(need, limit_ + separator.size());
        }
        break;
      case Kind::kUntil:
        need = std::max<size_t>(need, limit_ + op.read.separator.size());
        break;
      case Kind::kRead:
        if (op.read.n < 0) need = kUnbounded;
        break;
      case Kind::kExactly:
        if (op.read.n > 0) need = std::max<size_t>(need, op.read.n);
        break;
    }
  }
  return need;
}

void ReaderFuzz::CheckFlowControl() {
  for (Transport& transport : transports_) {
    for (const FakeTransport::Call& call : transport.fake->TakeCalls()) {
      if (call.name == "pause_reading") {
        FUZZ_CHECK(discard_through_.empty(),
                   "kDiscardLine: the transport was paused while dropping");
        FUZZ_CHECK(transport.can_pause,
                   "a transport that cannot pause "
                   "recorded a pause");
        FUZZ_CHECK(!transport.paused, "pause_reading() twice in a row");
        transport.paused = true;
      } else if (call.name == "resume_reading") {
        FUZZ_CHECK(transport.paused, "resume_reading() while not paused");
        transport.paused = false;
      } else {
        FUZZ_CHECK(false, "the reader made a call other than pause/resume");
      }
    }
  }
  FUZZ_CHECK(reader_->AtEof() == (eof_ && reader_->buffer_size() == 0),
             "at_eof() is not `EOF fed and buffer empty`");
  if (!discard_through_.empty()) {
    // OverlongLine::kDiscardLine's bound, with or without a transport.
    size_t longest = 0;
    for (const std::string& separator : discard_through_) {
      longest = std::max(longest, separator.size());
    }
    FUZZ_CHECK(reader_->buffer_size() + 1 <= std::max<size_t>(longest, 1),
               "kDiscardLine: the buffer holds more than len(longest "
               "separator) - 1 bytes while dropping");
  }
  const bool flow_controlled =
      current_.has_value() && transports_[*current_].can_pause;
  if (!flow_controlled) {
    FUZZ_CHECK(!reader_->transport_paused(),
               "paused without a transport that can pause");
    return;
  }
  const Transport& transport = transports_[*current_];
  const size_t buffered = reader_->buffer_size();
  const size_t limit = limit_;
  FUZZ_CHECK(reader_->transport_paused() == transport.paused,
             "transport_paused() disagrees with the transport's calls");
  FUZZ_CHECK(!transport.paused || buffered > limit || eof_,
             "the transport stays paused with the buffer at or below limit");
  const size_t need = Need();
  if (buffered <= 2 * limit) {
    allowance_ = std::max(2 * limit, need);
  } else {
    allowance_ = std::max(allowance_, need);
  }
  FUZZ_CHECK(allowance_ >= kUnbounded || buffered <= allowance_ + kMaxFeed,
             "the buffer is over max(2 * limit, what a read needs) plus one "
             "feed while the transport can pause");
}

}  // namespace
}  // namespace streams::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  streams::fuzz::ReaderFuzz(data, size).Run();
  return 0;
}
