// The C++ testee: runs conformance scenarios on //streams.
//
// Reads length-prefixed `Request` messages on stdin and answers each with one
// length-prefixed `Response` on stdout (conformance/scenario.proto); exits 0
// at a clean EOF on stdin (between frames). A truncated or oversized frame is
// a broken pipe, not a request: it prints "cpp_testee: wire error: ..." on
// stderr and exits 1. A request whose payloads are invalid or too large
// (conformance/wire.h) is answered with a runtime_error and runs nothing. It
// mirrors conformance/reference_testee.py exactly:
//
// - a fresh io_context, StreamReader and StreamReaderProtocol per scenario;
// - the actions of a step run in order, with no handler run between them,
//   stopping at the first error an action returns (Observation.error); with
//   per-action results (schema v2) every action runs and reports its own
//   error and return value in Observation.actions;
// - then the io_context polls until idle (a poll that runs nothing);
// - then the testee reports the Observation.
//
// Each operation is started with a plain callback bound to a cancellation
// slot; `cancel` emits terminal cancellation on it (what `||` sends). An
// Action.task is an asio::awaitable<void> coroutine started with
// asio::co_spawn, its handler holding a cancellation slot the same way; it
// `co_await`s each operation with the library's default completion token, as
// user code does. Errors are reported from each status's asyncio kind and
// message (errors.h), with no per-scenario special case.

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/bind_cancellation_slot.hpp"
#include "boost/asio/cancellation_signal.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/this_coro.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "conformance/scenario.pb.h"
#include "conformance/wire.h"
#include "streams/errors.h"
#include "streams/net/server.h"
#include "streams/stream_reader.h"
#include "streams/stream_reader_protocol.h"
#include "streams/stream_writer.h"
#include "streams/testing/fake_transport.h"

namespace streams::conformance {
namespace {

namespace asio = ::boost::asio;
using FakeTransport = ::streams::testing::FakeTransport;

// The scenario asks for something this testee cannot run.
struct Unsupported {
  std::string reason;
};

// Constructing the reader failed (StepTrace.construction_error).
struct ConstructionFailed {
  absl::Status status;
};

// The trace grew past what one response frame may carry (kMaxFrameBytes):
// each step's observation copies the reader's buffer, so a request within the
// payload limits could still ask for an unbounded response.
struct ResponseTooLarge {
  std::string reason;
};

// The bytes of a payload. DecodeRequest() checked every payload of the
// request before the run, so this cannot fail.
std::string PayloadBytes(const Bytes& bytes) {
  absl::StatusOr<std::string> expanded = Expand(bytes);
  if (!expanded.ok()) throw std::runtime_error(expanded.status().ToString());
  return *std::move(expanded);
}

// The exception an `Error` message describes.
absl::Status MakeException(const Error& error) {
  std::optional<ErrorKind> kind = ErrorKindFromPythonName(error.type());
  if (!kind)
    throw Unsupported{absl::StrCat("unknown exception type ", error.type())};
  switch (*kind) {
    case ErrorKind::kIncompleteReadError:
      return IncompleteReadError(error.partial(),
                                 error.has_expected()
                                     ? std::optional<int64_t>(error.expected())
                                     : std::nullopt);
    case ErrorKind::kLimitOverrunError:
      return LimitOverrunError(error.message(), error.consumed());
    default:
      return MakeError(*kind, error.message());
  }
}

// Describes a status as Python would describe the exception.
Error ErrorFromStatus(const absl::Status& status) {
  Error error;
  error.set_type(PythonTypeName(status));
  error.set_message(std::string(status.message()));
  if (std::optional<IncompleteRead> incomplete = GetIncompleteRead(status)) {
    error.set_partial(incomplete->partial);
    if (incomplete->expected) error.set_expected(*incomplete->expected);
  }
  if (std::optional<int64_t> consumed = GetLimitOverrunConsumed(status)) {
    error.set_consumed(*consumed);
  }
  return error;
}

// How an operation that failed with `status` is reported. A task that raises
// CancelledError is cancelled, and asyncio reports no message for it.
Error CompletionError(const absl::Status& status) {
  if (IsCancelledError(status)) {
    Error cancelled;
    cancelled.set_type("CancelledError");
    return cancelled;
  }
  return ErrorFromStatus(status);
}

// The completion of a read (id set by Finish).
Completion ReadCompletion(absl::StatusOr<std::string> result) {
  Completion completion;
  if (result.ok()) {
    completion.set_value(*std::move(result));
  } else {
    *completion.mutable_error() = CompletionError(result.status());
  }
  return completion;
}

// The completion of one step of `async for`: nullopt is StopAsyncIteration.
Completion NextLineCompletion(absl::StatusOr<std::optional<std::string>> line) {
  Completion completion;
  if (!line.ok()) {
    *completion.mutable_error() = CompletionError(line.status());
  } else if (!line->has_value()) {
    completion.mutable_error()->set_type("StopAsyncIteration");
  } else {
    completion.set_value(**std::move(line));
  }
  return completion;
}

// The completion of an operation that returns None (drain, wait_closed).
Completion StatusCompletion(const absl::Status& status) {
  Completion completion;
  if (status.ok()) {
    completion.set_done(true);
  } else {
    *completion.mutable_error() = CompletionError(status);
  }
  return completion;
}

Completion CancelledCompletion() {
  return StatusCompletion(absl::CancelledError());
}

bool IsCancelled(const Completion& completion) {
  return completion.error().type() == "CancelledError";
}

TransportCall ToProto(const FakeTransport::Call& call) {
  TransportCall out;
  if (call.name == "pause_reading") out.mutable_pause_reading();
  if (call.name == "resume_reading") out.mutable_resume_reading();
  if (call.name == "write") out.set_write(call.data);
  if (call.name == "writelines") {
    out.mutable_writelines();
    for (const std::string& line : call.lines) {
      out.mutable_writelines()->add_lines()->set_data(line);
    }
  }
  if (call.name == "write_eof") out.mutable_write_eof();
  if (call.name == "close") out.mutable_close();
  if (call.name == "abort") out.mutable_abort();
  if (call.name == "pause_reading_failed") out.mutable_pause_reading_failed();
  return out;
}

// Warnings the library issued since the current step started
// (Observation.warnings), filled by the handler main() installs.
std::vector<std::string>& Warnings() {
  static std::vector<std::string> warnings;
  return warnings;
}

// "<Category>: <message>", the first object repr cut to its type name and
// the rest dropped, as the reference reports them.
std::string NormalizeWarning(absl::string_view category,
                             absl::string_view message) {
  std::string text(message);
  if (size_t open = text.find('<'); open != std::string::npos) {
    size_t end = open + 1;
    while (end < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[end])) ||
            text[end] == '_')) {
      ++end;
    }
    text = absl::StrCat(text.substr(0, end), ">");
  }
  return absl::StrCat(category, ": ", text);
}

