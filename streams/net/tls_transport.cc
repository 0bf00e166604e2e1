// The socket transport over TLS streams (asyncio's _SSLProtocolTransport),
// and the TLS layer that lets plain sockets start TLS sessions: what
// //streams/net:tls adds to //streams/net.

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <any>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/ssl/stream.hpp"
#include "streams/net/internal/prefixed_stream.h"
#include "streams/net/socket_transport.h"
#include "streams/net/socket_transport_impl.h"
#include "streams/net/tls.h"
#include "streams/net/tls_layer.h"

// The TLS streams' TlsOps come first, then StartTlsSession(); the
// transports are instantiated at the end of the file, where both are known.

namespace streams::net {
namespace {

namespace asio = ::boost::asio;

// The certificate the TLS peer presented, in PEM; empty when none.
std::string PeerCertificatePem(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return "";
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, size);
  BIO_free(bio);
  X509_free(cert);
  return pem;
}

}  // namespace

namespace transport_impl {

template <typename Socket>
struct TlsOps<TlsStream<Socket>> {
  using Stream = TlsStream<Socket>;

  static std::any ExtraInfo(Stream& stream, absl::string_view name,
                            asio::ssl::context* context) {
    SSL* ssl = stream.native_handle();
    if (ssl == nullptr) return {};  // Moved into a TLS-in-TLS stream.
    if (name == "sslcontext") return context;
    if (name == "ssl_object") return ssl;
    if (name == "peercert") return PeerCertificatePem(ssl);
    if (name == "cipher") return std::string(SSL_get_cipher_name(ssl));
    return {};
  }

  static absl::Status Error(const boost::system::error_code& error,
                            Stream& stream) {
    return TlsError(error, stream.native_handle());
  }

  // Shuts the stream's TLS layers down, the outermost first, then calls
  // `done`: asyncio closes the transport under a TLS transport once that
  // one's shutdown is done, and a TLS transport's close is its shutdown.
  template <typename Done>
  static void AsyncShutdown(Stream& stream, Done done) {
    stream.async_shutdown([&stream, done = std::move(done)](
                              boost::system::error_code error) mutable {
      if constexpr (TlsDepth<Socket>::value > 0) {
        // `stream` lives in the transport, which `done` keeps alive.
        if (!error) {
          return TlsOps<Socket>::AsyncShutdown(stream.next_layer().next_layer(),
                                               std::move(done));
        }
      }
      done(error);
    });
  }

  // TLS in TLS: StartTlsOver() on this TLS stream.
  static void StartTlsOver(Stream stream, TlsUpgrade upgrade,
                           std::shared_ptr<Protocol> protocol,
                           const TransportOptions& options,
                           bool connection_made, TlsUpgradeHandler done);
};

}  // namespace transport_impl

namespace {

// StartTlsOver() for any stream: a TLS stream over it, its handshake, then
// its transport.
template <typename Stream>
void StartTlsSession(Stream stream, TlsUpgrade upgrade,
                     std::shared_ptr<Protocol> protocol,
                     const TransportOptions& options, bool connection_made,
                     TlsUpgradeHandler done) {
  auto tls = std::make_shared<TlsStream<Stream>>(
      PrefixedStream<Stream>(std::move(stream), std::move(upgrade.received)),
      *upgrade.context);
  // Read before `upgrade` moves into the completion.
  const bool server_side = upgrade.server_side;
  const std::string hostname = upgrade.server_hostname;
  const std::chrono::milliseconds timeout = upgrade.handshake_timeout;
  AsyncTlsHandshake<Stream>(
      *tls, server_side, hostname, timeout,
      [tls, protocol = std::move(protocol), options, connection_made,
       upgrade = std::move(upgrade),
       done = std::move(done)](absl::Status shaken) mutable {
        if (!shaken.ok()) {
          boost::system::error_code ignored;
          tls->lowest_layer().close(ignored);
          return done(std::move(shaken));
        }
        TransportOptions tls_options = options;
        tls_options.tls_shutdown_timeout = upgrade.shutdown_timeout;
        done(StartSocketTransport(std::move(*tls), std::move(protocol),
                                  tls_options, upgrade.context,
                                  connection_made));
      });
}

// Registered as soon as this object is linked in (with alwayslink, whenever
// //streams/net:tls is a dependency): tls.h, included above, initializes
// tls_layer::kLinked with LinkTlsLayer() in every object that includes it,
// this one too.
constexpr tls_layer::TlsLayer kTlsLayer{&StartTlsSession<TcpSocket>,
                                        &StartTlsSession<UnixSocket>};

}  // namespace

namespace transport_impl {

template <typename Socket>
void TlsOps<TlsStream<Socket>>::StartTlsOver(Stream stream, TlsUpgrade upgrade,
                                             std::shared_ptr<Protocol> protocol,
                                             const TransportOptions& options,
                                             bool connection_made,
                                             TlsUpgradeHandler done) {
  StartTlsSession(std::move(stream), std::move(upgrade), std::move(protocol),
                  options, connection_made, std::move(done));
}

}  // namespace transport_impl

bool tls_layer::LinkTlsLayer() {
  tls_layer::RegisterTlsLayer(&kTlsLayer);
  return true;
}

template std::shared_ptr<Transport> StartSocketTransport<TlsStream<TcpSocket>>(
    TlsStream<TcpSocket>, std::shared_ptr<Protocol>, const TransportOptions&,
    asio::ssl::context*, bool);
template std::shared_ptr<Transport> StartSocketTransport<TlsStream<UnixSocket>>(
    TlsStream<UnixSocket>, std::shared_ptr<Protocol>, const TransportOptions&,
    asio::ssl::context*, bool);
template std::shared_ptr<Transport>
StartSocketTransport<TlsStream<TlsStream<TcpSocket>>>(
    TlsStream<TlsStream<TcpSocket>>, std::shared_ptr<Protocol>,
    const TransportOptions&, asio::ssl::context*, bool);
template std::shared_ptr<Transport>
StartSocketTransport<TlsStream<TlsStream<UnixSocket>>>(
    TlsStream<TlsStream<UnixSocket>>, std::shared_ptr<Protocol>,
    const TransportOptions&, asio::ssl::context*, bool);

}  // namespace streams::net
