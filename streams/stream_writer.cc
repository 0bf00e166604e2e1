#include "streams/stream_writer.h"

#include <iostream>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "streams/internal/access.h"
#include "streams/internal/drain_operation.h"

namespace streams {

namespace asio = ::boost::asio;
namespace {

using WarningHandler = absl::AnyInvocable<void(absl::string_view) const>;

std::mutex warning_mutex;

WarningHandler& Warning() {
  static WarningHandler* handler = new WarningHandler(
      [](absl::string_view message) { std::cerr << message << "\n"; });
  return *handler;
}

// A drain that holds a handle on its writer while it is pending, released
// with the operation once it has completed (or been destroyed uncalled):
// asyncio's drain task references the writer from its frame until the
// coroutine ends, so StreamWriter.__del__ waits for it.
class WriterDrainOperation final : public internal::DrainOperation {
 public:
  template <typename... Args>
  explicit WriterDrainOperation(StreamWriter writer, Args&&... args)
      : DrainOperation(std::forward<Args>(args)...),
        writer_(std::move(writer)) {}

 private:
  StreamWriter writer_;
};

}  // namespace

StreamWriter::StreamWriter(std::shared_ptr<Transport> transport,
                           std::shared_ptr<StreamReaderProtocol> protocol,
                           const StreamReader* reader)
    : StreamWriter(
          std::move(transport), std::move(protocol),
          reader != nullptr ? internal::Access::Core(*reader) : nullptr) {}

StreamWriter::StreamWriter(std::shared_ptr<Transport> transport,
                           std::shared_ptr<StreamReaderProtocol> protocol,
                           std::shared_ptr<internal::ReaderCore> reader)
    : state_(std::make_shared<State>()) {
  state_->transport = std::move(transport);
  state_->protocol = std::move(protocol);
  state_->reader = std::move(reader);
}

StreamWriter StreamWriter::Share() const { return Hold(*state_); }

StreamWriter StreamWriter::Hold(State& state) {
  state.handles.fetch_add(1, std::memory_order_relaxed);
  return StreamWriter(state.shared_from_this());
}

StreamWriter& StreamWriter::operator=(StreamWriter&& other) noexcept {
  if (this != &other) {
    ReleaseHandle();
    state_ = std::move(other.state_);
  }
  return *this;
}

StreamWriter::~StreamWriter() { ReleaseHandle(); }

void StreamWriter::ReleaseHandle() {
  if (state_ == nullptr ||
      state_->handles.fetch_sub(1, std::memory_order_acq_rel) > 1 ||
      state_->transport->IsClosing()) {
    return;
  }
  if (state_->protocol->context_shut_down()) {
    // asyncio's __del__ once the loop is closed: warn, close nothing (there
    // is nothing left to run a close).
    std::lock_guard<std::mutex> lock(warning_mutex);
    Warning()("loop is closed");
    return;
  }
  // asyncio's __del__: close, then warn.
  std::string message = absl::StrCat("unclosed ", DebugString());
  state_->transport->Close();
  std::lock_guard<std::mutex> lock(warning_mutex);
  Warning()(message);
}

void StreamWriter::SetWarningHandler(WarningHandler handler) {
  std::lock_guard<std::mutex> lock(warning_mutex);
  Warning() = std::move(handler);
}

std::string StreamWriter::DebugString() const {
  std::string info = "<StreamWriter transport=<Transport>";
  if (state_->reader != nullptr) {
    absl::StrAppend(&info, " reader=<StreamReader>");
  }
  return absl::StrCat(info, ">");
}

void StreamWriter::StartDrain(internal::StatusOperation::Handler handler) {
  auto op = std::make_shared<WriterDrainOperation>(
      Share(), state_->protocol->get_executor(), std::move(handler),
      internal::Access::Drain(*state_->protocol), state_->reader,
      state_->transport, state_->strict_drain);
  op->Start();
}

std::optional<absl::Status> StreamWriter::DrainNow(const State& state) {
  // drain(): the reader's exception; a closing transport yields first.
  if (state.reader != nullptr && !state.reader->exception().ok()) {
    return state.reader->exception();
  }
  if (state.transport->IsClosing()) return std::nullopt;
  // _drain_helper().
  const std::shared_ptr<internal::DrainState>& flow =
      internal::Access::Drain(*state.protocol);
  if (flow->connection_lost) {
    return MakeError(ErrorKind::kConnectionResetError, "Connection lost");
  }
  if (!flow->paused) return absl::OkStatus();
  return std::nullopt;
}

void StreamWriter::StartDrainInline(
    State& state, internal::StatusOperation::Handler handler) {
  auto op = std::make_shared<WriterDrainOperation>(
      Hold(state), state.protocol->get_executor(), std::move(handler),
      internal::Access::Drain(*state.protocol), state.reader, state.transport,
      state.strict_drain);
  op->StartInline();
}

void StreamWriter::StartWaitClosed(internal::StatusOperation::Handler handler) {
  auto op = std::make_shared<internal::AwaitOperation>(
      state_->protocol->get_executor(), std::move(handler),
      internal::Access::Closed(*state_->protocol));
  op->Start();
}

// asyncio's StreamWriter.start_tls(): `await self.drain()`, then
// loop.start_tls(), then the writer and protocol use the new transport.
class StreamWriter::StartTlsOperation : public internal::StatusOperation {
 public:
  StartTlsOperation(const asio::any_io_executor& executor, Handler handler,
                    std::weak_ptr<StreamWriter::State> state,
                    asio::ssl::context& context, StartTlsOptions options)
      : StatusOperation(executor, std::move(handler)),
        executor_(executor),
        state_(std::move(state)),
        context_(context),
        options_(std::move(options)) {}

