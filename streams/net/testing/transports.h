// -----------------------------------------------------------------------------
// File: net/testing/transports.h
// -----------------------------------------------------------------------------
//
// The transports a loopback test runs over, as a GoogleTest parameter: TCP
// on 127.0.0.1, a Unix socket, TLS over either, and TCP on ::1. A
// `LoopbackPeer` starts servers and opens connections over its transport, so
// that one `TEST_P` body covers them all (add "//testdata/tls" to the test's
// data for the TLS ones).
//
// Example:
//
//   class EchoTest : public ::testing::TestWithParam<Loopback> {};
//
//   TEST_P(EchoTest, Echo) {
//     LoopbackPeer peer(GetParam());
//     RunUntilDone([&](auto executor) -> asio::awaitable<void> {
//       auto server = co_await peer.StartServer(executor, Echo);
//       CO_ASSERT_OK(server);
//       auto connection = co_await peer.Connect(executor, **server);
//       ...
//     });
//   }
//
//   INSTANTIATE_TEST_SUITE_P(
//       , EchoTest, ::testing::Values(Loopback::kTcp, Loopback::kUnix),
//       ::testing::PrintToStringParamName());
//
// Test names read `EchoTest.Echo/Tcp`, `EchoTest.Echo/Unix`.

#ifndef STREAMS_NET_TESTING_TRANSPORTS_H_
#define STREAMS_NET_TESTING_TRANSPORTS_H_

#include <deque>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "streams/net/open_connection.h"
#include "streams/net/server.h"
#include "streams/net/testing/loopback.h"

namespace streams::testing {

enum class Loopback { kTcp, kUnix, kTls, kUnixTls, kIpv6 };

// The parameter names: Tcp, Unix, Tls, UnixTls, Ipv6.
inline const char* LoopbackName(Loopback loopback) {
  switch (loopback) {
    case Loopback::kTcp:
      return "Tcp";
    case Loopback::kUnix:
      return "Unix";
    case Loopback::kTls:
      return "Tls";
    case Loopback::kUnixTls:
      return "UnixTls";
    case Loopback::kIpv6:
      return "Ipv6";
  }
  return "Unknown";
}

// For ::testing::PrintToStringParamName() and failure messages.
inline void PrintTo(Loopback loopback, std::ostream* os) {
  *os << LoopbackName(loopback);
}

inline bool IsUnix(Loopback loopback) {
  return loopback == Loopback::kUnix || loopback == Loopback::kUnixTls;
}

inline bool IsTls(Loopback loopback) {
  return loopback == Loopback::kTls || loopback == Loopback::kUnixTls;
}

// Whether this machine can bind ::1 (some CI containers have no IPv6).
inline bool HaveIpv6Loopback() {
  boost::asio::io_context context;
  boost::asio::ip::tcp::acceptor acceptor(context);
  boost::system::error_code error;
  acceptor.open(boost::asio::ip::tcp::v6(), error);
  if (!error) {
    acceptor.bind(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("::1"), 0),
        error);
  }
  return !error;
}

// Whether `loopback` can run here: use as
// `if (!LoopbackAvailable(GetParam())) GTEST_SKIP() << ...;`.
inline bool LoopbackAvailable(Loopback loopback) {
  return loopback != Loopback::kIpv6 || HaveIpv6Loopback();
}

// Servers and connections over one transport. Each StartServer() listens on
// a new address (port 0; a new Unix socket path); Connect() goes to a
// server's first address, with the TLS client context and "localhost" as
// the server name unless the options say otherwise. Must outlive the
// servers and connections (it owns the TLS contexts and the Unix paths).
class LoopbackPeer {
 public:
  explicit LoopbackPeer(Loopback loopback) : loopback_(loopback) {
    if (IsTls(loopback_)) {
      server_tls_.emplace(ServerTlsContext());
      client_tls_.emplace(ClientTlsContext());
    }
  }
  LoopbackPeer(const LoopbackPeer&) = delete;
  LoopbackPeer& operator=(const LoopbackPeer&) = delete;

  Loopback loopback() const { return loopback_; }

  // The address a TCP server listens on: "127.0.0.1" or "::1".
  const char* host() const {
    return loopback_ == Loopback::kIpv6 ? "::1" : "127.0.0.1";
  }

  // The Unix socket path of the last StartServer() (Unix transports).
  const std::string& unix_path() const { return unix_paths_.back().path(); }

  // AsyncStartServer() / AsyncStartUnixServer() with `options` (plus the
  // server's TLS context for the TLS transports).
  template <typename Callback>
  boost::asio::awaitable<absl::StatusOr<std::shared_ptr<Server>>> StartServer(
      boost::asio::any_io_executor executor, Callback callback,
      ServerOptions options = {}) {
    if (server_tls_) options.ssl = &*server_tls_;
    if (IsUnix(loopback_)) {
      const std::string path = unix_paths_.emplace_back().path();
      co_return co_await AsyncStartUnixServer(executor, std::move(callback),
                                              path, std::move(options));
    }
    co_return co_await AsyncStartServer(executor, std::move(callback), host(),
                                        0, std::move(options));
  }

  // AsyncOpenConnection() / AsyncOpenUnixConnection() to `server`.
  boost::asio::awaitable<absl::StatusOr<Connection>> Connect(
      boost::asio::any_io_executor executor, const Server& server,
      ConnectionOptions options = {}) {
    if (client_tls_) {
      options.ssl = &*client_tls_;
      if (!options.server_hostname) options.server_hostname = "localhost";
    }
    if (IsUnix(loopback_)) {
      co_return co_await AsyncOpenUnixConnection(executor, server.unix_path(),
                                                 std::move(options));
    }
    co_return co_await AsyncOpenConnection(
        executor, host(), server.endpoints().at(0).port(), std::move(options));
  }

 private:
  Loopback loopback_;
  std::optional<boost::asio::ssl::context> server_tls_;
  std::optional<boost::asio::ssl::context> client_tls_;
  std::deque<UnixPath> unix_paths_;  // deque: UnixPath does not move
};

}  // namespace streams::testing

#endif  // STREAMS_NET_TESTING_TRANSPORTS_H_
