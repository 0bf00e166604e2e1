// -----------------------------------------------------------------------------
// File: stream_writer.h
// -----------------------------------------------------------------------------
//
// `streams::StreamWriter` is the write side of a connection, with the
// semantics of asyncio.StreamWriter (CPython 3.11.7): writes go straight to
// the transport's buffer and never block; `AsyncDrain()` is the flow-control
// point that waits while the transport has paused writing.
//
// Example:
//
//   if (absl::Status written = writer.Write("hello\n"); !written.ok()) {
//     co_return written;  // RuntimeError: Write() after WriteEof()
//   }
//   if (absl::Status drained = co_await writer.AsyncDrain(); !drained.ok()) {
//     co_return drained;  // e.g. ConnectionResetError "Connection lost"
//   }
//   writer.Close();
//   co_await writer.AsyncWaitClosed();
//
// Lifetime: StreamWriter is move-only. Destroying the last one whose
// transport is not closing closes it and reports "unclosed <StreamWriter
// ...>" through the warning handler (asyncio: ResourceWarning from __del__).
// Handles other than the caller's keep the writer too, as references do in
// asyncio: a pending AsyncDrain() holds one until it completes (asyncio: the
// drain task's frame references the writer), and a server-side protocol
// holds the writer it made until the connection is lost
// (StreamReaderProtocol).
// A writer may outlive its io_context: destroying the io_context frees the
// transport's socket and buffers and destroys pending drains and waits,
// uncalled; after that the writer may only be looked at and destroyed, and
// destroying it unclosed reports "loop is closed" and closes nothing (as
// asyncio's __del__ does once the loop is closed).
//
// Threads: the connection's executor, like the reader and protocol.

#ifndef STREAMS_STREAM_WRITER_H_
#define STREAMS_STREAM_WRITER_H_

#include <any>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "boost/asio/async_result.hpp"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/deferred.hpp"
#include "boost/asio/this_coro.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "streams/byte_view.h"
#include "streams/errors.h"
#include "streams/internal/await_read.h"
#include "streams/internal/reader_core.h"
#include "streams/internal/status_operation.h"
#include "streams/stream_reader.h"
#include "streams/stream_reader_protocol.h"
#include "streams/transport.h"

namespace streams {

// StreamWriter::AsyncStartTls()'s options.
//
// Like every options struct here, it is never a `= {}` default argument: in a
// call inside a coroutine, g++ 12 copies such a temporary bitwise, leaving a
// std::string pointing into the caller's frame. Overloads without options
// build them in ordinary code instead.
struct StartTlsOptions {
  // Client side: SNI and the name the certificate must match; empty: no
  // check.
  std::string server_hostname;
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds shutdown_timeout = std::chrono::seconds(30);
};

class StreamWriter {
 public:
  using executor_type = boost::asio::any_io_executor;

  // A writer over `transport`, flow-controlled by `protocol`; drains raise
  // `reader`'s exception when it has one (`reader` may be null).
  StreamWriter(std::shared_ptr<Transport> transport,
               std::shared_ptr<StreamReaderProtocol> protocol,
               const StreamReader* reader);
  StreamWriter(StreamWriter&&) noexcept = default;
  StreamWriter& operator=(StreamWriter&& other) noexcept;
  ~StreamWriter();

  executor_type get_executor() const {
    return state_->protocol->get_executor();
  }
  // The current transport (a TLS one after AsyncStartTls()).
  const std::shared_ptr<Transport>& transport() const {
    return state_->transport;
  }

  // Forwarded to the transport, as asyncio does.
  //
  // Write() and WriteLines() return kFailedPrecondition RuntimeError "Cannot
  // call write() after write_eof()" after WriteEof() (asyncio raises it);
  // see Transport::Write().
  [[nodiscard]] absl::Status Write(ByteView data) {
    return state_->transport->Write(data);
  }
  [[nodiscard]] absl::Status WriteLines(const std::vector<std::string>& lines) {
    return state_->transport->WriteLines(lines);
  }
  // Any other range of byte sources (std::string_view, absl::string_view,
  // literals...): copied into strings first, as asyncio joins them.
  template <std::ranges::input_range Lines>
  requires ByteSource<std::ranges::range_value_t<Lines>>
  [[nodiscard]] absl::Status WriteLines(const Lines& lines) {
    std::vector<std::string> copies;
    for (const auto& line : lines) copies.push_back(ByteView(line).ToString());
    return WriteLines(copies);
  }
  // WriteEof() returns kUnimplemented NotImplementedError where the transport
  // cannot write EOF (TLS; asyncio raises it) and changes nothing then.
  [[nodiscard]] absl::Status WriteEof() {
    return state_->transport->WriteEof();
  }
  bool CanWriteEof() const { return state_->transport->CanWriteEof(); }
  void Close() { state_->transport->Close(); }
  bool IsClosing() const { return state_->transport->IsClosing(); }
  // asyncio's get_extra_info(). Socket transports: "peername", "sockname"
  // (asio::ip::tcp::endpoint, or asio::local::stream_protocol::endpoint over
  // Unix), "socket" (the native handle); TLS also "sslcontext"
  // (asio::ssl::context*), "ssl_object" (SSL*), "peercert" (PEM
  // std::string), "cipher" (std::string). Empty when unknown.
  std::any GetExtraInfo(absl::string_view name) const {
    return state_->transport->GetExtraInfo(name);
  }

