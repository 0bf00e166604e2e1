#include "streams/net/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "boost/asio/ssl/error.hpp"
#include "boost/asio/ssl/host_name_verification.hpp"
#include "boost/asio/steady_timer.hpp"
#include "streams/errors.h"
#include "streams/net/internal/tls_handshake.h"

namespace streams::net {

asio::ssl::context MakeClientTlsContext() {
  asio::ssl::context context(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  context.set_verify_mode(asio::ssl::verify_peer);
  context.set_default_verify_paths();
  return context;
}

std::string PythonSeconds(std::chrono::milliseconds duration) {
  const double seconds = duration.count() / 1000.0;
  if (duration.count() % 1000 == 0) return absl::StrFormat("%.1f", seconds);
  return absl::StrFormat("%g", seconds);
}

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
                       X509_verify_cert_error_string(verify)));
    }
    return MakeOsError(ErrorKind::kSSLError, code,
                       absl::StrCat("[SSL: ", name, "] ", error.message()));
  }
  return OsError(code);
}

template <typename Socket>
void AsyncTlsHandshake(TlsStream<Socket>& stream, bool server_side,
                       const std::string& hostname,
                       std::chrono::milliseconds timeout,
                       absl::AnyInvocable<void(absl::Status)> done) {
  if (!server_side && !hostname.empty()) {
    SSL_set_tlsext_host_name(stream.native_handle(), hostname.c_str());
    stream.set_verify_callback(asio::ssl::host_name_verification(hostname));
  }
  SSL* ssl = stream.native_handle();
  internal::AsyncHandshakeWithDeadline(
      stream,
      server_side ? asio::ssl::stream_base::server
                  : asio::ssl::stream_base::client,
      asio::steady_timer(stream.get_executor()), timeout,
      [timeout] {
        return MakeError(ErrorKind::kTimeoutError,
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

}  // namespace streams::net
