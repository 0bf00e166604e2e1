// -----------------------------------------------------------------------------
// File: net/tls.h
// -----------------------------------------------------------------------------
//
// TLS pieces shared by AsyncOpenConnection, AsyncStartServer and
// StreamWriter::AsyncStartTls: a client context with Python's defaults, the
// handshake with its timeout, and OpenSSL errors as asyncio reports them.

#ifndef STREAMS_NET_TLS_H_
#define STREAMS_NET_TLS_H_

#include <chrono>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "boost/asio/ssl/context.hpp"
#include "boost/system/error_code.hpp"
#include "streams/net/socket_transport.h"

namespace streams::net {

// MakeClientTlsContext()
//
// What Python's ssl.create_default_context() gives a client: TLS 1.2 or
// later, the peer's certificate verified against the system's CAs (add yours
// with load_verify_file()); AsyncOpenConnection() adds SNI and hostname
// verification.
boost::asio::ssl::context MakeClientTlsContext();

// TlsError()
//
// An OpenSSL failure as asyncio reports it: SSLCertVerificationError
// (kPermissionDenied) "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify
// failed: <reason>" when verification failed, else SSLError (kUnavailable)
// "[SSL: <REASON>] <text>"; both carry the error code. `ssl` may be null.
absl::Status TlsError(const boost::system::error_code& error, SSL* ssl);

// AsyncTlsHandshake()
//
// Client side with a non-empty `hostname`: sends it as SNI and verifies the
// certificate against it (if the context verifies peers). Completes `done`
// on the stream's executor with OK, TlsError(), or after `timeout` with
// ConnectionAbortedError (kUnavailable, as asyncio) "SSL handshake is taking
// longer than <s> seconds: aborting the connection". `stream` must stay alive
// until then.
template <typename Socket>
void AsyncTlsHandshake(TlsStream<Socket>& stream, bool server_side,
                       const std::string& hostname,
                       std::chrono::milliseconds timeout,
                       absl::AnyInvocable<void(absl::Status)> done);

// Python's str() of a float number of seconds: "60.0", "0.25".
std::string PythonSeconds(std::chrono::milliseconds duration);

}  // namespace streams::net

#endif  // STREAMS_NET_TLS_H_
