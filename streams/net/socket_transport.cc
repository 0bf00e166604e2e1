// The socket transport for plain TCP and Unix-domain sockets (the TLS ones
// are //streams/net:tls's, in tls_transport.cc).

#include "streams/net/socket_transport.h"

#include "streams/net/socket_transport_impl.h"

namespace streams::net {

template std::shared_ptr<Transport> StartSocketTransport<TcpSocket>(
    TcpSocket, std::shared_ptr<Protocol>, const TransportOptions&,
    boost::asio::ssl::context*, bool);
template std::shared_ptr<Transport> StartSocketTransport<UnixSocket>(
    UnixSocket, std::shared_ptr<Protocol>, const TransportOptions&,
    boost::asio::ssl::context*, bool);

}  // namespace streams::net
