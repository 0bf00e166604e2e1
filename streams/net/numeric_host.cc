#include "streams/net/numeric_host.h"

#include <arpa/inet.h>

#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace streams::net {

namespace asio = ::boost::asio;

namespace {

// `port` as _ipaddr_info() takes it ('' is 0), limited to plain decimal
// numbers in range; anything else goes to getaddrinfo().
std::optional<uint16_t> NumericPort(absl::string_view port) {
  if (port.empty()) return 0;
  for (const char c : port) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
  }
  uint32_t number = 0;
  if (!absl::SimpleAtoi(port, &number) || number > 65535) return std::nullopt;
  return static_cast<uint16_t>(number);
}

}  // namespace

std::optional<asio::ip::tcp::endpoint> NumericEndpoint(absl::string_view host,
                                                       absl::string_view port) {
  const std::optional<uint16_t> number = NumericPort(port);
  if (!number || host.empty() || host.find('%') != absl::string_view::npos) {
    return std::nullopt;
  }
  const std::string text(host);  // inet_pton() wants a C string
  asio::ip::address_v4::bytes_type v4;
  if (inet_pton(AF_INET, text.c_str(), v4.data()) == 1) {
    return asio::ip::tcp::endpoint(asio::ip::address_v4(v4), *number);
  }
  asio::ip::address_v6::bytes_type v6;
  if (inet_pton(AF_INET6, text.c_str(), v6.data()) == 1) {
    return asio::ip::tcp::endpoint(asio::ip::address_v6(v6), *number);
  }
  return std::nullopt;
}

}  // namespace streams::net