// The scenario's reader: explicit_limit as it is when set (schema v2), else
// `limit`, 0 meaning the default.
// Which transport made each call of the shared log (TransportCall.
// transport), parallel to the log's calls: 0 without per_transport_logs.
using CallOwners = std::vector<int32_t>;

// The fake transport with the testee's options of schema v2 on top:
// log_failed_pause records each pause_reading() that failed, and
// lose_on_close makes Close()/Abort() report ConnectionLost(OK) one handler
// later, once, as asyncio's transports do with call_soon. Every call it
// records is tagged with its `number` in `owners`.
class TesteeTransport final : public FakeTransport {
 public:
  TesteeTransport(const TransportOptions& options, std::shared_ptr<CallLog> log,
                  std::shared_ptr<CallOwners> owners, int32_t number,
                  asio::io_context& context)
      : FakeTransport(Options{options.cannot_pause(), options.ssl(),
                              options.cannot_write_eof()},
                      log),
        log_(std::move(log)),
        owners_(std::move(owners)),
        number_(number),
        context_(context),
        log_failed_pause_(options.log_failed_pause()),
        lose_on_close_(options.lose_on_close()) {}

  absl::Status PauseReading() override {
    absl::Status status = Tagged([&] { return FakeTransport::PauseReading(); });
    if (!status.ok() && log_failed_pause_) {
      log_->Add(Call{"pause_reading_failed", "", {}});
      owners_->push_back(number_);
    }
    return status;
  }
  void ResumeReading() override {
    Tagged([&] { FakeTransport::ResumeReading(); });
  }
  absl::Status Write(ByteView data) override {
    return Tagged([&] { return FakeTransport::Write(data); });
  }
  absl::Status WriteLines(const std::vector<std::string>& lines) override {
    return Tagged([&] { return FakeTransport::WriteLines(lines); });
  }
  absl::Status WriteEof() override {
    return Tagged([&] { return FakeTransport::WriteEof(); });
  }
  void Close() override {
    Tagged([&] { FakeTransport::Close(); });
    Lose();
  }
  void Abort() override {
    Tagged([&] { FakeTransport::Abort(); });
    Lose();
  }