  // StreamWriter::SetStrictDrain()
  //
  // Extension (gh-80982), off by default (CPython 3.11.7's drain). asyncio's
  // drain() on a closing transport yields once and then returns OK unless
  // the connection was lost in that one loop iteration, so a write/drain
  // loop can go on "succeeding" after the peer left (e.g. while a close
  // waits to flush to a peer that stopped reading, or a TLS close). With
  // strict drain on, AsyncDrain() on a closing transport waits until the
  // connection is lost and then fails: with the loss's error, or
  // kUnavailable ConnectionResetError "Connection lost" when it was lost
  // without one. A drain on a transport that is not closing is unchanged.
  // Applies to every handle on this writer; on its executor only. Memory: one
  // future per waiting drain.
  void SetStrictDrain(bool strict) { state_->strict_drain = strict; }
  bool strict_drain() const { return state_->strict_drain; }

  // StreamWriter::AsyncDrain()
  //
  // Waits until the transport's write buffer is below its high-water mark.
  // asyncio: drain(). Yields once first when the transport is closing, so
  // that connection loss is seen.
  //
  // Completion: void(absl::Status): OK once below the high-water mark.
  //   Never inside this call, except awaited (the default token, or
  //   asio::use_awaitable) with nothing to wait for: then it returns at once,
  //   as asyncio's `await drain()` does; with other tokens it runs as its own
  //   task.
  // Errors: the reader's exception; kUnavailable ConnectionResetError
  //   "Connection lost" after the connection was lost; the connection's error
  //   when it is lost while waiting. With SetStrictDrain(true), never OK on a
  //   closing transport (see there).
  // Cancellation: terminal, partial, total (all types); a cancelled drain
  //   completes with kCancelled and changes nothing.
  // Concurrency: any number of drains may wait; all wake together. On the
  //   writer's executor only.
  // Lifetime: a drain that waits holds a handle on the writer until it has
  //   completed, so destroying the caller's writer meanwhile neither closes
  //   nor warns; the drain's release does, if it is the last handle.
  template <boost::asio::completion_token_for<void(absl::Status)>
                CompletionToken = boost::asio::use_awaitable_t<>>
  auto AsyncDrain(CompletionToken&& token = boost::asio::use_awaitable_t<>{}) {
    using Token = std::decay_t<CompletionToken>;
    if constexpr (internal::IsUseAwaitable<Token>::value) {
      return AwaitDrain<
          typename internal::IsUseAwaitable<Token>::executor_type>(
          state_.get());
    } else {
      return boost::asio::async_initiate<CompletionToken, void(absl::Status)>(
          [this](auto handler) {
            StartDrain(internal::StatusOperation::Handler(std::move(handler)));
          },
          token);
    }
  }

  // StreamWriter::AsyncWaitClosed()
  //
  // Waits until the connection is lost. asyncio: wait_closed().
  //
  // Completion: void(absl::Status). Never inside this call.
  // Errors: the connection's error (kUnavailable ConnectionResetError, ...)
  //   when it was lost with one; OK after a clean close.
  // Cancellation: terminal, partial, total (all types). As in asyncio,
  //   cancelling one cancels the protocol's closed future, so every
  //   AsyncWaitClosed() of this connection completes with kCancelled.
  // Concurrency: any number may wait; all complete together. On the
  //   writer's executor only.
  template <boost::asio::completion_token_for<void(absl::Status)>
                CompletionToken = boost::asio::deferred_t>
  auto AsyncWaitClosed(CompletionToken&& token = boost::asio::deferred_t{}) {
    return boost::asio::async_initiate<CompletionToken, void(absl::Status)>(
        [this](auto handler) {
          StartWaitClosed(
              internal::StatusOperation::Handler(std::move(handler)));
        },
        token);
  }

