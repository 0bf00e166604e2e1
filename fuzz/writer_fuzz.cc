// writer_fuzz: a StreamReaderProtocol and its StreamWriter over a fake
// transport, driven by fuzzer bytes, with the write side's invariants checked
// after every action and every handler the io_context runs.
//
// The input is a program (fuzz/README.md has the grammar):
//
//   header byte   reader limit = 1 + b % 64; bit 6: server side (the
//                 protocol has a client-connected callback, which gets the
//                 writer); bit 7: the transport says it is TLS
//   second byte   bit 0: the transport cannot write EOF; bits 1-2: ending;
//                 bit 3: ending 2 destroys the io_context first
//   then ops      write, writelines, write_eof, can_write_eof, drain as its
//                 own task (asio::deferred, then a callback bound to a
//                 cancellation slot), a task awaiting 1-3 drains or
//                 wait_closed()s with the default tokens, pause_writing,
//                 resume_writing, connection_lost (clean or with an error),
//                 close, the transport closing by itself, wait_closed as its
//                 own task, cancel (terminal, partial or total), run until
//                 idle, run one handler, protocol events (data_received,
//                 eof_received, the reader's exception).
//   ending        0, 1: cancel everything pending and run until idle, then
//                 every operation completed exactly once; 2: destroy the
//                 writer and the protocol, then the io_context with steps
//                 still posted; 3: destroy the writer and the protocol, then
//                 run until idle. In 2 and 3 every pending handler is
//                 destroyed without being called (or, in 3, runs the step it
//                 had posted).
//
// Every ending ends the connection as a real transport does when its
// io_context goes (net/socket_transport.h): the fake transport holds the
// protocol until then, and calls Protocol::ContextShutdown() just before the
// io_context is destroyed. A transport must end its connection so
// (stream_reader_protocol.h): the server-side protocol holds its writer, and
// a waiting drain a writer handle, until ConnectionLost() or
// ContextShutdown(); a fake that never ends it leaks both (LeakSanitizer).
//
// Ending 2 destroys the io_context before the writer and the protocol when
// bit 3 of the second byte is set, with drains and wait_closed()s still
// waiting or posted: ContextShutdown() destroys the waiting ones,
// internal/task_service.h abandons the posted ones at the context's
// shutdown, and the writer then outlives its io_context (this order was a
// heap-use-after-free before; fuzz/crashes/writer_fuzz/
// context_destroyed_before_protocol is the input that found it, replayed by
// the seed test).

// Invariants (each FUZZ_CHECK says which one broke):
//
// - Every drain completes exactly once, never inside its initiating call and
//   never after the io_context is gone. It succeeds only if writing was not
//   paused at some moment since it started (it had nothing to wait for, or
//   resume_writing woke it) or the connection was lost cleanly; otherwise it
//   fails with ConnectionResetError "Connection lost" after the loss, with
//   the loss's own error, with the reader's exception, or with
//   CancelledError because it was cancelled.
// - All waiting drains wake together: after resume_writing, or connection
//   loss, and a run until idle, no drain that was already waiting is still
//   pending. Whenever writing is not paused, or the connection is lost, a
//   run until idle leaves no drain pending at all.
// - wait_closed() completes only after connection_lost, with its status (or
//   CancelledError once a wait_closed was cancelled, which cancels the
//   shared closed future, as asyncio does); after the loss and a run until
//   idle none is pending.
// - pause_writing/resume_writing out of turn return AssertionError and
//   change nothing; write/writelines/write_eof/close reach the transport as
//   they were made; can_write_eof/is_closing/eof_received answer as the
//   transport says.
// - After the io_context, or the writer and the protocol, are destroyed,
//   nothing completes; every pending handler is destroyed (LeakSanitizer, in
//   the libFuzzer build, finds any that is not).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
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
#include "streams/stream_reader_protocol.h"
#include "streams/stream_writer.h"
#include "streams/testing/fake_transport.h"

namespace streams::fuzz {
namespace {

namespace asio = ::boost::asio;
using ::streams::testing::FakeTransport;

constexpr char kAlphabet[] = {'\n', 'a', 'b', 'A', 'Z', 'x', '-', '\r'};

struct Op {
  enum class Type { kDrain, kWaitClosed, kTask };

