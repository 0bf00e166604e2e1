// asyncio's _ipaddr_info(): an IP address is used as it is, without
// getaddrinfo(); everything else is resolved. getaddrinfo() is counted.

#include "streams/net/numeric_host.h"

#include <dlfcn.h>
#include <netdb.h>

#include <atomic>
#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/ip/address.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/net/open_connection.h"
#include "streams/net/server.h"
#include "streams/net/testing/loopback.h"
#include "streams/testing/co_assert.h"
#include "streams/testing/status_matchers.h"

namespace {

// getaddrinfo() calls of this process (Asio's resolver calls it on its own
// thread); the real one is libc's, found next.
std::atomic<int> getaddrinfo_calls{0};

}  // namespace

extern "C" int getaddrinfo(const char* node, const char* service,
                           const struct addrinfo* hints,
                           struct addrinfo** res) {
  using GetAddrInfo = int (*)(const char*, const char*, const struct addrinfo*,
                              struct addrinfo**);
  static const GetAddrInfo real =
      reinterpret_cast<GetAddrInfo>(dlsym(RTLD_NEXT, "getaddrinfo"));
  getaddrinfo_calls.fetch_add(1, std::memory_order_relaxed);
  return real(node, service, hints, res);
}

namespace streams::net {
namespace {

namespace asio = ::boost::asio;
using ::streams::testing::Echo;
using ::streams::testing::IsOk;
using ::streams::testing::RunUntilDone;
using ::testing::Eq;
using ::testing::Optional;

asio::ip::tcp::endpoint Endpoint(const char* address, uint16_t port) {
  return asio::ip::tcp::endpoint(asio::ip::make_address(address), port);
}

TEST(NumericEndpointTest, IpAddressesAreTakenAsTheyAre) {
  EXPECT_THAT(NumericEndpoint("127.0.0.1", "8888"),
              Optional(Eq(Endpoint("127.0.0.1", 8888))));
  EXPECT_THAT(NumericEndpoint("::1", "0"), Optional(Eq(Endpoint("::1", 0))));
  EXPECT_THAT(NumericEndpoint("0.0.0.0", "65535"),
              Optional(Eq(Endpoint("0.0.0.0", 65535))));
  // asyncio: a port of '' is 0.
  EXPECT_THAT(NumericEndpoint("10.1.2.3", ""),
              Optional(Eq(Endpoint("10.1.2.3", 0))));
}

TEST(NumericEndpointTest, EverythingElseIsResolved) {
  EXPECT_EQ(NumericEndpoint("localhost", "80"), std::nullopt);
  EXPECT_EQ(NumericEndpoint("", "80"), std::nullopt);
  // inet_pton() takes dotted quads only.
  EXPECT_EQ(NumericEndpoint("127.1", "80"), std::nullopt);
  EXPECT_EQ(NumericEndpoint("256.0.0.1", "80"), std::nullopt);
  // Linux's inet_pton() rejects a zone index: _ipaddr_info() does not try.
  EXPECT_EQ(NumericEndpoint("fe80::1%lo", "80"), std::nullopt);
  // A service name, or a port out of range: getaddrinfo() answers.
  EXPECT_EQ(NumericEndpoint("127.0.0.1", "http"), std::nullopt);
  EXPECT_EQ(NumericEndpoint("127.0.0.1", "65536"), std::nullopt);
  EXPECT_EQ(NumericEndpoint("127.0.0.1", "-1"), std::nullopt);
}

TEST(NumericEndpointTest, ServersAndConnectionsOnIpAddressesDoNotResolve) {
  int numeric_calls = -1;
  int named_calls = -1;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    getaddrinfo_calls = 0;
    auto server = co_await AsyncStartServer(executor, Echo, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    const uint16_t port = (*server)->endpoints().at(0).port();
    auto numeric = co_await AsyncOpenConnection(executor, "127.0.0.1", port);
    CO_ASSERT_OK(numeric);
    numeric_calls = getaddrinfo_calls.load();
    // A host name is resolved (and shows that the count works).
    auto named = co_await AsyncOpenConnection(executor, "localhost", port);
    named_calls = getaddrinfo_calls.load() - numeric_calls;
    numeric->writer.Close();
    if (named.ok()) named->writer.Close();
    (*server)->Close();
    (*server)->CloseClients();
  });
  EXPECT_EQ(numeric_calls, 0);
  EXPECT_GE(named_calls, 1);
}

}  // namespace
}  // namespace streams::net