  // StreamWriter::AsyncStartTls()
  //
  // Upgrades the live connection to TLS in place: drains, then runs the
  // handshake on the same socket (server side when the protocol has a
  // client-connected callback), then this writer, the protocol and the
  // reader use the TLS transport. asyncio: start_tls(). Bytes the reader had
  // buffered but not returned are handed to the TLS engine first (asyncio
  // loses them, so a peer's ClientHello sent right behind "STARTTLS\n" is
  // not lost here). `context` must outlive the connection.
  //
  // Over a TLS connection the new session runs inside the first (TLS in
  // TLS, as asyncio allows); a third layer is kUnimplemented.
  //
  // Completion: void(absl::Status): OK once the handshake is done. Never
  //   inside this call.
  // Errors: as AsyncDrain(); TLS: kPermissionDenied SSLCertVerificationError,
  //   kUnavailable SSLError, kUnavailable ConnectionAbortedError (handshake
  //   timeout, as asyncio); kUnimplemented NotImplementedError for a
  //   transport that cannot start TLS. A failed handshake closes the
  //   connection (the protocol sees ConnectionLost with the error).
  // Cancellation: terminal, partial, total while draining (kCancelled,
  //   nothing changed); the handshake itself is bounded by
  //   options.handshake_timeout instead.
  // Concurrency: one upgrade at a time, on the writer's executor only. The
  //   reader's unread bytes go to the TLS engine, so upgrade once the
  //   plaintext exchange before it is read (as after "STARTTLS\n").
  template <boost::asio::completion_token_for<void(absl::Status)>
                CompletionToken = boost::asio::deferred_t>
  auto AsyncStartTls(boost::asio::ssl::context& context,
                     CompletionToken&& token = boost::asio::deferred_t{}) {
    return AsyncStartTls(context, StartTlsOptions(),
                         std::forward<CompletionToken>(token));
  }
  template <boost::asio::completion_token_for<void(absl::Status)>
                CompletionToken = boost::asio::deferred_t>
  auto AsyncStartTls(boost::asio::ssl::context& context,
                     StartTlsOptions options,
                     CompletionToken&& token = boost::asio::deferred_t{}) {
    return boost::asio::async_initiate<CompletionToken, void(absl::Status)>(
        [this, &context](auto handler, StartTlsOptions options) {
          StartTls(context, std::move(options),
                   internal::StatusOperation::Handler(std::move(handler)));
        },
        token, std::move(options));
  }

  // asyncio's repr(): "<StreamWriter transport=... reader=...>".
  std::string DebugString() const;

  // StreamWriter::SetWarningHandler()
  //
  // Where "unclosed <StreamWriter ...>" goes (default: stderr). Process-wide.
  static void SetWarningHandler(
      absl::AnyInvocable<void(absl::string_view) const> handler);

 private:
  friend class internal::Access;
  class StartTlsOperation;

  // Shared with operations in flight, so a moved writer keeps working.
  struct State : std::enable_shared_from_this<State> {
    std::shared_ptr<Transport> transport;
    std::shared_ptr<StreamReaderProtocol> protocol;
    std::shared_ptr<internal::ReaderCore> reader;
    // The StreamWriter objects on this state (Share() adds one): the last
    // to go away closes an unclosed writer and warns, as asyncio's
    // StreamWriter.__del__. Counted, not read off the shared_ptr: an
    // operation in flight may hold the state too.
    std::atomic<int> handles{1};
    // SetStrictDrain().
    bool strict_drain = false;
  };

  // Another handle on this writer (the server keeps one while a client
  // callback runs, to close the connection if the callback fails).
  StreamWriter Share() const;
  // A new handle on `state` (a pending drain's).
  static StreamWriter Hold(State& state);
  explicit StreamWriter(std::shared_ptr<State> state)
      : state_(std::move(state)) {}

  StreamWriter(std::shared_ptr<Transport> transport,
               std::shared_ptr<StreamReaderProtocol> protocol,
               std::shared_ptr<internal::ReaderCore> reader);

  void StartDrain(internal::StatusOperation::Handler handler);

  // The awaited drain: drain()'s code up to its first await runs inline
  // (DrainNow(): the answer, or nullopt when it must yield or wait); only
  // then does it become a task, whose first step runs at once.
  static std::optional<absl::Status> DrainNow(const State& state);
  static void StartDrainInline(State& state,
                               internal::StatusOperation::Handler handler);
  template <typename Executor>
  static boost::asio::awaitable<absl::Status, Executor> AwaitDrain(
      State* state) {
    const boost::asio::cancellation_state cancellation =
        co_await boost::asio::this_coro::cancellation_state;
    if (cancellation.cancelled() != boost::asio::cancellation_type::none) {
      co_return CancelledError();
    }
    if (std::optional<absl::Status> now = DrainNow(*state)) co_return *now;
    // The caller's handle keeps `state` alive until here; the operation
    // holds its own from now on (Hold()).
    boost::asio::use_awaitable_t<Executor> token;
    co_return co_await boost::asio::async_initiate<
        boost::asio::use_awaitable_t<Executor>, void(absl::Status)>(
        [state](auto handler) {
          StartDrainInline(
              *state, internal::StatusOperation::Handler(std::move(handler)));
        },
        token);
  }
  void StartWaitClosed(internal::StatusOperation::Handler handler);
  void StartTls(boost::asio::ssl::context& context, StartTlsOptions options,
                internal::StatusOperation::Handler handler);
  // Drops this handle on the state; the last one closes an unclosed
  // transport and warns (asyncio: StreamWriter.__del__).
  void ReleaseHandle();

  std::shared_ptr<State> state_;
};

}  // namespace streams

#endif  // STREAMS_STREAM_WRITER_H_