  int id = 0;
  Type type = Type::kDrain;
  bool awaited = false;     // a drain or wait_closed a task awaits
  Op* task = nullptr;       // ... that task
  std::vector<Op*> awaits;  // kTask: its entries, in order
  bool pending = false;     // started, not yet completed
  int completions = 0;
  int handler_calls = 0;
  bool dropped = false;         // handler destroyed uncalled
  bool cancel_sent = false;     // a cancellation it honours was emitted
  bool saw_unpaused = false;    // writing was not paused since it started
  bool saw_clean_loss = false;  // connection_lost(None) since it started
  bool settled = false;         // a run until idle ended since it started
  bool must_wake = false;       // woken: must be done after the next idle
  bool unstarted = false;       // kTask: first step not run yet
  bool cancel_before_start = false;
  asio::cancellation_signal signal;
};

class WriterFuzz;

// Reports its op as dropped when destroyed without having been called.
class HandlerTracker {
 public:
  HandlerTracker(WriterFuzz* fuzz, Op* op) : fuzz_(fuzz), op_(op) {}
  ~HandlerTracker();
  HandlerTracker(const HandlerTracker&) = delete;
  HandlerTracker& operator=(const HandlerTracker&) = delete;

  WriterFuzz* fuzz() const { return fuzz_; }
  Op& op() const { return *op_; }
  void Called() { called_ = true; }

 private:
  WriterFuzz* fuzz_;
  Op* op_;
  bool called_ = false;
};

class WriterFuzz {
 public:
  WriterFuzz(const uint8_t* data, size_t size) : input_(data, size) {}

  void Run();

  void OnStatus(Op& op, absl::Status status);
  void OnTaskHandler(Op& op, std::exception_ptr error);
  void OnDropped(Op& op) {
    FUZZ_CHECK(!op.dropped, "a handler was destroyed twice");
    op.dropped = true;
  }

 private:
  struct StatusCallback {
    std::unique_ptr<HandlerTracker> tracker;
    void operator()(absl::Status status) {
      tracker->Called();
      tracker->fuzz()->OnStatus(tracker->op(), std::move(status));
    }
  };
  // co_spawn's handler, carrying its slot itself (see reader_fuzz.cc).
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
  // The state an operation starts in counts: an awaited drain's first step
  // runs inline, in it.
  void Begin(Op& op) {
    op.pending = true;
    op.saw_unpaused = !paused_;
    op.saw_clean_loss = false;
  }

  std::string Data();
  void Write();
  void WriteLines();
  void ExpectWriteResult(const absl::Status& status);
  void StartDrain();
  void StartWaitClosed();
  void StartTask();
  void PauseWriting();
  void ResumeWriting();
  void ConnectionLost(uint8_t kind);
  void ProtocolEvent(uint8_t kind);
  void Cancel(uint8_t target, uint8_t type);
  bool RunOne();
  void RunUntilIdle();
  void End(int ending);

  asio::awaitable<void> RunTask(Op* task);
  void FinishTask(Op& task, bool cancelled);

  void Checkpoint();
  void ExpectCall(const FakeTransport::Call& call);
  void CheckDrain(const Op& op, const absl::Status& status);
  void CheckWaitClosed(const Op& op, const absl::Status& status);
  bool WasReaderException(const absl::Status& status) const {
    for (const absl::Status& exception : reader_exceptions_) {
      if (exception == status) return true;
    }
    return false;
  }
  bool CancelSent(const Op& op) const {
    return op.cancel_sent || (op.task != nullptr && op.task->cancel_sent);
  }

  FuzzInput input_;
  std::deque<Op> ops_;  // stable addresses; outlives everything below
  std::unique_ptr<asio::io_context> context_ =
      std::make_unique<asio::io_context>();
  std::optional<StreamReader> reader_;
  std::shared_ptr<StreamReaderProtocol> protocol_;
  std::shared_ptr<FakeTransport> transport_;
  std::optional<StreamWriter> writer_;

