// -----------------------------------------------------------------------------
// File: net/internal/tls_handshake.h
// -----------------------------------------------------------------------------
//
// The TLS handshake with a deadline, as a template over the stream and the
// timer so that a test can drive the one race that matters here: the deadline
// expiring in the same loop turn as the handshake completing. Private to
// //streams/net: use AsyncTlsHandshake() in tls.h.
//
// The race. When the timer expires, Asio queues its handler with success;
// `timer.cancel()` called after that (from the handshake's completion) cannot
// recall it. The completion hands the stream to its owner, who may free it
// (connection_setup.cc moves it into the transport and destroys the
// original), so the late timer handler must not touch the stream: it reaches
// it only through `State::stream`, which the completion clears first.

#ifndef STREAMS_NET_INTERNAL_TLS_HANDSHAKE_H_
#define STREAMS_NET_INTERNAL_TLS_HANDSHAKE_H_

#include <chrono>
#include <memory>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "boost/asio/ssl/stream_base.hpp"
#include "boost/system/error_code.hpp"

namespace streams::internal {

// AsyncHandshakeWithDeadline()
//
// Starts `stream.async_handshake(type)` and a wait on `timer` for `timeout`.
// If the timer fires first, the stream's lowest layer is closed and
// `done(on_timeout())` runs once the handshake gives up; otherwise
// `done(on_error(error))` on failure or `done(OK)`. `done` runs exactly once,
// from the handshake's completion. `stream` must outlive that completion, and
// only that: nothing touches it afterwards.
//
// Timer: an `asio::steady_timer`, or a test double with `expires_after()`,
// `async_wait(void(error_code))` and `cancel()`.
template <typename Stream, typename Timer>
void AsyncHandshakeWithDeadline(
    Stream& stream, boost::asio::ssl::stream_base::handshake_type type,
    Timer timer, std::chrono::milliseconds timeout,
    absl::AnyInvocable<absl::Status()> on_timeout,
    absl::AnyInvocable<absl::Status(const boost::system::error_code&)> on_error,
    absl::AnyInvocable<void(absl::Status)> done) {
  struct State {
    Timer timer;
    Stream* stream;  // Cleared when the handshake completes.
    bool timed_out = false;
  };
  auto state = std::make_shared<State>(State{std::move(timer), &stream});
  state->timer.expires_after(timeout);
  state->timer.async_wait([state](boost::system::error_code error) {
    // A handler queued before cancel() still runs with success: the stream
    // may be gone by then.
    if (error || state->stream == nullptr) return;
    state->timed_out = true;
    // Close, not cancel: a cancel that falls between two of the handshake's
    // socket operations would be lost, and the handshake would wait on.
    // asyncio aborts the connection here too.
    boost::system::error_code ignored;
    state->stream->lowest_layer().close(ignored);
  });
  stream.async_handshake(
      type, [state, on_timeout = std::move(on_timeout),
             on_error = std::move(on_error),
             done = std::move(done)](boost::system::error_code error) mutable {
        state->stream = nullptr;
        state->timer.cancel();
        if (state->timed_out) return done(on_timeout());
        if (error) return done(on_error(error));
        done(absl::OkStatus());
      });
}

}  // namespace streams::internal

#endif  // STREAMS_NET_INTERNAL_TLS_HANDSHAKE_H_
