// -----------------------------------------------------------------------------
// File: net/socket_transport_impl.h
// -----------------------------------------------------------------------------
//
// asyncio's _SelectorSocketTransport (and, for TLS, _SSLProtocolTransport)
// over an Asio stream: the one SocketTransport template behind
// StartSocketTransport(). Comments name the asyncio method each part follows.
// Internal to //streams/net: socket_transport.cc instantiates it for plain
// sockets, and //streams/net:tls (tls_transport.cc) for TLS streams, after
// defining TlsOps for them. Nothing here includes an OpenSSL or Asio SSL
// header, so a plain transport links none of them.

#ifndef STREAMS_NET_SOCKET_TRANSPORT_IMPL_H_
#define STREAMS_NET_SOCKET_TRANSPORT_IMPL_H_

#include <algorithm>
#include <any>
#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "boost/asio/bind_cancellation_slot.hpp"
#include "boost/asio/cancellation_signal.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "streams/errors.h"
#include "streams/internal/post.h"
#include "streams/net/internal/shutdown_service.h"
#include "streams/net/internal/write_buffer.h"
#include "streams/net/socket_transport.h"
#include "streams/net/tls_layer.h"

namespace streams::net {
namespace transport_impl {

namespace asio = ::boost::asio;

// How many TLS layers a stream has: 0 for a socket, 1 for TLS over it, 2
// after StartTls() on a TLS transport (TLS in TLS, as asyncio allows).
template <typename Stream>
struct TlsDepth : std::integral_constant<int, 0> {};
template <typename Socket>
struct TlsDepth<TlsStream<Socket>>
    : std::integral_constant<int, 1 + TlsDepth<Socket>::value> {};

// TLS in TLS is as deep as StartTls() goes: each depth is another template
// instantiation, and a third layer has no use asyncio's users report.
inline constexpr int kMaxTlsDepth = 2;

// What only a TLS stream's transport does (its extra info, its errors, its
// shutdown, TLS in TLS): defined for TLS streams by //streams/net:tls
// (tls_transport.cc). A plain stream's transport uses none of it, so the
// plain transport links no TLS code.
template <typename Stream>
struct TlsOps;

// Shakes hands over `stream` (TlsUpgrade: its context, side, timeouts and
// the bytes already read off it), then starts the TLS transport for
// `protocol` and calls `done` with it, or with the error after closing the
// stream. Over a socket this goes through the TLS layer that
// //streams/net:tls registers (tls_layer.h); over a TLS stream (TLS in
// TLS) straight to it.
template <typename Stream>
void StartTlsOver(Stream stream, TlsUpgrade upgrade,
                  std::shared_ptr<Protocol> protocol,
                  const TransportOptions& options, bool connection_made,
                  TlsUpgradeHandler done) {
  if constexpr (TlsDepth<Stream>::value > 0) {
    TlsOps<Stream>::StartTlsOver(std::move(stream), std::move(upgrade),
                                 std::move(protocol), options, connection_made,
                                 std::move(done));
  } else {
    tls_layer::StartTlsOnSocket(std::move(stream), std::move(upgrade),
                                std::move(protocol), options, connection_made,
                                std::move(done));
  }
}

template <typename Stream>
auto& LowestLayer(Stream& stream) {
  return stream.lowest_layer();
}

// The buffer plain sockets receive into: one per thread, not one per
// connection, so an idle connection holds none (a read copies what it got
// into the reader's buffer before the handler returns). TLS streams keep
// their own: a TLS read can stay in flight across records.
inline char* ThreadReceiveBuffer(size_t size) {
  thread_local std::unique_ptr<char[]> buffer;
  thread_local size_t capacity = 0;
  if (capacity < size) {
    buffer.reset(new char[size]);
    capacity = size;
  }
  return buffer.get();
}

template <typename Stream>
class SocketTransport final
    : public Transport,
      public std::enable_shared_from_this<SocketTransport<Stream>>,
      private internal::ShutdownListener {
 public:
  static constexpr bool kTls = TlsDepth<Stream>::value > 0;
  static constexpr bool kCanStartTls = TlsDepth<Stream>::value < kMaxTlsDepth;

  SocketTransport(Stream stream, std::shared_ptr<Protocol> protocol,
                  const TransportOptions& options,
                  asio::ssl::context* ssl_context)
      : internal::ShutdownListener(stream.get_executor()),
        stream_(std::in_place, std::move(stream)),
        protocol_(std::move(protocol)),
        options_(options),
        ssl_context_(ssl_context) {
    // Remember the endpoints: they cannot be asked of a closed socket.
    boost::system::error_code ignored;
    peername_ = LowestLayer(*stream_).remote_endpoint(ignored);
    sockname_ = LowestLayer(*stream_).local_endpoint(ignored);
    if constexpr (std::is_same_v<Endpoint, asio::ip::tcp::endpoint>) {
      // asyncio: base_events._set_nodelay() on every TCP connection.
      LowestLayer(*stream_).set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    if constexpr (kTls) {
      // Not zero-filled: untouched pages cost no memory.
      read_buffer_.reset(new char[options_.read_chunk_size]);
    } else {
      // Plain sockets are written as asyncio does: at once, what the kernel
      // takes.
      LowestLayer(*stream_).non_blocking(true, ignored);
      wait_buffer_.reset(new char[kWaitBufferBytes]);
    }
  }

  void Start(bool connection_made) {
    if (connection_made) {
      absl::Status made = protocol_->ConnectionMade(this->shared_from_this());
      if (!made.ok()) return ForceClose(std::move(made));
    }
    StartIdleTimer();
    StartReading();
  }

  // ---- Reading (asyncio: _read_ready, pause_reading, resume_reading) ----

  absl::Status PauseReading() override {
    if (!closing_) {
      paused_ = true;
      StopReceiving();
    }
    return absl::OkStatus();
  }

  void ResumeReading() override {
    if (closing_ || !paused_) return;
    paused_ = false;
    StartReading();
  }

  // ---- Writing (asyncio: write, _write_ready, write_eof) ----

  absl::Status Write(ByteView bytes) override {
    absl::string_view data = bytes;
    if (!data.empty()) TouchIdle();
    // asyncio checks write_eof() before anything else, so even b'' raises.
    if (eof_requested_) {
      return RuntimeError("Cannot call write() after write_eof()");
    }
    if (data.empty()) return absl::OkStatus();
    // asyncio drops writes once the connection is lost; its TLS transport
    // drops them as soon as it is closing (state FLUSHING), while a plain one
    // still sends what is written during a close that flushes.
    if (lost_ || (kTls && closing_)) {
      DropWrite();
      return absl::OkStatus();
    }
    if constexpr (!kTls) {
      // asyncio: with nothing buffered, try to send at once; buffer only
      // what the kernel did not take.
      if (WriteBufferEmpty() && !upgrading_) {
        boost::system::error_code error;
        const size_t sent =
            stream_->write_some(asio::buffer(data.data(), data.size()), error);
        if (error && !IsWouldBlock(error)) {
          // asyncio: _fatal_error(); write() itself returns normally.
          ForceClose(IoError(error));
          return absl::OkStatus();
        }
        data.remove_prefix(error ? 0 : sent);
        if (data.empty()) return absl::OkStatus();
      }
    }
    write_buffer_.Append(data);
    StartWriting();
    MaybePauseProtocol();
    return absl::OkStatus();
  }

  absl::Status WriteLines(const std::vector<std::string>& lines) override {
    // asyncio: WriteTransport.writelines() is write(b''.join(...)).
    return Write(absl::StrJoin(lines, ""));
  }

  absl::Status WriteEof() override {
    // asyncio's TLS transport raises NotImplementedError (can_write_eof() is
    // False) and stays as it was: later writes go through.
    if constexpr (kTls) return MakeError(ErrorKind::kNotImplementedError, "");
    if (closing_ || eof_requested_ || lost_) return absl::OkStatus();
    eof_requested_ = true;
    if (WriteBufferEmpty()) ShutdownSend();
    return absl::OkStatus();
  }

  bool CanWriteEof() const override { return !kTls; }

  size_t GetWriteBufferSize() const override {
    // asyncio's _force_close empties the buffer; bytes still in a cancelled
    // write do not count once the connection is lost.
    return lost_ ? 0 : write_buffer_.size();
  }

  void SetWriteBufferLimits(size_t high, size_t low) override {
    options_.write_high_water = high;
    options_.write_low_water = low;
    MaybePauseProtocol();
  }

  // ---- Closing (asyncio: close, abort, _force_close, _call_connection_lost)

  void Close() override {
    if (closing_) return;
    closing_ = true;
    if (lost_) return;  // Its context shut down: nothing can run.
    StopReceiving();
    if (WriteBufferEmpty()) FinishClose(absl::OkStatus());
  }

  void Abort() override { ForceClose(absl::OkStatus()); }

  bool IsClosing() const override { return closing_; }

  std::any GetExtraInfo(absl::string_view name) const override {
    if (name == "peername") return peername_;
    if (name == "sockname") return sockname_;
    if (!stream_) return {};  // Freed when its context shut down.
    if (name == "socket") {
      return const_cast<Stream&>(*stream_).lowest_layer().native_handle();
    }
    if constexpr (kTls) {
      return TlsOps<Stream>::ExtraInfo(const_cast<Stream&>(*stream_), name,
                                       ssl_context_);
    }
    return {};
  }

  bool CanStartTls() const override {
    return kCanStartTls && (kTls || tls_layer::TlsLayerLinked()) && stream_ &&
           !closing_ && !lost_ && !upgrading_;
  }

  void StartTls(TlsUpgrade upgrade, TlsUpgradeHandler done) override {
    if (!stream_) return;  // Its context shut down: `done` is dropped.
    if constexpr (!kCanStartTls) {
      Transport::StartTls(std::move(upgrade), std::move(done));
    } else {
      if (!kTls && !tls_layer::TlsLayerLinked()) {
        return done(tls_layer::TlsNotLinkedError());
      }
      if (closing_ || lost_ || upgrade.context == nullptr) {
        return Post([done = std::move(done)]() mutable {
          done(AssertionError("cannot start TLS on a closing transport"));
        });
      }
      upgrading_ = true;
      paused_ = true;
      upgrade_ = std::move(upgrade);
      upgrade_done_ = std::move(done);
      ContinueUpgrade();
    }
  }

  // ---- The execution context shuts down (net/internal/shutdown_service.h)

  // No handler runs again and ConnectionLost() never comes. Free the stream
  // (a socket, and for TLS an engine and timers, must go while the
  // context's services exist: pending operations on it are destroyed
  // uncalled) and the buffers, and let the protocol drop what it holds:
  // that breaks the transport <-> protocol cycle and what hangs off it.
  // IsClosing() keeps its value, as asyncio's is_closing() does once the
  // loop is closed.
  void ContextShutdown() override {
    // The protocol may release the last handle on this transport.
    const std::shared_ptr<SocketTransport> self = this->weak_from_this().lock();
    lost_ = true;
    reading_ = false;
    write_buffer_.Release();
    std::shared_ptr<Protocol> protocol = std::move(protocol_);
    protocol_ = nullptr;
    idle_timer_.reset();  // Before the context's timer service goes.
    stream_.reset();
    read_buffer_.reset();
    upgrade_ = TlsUpgrade();
    upgrade_done_ = nullptr;
    if (protocol != nullptr) protocol->ContextShutdown();
  }

 private:
  using Endpoint = typename std::decay_t<
      decltype(std::declval<Stream&>().lowest_layer())>::endpoint_type;

  template <typename F>
  void Post(F f) {
    streams::internal::PostTo(stream_->get_executor(), std::move(f));
  }

  bool WriteBufferEmpty() const { return write_buffer_.empty(); }

  // No read in flight or posted, and reading is neither paused nor over.
  bool CanStartReading() const {
    return !(reading_ || read_posted_ || paused_ || closing_ || lost_ ||
             eof_received_);
  }

  void StartReading() {
    if (!CanStartReading()) return;
    reading_ = true;
    if constexpr (kTls) {
      stream_->async_read_some(
          asio::buffer(read_buffer_.get(), options_.read_chunk_size),
          [self = this->shared_from_this()](boost::system::error_code error,
                                            size_t n) {
            self->OnRead(error, absl::string_view(self->read_buffer_.get(), n));
          });
    } else if (deferred_read_error_) {
      // The error a follow-up receive met (see OnReceived()): it is this
      // read's answer, as asyncio's next recv() would give it.
      Post([self = this->shared_from_this()] {
        self->OnRead(std::exchange(self->deferred_read_error_, {}), {});
      });
    } else {
      // asyncio: the selector's reader callback, _read_ready. A receive, not
      // a wait for readability: Asio tries it at once and, when nothing is
      // there, waits without re-arming epoll (a wait would cost an
      // epoll_ctl() per read).
      stream_->async_read_some(
          asio::buffer(wait_buffer_.get(),
                       std::min(kWaitBufferBytes, options_.read_chunk_size)),
          asio::bind_cancellation_slot(
              read_cancel_.slot(),
              [self = this->shared_from_this()](boost::system::error_code error,
                                                size_t n) {
                self->OnReceived(error, n);
              }));
    }
  }

  // Plain sockets: the next receive, once what is ready has run (the
  // reader's woken task, which may answer): as asyncio's next recv() comes
  // from the loop's next select. Started now, Asio's speculative recv() would
  // mostly find nothing yet, a system call lost per read.
  void StartReadingLater() {
    read_posted_ = true;
    Post([self = this->shared_from_this()] {
      self->read_posted_ = false;
      self->ReceiveOrStartReading();
    });
  }

  // Plain sockets: while bytes stream in (the last receive filled all it
  // asked for, so the socket may hold more), the next receive goes straight
  // into the thread's buffer: one recv() per chunk, as asyncio's
  // _read_ready does, instead of a small receive, its completion's post and
  // a follow-up recv(). A receive that got less emptied the socket: the next
  // one waits at once (a recv() now would only fail with EAGAIN, before
  // Asio's own attempt fails again).
  void ReceiveOrStartReading() {
    if (!streaming_ || !CanStartReading() || deferred_read_error_) {
      return StartReading();
    }
    char* buffer = ThreadReceiveBuffer(options_.read_chunk_size);
    boost::system::error_code error;
    const size_t n = ReceiveNow(buffer, options_.read_chunk_size, error);
    if (IsWouldBlock(error)) {
      streaming_ = false;
      return StartReading();
    }
    streaming_ = n == options_.read_chunk_size;
    OnRead(error, absl::string_view(buffer, n));
  }

  // Plain sockets: a receive waits with this buffer; what does not fit in it
  // comes from a follow-up recv into the thread's buffer. Small, so that an
  // idle connection holds little (TransportOptions: 8 KiB per connection).
  static constexpr size_t kWaitBufferBytes = 2048;

  // Plain sockets: stops the receive in flight (asyncio removes its reader
  // at pause_reading() and close(): bytes that arrive stay in the socket).
  // A receive already done still delivers.
  void StopReceiving() {
    if constexpr (!kTls) {
      if (reading_) read_cancel_.emit(asio::cancellation_type::terminal);
    }
  }

  // Plain sockets: one non-blocking recv of up to `size` bytes into
  // `buffer`.
  size_t ReceiveNow(char* buffer, size_t size,
                    boost::system::error_code& error) {
    const size_t n = stream_->read_some(asio::buffer(buffer, size), error);
    return error ? 0 : n;
  }

  static bool IsWouldBlock(const boost::system::error_code& error) {
    return error == asio::error::would_block || error == asio::error::try_again;
  }

  // Plain sockets: a receive of `n` bytes into the wait buffer completed.
  void OnReceived(boost::system::error_code error, size_t n) {
    if (broken_pipe_) return ResolveBrokenPipe(error, n);
    if (error == asio::error::operation_aborted && !lost_ && !closing_ &&
        !upgrading_) {
      // Stopped by PauseReading(): nothing was read.
      reading_ = false;
      return StartReading();
    }
    absl::string_view data(wait_buffer_.get(), error ? 0 : n);
    if (!paused_ && !upgrading_ && !closing_ && !lost_) {
      data = WithTheRest(data, deferred_read_error_);
    }
    // Filled: the wait buffer and the follow-up recv() (WithTheRest()) got
    // all of read_chunk_size.
    streaming_ = data.size() == options_.read_chunk_size;
    OnRead(error, data);
  }

  // Plain sockets: `data`, received into the wait buffer, and when it filled
  // the buffer what else the socket holds, up to read_chunk_size (asyncio
  // asks for that much at once): the rest is received now into the thread's
  // buffer, after a copy of `data`. An error there goes to `more_error`
  // (a would-block is none): it comes after these bytes.
  absl::string_view WithTheRest(absl::string_view data,
                                boost::system::error_code& more_error) {
    const size_t n = data.size();
    if (n != kWaitBufferBytes || options_.read_chunk_size <= n) return data;
    char* buffer = ThreadReceiveBuffer(options_.read_chunk_size);
    std::memcpy(buffer, data.data(), n);
    const size_t more =
        ReceiveNow(buffer + n, options_.read_chunk_size - n, more_error);
    if (IsWouldBlock(more_error)) more_error.clear();
    return absl::string_view(buffer, n + more);
  }

  void OnRead(boost::system::error_code error, absl::string_view data) {
    reading_ = false;
    if (upgrading_) {
      // Bytes that raced with StartTls() belong to the TLS handshake.
      if (!error) upgrade_.received.append(data.data(), data.size());
      return ContinueUpgrade();
    }
    if (lost_) return;
    if (closing_) {
      // asyncio stops reading at close(): what arrives now is dropped.
      if constexpr (kTls) ContinueTlsClose();
      return;
    }
    if (!error) {
      if (data.empty()) return StartReading();  // Paused, or resumed since.
      TouchIdle();
      absl::Status received = protocol_->DataReceived(data);
      if (!received.ok()) return ForceClose(std::move(received));
      if constexpr (!kTls) return StartReadingLater();
      return StartReading();
    }
    if (error == asio::error::eof) {
      // asyncio: _read_ready__on_eof.
      eof_received_ = true;
      const bool keep_open = protocol_->EofReceived();
      if (!keep_open || kTls) Close();
      return;
    }
    if (error == asio::error::operation_aborted) return;
    ForceClose(IoError(error));
  }

  // A failed read or write, as asyncio reports it.
  absl::Status IoError(const boost::system::error_code& error) {
    if constexpr (kTls) {
      return TlsOps<Stream>::Error(error, *stream_);
    } else {
      return OsError(error);
    }
  }

  void StartWriting() {
    if (write_buffer_.BeginWrite()) WriteSome();
  }

  void WriteSome() {
    const absl::string_view unsent = write_buffer_.unsent();
    stream_->async_write_some(asio::buffer(unsent.data(), unsent.size()),
                              [self = this->shared_from_this()](
                                  boost::system::error_code error, size_t n) {
                                self->OnWrite(error, n);
                              });
  }

  void OnWrite(boost::system::error_code error, size_t n) {
    if (error) {
      write_buffer_.Fail();
      if (lost_) return;
      if (ReadBeforeBrokenPipe(error)) return;
      return ForceClose(IoError(error));
    }
    TouchIdle();
    if (!write_buffer_.Sent(n)) {
      MaybeResumeProtocol();
      return WriteSome();
    }
    MaybeResumeProtocol();  // May append to the buffer.
    if (!write_buffer_.empty()) return StartWriting();
    if (upgrading_) return ContinueUpgrade();
    if (eof_requested_) ShutdownSend();
    if (closing_ && !lost_) FinishClose(absl::OkStatus());
  }

  // A Unix peer that closed with bytes unread makes send() fail with EPIPE
  // and recv() with ECONNRESET, both ready at once. asyncio's selector loop
  // runs a socket's read callback before its write callback, so it reports
  // ConnectionResetError; Asio's reactor performs writes first. So on EPIPE,
  // while asyncio would have a read callback registered, the read decides,
  // as it would: an error there is the connection's; data is delivered and
  // the EPIPE stands, as after asyncio's read callback. The receive in
  // flight is stopped: if the reactor already did it, its completion brings
  // its answer; if not, it completes stopped and a recv() now answers.
  bool ReadBeforeBrokenPipe(const boost::system::error_code& write_error) {
    if constexpr (kTls) {
      return false;
    } else {
      if (write_error != asio::error::broken_pipe ||
          !(reading_ || read_posted_) || paused_ || closing_ || upgrading_) {
        return false;
      }
      broken_pipe_ = true;
      if (!reading_) {
        // Between two receives (StartReadingLater()): recv() now.
        ResolveBrokenPipe(asio::error::operation_aborted, 0);
        return true;
      }
      StopReceiving();
      return true;  // OnReceived() comes.
    }
  }

  // The read after an EPIPE (see ReadBeforeBrokenPipe()), `n` bytes in the
  // wait buffer or `error`: its error, or the EPIPE after its data.
  void ResolveBrokenPipe(boost::system::error_code error, size_t n) {
    broken_pipe_ = false;
    reading_ = false;
    if (lost_) return;
    absl::string_view data(wait_buffer_.get(), error ? 0 : n);
    if (error == asio::error::operation_aborted) {
      // Stopped before the reactor ran it.
      char* buffer = ThreadReceiveBuffer(options_.read_chunk_size);
      error.clear();
      data = absl::string_view(
          buffer, ReceiveNow(buffer, options_.read_chunk_size, error));
    } else if (!error) {
      data = WithTheRest(data, error);
    }
    if (!data.empty()) {
      absl::Status received = protocol_->DataReceived(data);
      if (!received.ok()) return ForceClose(std::move(received));
      if (lost_) return;
    }
    if (error && error != asio::error::eof && !IsWouldBlock(error)) {
      return ForceClose(IoError(error));
    }
    ForceClose(IoError(asio::error::broken_pipe));
  }

  void ShutdownSend() {
    if constexpr (!kTls) {
      boost::system::error_code ignored;
      stream_->shutdown(asio::socket_base::shutdown_send, ignored);
    }
  }

  // A write to a lost (TLS: closing) connection. asyncio counts these in
  // _conn_lost (which the loss itself makes 1; over TLS only once the
  // connection is lost, not when it starts closing) and logs a warning for
  // each from LOG_THRESHOLD_FOR_CONNLOST_WRITES (5) on; its logger prints to
  // stderr by default.
  void DropWrite() {
    constexpr int kLogThreshold = 5;
    if (dropped_writes_ + (lost_ ? 1 : 0) >= kLogThreshold) {
      std::cerr << (kTls ? "SSL connection is closed"
                         : "socket.send() raised exception.")
                << "\n";
    }
    ++dropped_writes_;
  }

  // asyncio: _maybe_pause_protocol / _maybe_resume_protocol.
  void MaybePauseProtocol() {
    if (!lost_ && write_buffer_.PauseNow(options_.write_high_water)) {
      (void)protocol_->PauseWriting();
    }
  }

  void MaybeResumeProtocol() {
    if (!lost_ && write_buffer_.ResumeNow(options_.write_low_water)) {
      (void)protocol_->ResumeWriting();
    }
  }

  // The write buffer is empty and the transport closing.
  void FinishClose(absl::Status exception) {
    if constexpr (kTls) {
      if (exception.ok()) {
        tls_closing_ = true;
        return ContinueTlsClose();
      }
    }
    lost_ = true;
    Post([self = this->shared_from_this(), exception] {
      self->CallConnectionLost(exception);
    });
  }

  // TLS close: stop reading, send close_notify (waiting at most
  // tls_shutdown_timeout for the peer's), then ConnectionLost(OK).
  void ContinueTlsClose() {
    if constexpr (kTls) {
      if (!tls_closing_ || lost_ || tls_shutdown_started_) return;
      if (reading_) {
        boost::system::error_code ignored;
        LowestLayer(*stream_).cancel(ignored);
        return;  // OnRead comes back here.
      }
      tls_shutdown_started_ = true;
      auto timer =
          std::make_shared<asio::steady_timer>(stream_->get_executor());
      timer->expires_after(options_.tls_shutdown_timeout);
      timer->async_wait(
          [self = this->shared_from_this()](boost::system::error_code error) {
            // A handler queued before cancel() runs with success after the
            // shutdown finished: nothing to stop then.
            if (error || self->lost_) return;
            // Close, not cancel: a cancel between two of the shutdown's
            // socket operations would be lost, and the wait with it.
            boost::system::error_code ignored;
            LowestLayer(*self->stream_).close(ignored);
          });
      TlsOps<Stream>::AsyncShutdown(
          *stream_,
          [self = this->shared_from_this(), timer](boost::system::error_code) {
            timer->cancel();
            if (self->lost_) return;
            self->lost_ = true;
            self->CallConnectionLost(absl::OkStatus());
          });
    }
  }

  // ---- The idle timeout (TransportOptions::idle_timeout) ----
  // Activity only stamps the time: the timer is not re-armed per read or
  // write. When it fires early (there was activity since), it re-arms for
  // the last activity plus the timeout.

  void StartIdleTimer() {
    if (!options_.idle_timeout || lost_ || !stream_) return;
    idle_timer_ = std::make_unique<asio::steady_timer>(stream_->get_executor());
    TouchIdle();
    ArmIdleTimer(last_activity_ + *options_.idle_timeout);
  }

  void TouchIdle() {
    if (idle_timer_) last_activity_ = std::chrono::steady_clock::now();
  }

  void StopIdleTimer() {
    if (idle_timer_) idle_timer_->cancel();
  }

  void ArmIdleTimer(std::chrono::steady_clock::time_point deadline) {
    idle_timer_->expires_at(deadline);
    // Weak: the timer must not keep an abandoned transport alive.
    idle_timer_->async_wait(
        [weak = this->weak_from_this()](boost::system::error_code error) {
          std::shared_ptr<SocketTransport> self = weak.lock();
          if (self != nullptr && !error) self->OnIdleTimer();
        });
  }

  void OnIdleTimer() {
    if (lost_ || !idle_timer_) return;
    const auto deadline = last_activity_ + *options_.idle_timeout;
    if (std::chrono::steady_clock::now() < deadline) {
      return ArmIdleTimer(deadline);
    }
    ForceClose(MakeError(ErrorKind::kTimeoutError,
                         absl::StrCat("connection idle for ",
                                      options_.idle_timeout->count(), " ms")));
  }

  // asyncio: _force_close.
  void ForceClose(absl::Status exception) {
    if (lost_) return;
    write_buffer_.DropPending();
    closing_ = true;
    lost_ = true;
    boost::system::error_code ignored;
    LowestLayer(*stream_).cancel(ignored);
    Post([self = this->shared_from_this(), exception] {
      self->CallConnectionLost(exception);
    });
  }

  // asyncio: _call_connection_lost.
  void CallConnectionLost(absl::Status exception) {
    std::shared_ptr<Protocol> protocol = std::move(protocol_);
    protocol_ = nullptr;
    boost::system::error_code ignored;
    LowestLayer(*stream_).close(ignored);
    if (protocol != nullptr) protocol->ConnectionLost(std::move(exception));
  }

  // StartTls(): wait until the write buffer is sent and no read is in
  // flight, then move the stream (a socket, or a TLS stream: TLS in TLS)
  // into a TLS stream and shake hands.
  void ContinueUpgrade() {
    if constexpr (kCanStartTls) {
      if (!upgrading_) return;
      if (!write_buffer_.empty()) return;  // OnWrite comes back.
      if (reading_) {
        if (!upgrade_cancelled_read_) {
          // A TLS read cancelled while it waits for the socket leaves its
          // engine as it was: nothing was read.
          upgrade_cancelled_read_ = true;
          boost::system::error_code ignored;
          LowestLayer(*stream_).cancel(ignored);
        }
        return;  // OnRead comes back.
      }
      upgrading_ = false;
      closing_ = true;
      lost_ = true;     // This transport is done, without ConnectionLost().
      StopIdleTimer();  // The TLS transport runs its own.
      std::shared_ptr<Protocol> protocol = std::move(protocol_);
      protocol_ = nullptr;
      StartTlsOver<Stream>(
          std::move(*stream_), std::move(upgrade_), protocol, options_,
          /*connection_made=*/false,
          [protocol, done = std::move(upgrade_done_)](
              absl::StatusOr<std::shared_ptr<Transport>> upgraded) mutable {
            if (!upgraded.ok()) protocol->ConnectionLost(upgraded.status());
            done(std::move(upgraded));
          });
    }
  }

  std::optional<Stream> stream_;  // empty once the context shut down
  std::shared_ptr<Protocol> protocol_;
  TransportOptions options_;
  // With options_.idle_timeout only: a connection without one holds none.
  std::unique_ptr<asio::steady_timer> idle_timer_;
  std::chrono::steady_clock::time_point last_activity_;
  asio::ssl::context* ssl_context_;
  Endpoint peername_;
  Endpoint sockname_;

  std::unique_ptr<char[]> read_buffer_;    // TLS only: see ThreadReceiveBuffer
  std::unique_ptr<char[]> wait_buffer_;    // plain only: see kWaitBufferBytes
  asio::cancellation_signal read_cancel_;  // plain only: StopReceiving()
  boost::system::error_code deferred_read_error_;  // plain only: OnReceived()
  bool broken_pipe_ = false;                       // see ReadBeforeBrokenPipe()
  bool reading_ = false;                           // a read in flight
  bool read_posted_ = false;  // plain only: see StartReadingLater()
  bool streaming_ = false;    // plain only: see ReceiveOrStartReading()
  bool paused_ = false;
  bool eof_received_ = false;

  internal::WriteBuffer write_buffer_;
  bool eof_requested_ = false;
  int dropped_writes_ = 0;  // see DropWrite()

  bool closing_ = false;
  bool lost_ = false;  // ConnectionLost() is called or scheduled
  bool tls_closing_ = false;
  bool tls_shutdown_started_ = false;

  bool upgrading_ = false;
  bool upgrade_cancelled_read_ = false;
  TlsUpgrade upgrade_;
  TlsUpgradeHandler upgrade_done_;
};

}  // namespace transport_impl

template <typename Stream>
std::shared_ptr<Transport> StartSocketTransport(
    Stream stream, std::shared_ptr<Protocol> protocol,
    const TransportOptions& options, boost::asio::ssl::context* ssl_context,
    bool connection_made) {
  auto transport = std::make_shared<transport_impl::SocketTransport<Stream>>(
      std::move(stream), std::move(protocol), options, ssl_context);
  transport->Start(connection_made);
  return transport;
}

}  // namespace streams::net

#endif  // STREAMS_NET_SOCKET_TRANSPORT_IMPL_H_
