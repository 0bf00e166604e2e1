// The C++ testee: runs conformance scenarios on //streams.
//
// Reads length-prefixed `Request` messages on stdin and answers each with one
// length-prefixed `Response` on stdout (conformance/scenario.proto); exits at
// EOF on stdin. It mirrors conformance/reference_testee.py exactly:
//
// - a fresh io_context, StreamReader and StreamReaderProtocol per scenario;
// - the actions of a step run in order, with no handler run between them,
//   stopping at the first error an action returns (Observation.error);
// - then the io_context polls until idle (a poll that runs nothing);
// - then the testee reports the Observation.
//
// Each operation is started with a plain callback bound to a cancellation
// slot; `cancel` emits terminal cancellation on it (what `||` sends). Errors
// are reported from each status's asyncio kind and message (errors.h), with
// no per-scenario special case.

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/bind_cancellation_slot.hpp"
#include "boost/asio/cancellation_signal.hpp"
#include "boost/asio/io_context.hpp"
#include "conformance/scenario.pb.h"
#include "streams/errors.h"
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

std::string Expand(const Bytes& bytes) {
  std::string out;
  if (bytes.size() > 0 && !bytes.pattern().empty()) {
    out.reserve(bytes.size() + bytes.data().size());
    while (static_cast<int64_t>(out.size()) < bytes.size()) {
      out.append(bytes.pattern());
    }
    out.resize(bytes.size());
  }
  out.append(bytes.data());
  return out;
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
  return out;
}

StreamReader MakeReader(asio::io_context& context, const Scenario& scenario) {
  absl::StatusOr<StreamReader> reader = StreamReader::Create(
      context.get_executor(),
      scenario.limit() != 0 ? scenario.limit() : StreamReader::kDefaultLimit);
  if (!reader.ok()) throw std::runtime_error(reader.status().ToString());
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
    protocol_ = StreamReaderProtocol::Create(reader_, std::move(callback));
  }

  ~ScenarioRun() {
    // Quietly cancel what is pending, as the reference does, then drop it.
    for (auto& [id, signal] : signals_) {
      signal.emit(asio::cancellation_type::terminal);
    }
    RunUntilIdle();
  }

  StepTrace Run() {
    StepTrace trace;
    trace.set_implementation("C++ //streams");
    for (const Step& step : scenario_.steps()) {
      *trace.add_steps() = RunStep(step);
    }
    return trace;
  }

 private:
  Observation RunStep(const Step& step) {
    Observation observation;
    returned_.reset();
    for (const Action& action : step.actions()) {
      absl::Status status = RunAction(action);
      if (!status.ok()) {
        *observation.mutable_error() = ErrorFromStatus(status);
        break;
      }
    }
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
    for (const FakeTransport::Call& call : calls_->Take()) {
      *observation.add_transport_calls() = ToProto(call);
    }
    if (returned_) observation.set_returned(*returned_);
    observation.set_buffer(std::string(reader_.buffer()));
    observation.set_buffer_size(reader_.buffer_size());
    observation.set_at_eof(reader_.AtEof());
    observation.set_exception_set(!reader_.exception().ok());
    if (!reader_.exception().ok()) {
      *observation.mutable_exception() = ErrorFromStatus(reader_.exception());
    }
    observation.set_paused(reader_.transport_paused());
  }

  auto StatusCallback(int32_t id) {
    pending_[id] = true;
    return asio::bind_cancellation_slot(
        signals_[id].slot(), [this, id](absl::Status status) {
          Completion completion;
          if (status.ok()) {
            completion.set_done(true);
          } else {
            *completion.mutable_error() = CompletionError(status);
          }
          Finish(id, std::move(completion));
        });
  }

  absl::Status RunAction(const Action& action) {
    switch (action.action_case()) {
      case Action::kFeedData:
        return reader_.FeedData(Expand(action.feed_data()));
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
        if (auto it = signals_.find(action.cancel()); it != signals_.end()) {
          it->second.emit(asio::cancellation_type::terminal);
        }
        return absl::OkStatus();
      case Action::kTask:
        throw Unsupported{"tasks are not supported yet"};
      case Action::kConnectionMade:
        return ConnectionMade(action.connection_made());
      case Action::kDataReceived:
        return protocol_->DataReceived(Expand(action.data_received()));
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
        Writer().Write(Expand(action.write()));
        return absl::OkStatus();
      case Action::kWritelines: {
        std::vector<std::string> lines;
        for (const Bytes& line : action.writelines().lines()) {
          lines.push_back(Expand(line));
        }
        Writer().WriteLines(lines);
        return absl::OkStatus();
      }
      case Action::kWriteEof:
        Writer().WriteEof();
        return absl::OkStatus();
      case Action::kCanWriteEof:
        returned_ = Writer().CanWriteEof();
        return absl::OkStatus();
      case Action::kClose:
        Writer().Close();
        return absl::OkStatus();
      case Action::kIsClosing:
        returned_ = Writer().IsClosing();
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
      case Action::ACTION_NOT_SET:
        break;
    }
    throw Unsupported{"unknown action"};
  }

  std::shared_ptr<FakeTransport> NewTransport(const TransportOptions& options) {
    auto transport = std::make_shared<FakeTransport>(
        FakeTransport::Options{options.cannot_pause(), options.ssl(),
                               options.cannot_write_eof()},
        calls_);
    transports_.push_back(transport);
    return transport;
  }

  absl::Status ConnectionMade(const TransportOptions& options) {
    std::shared_ptr<FakeTransport> transport = NewTransport(options);
    if (absl::Status made = protocol_->ConnectionMade(transport); !made.ok()) {
      return made;
    }
    if (scenario_.server_side()) {
      if (server_writer_) writers_.push_back(std::move(*server_writer_));
      server_writer_.reset();
    } else {
      writers_.emplace_back(transport, protocol_, &reader_);
    }
    return absl::OkStatus();
  }

  StreamWriter& Writer() {
    if (writers_.empty()) {
      throw Unsupported{"writer action before connection_made"};
    }
    return writers_.back();
  }

  void StartRead(const Read& read) {
    const int32_t id = read.id();
    pending_[id] = true;
    auto slot = signals_[id].slot();
    auto on_read = [this, id](absl::StatusOr<std::string> result) {
      Completion completion;
      if (result.ok()) {
        completion.set_value(*std::move(result));
      } else {
        *completion.mutable_error() = CompletionError(result.status());
      }
      Finish(id, std::move(completion));
    };
    switch (read.kind_case()) {
      case Read::kReadline:
        reader_.AsyncReadLine(asio::bind_cancellation_slot(slot, on_read));
        return;
      case Read::kReaduntil:
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
              Completion completion;
              if (!line.ok()) {
                *completion.mutable_error() = CompletionError(line.status());
              } else if (!line->has_value()) {
                completion.mutable_error()->set_type("StopAsyncIteration");
              } else {
                completion.set_value(**std::move(line));
              }
              Finish(id, std::move(completion));
            }));
        return;
      case Read::KIND_NOT_SET:
        break;
    }
    throw Unsupported{"unknown read kind"};
  }

  void Finish(int32_t id, Completion completion) {
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
  std::vector<std::shared_ptr<FakeTransport>> transports_;
  std::optional<StreamWriter> server_writer_;
  std::vector<StreamWriter> writers_;  // kept, as the reference keeps them
  std::map<int32_t, asio::cancellation_signal> signals_;
  std::map<int32_t, bool> pending_;  // id -> still pending
  std::vector<Completion> completed_;
  std::optional<bool> returned_;
};