  // What Lose() reports to: the protocol of connection_made.
  void set_on_lost(std::function<void()> on_lost) {
    on_lost_ = std::move(on_lost);
  }

 private:
  // Runs `call` and tags what it recorded with this transport's number.
  template <typename F>
  std::invoke_result_t<F> Tagged(F call) {
    const size_t before = log_->calls().size();
    struct Tag {
      ~Tag() {
        for (size_t i = before; i < self->log_->calls().size(); ++i) {
          self->owners_->push_back(self->number_);
        }
      }
      TesteeTransport* self;
      size_t before;
    } tag{this, before};
    return call();
  }

  void Lose() {
    if (!lose_on_close_ || !on_lost_ || lost_) return;
    lost_ = true;
    asio::post(context_, on_lost_);
  }

  std::shared_ptr<CallLog> log_;
  std::shared_ptr<CallOwners> owners_;
  const int32_t number_;
  asio::io_context& context_;
  const bool log_failed_pause_;
  const bool lose_on_close_;
  std::function<void()> on_lost_;
  bool lost_ = false;
};

// readuntil(tuple(separators)) (CPython 3.13): AsyncReadUntilAny().
bool IsTuple(const ReadUntil& readuntil) {
  return readuntil.separator_tuple() || readuntil.separators_size() > 0;
}

std::vector<std::string> Separators(const ReadUntil& readuntil) {
  return {readuntil.separators().begin(), readuntil.separators().end()};
}

StreamReader MakeReader(asio::io_context& context, const Scenario& scenario) {
  int64_t limit = StreamReader::kDefaultLimit;
  if (scenario.has_explicit_limit()) {
    limit = scenario.explicit_limit();
  } else if (scenario.limit() != 0) {
    limit = scenario.limit();
  }
  // //streams extensions (beyond_reference cpp_extension).
  streams::ReaderOptions options;
  options.limit = limit;
  const auto& extension = scenario.reader_options();
  switch (extension.overlong_line()) {
    case conformance::ReaderOptions::KEEP:
      options.overlong_line = streams::OverlongLine::kKeep;
      break;
    case conformance::ReaderOptions::DISCARD_LINE:
      options.overlong_line = streams::OverlongLine::kDiscardLine;
      break;
    default:
      options.overlong_line = streams::OverlongLine::kAsyncio;
      break;
  }
  options.cancel_safe_read_all = extension.cancel_safe_read_all();
  absl::StatusOr<StreamReader> reader =
      StreamReader::Create(context.get_executor(), options);
  if (!reader.ok()) throw ConstructionFailed{reader.status()};
  return *std::move(reader);
}

class ScenarioRun {
 public:
  explicit ScenarioRun(const Scenario& scenario)
      : scenario_(scenario), reader_(MakeReader(context_, scenario)) {
    StreamReaderProtocol::ClientConnectedCallback callback;
    if (scenario.server_side()) {
      callback = [this](StreamReader, StreamWriter writer) {
        server_writer_.emplace(std::move(writer));
      };
    }
    if (scenario.has_client_connected()) {
      // The Server's own callback (MakeClientConnectedCallback), reporting
      // to Observation.logged as asyncio's loop exception handler.
      callback = MakeClientConnectedCallback(
          ClientConnected([this](StreamReader reader, StreamWriter writer) {
            pending_[scenario_.client_connected().id()] = true;
            return RunClientConnected(std::move(reader), std::move(writer));
          }),
          [this](ServerError error) {
            LoggedError& logged = logged_.emplace_back();
            logged.set_message(error.message);
            *logged.mutable_exception() = ErrorFromStatus(error.error);
          });
    }
    protocol_ = StreamReaderProtocol::Create(reader_, std::move(callback));
  }

  ~ScenarioRun() {
    // Quietly cancel what is pending, as the reference does, then drop it.
    for (auto& [id, signal] : signals_) {
      if (pending_[id]) signal.emit(asio::cancellation_type::terminal);
    }
    RunUntilIdle();
    // Then end the connection as a real transport does when its io_context
    // goes (the reference closes its loop): the protocol lets go of its
    // server-side writer and its waiting drains, which would otherwise keep
    // the protocol <-> writer cycle alive (stream_reader_protocol.h).
    protocol_->ContextShutdown();
  }