  // The model.
  bool ssl_ = false;
  bool cannot_write_eof_ = false;
  bool context_first_ = false;  // ending 2 destroys the io_context first
  bool paused_ = false;
  bool lost_ = false;
  absl::Status closed_status_;  // of the first connection_lost
  std::vector<absl::Status> lost_statuses_;
  std::vector<absl::Status> reader_exceptions_;
  bool closing_ = false;
  bool reader_eof_ = false;
  bool eof_written_ = false;  // write_eof() was called: writes now fail
  bool wait_closed_cancel_sent_ = false;

  bool initiating_ = false;
  bool context_gone_ = false;
  bool writer_gone_ = false;
};

HandlerTracker::~HandlerTracker() {
  if (!called_) fuzz_->OnDropped(*op_);
}

void WriterFuzz::Run() {
  const uint8_t header = input_.Byte();
  const uint8_t options = input_.Byte();
  const int64_t limit = 1 + header % 64;
  const bool server_side = header & 0x40;
  ssl_ = header & 0x80;
  cannot_write_eof_ = options & 1;
  const int ending = (options >> 1) & 3;
  context_first_ = options & 8;

  absl::StatusOr<StreamReader> reader =
      StreamReader::Create(context_->get_executor(), limit);
  FUZZ_CHECK(reader.ok(), "a reader with a positive limit");
  reader_.emplace(*std::move(reader));
  StreamReaderProtocol::ClientConnectedCallback callback;
  if (server_side) {
    callback = [this](StreamReader, StreamWriter writer) {
      FUZZ_CHECK(!writer_.has_value(), "the client callback ran twice");
      writer_.emplace(std::move(writer));
    };
  }
  protocol_ = StreamReaderProtocol::Create(*reader_, std::move(callback));
  transport_ = std::make_shared<FakeTransport>(
      FakeTransport::Options{false, ssl_, cannot_write_eof_});
  FUZZ_CHECK(protocol_->ConnectionMade(transport_).ok(),
             "connection_made on a fresh protocol");
  if (!server_side) writer_.emplace(transport_, protocol_, &*reader_);
  FUZZ_CHECK(writer_.has_value(), "the server side's callback got a writer");

  while (!input_.empty()) {
    switch (input_.Byte() % 16) {
      case 0:
        Write();
        break;
      case 1:
        WriteLines();
        break;
      case 2:
        FUZZ_CHECK(writer_->WriteEof().ok(),
                   "write_eof() on the fake transport failed");
        eof_written_ = true;
        ExpectCall({"write_eof", "", {}});
        break;
      case 3:
        FUZZ_CHECK(writer_->CanWriteEof() == !cannot_write_eof_,
                   "can_write_eof() is the transport's answer");
        break;
      case 4:
        StartDrain();
        break;
      case 5:
        StartTask();
        break;
      case 6:
        PauseWriting();
        break;
      case 7:
        ResumeWriting();
        break;
      case 8:
        ConnectionLost(input_.Byte());
        break;
      case 9:
        writer_->Close();
        closing_ = true;
        ExpectCall({"close", "", {}});
        FUZZ_CHECK(writer_->IsClosing(), "is_closing() after close()");
        break;
      case 10:
        transport_->StartClosing();
        closing_ = true;
        FUZZ_CHECK(writer_->IsClosing(), "is_closing() once closing");
        break;
      case 11:
        StartWaitClosed();
        break;
      case 12: {
        const uint8_t target = input_.Byte();
        Cancel(target, input_.Byte());
        break;
      }
      case 13:
        RunUntilIdle();
        break;
      case 14:
        RunOne();
        break;
      default:
        ProtocolEvent(input_.Byte());
        break;
    }
    Checkpoint();
  }
  End(ending);
}

// -- Actions ------------------------------------------------------------------

std::string WriterFuzz::Data() {
  std::string data(input_.Byte() % 8, '\0');
  for (char& c : data) c = kAlphabet[input_.Byte() % 8];
  return data;
}

void WriterFuzz::ExpectCall(const FakeTransport::Call& call) {
  std::vector<FakeTransport::Call> calls = transport_->TakeCalls();
  // The reader may have paused or resumed reading in between.
  while (!calls.empty() && (calls.front().name == "pause_reading" ||
                            calls.front().name == "resume_reading")) {
    calls.erase(calls.begin());
  }
  FUZZ_CHECK(calls.size() == 1 && calls.front() == call,
             "a writer call did not reach the transport as it was made");
}

void WriterFuzz::Write() {
  std::string data = Data();
  if (FuzzTracing()) {
    FuzzTrace(absl::StrCat("write(b\"", absl::CEscape(data), "\")"));
  }
  ExpectWriteResult(writer_->Write(data));
  if (!eof_written_) ExpectCall({"write", data, {}});
}

void WriterFuzz::WriteLines() {
  std::vector<std::string> lines = {Data(), Data()};
  ExpectWriteResult(writer_->WriteLines(lines));
  if (!eof_written_) ExpectCall({"writelines", "", lines});
}

// asyncio's write() after write_eof() raises RuntimeError and writes
// nothing; before it, a write always succeeds.
void WriterFuzz::ExpectWriteResult(const absl::Status& status) {
  if (eof_written_) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kFailedPrecondition &&
                   status.message() == "Cannot call write() after write_eof()",
               "a write after write_eof() did not fail as asyncio's");
  } else {
    FUZZ_CHECK(status.ok(), "a write before write_eof() failed");
  }
}

