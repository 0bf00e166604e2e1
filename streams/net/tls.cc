#include "streams/net/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "boost/asio/ip/address.hpp"
#include "boost/asio/ssl/error.hpp"
#include "boost/asio/steady_timer.hpp"
#include "streams/errors.h"
#include "streams/net/internal/tls_handshake.h"

namespace streams::net {

namespace asio = ::boost::asio;

asio::ssl::context MakeClientTlsContext() {
  asio::ssl::context context(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  context.set_verify_mode(asio::ssl::verify_peer);
  context.set_default_verify_paths();
  return context;
}

asio::ssl::context MakeServerTlsContext() {
  asio::ssl::context context(asio::ssl::context::tls_server);
  SSL_CTX* native = context.native_handle();
  // CPython's _ssl__SSLContext_impl() for PROTOCOL_TLS_SERVER, then
  // create_default_context(Purpose.CLIENT_AUTH), which adds nothing for a
  // server (no CA is loaded: verify_mode stays CERT_NONE).
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(
      native, (SSL_OP_ALL & ~SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS) |
                  SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_COMPRESSION |
                  SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_DH_USE |
                  SSL_OP_SINGLE_ECDH_USE);
  SSL_CTX_set_cipher_list(native, kPythonDefaultCiphers);
  context.set_verify_mode(asio::ssl::verify_none);
  return context;
}

std::string PythonSeconds(std::chrono::milliseconds duration) {
  const double seconds = duration.count() / 1000.0;
  if (duration.count() % 1000 == 0) return absl::StrFormat("%.1f", seconds);
  return absl::StrFormat("%g", seconds);
}

namespace {

// The reason part of a verification failure, as CPython's _ssl.c
// (fill_and_set_sslerror) words it: its own sentences for the two name
// mismatches, naming the server_hostname asked for; OpenSSL's text for the
// rest.
std::string VerifyErrorText(long verify, SSL* ssl) {
  if (verify == X509_V_ERR_HOSTNAME_MISMATCH ||
      verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    std::string name;
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH) {
      const char* host = X509_VERIFY_PARAM_get0_host(param, 0);
      if (host != nullptr) name = host;
    } else if (char* ip = X509_VERIFY_PARAM_get1_ip_asc(param)) {
      name = ip;
      OPENSSL_free(ip);
    }
    return absl::StrCat(verify == X509_V_ERR_HOSTNAME_MISMATCH
                            ? "Hostname mismatch"
                            : "IP address mismatch",
                        ", certificate is not valid for '", name, "'.");
  }
  return X509_verify_cert_error_string(verify);
}

// Client side: what CPython's SSLSocket does with server_hostname
// (_ssl__SSLContext__wrap_socket_impl, _ssl_configure_hostname): a DNS name
// goes out as SNI and is checked by OpenSSL itself during verification
// (SSL_set1_host, with CPython's X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS); an IP
// address is checked against the certificate's IP entries and sent as no
// SNI (RFC 6066 allows only names there). OpenSSL's own check, unlike
// asio::ssl::host_name_verification, records X509_V_ERR_HOSTNAME_MISMATCH
// (so the error can say so) and sends the peer a bad_certificate alert
// instead of internal_error.
void SetServerHostname(SSL* ssl, const std::string& hostname) {
  boost::system::error_code not_ip;
  asio::ip::make_address(hostname, not_ip);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (!not_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, hostname.c_str());
    return;
  }
  SSL_set_tlsext_host_name(ssl, hostname.c_str());
  SSL_set1_host(ssl, hostname.c_str());
}

}  // namespace

absl::Status TlsError(const boost::system::error_code& error, SSL* ssl) {
  const std::error_code code = error;
  if (error == asio::ssl::error::stream_truncated) {
    return MakeOsError(ErrorKind::kSSLError, code,
                       "EOF occurred in violation of protocol");
  }
  if (error.category() == asio::error::get_ssl_category()) {
    const unsigned long packed = static_cast<unsigned long>(error.value());
    const char* reason = ERR_reason_error_string(packed);
    std::string name =
        absl::AsciiStrToUpper(reason != nullptr ? reason : "UNKNOWN");
    for (char& c : name) {
      if (c == ' ') c = '_';
    }
    if (ERR_GET_REASON(packed) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
      const long verify =
          ssl != nullptr ? SSL_get_verify_result(ssl) : X509_V_OK;
      return MakeOsError(
          ErrorKind::kSSLCertVerificationError, code,
          absl::StrCat("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
                       "failed: ",
                       VerifyErrorText(verify, ssl)));
    }
    // CPython: "[SSL: <NAME>] <reason>" (Asio's message() appends the
    // library, " (SSL routines)", which CPython does not show).
    return MakeOsError(
        ErrorKind::kSSLError, code,
        absl::StrCat("[SSL: ", name, "] ",
                     reason != nullptr ? reason : error.message()));
  }
  return OsError(code);
}

template <typename Socket>
void AsyncTlsHandshake(TlsStream<Socket>& stream, bool server_side,
                       const std::string& hostname,
                       std::chrono::milliseconds timeout,
                       absl::AnyInvocable<void(absl::Status)> done) {
  SSL* ssl = stream.native_handle();
  if (!server_side && !hostname.empty()) SetServerHostname(ssl, hostname);
  internal::AsyncHandshakeWithDeadline(
      stream,
      server_side ? asio::ssl::stream_base::server
                  : asio::ssl::stream_base::client,
      asio::steady_timer(stream.get_executor()), timeout,
      [timeout] {
        // asyncio (sslproto._check_handshake_timeout): ConnectionAbortedError.
        return MakeError(ErrorKind::kConnectionAbortedError,
                         absl::StrCat("SSL handshake is taking longer than ",
                                      PythonSeconds(timeout),
                                      " seconds: aborting the connection"));
      },
      // Runs inside the handshake's completion, while the stream lives.
      [ssl](const boost::system::error_code& error) {
        return TlsError(error, ssl);
      },
      std::move(done));
}

template void AsyncTlsHandshake<TcpSocket>(
    TlsStream<TcpSocket>&, bool, const std::string&, std::chrono::milliseconds,
    absl::AnyInvocable<void(absl::Status)>);
template void AsyncTlsHandshake<UnixSocket>(
    TlsStream<UnixSocket>&, bool, const std::string&, std::chrono::milliseconds,
    absl::AnyInvocable<void(absl::Status)>);
// TLS in TLS: StartTls() on a TLS transport.
template void AsyncTlsHandshake<TlsStream<TcpSocket>>(
    TlsStream<TlsStream<TcpSocket>>&, bool, const std::string&,
    std::chrono::milliseconds, absl::AnyInvocable<void(absl::Status)>);
template void AsyncTlsHandshake<TlsStream<UnixSocket>>(
    TlsStream<TlsStream<UnixSocket>>&, bool, const std::string&,
    std::chrono::milliseconds, absl::AnyInvocable<void(absl::Status)>);

}  // namespace streams::net