  StepTrace Run() {
    StepTrace trace;
    trace.set_implementation("C++ //streams");
    size_t size = 0;
    for (int step = 0; step < scenario_.steps_size(); ++step) {
      Observation& observation = *trace.add_steps();
      observation = RunStep(scenario_.steps(step));
      size += observation.ByteSizeLong();
      if (size > kMaxFrameBytes) {
        throw ResponseTooLarge{
            absl::StrCat("response too large: the trace passes ",
                         kMaxFrameBytes, " bytes at step ", step + 1)};
      }
    }
    return trace;
  }

 private:
  Observation RunStep(const Step& step) {
    Observation observation;
    returned_.reset();
    const bool per_action =
        step.per_action_results() || scenario_.per_action_results();
    Warnings().clear();
    for (const Action& action : step.actions()) {
      if (per_action) {
        action_result_ = observation.add_actions();
        returned_.reset();
      }
      absl::Status status = RunAction(action);
      if (per_action) {
        if (!status.ok()) {
          *action_result_->mutable_error() = ErrorFromStatus(status);
        }
        if (returned_) action_result_->set_returned(*returned_);
        continue;
      }
      if (!status.ok()) {
        *observation.mutable_error() = ErrorFromStatus(status);
        break;
      }
    }
    if (per_action) returned_.reset();
    action_result_ = nullptr;
    RunUntilIdle();
    Observe(observation);
    return observation;
  }

  void RunUntilIdle() {
    while (true) {
      context_.restart();
      if (context_.poll() == 0) return;
    }
  }

  void Observe(Observation& observation) {
    for (Completion& completion : completed_) {
      *observation.add_completed() = std::move(completion);
    }
    completed_.clear();
    for (const auto& [id, pending] : pending_) {
      if (pending) observation.add_pending(id);
    }
    std::vector<FakeTransport::Call> calls = calls_->Take();
    for (size_t i = 0; i < calls.size(); ++i) {
      TransportCall& call = *observation.add_transport_calls();
      call = ToProto(calls[i]);
      if (i < owners_->size()) call.set_transport((*owners_)[i]);
    }
    owners_->clear();
    for (std::string& warning : Warnings()) {
      observation.add_warnings(std::move(warning));
    }
    Warnings().clear();
    for (LoggedError& logged : logged_) {
      *observation.add_logged() = std::move(logged);
    }
    logged_.clear();
    if (returned_) observation.set_returned(*returned_);
    ObserveState(observation);
  }

  // The reader's and writer's state fields of an Observation.
  void ObserveState(Observation& observation) {
    observation.set_buffer(std::string(reader_.buffer()));
    observation.set_buffer_size(reader_.buffer_size());
    observation.set_at_eof(reader_.AtEof());
    observation.set_exception_set(!reader_.exception().ok());
    if (!reader_.exception().ok()) {
      *observation.mutable_exception() = ErrorFromStatus(reader_.exception());
    }
    observation.set_paused(reader_.transport_paused());
    if (!writers_.empty() && !writer_dropped_) {
      observation.set_writer_closing(writers_.back().IsClosing());
    }
    if (connected_) {
      observation.set_writing_paused(protocol_->writing_paused());
      observation.set_connection_lost(protocol_->connection_lost());
    }
  }

  auto StatusCallback(int32_t id) {
    pending_[id] = true;
    return asio::bind_cancellation_slot(
        signals_[id].slot(), [this, id](absl::Status status) {
          done_.insert(id);
          FinishLater(id, StatusCompletion(status));
        });
  }