void WriterFuzz::StartDrain() {
  Op& op = NewOp(Op::Type::kDrain);
  Begin(op);
  FuzzTrace(absl::StrCat("drain #", op.id));
  initiating_ = true;
  writer_->AsyncDrain(asio::deferred)(asio::bind_cancellation_slot(
      op.signal.slot(),
      StatusCallback{std::make_unique<HandlerTracker>(this, &op)}));
  initiating_ = false;
}

void WriterFuzz::StartWaitClosed() {
  Op& op = NewOp(Op::Type::kWaitClosed);
  Begin(op);
  FuzzTrace(absl::StrCat("wait_closed #", op.id));
  initiating_ = true;
  writer_->AsyncWaitClosed(asio::deferred)(asio::bind_cancellation_slot(
      op.signal.slot(),
      StatusCallback{std::make_unique<HandlerTracker>(this, &op)}));
  initiating_ = false;
}

void WriterFuzz::StartTask() {
  Op& task = NewOp(Op::Type::kTask);
  const int count = 1 + input_.Byte() % 3;
  std::string entries;
  for (int i = 0; i < count; ++i) {
    Op& entry = NewOp(input_.Byte() % 4 == 3 ? Op::Type::kWaitClosed
                                             : Op::Type::kDrain);
    entry.awaited = true;
    entry.task = &task;
    task.awaits.push_back(&entry);
    absl::StrAppend(&entries, " #", entry.id,
                    entry.type == Op::Type::kDrain ? " drain" : " wait_closed");
  }
  Begin(task);
  task.unstarted = true;
  FuzzTrace(absl::StrCat("task #", task.id, " awaits", entries));
  asio::co_spawn(context_->get_executor(), RunTask(&task),
                 TaskHandler{task.signal.slot(),
                             std::make_unique<HandlerTracker>(this, &task)});
}

void WriterFuzz::PauseWriting() {
  FuzzTrace("pause_writing()");
  absl::Status paused = protocol_->PauseWriting();
  if (paused_) {
    FUZZ_CHECK(GetErrorKind(paused) == ErrorKind::kAssertionError,
               "pause_writing() twice is an AssertionError");
  } else {
    FUZZ_CHECK(paused.ok(), "pause_writing() succeeds when not paused");
    paused_ = true;
  }
  FUZZ_CHECK(protocol_->writing_paused(), "writing is paused");
}

void WriterFuzz::ResumeWriting() {
  FuzzTrace("resume_writing()");
  absl::Status resumed = protocol_->ResumeWriting();
  if (!paused_) {
    FUZZ_CHECK(GetErrorKind(resumed) == ErrorKind::kAssertionError,
               "resume_writing() when not paused is an AssertionError");
    return;
  }
  FUZZ_CHECK(resumed.ok(), "resume_writing() succeeds when paused");
  paused_ = false;
  FUZZ_CHECK(!protocol_->writing_paused(), "writing is resumed");
  // Every waiting drain wakes now.
  for (Op& op : ops_) {
    if (op.pending && op.settled && op.type == Op::Type::kDrain) {
      op.must_wake = true;
    }
  }
}