Response RunRequest(const Request& request) {
  Response response;
  try {
    ScenarioRun run(request.scenario());
    *response.mutable_trace() = run.Run();
  } catch (const Unsupported& unsupported) {
    response.set_skipped(unsupported.reason);
  } catch (const std::exception& error) {
    response.set_runtime_error(error.what());
  }
  return response;
}

bool ReadFrame(std::string& frame) {
  unsigned char length[4];
  if (std::fread(length, 1, 4, stdin) != 4) return false;
  const uint32_t size = length[0] | (length[1] << 8) | (length[2] << 16) |
                        (static_cast<uint32_t>(length[3]) << 24);
  frame.resize(size);
  return std::fread(frame.data(), 1, size, stdin) == size;
}

void WriteFrame(const std::string& frame) {
  const uint32_t size = frame.size();
  const unsigned char length[4] = {static_cast<unsigned char>(size),
                                   static_cast<unsigned char>(size >> 8),
                                   static_cast<unsigned char>(size >> 16),
                                   static_cast<unsigned char>(size >> 24)};
  std::fwrite(length, 1, 4, stdout);
  std::fwrite(frame.data(), 1, frame.size(), stdout);
  std::fflush(stdout);
}

}  // namespace
}  // namespace streams::conformance

int main() {
  using streams::conformance::Request;
  using streams::conformance::Response;
  std::cerr << "cpp_testee: C++ //streams\n";
  // Writers left open at a scenario's end are closed quietly.
  streams::StreamWriter::SetWarningHandler([](absl::string_view) {});
  std::string frame;
  while (streams::conformance::ReadFrame(frame)) {
    Request request;
    Response response;
    if (!request.ParseFromString(frame)) {
      response.set_runtime_error("cpp_testee: cannot parse the request");
    } else {
      response = streams::conformance::RunRequest(request);
    }
    streams::conformance::WriteFrame(response.SerializeAsString());
  }
  return 0;
}