  absl::Status RunAction(const Action& action) {
    switch (action.action_case()) {
      case Action::kFeedData:
        return reader_.FeedData(PayloadBytes(action.feed_data()));
      case Action::kFeedEof:
        reader_.FeedEof();
        return absl::OkStatus();
      case Action::kSetException:
        reader_.SetException(MakeException(action.set_exception()));
        return absl::OkStatus();
      case Action::kSetTransport:
        return reader_.SetTransport(NewTransport(action.set_transport()));
      case Action::kRead:
        StartRead(action.read());
        return absl::OkStatus();
      case Action::kCancel:
        if (std::optional<bool> cancelled = Cancel(action.cancel());
            cancelled && action_result_ != nullptr) {
          action_result_->set_returned(*cancelled);
        }
        return absl::OkStatus();
      case Action::kTask:
        StartTask(action.task());
        return absl::OkStatus();
      case Action::kConnectionMade:
        return ConnectionMade(action.connection_made());
      case Action::kDataReceived:
        return protocol_->DataReceived(PayloadBytes(action.data_received()));
      case Action::kEofReceived:
        returned_ = protocol_->EofReceived();
        return absl::OkStatus();
      case Action::kConnectionLost:
        protocol_->ConnectionLost(
            action.connection_lost().has_exc()
                ? MakeException(action.connection_lost().exc())
                : absl::OkStatus());
        return absl::OkStatus();
      case Action::kPauseWriting:
        return protocol_->PauseWriting();
      case Action::kResumeWriting:
        return protocol_->ResumeWriting();
      case Action::kWrite:
        return Writer().Write(PayloadBytes(action.write()));
      case Action::kWritelines: {
        std::vector<std::string> lines;
        for (const Bytes& line : action.writelines().lines()) {
          lines.push_back(PayloadBytes(line));
        }
        return Writer().WriteLines(lines);
      }
      case Action::kWriteEof:
        return Writer().WriteEof();
      case Action::kCanWriteEof:
        returned_ = Writer().CanWriteEof();
        return absl::OkStatus();
      case Action::kClose:
        Writer().Close();
        return absl::OkStatus();
      case Action::kIsClosing:
        returned_ = Writer().IsClosing();
        return absl::OkStatus();
      case Action::kDropWriter:
        // The reference drops its last references; the writer's other
        // handles (a pending drain's, ...) keep it, as references do.
        Writer();
        writers_.pop_back();
        writer_dropped_ = true;
        return absl::OkStatus();
      case Action::kAbort:
        Writer().transport()->Abort();
        return absl::OkStatus();
      case Action::kDrain:
        Writer().AsyncDrain(StatusCallback(action.drain()));
        return absl::OkStatus();
      case Action::kWaitClosed:
        Writer().AsyncWaitClosed(StatusCallback(action.wait_closed()));
        return absl::OkStatus();
      case Action::kTransportClosing:
        if (transports_.empty()) {
          throw Unsupported{"transport_closing before any transport exists"};
        }
        transports_.back()->StartClosing();
        return absl::OkStatus();
      case Action::kObserve:
        if (action_result_ == nullptr) {
          throw Unsupported{"observe needs per_action_results"};
        }
        ObserveState(*action_result_->mutable_state());
        return absl::OkStatus();
      case Action::ACTION_NOT_SET:
        break;
    }
    throw Unsupported{"unknown action"};
  }

  std::shared_ptr<TesteeTransport> NewTransport(
      const TransportOptions& options) {
    const int32_t number = scenario_.per_transport_logs()
                               ? static_cast<int32_t>(transports_.size()) + 1
                               : 0;
    auto transport = std::make_shared<TesteeTransport>(options, calls_, owners_,
                                                       number, context_);
    transports_.push_back(transport);
    return transport;
  }

  absl::Status ConnectionMade(const TransportOptions& options) {
    std::shared_ptr<TesteeTransport> transport = NewTransport(options);
    connected_ = true;
    transport->set_on_lost(
        [this] { protocol_->ConnectionLost(absl::OkStatus()); });
    if (absl::Status made = protocol_->ConnectionMade(transport); !made.ok()) {
      return made;
    }
    writer_dropped_ = false;
    if (scenario_.has_client_connected()) {
      // The callback holds the writer: writer actions are refused.
      return absl::OkStatus();
    }
    if (scenario_.server_side()) {
      if (server_writer_) writers_.push_back(std::move(*server_writer_));
      server_writer_.reset();
    } else {
      writers_.emplace_back(transport, protocol_, &reader_);
    }
    if (!writers_.empty()) {
      writers_.back().SetStrictDrain(scenario_.writer_options().strict_drain());
    }
    return absl::OkStatus();
  }

  StreamWriter& Writer() {
    if (writers_.empty() || writer_dropped_) {
      throw Unsupported{"writer action before connection_made"};
    }
    return writers_.back();
  }

  void StartRead(const Read& read) {
    const int32_t id = read.id();
    pending_[id] = true;
    auto slot = signals_[id].slot();
    auto on_read = [this, id](absl::StatusOr<std::string> result) {
      done_.insert(id);
      FinishLater(id, ReadCompletion(std::move(result)));
    };
    switch (read.kind_case()) {
      case Read::kReadline:
        reader_.AsyncReadLine(asio::bind_cancellation_slot(slot, on_read));
        return;
      case Read::kReaduntil:
        if (IsTuple(read.readuntil())) {
          reader_.AsyncReadUntilAny(
              Separators(read.readuntil()),
              asio::bind_cancellation_slot(slot, on_read));
          return;
        }
        reader_.AsyncReadUntil(read.readuntil().has_separator()
                                   ? read.readuntil().separator()
                                   : std::string("\n"),
                               asio::bind_cancellation_slot(slot, on_read));
        return;
      case Read::kRead:
        reader_.AsyncRead(read.read().n(),
                          asio::bind_cancellation_slot(slot, on_read));
        return;
      case Read::kReadexactly:
        reader_.AsyncReadExactly(read.readexactly().n(),
                                 asio::bind_cancellation_slot(slot, on_read));
        return;
      case Read::kAnext:
        reader_.AsyncNextLine(asio::bind_cancellation_slot(
            slot, [this, id](absl::StatusOr<std::optional<std::string>> line) {
              done_.insert(id);
              FinishLater(id, NextLineCompletion(std::move(line)));
            }));
        return;
      case Read::KIND_NOT_SET:
        break;
    }
    throw Unsupported{"unknown read kind"};
  }