void WriterFuzz::ConnectionLost(uint8_t kind) {
  absl::Status exception;
  switch (kind % 4) {
    case 0:
      break;
    case 1:
      exception = MakeError(ErrorKind::kConnectionResetError, "reset");
      break;
    case 2:
      exception = MakeError(ErrorKind::kBrokenPipeError, "pipe");
      break;
    default:
      exception = MakeError(ErrorKind::kValueError, "v");
      break;
  }
  if (FuzzTracing()) {
    FuzzTrace(absl::StrCat("connection_lost(", PythonString(exception), ")"));
  }
  const bool was_paused = paused_;
  protocol_->ConnectionLost(exception);
  if (!lost_) closed_status_ = exception;
  lost_ = true;
  lost_statuses_.push_back(exception);
  if (!exception.ok()) reader_exceptions_.push_back(exception);
  for (Op& op : ops_) {
    if (!op.pending) continue;
    if (exception.ok()) op.saw_clean_loss = true;
    if (was_paused && op.settled && op.type == Op::Type::kDrain) {
      op.must_wake = true;
    }
  }
}

void WriterFuzz::ProtocolEvent(uint8_t kind) {
  switch (kind % 4) {
    case 0: {
      std::string data = Data();
      absl::Status received = protocol_->DataReceived(data);
      // feed_data after feed_eof is an AssertionError; after
      // connection_lost the protocol has no reader and ignores data.
      FUZZ_CHECK(received.ok() == !(reader_eof_ && !lost_),
                 "data_received fails exactly after EOF");
      break;
    }
    case 1:
      FUZZ_CHECK(protocol_->EofReceived() == !ssl_,
                 "eof_received() keeps the transport open unless TLS");
      if (!lost_) reader_eof_ = true;
      break;
    case 2: {
      absl::Status exception =
          kind & 4 ? CancelledError()
                   : MakeError(ErrorKind::kConnectionResetError, "rx");
      reader_->SetException(exception);
      reader_exceptions_.push_back(exception);
      break;
    }
    default:
      FUZZ_CHECK(writer_->IsClosing() == closing_,
                 "is_closing() is the transport's answer");
      break;
  }
}

void WriterFuzz::Cancel(uint8_t target, uint8_t type_byte) {
  if (ops_.empty()) return;
  Op& op = ops_[target % ops_.size()];
  static constexpr asio::cancellation_type kTypes[] = {
      asio::cancellation_type::terminal, asio::cancellation_type::partial,
      asio::cancellation_type::total};
  const asio::cancellation_type type = kTypes[type_byte % 3];
  FuzzTrace(
      absl::StrCat("cancel #", op.id, " (type ", static_cast<int>(type), ")"));
  if (op.awaited || !op.pending) return;
  if (op.type == Op::Type::kTask) {
    // co_spawn lets only terminal cancellation through.
    if (type != asio::cancellation_type::terminal) return;
    op.cancel_sent = true;
    for (Op* entry : op.awaits) {
      if (entry->type == Op::Type::kWaitClosed) {
        wait_closed_cancel_sent_ = true;
      }
    }
    if (op.unstarted) {
      // See reader_fuzz.cc: Boost 1.81 cannot cancel a co_spawn'ed
      // coroutine before its first step.
      op.cancel_before_start = true;
    } else {
      op.signal.emit(type);
    }
    return;
  }
  // Drains and wait_closed honour every type.
  op.cancel_sent = true;
  if (op.type == Op::Type::kWaitClosed) wait_closed_cancel_sent_ = true;
  op.signal.emit(type);
}

bool WriterFuzz::RunOne() {
  context_->restart();
  const bool ran = context_->poll_one() != 0;
  if (ran) FuzzTrace("(ran one handler)");
  Checkpoint();
  return ran;
}

