// -----------------------------------------------------------------------------
// File: transport.h
// -----------------------------------------------------------------------------
//
// `streams::Transport` is what a StreamReader, StreamReaderProtocol and
// StreamWriter talk to: the C++ counterpart of asyncio's Transport (a
// ReadTransport and a WriteTransport). The socket transports implement it over
// Asio sockets; `streams::testing::FakeTransport` records every call for
// tests and the conformance testee.
//
// Threads: a transport lives on its connection's executor, like the reader and
// protocol bound to it; every call below is made from that executor.

#ifndef STREAMS_TRANSPORT_H_
#define STREAMS_TRANSPORT_H_

#include <any>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace streams {

class Transport {
 public:
  virtual ~Transport() = default;

  // Transport::PauseReading()
  //
  // Stops delivering received data to the protocol until ResumeReading().
  // Returns kUnimplemented (asyncio: NotImplementedError) when this transport
  // cannot pause; the reader then forgets it and buffers everything.
  virtual absl::Status PauseReading() = 0;

  // Transport::ResumeReading()
  virtual void ResumeReading() = 0;

  // Transport::Write(), Transport::WriteLines()
  //
  // Queue bytes for sending; never block. The transport calls the protocol's
  // PauseWriting()/ResumeWriting() around its high/low water marks.
  virtual void Write(absl::string_view data) = 0;
  virtual void WriteLines(const std::vector<std::string>& lines) = 0;

  // Transport::WriteEof(), Transport::CanWriteEof()
  //
  // Half-close after the buffered bytes are sent (shutdown of the send side).
  virtual void WriteEof() = 0;
  virtual bool CanWriteEof() const = 0;

  // Transport::Close(), Transport::Abort(), Transport::IsClosing()
  //
  // Close() flushes, then closes; Abort() closes at once, dropping the write
  // buffer. Either ends with exactly one ConnectionLost() on the protocol.
  virtual void Close() = 0;
  virtual void Abort() = 0;
  virtual bool IsClosing() const = 0;

  // Transport::GetExtraInfo()
  //
  // asyncio's get_extra_info(name): "peername", "sockname", "socket",
  // "sslcontext", "peercert", ...; an empty `std::any` when unknown.
  virtual std::any GetExtraInfo(absl::string_view name) const = 0;
};

}  // namespace streams

#endif  // STREAMS_TRANSPORT_H_