  // The completion handler of a task's co_spawn. It carries its cancellation
  // slot itself instead of going through asio::bind_cancellation_slot: for a
  // handler with an associated executor (a bound one has one), co_spawn
  // dispatches each cancellation through that executor, which from a step's
  // actions (outside the loop) means one handler later; asyncio's
  // task.cancel() takes effect at once.
  struct TaskHandler {
    using cancellation_slot_type = asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept {
      return slot;
    }
    // The coroutine reports its own end; an exception out of it is a bug of
    // this testee, reported as a runtime error.
    void operator()(std::exception_ptr error) const {
      if (error) std::rethrow_exception(error);
    }

    asio::cancellation_slot slot;
  };

  // Cancels an operation or a task by its id. A task that has not run its
  // first step is only marked: terminal cancellation of a co_spawn'ed
  // coroutine before it starts makes Boost 1.81's co_spawn entry point throw
  // operation_aborted out of io_context::poll() (its last post is co_awaited
  // with throw_if_cancelled on). The coroutine checks the mark instead and
  // ends cancelled without running, as an asyncio task cancelled before its
  // first step does.
  //
  // Returns task.cancel()'s result: false once the operation is done (its
  // handler ran, or its coroutine ended), else true; nullopt when no
  // operation that `cancel` can name has this id.
  std::optional<bool> Cancel(int32_t id) {
    if (unstarted_tasks_.contains(id)) {
      cancelled_before_start_.insert(id);
      return true;
    }
    auto it = signals_.find(id);
    if (it == signals_.end()) return std::nullopt;
    if (done_.contains(id)) return false;
    if (pending_[id]) it->second.emit(asio::cancellation_type::terminal);
    return true;
  }

  void StartTask(const Task& task) {
    for (const Await& entry : task.awaits()) {
      if (entry.kind_case() == Await::KIND_NOT_SET) {
        throw Unsupported{"unknown await kind"};
      }
      if (entry.has_read() && entry.read().kind_case() == Read::KIND_NOT_SET) {
        throw Unsupported{"unknown read kind"};
      }
      if (entry.kind_case() == Await::kDrain) Writer();
    }
    const int32_t id = task.id();
    pending_[id] = true;
    tasks_.insert(id);
    unstarted_tasks_.insert(id);
    asio::co_spawn(context_.get_executor(), RunTask(task),
                   TaskHandler{signals_[id].slot()});
  }

  // The coroutine of an Action.task: awaits each entry in order and reports
  // each read and drain as its co_await returns; CancelledError ends it.
  asio::awaitable<void> RunTask(Task task) {
    const int32_t task_id = task.id();
    unstarted_tasks_.erase(task_id);
    if (cancelled_before_start_.contains(task_id)) {
      // Its coroutine never ran: the reference sees it end through the
      // task's done callback, one step later (FinishLater()).
      done_.insert(task_id);
      FinishLater(task_id, CancelledCompletion());
      co_return;
    }
    auto executor = co_await asio::this_coro::executor;
    for (const Await& entry : task.awaits()) {
      std::optional<int32_t> op_id;
      Completion completion;
      switch (entry.kind_case()) {
        case Await::kRead:
          op_id = entry.read().id();
          pending_[*op_id] = true;
          completion = co_await AwaitRead(entry.read());
          break;
        case Await::kDrain:
          op_id = entry.drain();
          pending_[*op_id] = true;
          {
            absl::Status drained = co_await Writer().AsyncDrain();
            completion = StatusCompletion(drained);
          }
          break;
        case Await::kSleep0:
          co_await asio::post(executor, asio::use_awaitable);
          break;
        case Await::kFeedData:
          if (absl::Status fed =
                  reader_.FeedData(PayloadBytes(entry.feed_data()));
              !fed.ok()) {
            Completion failed;
            *failed.mutable_error() = ErrorFromStatus(fed);
            Finish(task_id, std::move(failed));
            co_return;
          }
          break;
        case Await::kFeedEof:
          reader_.FeedEof();
          break;
        case Await::KIND_NOT_SET:
          break;
      }
      // A cancel that came while this entry was awaited ends the task here,
      // as asyncio raises CancelledError from the await it interrupts.
      bool cancelled =
          (co_await asio::this_coro::cancellation_state).cancelled() !=
          asio::cancellation_type::none;
      if (op_id) {
        const bool raised = IsCancelled(completion);
        Finish(*op_id, std::move(completion));
        cancelled = cancelled || raised;
      }
      if (cancelled) {
        Finish(task_id, CancelledCompletion());
        co_return;
      }
    }
    Completion done;
    done.set_done(true);
    Finish(task_id, std::move(done));
  }