void WriterFuzz::RunUntilIdle() {
  while (RunOne()) {
  }
  for (Op& op : ops_) {
    if (op.type == Op::Type::kTask) continue;
    if (op.must_wake) {
      FUZZ_CHECK(!op.pending,
                 "a waiting drain was still pending after resume_writing or "
                 "connection_lost and a run until idle: drains wake together");
      op.must_wake = false;
    }
    if (!op.pending) continue;
    if (op.type == Op::Type::kDrain) {
      FUZZ_CHECK(paused_ && !lost_,
                 "a drain is pending after a run until idle with writing not "
                 "paused, or the connection lost");
    } else {
      FUZZ_CHECK(!lost_,
                 "wait_closed() is pending after connection_lost "
                 "and a run until idle");
    }
    op.settled = true;
  }
}

void WriterFuzz::End(int ending) {
  // The transport's reference: a real transport keeps its protocol until the
  // connection ends (here, at the io_context's shutdown).
  std::shared_ptr<StreamReaderProtocol> held = protocol_;
  if (ending < 2) {
    for (Op& op : ops_) {
      if (!op.pending || op.awaited) continue;
      op.cancel_sent = true;
      if (op.type == Op::Type::kTask && op.unstarted) {
        op.cancel_before_start = true;
      } else {
        op.signal.emit(asio::cancellation_type::terminal);
      }
      if (op.type == Op::Type::kWaitClosed) wait_closed_cancel_sent_ = true;
      for (Op* entry : op.awaits) {
        if (entry->type == Op::Type::kWaitClosed) {
          wait_closed_cancel_sent_ = true;
        }
      }
    }
    while (RunOne()) {
    }
    for (const Op& op : ops_) {
      FUZZ_CHECK(!op.pending,
                 "an operation is still pending after "
                 "cancellation and running until idle");
      FUZZ_CHECK(op.completions <= 1, "an operation completed twice");
      FUZZ_CHECK(!op.dropped, "a handler was destroyed uncalled");
    }
    writer_.reset();
    protocol_.reset();
    reader_.reset();
    held->ContextShutdown();
    context_.reset();
    context_gone_ = true;
    return;
  }
  if (ending == 2 && context_first_) {
    // The operations still waiting are destroyed by ContextShutdown(), those
    // posted abandoned, their handlers dropped.
    held->ContextShutdown();
    context_.reset();
    context_gone_ = true;
    writer_.reset();
    protocol_.reset();
    reader_.reset();
  } else if (ending == 2) {
    // The io_context destroys the steps still posted, and their handlers,
    // uncalled.
    writer_.reset();
    protocol_.reset();
    writer_gone_ = true;
    held->ContextShutdown();
    context_.reset();
    context_gone_ = true;
    reader_.reset();
  } else {
    writer_.reset();
    protocol_.reset();
    writer_gone_ = true;
    context_->restart();
    context_->poll();
    reader_.reset();
    held->ContextShutdown();
    context_.reset();
    context_gone_ = true;
  }
  held.reset();
  for (const Op& op : ops_) {
    if (op.awaited) continue;
    FUZZ_CHECK(op.handler_calls + (op.dropped ? 1 : 0) == 1,
               "a handler was neither called nor destroyed exactly once");
  }
}

// -- Tasks --------------------------------------------------------------------

