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
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "streams/byte_view.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace streams {

class Transport;

// What StreamWriter::AsyncStartTls() asks of a transport.
struct TlsUpgrade {
  boost::asio::ssl::context* context = nullptr;  // not owned; must outlive
  bool server_side = false;
  // Client side: SNI and the name the certificate must match; empty: no
  // hostname check (asyncio: server_hostname='').
  std::string server_hostname;
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds shutdown_timeout = std::chrono::seconds(30);
  // Bytes already read off the connection (the reader's buffer) that belong
  // to the TLS handshake: fed to the TLS engine before anything else.
  std::string received;
};

using TlsUpgradeHandler =
    absl::AnyInvocable<void(absl::StatusOr<std::shared_ptr<Transport>>)>;

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
  //
  // Errors: kFailedPrecondition RuntimeError "Cannot call write() after
  //   write_eof()" once WriteEof() was called, even for no bytes (asyncio
  //   checks that first); nothing is queued then. Writes to a transport whose
  //   connection is lost (over TLS: that is closing) are dropped and return
  //   OK, as asyncio's are: it counts them and logs a warning from the fifth
  //   on.
  [[nodiscard]] virtual absl::Status Write(ByteView data) = 0;
  [[nodiscard]] virtual absl::Status WriteLines(
      const std::vector<std::string>& lines) = 0;

  // Transport::GetWriteBufferSize(), Transport::SetWriteBufferLimits()
  //
  // Bytes written and not yet sent; the water marks around which the
  // transport pauses and resumes the protocol's writing. Defaults: 0; no-op.
  virtual size_t GetWriteBufferSize() const { return 0; }
  virtual void SetWriteBufferLimits(size_t high, size_t low) {
    (void)high;
    (void)low;
  }

  // Transport::WriteEof(), Transport::CanWriteEof()
  //
  // Half-close after the buffered bytes are sent (shutdown of the send side).
  // A transport that cannot (CanWriteEof() false: TLS) returns
  // kUnimplemented NotImplementedError and changes nothing, as asyncio's
  // write_eof() raises it.
  [[nodiscard]] virtual absl::Status WriteEof() = 0;
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

  // Transport::StartTls()
  //
  // Upgrades this connection to TLS in place: stops reading, runs the
  // handshake on the same socket, and hands `done` the TLS transport, which
  // calls the same protocol (without a second ConnectionMade()). This
  // transport then is closed without calling ConnectionLost(). `done` runs
  // on the transport's executor, never inside this call. Default:
  // kUnimplemented.
  virtual void StartTls(TlsUpgrade upgrade, TlsUpgradeHandler done);
  // Whether StartTls() would start an upgrade now (false: it refuses, and
  // the reader's buffered bytes must stay with the reader). Default: false.
  virtual bool CanStartTls() const { return false; }
};

}  // namespace streams

#endif  // STREAMS_TRANSPORT_H_
