// -----------------------------------------------------------------------------
// File: net/tls_layer.h
// -----------------------------------------------------------------------------
//
// How plain sockets reach TLS without linking it. //streams/net (TCP and
// Unix sockets) starts a TLS session, for `ssl=` in AsyncOpenConnection() and
// AsyncStartServer() and for StreamWriter::AsyncStartTls(), through the
// layer that //streams/net:tls registers when it is linked in; without it
// they fail with TlsNotLinkedError(), and a binary that never uses TLS
// carries no TLS code and loads no OpenSSL. Internal to //streams/net and
// //streams/net:tls.

#ifndef STREAMS_NET_TLS_LAYER_H_
#define STREAMS_NET_TLS_LAYER_H_

#include <memory>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "streams/net/socket_transport.h"
#include "streams/protocol.h"
#include "streams/transport.h"

namespace streams::net::tls_layer {

// Shakes hands over a connected socket (`upgrade`: the TLS context, side,
// timeouts and the bytes already read off the socket), then starts the TLS
// transport for `protocol` (ConnectionMade() only if `connection_made`) and
// calls `done` with it; or closes the socket and calls `done` with the
// error. Runs on the socket's executor.
template <typename Socket>
using StartTlsFunction = void (*)(Socket socket, TlsUpgrade upgrade,
                                  std::shared_ptr<Protocol> protocol,
                                  const TransportOptions& options,
                                  bool connection_made, TlsUpgradeHandler done);

struct TlsLayer {
  StartTlsFunction<TcpSocket> tcp = nullptr;
  StartTlsFunction<UnixSocket> unix_domain = nullptr;
};

// Called by //streams/net:tls when it is linked in (at static
// initialization, and from tls.h). `layer` must live forever.
void RegisterTlsLayer(const TlsLayer* layer);

// The registered layer, or null.
const TlsLayer* RegisteredTlsLayer();

inline bool TlsLayerLinked() { return RegisteredTlsLayer() != nullptr; }

// What a TLS request gets without //streams/net:tls: kUnimplemented
// NotImplementedError "TLS support is not linked in: ...".
absl::Status TlsNotLinkedError();

// The layer's StartTlsFunction for `Socket`, or `done(TlsNotLinkedError())`
// (the socket is closed).
template <typename Socket>
void StartTlsOnSocket(Socket socket, TlsUpgrade upgrade,
                      std::shared_ptr<Protocol> protocol,
                      const TransportOptions& options, bool connection_made,
                      TlsUpgradeHandler done) {
  const TlsLayer* layer = RegisteredTlsLayer();
  StartTlsFunction<Socket> start = nullptr;
  if (layer != nullptr) {
    if constexpr (std::is_same_v<Socket, TcpSocket>) {
      start = layer->tcp;
    } else {
      start = layer->unix_domain;
    }
  }
  if (start == nullptr) return done(TlsNotLinkedError());
  start(std::move(socket), std::move(upgrade), std::move(protocol), options,
        connection_made, std::move(done));
}

// Defined by //streams/net:tls: registers its layer. tls.h calls it from an
// inline variable, so that a program that includes tls.h links the layer in
// even where its build does not force every object of //streams/net:tls in.
bool LinkTlsLayer();

}  // namespace streams::net::tls_layer

#endif  // STREAMS_NET_TLS_LAYER_H_
