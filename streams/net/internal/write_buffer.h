// -----------------------------------------------------------------------------
// File: net/internal/write_buffer.h
// -----------------------------------------------------------------------------
//
// `WriteBuffer` is a socket transport's write buffer as asyncio's selector
// transports keep it: what write() could not send at once, handed to the
// socket one piece at a time, and the high/low water marks that pause and
// resume the protocol's writing (asyncio: _maybe_pause_protocol,
// _maybe_resume_protocol). It does no I/O. Private to //streams/net.

#ifndef STREAMS_NET_INTERNAL_WRITE_BUFFER_H_
#define STREAMS_NET_INTERNAL_WRITE_BUFFER_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace streams::net::internal {

class WriteBuffer {
 public:
  // Bytes written and not yet taken by the socket.
  size_t size() const { return pending_.size() + inflight_.size() - offset_; }
  // Nothing buffered and no write in flight.
  bool empty() const { return !writing_ && pending_.empty(); }
  bool writing() const { return writing_; }

  void Append(absl::string_view data) {
    pending_.append(data.data(), data.size());
  }

  // Hands what is buffered to a socket write: false when a write is in
  // flight already or nothing is buffered.
  bool BeginWrite();
  // What the write in flight has still to send.
  absl::string_view unsent() const {
    return absl::string_view(inflight_).substr(offset_);
  }
  // The socket took `n` more bytes of the write in flight; true when it
  // took them all (the write is over: BeginWrite() may start the next).
  bool Sent(size_t n);

  // The write failed: nothing is in flight or buffered any more.
  void Fail();
  // asyncio's _force_close: what is buffered goes (a write in flight is
  // being cancelled and reports back).
  void DropPending() { pending_.clear(); }
  // The execution context is gone: frees the memory too.
  void Release();

  // asyncio: _maybe_pause_protocol. True when the protocol must be paused
  // now: above `high` and not paused yet.
  bool PauseNow(size_t high);
  // asyncio: _maybe_resume_protocol. True when the protocol must be resumed
  // now: paused, and at or below `low`.
  bool ResumeNow(size_t low);

 private:
  std::string pending_;   // written, not yet handed to the socket
  std::string inflight_;  // handed to the socket
  size_t offset_ = 0;     // of inflight_, taken by the socket
  bool writing_ = false;
  bool protocol_paused_ = false;
};

}  // namespace streams::net::internal

#endif  // STREAMS_NET_INTERNAL_WRITE_BUFFER_H_