  // One read of a task. Arguments and results are named variables: g++ 12
  // mishandles temporaries in a co_await expression (README.md); passing
  // `cond ? separator : std::string("\n")` to AsyncReadUntil there aborted
  // with free(): invalid pointer.
  asio::awaitable<Completion> AwaitRead(Read read) {
    co_return co_await AwaitReadOn(reader_, std::move(read));
  }

  // The coroutine of Scenario.client_connected, with the reader and writer
  // the protocol gave it: writes, awaits its entries (reporting reads and
  // drains, errors swallowed), then returns its error (asyncio: raises) or
  // OK; reports its own end under its id.
  asio::awaitable<absl::Status> RunClientConnected(StreamReader reader,
                                                   StreamWriter writer) {
    const ClientConnectedCoroutine& spec = scenario_.client_connected();
    auto executor = co_await asio::this_coro::executor;
    if (!spec.write().empty()) {
      if (absl::Status written = writer.Write(spec.write()); !written.ok()) {
        pending_[spec.id()] = false;
        co_return written;
      }
    }
    for (const Await& entry : spec.awaits()) {
      switch (entry.kind_case()) {
        case Await::kRead: {
          const int32_t op_id = entry.read().id();
          pending_[op_id] = true;
          Completion completion = co_await AwaitReadOn(reader, entry.read());
          Finish(op_id, std::move(completion));
          break;
        }
        case Await::kDrain: {
          const int32_t op_id = entry.drain();
          pending_[op_id] = true;
          absl::Status drained = co_await writer.AsyncDrain();
          Finish(op_id, StatusCompletion(drained));
          break;
        }
        case Await::kSleep0:
          co_await asio::post(executor, asio::use_awaitable);
          break;
        case Await::kFeedData: {
          absl::Status fed = reader.FeedData(PayloadBytes(entry.feed_data()));
          if (!fed.ok()) {
            pending_[spec.id()] = false;  // raised: no completion of its own
            co_return fed;
          }
          break;
        }
        case Await::kFeedEof:
          reader.FeedEof();
          break;
        case Await::KIND_NOT_SET:
          break;
      }
    }
    Completion end;
    absl::Status result = absl::OkStatus();
    if (spec.has_raises()) {
      result = MakeException(spec.raises());
      *end.mutable_error() = spec.raises();
    } else {
      end.set_done(true);
    }
    Finish(spec.id(), std::move(end));
    co_return result;
  }

  // One read on `reader` (the scenario's, or the one a callback received).
  asio::awaitable<Completion> AwaitReadOn(StreamReader& reader, Read read) {
    absl::StatusOr<std::string> result;
    switch (read.kind_case()) {
      case Read::kReadline:
        result = co_await reader.AsyncReadLine();
        break;
      case Read::kReaduntil: {
        if (IsTuple(read.readuntil())) {
          std::vector<std::string> separators = Separators(read.readuntil());
          result = co_await reader_.AsyncReadUntilAny(std::move(separators));
          break;
        }
        std::string separator = read.readuntil().has_separator()
                                    ? read.readuntil().separator()
                                    : std::string("\n");
        result = co_await reader.AsyncReadUntil(std::move(separator));
        break;
      }
      case Read::kRead:
        result = co_await reader.AsyncRead(read.read().n());
        break;
      case Read::kReadexactly:
        result = co_await reader.AsyncReadExactly(read.readexactly().n());
        break;
      case Read::kAnext: {
        absl::StatusOr<std::optional<std::string>> line =
            co_await reader.AsyncNextLine();
        co_return NextLineCompletion(std::move(line));
      }
      case Read::KIND_NOT_SET:
        break;
    }
    co_return ReadCompletion(std::move(result));
  }

