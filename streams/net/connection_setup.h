// -----------------------------------------------------------------------------
// File: net/connection_setup.h
// -----------------------------------------------------------------------------
//
// The steps AsyncOpenConnection and AsyncStartServer share once a socket is
// connected: the TLS handshake (if any), then the reader, protocol, transport
// and writer. Private to //streams/net.

#ifndef STREAMS_NET_CONNECTION_SETUP_H_
#define STREAMS_NET_CONNECTION_SETUP_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/awaitable.hpp"
#include "boost/system/error_code.hpp"
#include "streams/net/open_connection.h"
#include "streams/net/socket_transport.h"
#include "streams/protocol.h"

namespace streams::net {

// A resolver failure as Python's socket.gaierror ("[Errno -2] Name or
// service not known"), kNotFound.
absl::Status ResolverError(const boost::system::error_code& error);

// Coroutines: every parameter is taken by value (a reference would dangle
// once the caller returns).

// Client side: TLS (when options.ssl) with `hostname`, then the connection.
template <typename Socket>
boost::asio::awaitable<absl::StatusOr<Connection>> EstablishClient(
    Socket socket, std::string hostname, ConnectionOptions options);

// Server side of a TLS connection: the handshake with `ssl` (not null), then
// the transport for `protocol`, whose ConnectionMade() runs the
// client-connected callback. (A plain connection needs no coroutine: the
// server calls StartSocketTransport() itself.)
template <typename Socket>
boost::asio::awaitable<absl::StatusOr<std::shared_ptr<Transport>>>
EstablishTlsServer(Socket socket, std::shared_ptr<Protocol> protocol,
                   boost::asio::ssl::context* ssl,
                   std::chrono::milliseconds handshake_timeout,
                   TransportOptions transport_options);

}  // namespace streams::net

#endif  // STREAMS_NET_CONNECTION_SETUP_H_
