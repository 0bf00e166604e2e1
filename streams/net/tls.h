// -----------------------------------------------------------------------------
// File: net/tls.h
// -----------------------------------------------------------------------------
//
// TLS for //streams/net: what AsyncOpenConnection, AsyncStartServer and
// StreamWriter::AsyncStartTls use when given a TLS context. Its target,
// //streams/net:tls (CMake: asyncio_streams::tls), is what links TLS and
// OpenSSL in: without it //streams/net serves plain TCP and Unix sockets
// and a TLS request fails with NotImplementedError. Here: client and server
// contexts with Python's defaults, the handshake with its timeout, and
// OpenSSL errors as asyncio reports them.
//
// Example: a TLS server.
//
//   boost::asio::ssl::context tls = streams::net::MakeServerTlsContext();
//   tls.use_certificate_chain_file("server.pem");
//   tls.use_private_key_file("server.key", boost::asio::ssl::context::pem);
//   streams::ServerOptions options;
//   options.ssl = &tls;  // must outlive the server and its connections

#ifndef STREAMS_NET_TLS_H_
#define STREAMS_NET_TLS_H_

#include <chrono>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/ssl/stream.hpp"
#include "boost/system/error_code.hpp"
#include "streams/net/internal/prefixed_stream.h"
#include "streams/net/socket_transport.h"
#include "streams/net/tls_layer.h"

namespace streams::net {

// MakeClientTlsContext()
//
// What Python's ssl.create_default_context() gives a client: TLS 1.2 or
// later, the peer's certificate verified against the system's CAs (add yours
// with load_verify_file()); AsyncOpenConnection() adds SNI and hostname
// verification.
boost::asio::ssl::context MakeClientTlsContext();

// MakeServerTlsContext()
//
// Extension: what Python's ssl.create_default_context(Purpose.CLIENT_AUTH)
// gives a server (CPython 3.11.7, Lib/ssl.py and Modules/_ssl.c): protocol
// TLS_SERVER, TLS 1.2 or later; options OP_ALL (without
// OP_DONT_INSERT_EMPTY_FRAGMENTS), OP_NO_SSLv2, OP_NO_SSLv3,
// OP_NO_COMPRESSION, OP_CIPHER_SERVER_PREFERENCE, OP_SINGLE_DH_USE,
// OP_SINGLE_ECDH_USE; Python's default cipher string
// (kPythonDefaultCiphers); no client certificate asked for (CERT_NONE: to
// require one, set_verify_mode(verify_peer | verify_fail_if_no_peer_cert)
// and load_verify_file()). It has no certificate: load yours before
// serving. Never fails (a context OpenSSL cannot build throws, as Asio's
// constructor does).
boost::asio::ssl::context MakeServerTlsContext();

// CPython 3.11.7's PY_SSL_DEFAULT_CIPHER_STRING (TLS 1.2 and below; TLS 1.3
// suites are OpenSSL's defaults), which both helpers set.
inline constexpr char kPythonDefaultCiphers[] =
    "@SECLEVEL=2:ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES:!aNULL:!eNULL:"
    "!aDSS:!SHA1:!AESCCM";

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

namespace tls_layer {
// Links //streams/net:tls's TLS layer into every program that includes this
// header, whatever its build does with unreferenced objects (tls_layer.h).
inline const bool kLinked = LinkTlsLayer();
}  // namespace tls_layer

}  // namespace streams::net

#endif  // STREAMS_NET_TLS_H_