  // Reports an operation run as its own task (a read or drain started by an
  // action, with a callback) one handler after it completed: the reference
  // observes such a task through its done callback, which asyncio schedules
  // with call_soon when the task finishes, so a read that a Task awaits and
  // that completes in the same loop step (reported as its await returns, by
  // both testees) comes first there. fuzz/differential.py found the
  // difference (e.g. a readexactly woken by EOF, beside a Task whose first
  // read returns at once).
  void FinishLater(int32_t id, Completion completion) {
    asio::post(context_, [this, id, completion = std::move(completion)]() {
      Finish(id, completion);
    });
  }

  void Finish(int32_t id, Completion completion) {
    if (tasks_.contains(id)) done_.insert(id);
    completion.set_id(id);
    pending_[id] = false;
    completed_.push_back(std::move(completion));
  }

  const Scenario& scenario_;
  asio::io_context context_;
  StreamReader reader_;
  std::shared_ptr<StreamReaderProtocol> protocol_;
  std::shared_ptr<FakeTransport::CallLog> calls_ =
      std::make_shared<FakeTransport::CallLog>();
  std::shared_ptr<CallOwners> owners_ = std::make_shared<CallOwners>();
  bool connected_ = false;       // connection_made ran: the write side exists
  bool writer_dropped_ = false;  // drop_writer let go of the last writer
  std::vector<std::shared_ptr<TesteeTransport>> transports_;
  std::optional<StreamWriter> server_writer_;
  std::vector<StreamWriter> writers_;  // kept, as the reference keeps them
  std::map<int32_t, asio::cancellation_signal> signals_;
  std::map<int32_t, bool> pending_;           // id -> still pending
  std::set<int32_t> unstarted_tasks_;         // tasks before their first step
  std::set<int32_t> cancelled_before_start_;  // ... that `cancel` named
  std::set<int32_t> tasks_;                   // ids of Action.task tasks
  std::set<int32_t> done_;  // operations and tasks done (cancel() is False)
  std::vector<Completion> completed_;
  std::vector<LoggedError> logged_;  // the callback's reported errors
  std::optional<bool> returned_;
  // The result of the running action, in a step with per-action results.
  ActionResult* action_result_ = nullptr;
};

Response RunRequest(const Request& request) {
  Response response;
  try {
    ScenarioRun run(request.scenario());
    *response.mutable_trace() = run.Run();
  } catch (const ConstructionFailed& failed) {
    response.mutable_trace()->set_implementation("C++ //streams");
    *response.mutable_trace()->mutable_construction_error() =
        ErrorFromStatus(failed.status);
  } catch (const Unsupported& unsupported) {
    response.set_skipped(unsupported.reason);
  } catch (const ResponseTooLarge& too_large) {
    response.set_runtime_error(too_large.reason);
  } catch (const std::exception& error) {
    response.set_runtime_error(error.what());
  }
  return response;
}

// The response to one frame: a runtime_error when it is not a valid request.
Response Answer(absl::string_view frame) {
  absl::StatusOr<Request> request = DecodeRequest(frame);
  if (!request.ok()) {
    Response response;
    // Payload errors read the same on both testees; a frame that is not a
    // Request at all says which testee could not parse it.
    response.set_runtime_error(
        absl::IsDataLoss(request.status())
            ? absl::StrCat("cpp_testee: ", request.status().message())
            : std::string(request.status().message()));
    return response;
  }
  return RunRequest(*request);
}

int WireError(const absl::Status& status) {
  std::cerr << "cpp_testee: wire error: " << status.message() << "\n";
  return 1;
}

}  // namespace
}  // namespace streams::conformance

int main() {
  namespace conformance = ::streams::conformance;
  std::cerr << "cpp_testee: C++ //streams\n";
  // Warnings are observed (Observation.warnings); those of writers left open
  // at a scenario's end are dropped when the next step starts.
  streams::StreamWriter::SetWarningHandler([](absl::string_view message) {
    conformance::Warnings().push_back(
        conformance::NormalizeWarning("ResourceWarning", message));
  });
  while (true) {
    absl::StatusOr<std::optional<std::string>> frame =
        conformance::ReadFrame(stdin);
    if (!frame.ok()) return conformance::WireError(frame.status());
    if (!frame->has_value()) return 0;
    const conformance::Response response = conformance::Answer(**frame);
    if (absl::Status written =
            conformance::WriteFrame(stdout, response.SerializeAsString());
        !written.ok()) {
      return conformance::WireError(written);
    }
  }
}