asio::awaitable<void> WriterFuzz::RunTask(Op* task) {
  task->unstarted = false;
  if (task->cancel_before_start) {
    FinishTask(*task, /*cancelled=*/true);
    co_return;
  }
  for (Op* entry : task->awaits) {
    if (!writer_.has_value()) co_return;  // ending 3: nothing to await
    Begin(*entry);
    absl::Status status;
    if (entry->type == Op::Type::kDrain) {
      status = co_await writer_->AsyncDrain();
    } else {
      status = co_await writer_->AsyncWaitClosed();
    }
    FUZZ_CHECK(!context_gone_,
               "an awaited drain resumed after its io_context was destroyed");
    OnStatus(*entry, std::move(status));
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

void WriterFuzz::FinishTask(Op& task, bool cancelled) {
  FUZZ_CHECK(task.completions == 0, "a task ended twice");
  FUZZ_CHECK(!cancelled || task.cancel_sent,
             "a task was cancelled that nobody cancelled");
  ++task.completions;
  task.pending = false;
}

void WriterFuzz::OnTaskHandler(Op& op, std::exception_ptr error) {
  FUZZ_CHECK(error == nullptr, "a task's coroutine threw");
  FUZZ_CHECK(!context_gone_, "a handler ran after its io_context was gone");
  ++op.handler_calls;
  FUZZ_CHECK(op.handler_calls == 1, "co_spawn's handler was called twice");
}

// -- Checks -------------------------------------------------------------------

void WriterFuzz::OnStatus(Op& op, absl::Status status) {
  if (!op.awaited) {
    FUZZ_CHECK(!initiating_, "a handler ran inside its initiating call");
    ++op.handler_calls;
  }
  FUZZ_CHECK(!context_gone_, "a handler ran after its io_context was gone");
  FUZZ_CHECK(op.completions == 0, "an operation completed twice");
  ++op.completions;
  op.pending = false;
  // Once the writer and the protocol are gone (ending 3), an operation whose
  // step was already posted still runs it, and completes as it finds things;
  // those waiting were destroyed with what they waited on.
  if (writer_gone_) return;
  if (FuzzTracing()) {
    FuzzTrace(absl::StrCat("  #", op.id, " -> ", PythonString(status)));
  }
  if (op.type == Op::Type::kDrain) {
    CheckDrain(op, status);
  } else {
    CheckWaitClosed(op, status);
  }
}

void WriterFuzz::CheckDrain(const Op& op, const absl::Status& status) {
  if (status.ok()) {
    FUZZ_CHECK(op.saw_unpaused || op.saw_clean_loss,
               "a drain succeeded while writing stayed paused since it "
               "started, without a clean connection_lost");
    return;
  }
  if (IsCancelledError(status) &&
      (CancelSent(op) || WasReaderException(status))) {
    return;
  }
  if (WasReaderException(status)) return;  // drain() raises it first
  if (GetErrorKind(status) == ErrorKind::kConnectionResetError &&
      status.message() == "Connection lost") {
    FUZZ_CHECK(lost_, "\"Connection lost\" before connection_lost");
    return;
  }
  for (const absl::Status& lost : lost_statuses_) {
    if (lost == status) return;  // woken by connection_lost(exc)
  }
  FUZZ_CHECK(false, "a drain failed with an error nothing explains");
}

void WriterFuzz::CheckWaitClosed(const Op& op, const absl::Status& status) {
  if (IsCancelledError(status)) {
    FUZZ_CHECK(CancelSent(op) || wait_closed_cancel_sent_,
               "wait_closed() was cancelled that nobody cancelled");
    return;
  }
  FUZZ_CHECK(lost_, "wait_closed() completed before connection_lost");
  FUZZ_CHECK(status == closed_status_,
             "wait_closed() completed with other than the first "
             "connection_lost's status");
}

// After every action and handler: what the drains pending now have seen.
void WriterFuzz::Checkpoint() {
  if (context_gone_ || writer_gone_) return;
  for (Op& op : ops_) {
    if (!op.pending) continue;
    if (!paused_) op.saw_unpaused = true;
  }
  FUZZ_CHECK(protocol_->writing_paused() == paused_,
             "writing_paused() disagrees with pause/resume_writing");
  FUZZ_CHECK(protocol_->connection_lost() == lost_,
             "connection_lost() disagrees with the events");
  std::vector<FakeTransport::Call> calls = transport_->TakeCalls();
  for (const FakeTransport::Call& call : calls) {
    FUZZ_CHECK(call.name == "pause_reading" || call.name == "resume_reading",
               "the library called the transport on its own");
  }
}

}  // namespace
}  // namespace streams::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Writers left open at the end close quietly.
  static const bool quiet = [] {
    streams::StreamWriter::SetWarningHandler([](absl::string_view) {});
    return true;
  }();
  (void)quiet;
  streams::fuzz::WriterFuzz(data, size).Run();
  return 0;
}
