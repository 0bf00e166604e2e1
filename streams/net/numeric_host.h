// -----------------------------------------------------------------------------
// File: net/numeric_host.h
// -----------------------------------------------------------------------------
//
// asyncio's base_events._ipaddr_info(): start_server() and open_connection()
// skip getaddrinfo() when the host is already an IP address ("Users might
// have handled name resolution in their own code and pass in resolved
// IPs"). Private to //streams/net.

#ifndef STREAMS_NET_NUMERIC_HOST_H_
#define STREAMS_NET_NUMERIC_HOST_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "boost/asio/ip/tcp.hpp"

namespace streams::net {

// NumericEndpoint()
//
// The endpoint for `host` and `port` without a resolver, as
// _ipaddr_info() finds it: `host` as inet_pton() reads it, IPv4 first, then
// IPv6 (flow info and scope 0); a host with a '%' zone index is not taken
// (Linux's inet_pton() rejects it). `port` is a decimal number up to 65535,
// or empty for 0. nullopt otherwise: getaddrinfo() decides (a host name, a
// service name such as "http", anything unusual).
std::optional<boost::asio::ip::tcp::endpoint> NumericEndpoint(
    absl::string_view host, absl::string_view port);

}  // namespace streams::net

#endif  // STREAMS_NET_NUMERIC_HOST_H_