 private:
  void Begin() override {
    std::shared_ptr<StreamWriter::State> state = state_.lock();
    if (state == nullptr) return Complete(absl::CancelledError());
    waiter_ = std::make_shared<internal::Future>();
    auto drain = std::make_shared<internal::DrainOperation>(
        executor_, Handler([waiter = waiter_](absl::Status drained) {
          if (drained.ok()) {
            waiter->SetResult();
          } else {
            waiter->SetException(std::move(drained));
          }
        }),
        internal::Access::Drain(*state->protocol), state->reader,
        state->transport);
    drain->Start();
    Await(waiter_);
  }

  void Resume(absl::Status outcome) override {
    if (!outcome.ok()) return Complete(std::move(outcome));
    if (started_) return Complete(std::move(outcome));
    std::shared_ptr<StreamWriter::State> state = state_.lock();
    if (state == nullptr) return Complete(absl::CancelledError());
    started_ = true;
    TlsUpgrade upgrade;
    upgrade.context = &context_;
    upgrade.server_side = state->protocol->has_client_connected_callback();
    upgrade.server_hostname = options_.server_hostname;
    upgrade.handshake_timeout = options_.handshake_timeout;
    upgrade.shutdown_timeout = options_.shutdown_timeout;
    // Only an upgrade that starts takes the reader's unread bytes (they
    // belong to the handshake); a refused one leaves them readable.
    if (state->reader != nullptr && state->transport->CanStartTls()) {
      upgrade.received = state->reader->TakeBuffer();
    }
    waiter_ = std::make_shared<internal::Future>();
    state->transport->StartTls(
        std::move(upgrade),
        [weak = state_, waiter = waiter_](
            absl::StatusOr<std::shared_ptr<Transport>> upgraded) {
          if (!upgraded.ok()) return waiter->SetException(upgraded.status());
          if (std::shared_ptr<StreamWriter::State> state = weak.lock()) {
            // asyncio: self._transport = new_transport;
            // protocol._replace_writer(self).
            state->transport = *upgraded;
            state->protocol->ReplaceTransport(*upgraded);
            if (state->reader != nullptr) {
              state->reader->ReplaceTransport(*upgraded);
            }
          }
          waiter->SetResult();
        });
    Await(waiter_);
  }

  asio::any_io_executor executor_;
  std::weak_ptr<StreamWriter::State> state_;
  asio::ssl::context& context_;
  StartTlsOptions options_;
  std::shared_ptr<internal::Future> waiter_;
  bool started_ = false;
};

void StreamWriter::StartTls(asio::ssl::context& context,
                            StartTlsOptions options,
                            internal::StatusOperation::Handler handler) {
  auto op = std::make_shared<StartTlsOperation>(
      state_->protocol->get_executor(), std::move(handler), state_, context,
      std::move(options));
  op->Start();
}

}  // namespace streams
