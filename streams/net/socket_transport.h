// -----------------------------------------------------------------------------
// File: net/socket_transport.h
// -----------------------------------------------------------------------------
//
// The Transport over an Asio socket, with the behaviour of asyncio's selector
// socket transport:
//
//   - a read loop that asks for up to `read_chunk_size` bytes at a time and
//     stops while paused (a read already in flight still delivers: so a
//     connection holds at most 2 * limit + read_chunk_size received bytes);
//   - a write buffer that calls PauseWriting() past `write_high_water` and
//     ResumeWriting() once drained to `write_low_water` (asyncio's defaults:
//     64 KiB and 16 KiB);
//   - EOF from the peer calls EofReceived(): true keeps the transport open
//     for writing (half-close), false closes it (TLS always closes);
//   - WriteEof() shuts the send side down once the buffer is sent (not over
//     TLS: CanWriteEof() is false); Close() flushes, then closes (TLS: sends
//     close_notify, waiting at most `tls_shutdown_timeout`); Abort() closes at
//     once, dropping the buffer;
//   - exactly one ConnectionLost(): OK after Close()/Abort()/EOF, else the
//     error (ConnectionResetError, BrokenPipeError, ..., SSLError, and for a
//     TLS peer that closes without close_notify, SSLError "EOF occurred in
//     violation of protocol").
//
// One implementation serves TCP, Unix-domain and TLS (over either) streams:
// StartSocketTransport() is instantiated for TcpSocket and UnixSocket in
// //streams/net, and for the TLS streams in //streams/net:tls (include
// tls.h for them).
//
// Threads: everything runs on the stream's executor (a strand per connection
// when the io_context has several threads).
//
// Lifetime: the transport and its protocol keep each other alive until
// ConnectionLost(). If the execution context shuts down first (the
// io_context is destroyed), the transport frees its socket and buffers and
// calls Protocol::ContextShutdown() instead, so that handles kept past the
// io_context hold no cycle and nothing that reaches into the dead context.

#ifndef STREAMS_NET_SOCKET_TRANSPORT_H_
#define STREAMS_NET_SOCKET_TRANSPORT_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/local/stream_protocol.hpp"
#include "streams/protocol.h"
#include "streams/transport.h"

// Declared only: TLS is //streams/net:tls (tls.h has the definitions), and a
// plain user's code must not pull OpenSSL in through this header.
namespace boost::asio::ssl {
class context;
template <typename Stream>
class stream;
}  // namespace boost::asio::ssl

namespace streams::net {

template <typename Stream>
class PrefixedStream;  // net/internal/prefixed_stream.h

// Sizes and timeouts of a socket transport.
struct TransportOptions {
  // Bytes asked of the socket per read: asyncio's max_size, 256 KiB. A
  // plain socket's read waits with a 2 KiB buffer of its own and takes the
  // rest, when there is more, into a per-thread buffer (an idle connection
  // holds 2 KiB); a TLS transport keeps one of this size.
  size_t read_chunk_size = 256 * 1024;
  // Write buffer water marks (asyncio's defaults).
  size_t write_high_water = 64 * 1024;
  size_t write_low_water = 16 * 1024;
  // How long Close() waits for the TLS peer's close_notify.
  std::chrono::milliseconds tls_shutdown_timeout = std::chrono::seconds(30);
  // Beyond asyncio (opt-in; unset: never). A connection that has neither
  // received nor sent a byte for this long is aborted: the protocol's
  // ConnectionLost() gets kDeadlineExceeded TimeoutError "connection idle
  // for N ms": the reader's exception is set, so its waiting read and every
  // later read fail with it (asyncio's readers raise a set exception before
  // looking at the buffer), and a waiting drain fails too. Activity is a
  // received chunk, a Write() with bytes, or bytes the socket took from the
  // write buffer: a slow but moving peer is not idle. Over STARTTLS the clock
  // restarts on the TLS transport. Cost: one timer per connection, a clock read
  // per I/O.
  std::optional<std::chrono::milliseconds> idle_timeout;
};

using TcpSocket = boost::asio::ip::tcp::socket;
using UnixSocket = boost::asio::local::stream_protocol::socket;
template <typename Socket>
using TlsStream = boost::asio::ssl::stream<PrefixedStream<Socket>>;

// StartSocketTransport()
//
// Makes the transport for `stream` (connected; for TLS, after the handshake),
// calls `protocol->ConnectionMade()` (unless `connection_made` is false: a
// StartTls() upgrade keeps the protocol's connection) and starts reading.
// Call it on the stream's executor. `ssl_context` is reported as the
// "sslcontext" extra info of TLS transports.
template <typename Stream>
std::shared_ptr<Transport> StartSocketTransport(
    Stream stream, std::shared_ptr<Protocol> protocol,
    const TransportOptions& options,
    boost::asio::ssl::context* ssl_context = nullptr,
    bool connection_made = true);

}  // namespace streams::net

#endif  // STREAMS_NET_SOCKET_TRANSPORT_H_
