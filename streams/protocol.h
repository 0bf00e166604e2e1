// -----------------------------------------------------------------------------
// File: protocol.h
// -----------------------------------------------------------------------------
//
// `streams::Protocol` is what a Transport calls back: asyncio's Protocol
// (BaseProtocol + Protocol), with asyncio's defaults (do nothing; EOF closes).
// StreamReaderProtocol implements it; a transport holds its protocol with a
// shared_ptr, as asyncio's transports hold theirs.
//
// Threads: every call comes from the transport's executor.

#ifndef STREAMS_PROTOCOL_H_
#define STREAMS_PROTOCOL_H_

#include <memory>

#include "absl/status/status.h"
#include "streams/byte_view.h"

namespace streams {

class Transport;

class Protocol {
 public:
  virtual ~Protocol() = default;

  // The connection is up; `transport` is the caller. A non-OK status aborts
  // it.
  virtual absl::Status ConnectionMade(std::shared_ptr<Transport> transport) {
    (void)transport;
    return absl::OkStatus();
  }

  // Bytes arrived. A non-OK status is a fatal error for the connection.
  virtual absl::Status DataReceived(ByteView data) {
    (void)data;
    return absl::OkStatus();
  }

  // The peer shut down its sending side. Returning true keeps the transport
  // open for writing (a half-close); false closes it.
  virtual bool EofReceived() { return false; }

  // Called exactly once when the connection ends; `exception` is OK for a
  // clean close (asyncio: None).
  virtual void ConnectionLost(absl::Status exception) { (void)exception; }

  // The transport's write buffer passed its high-water mark / drained to its
  // low-water mark.
  virtual absl::Status PauseWriting() { return absl::OkStatus(); }
  virtual absl::Status ResumeWriting() { return absl::OkStatus(); }

  // Protocol::ContextShutdown()
  //
  // The transport's execution context is shutting down (its io_context is
  // being destroyed): nothing is called again, ConnectionLost() included.
  // Drop what could keep the transport or pending operations alive, call no
  // handler; the transport drops its reference to this protocol next (it
  // holds one during the call). No asyncio counterpart: in asyncio a closed
  // loop leaves its transports for the garbage collector to find.
  virtual void ContextShutdown() {}
};

}  // namespace streams

#endif  // STREAMS_PROTOCOL_H_
