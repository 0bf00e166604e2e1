// //streams/net without //streams/net:tls: plain TCP works, no OpenSSL is
// loaded, and every way of asking for TLS fails with a clear
// NotImplementedError, losing nothing. This test links //streams/net only.

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/net/open_connection.h"
#include "streams/net/server.h"
#include "streams/net/testing/loopback_basics.h"
#include "streams/stream_reader.h"
#include "streams/stream_writer.h"
#include "streams/testing/co_assert.h"
#include "streams/testing/status_matchers.h"

namespace streams {
namespace {

namespace asio = ::boost::asio;

using ::streams::testing::Echo;
using ::streams::testing::IsOk;
using ::streams::testing::IsOkAndHolds;
using ::streams::testing::RunUntilDone;

// Never dereferenced: without the TLS layer nothing looks inside it.
asio::ssl::context* NotAContext() {
  static char storage;
  return reinterpret_cast<asio::ssl::context*>(&storage);
}

void ExpectTlsNotLinked(const absl::Status& status) {
  EXPECT_EQ(GetErrorKind(status), ErrorKind::kNotImplementedError) << status;
  EXPECT_TRUE(
      absl::StrContains(status.message(), "TLS support is not linked in"))
      << status;
}

TEST(PlainSocketsTest, NoOpenSslIsLoaded) {
  std::ifstream maps("/proc/self/maps");
  ASSERT_TRUE(maps.good());
  std::string line;
  while (std::getline(maps, line)) {
    EXPECT_FALSE(absl::StrContains(line, "libssl")) << line;
    EXPECT_FALSE(absl::StrContains(line, "libcrypto")) << line;
  }
}

TEST(PlainSocketsTest, EchoAndRefusedTls) {
  RunUntilDone([](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server = co_await AsyncStartServer(executor, Echo, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    const uint16_t port = (*server)->endpoints().front().port();

    // Plain TCP works.
    auto plain = co_await AsyncOpenConnection(executor, "127.0.0.1", port);
    CO_ASSERT_OK(plain);
    EXPECT_THAT(plain->writer.Write("ping\nrest\n"), IsOk());
    EXPECT_THAT(co_await plain->reader.AsyncReadLine(), IsOkAndHolds("ping\n"));

    // start_tls() on it is refused, and the reader keeps what it buffered.
    absl::StatusOr<std::string> rest = co_await plain->reader.AsyncRead(1);
    EXPECT_THAT(rest, IsOkAndHolds("r"));
    absl::Status upgraded =
        co_await plain->writer.AsyncStartTls(*NotAContext());
    ExpectTlsNotLinked(upgraded);
    EXPECT_THAT(co_await plain->reader.AsyncReadLine(), IsOkAndHolds("est\n"));
    plain->writer.Close();

    // ssl= on a client fails before anything is sent.
    ConnectionOptions options;
    options.ssl = NotAContext();
    options.server_hostname = "localhost";
    auto tls = co_await AsyncOpenConnection(executor, "127.0.0.1", port,
                                            std::move(options));
    ExpectTlsNotLinked(tls.status());

    (*server)->Close();
    EXPECT_THAT(co_await (*server)->AsyncWaitClosed(), IsOk());
  });
}

TEST(PlainSocketsTest, TlsServerRefusesEachConnection) {
  RunUntilDone([](asio::any_io_executor executor) -> asio::awaitable<void> {
    ServerOptions options;
    options.ssl = NotAContext();
    auto server = co_await AsyncStartServer(executor, Echo, "127.0.0.1", 0,
                                            std::move(options));
    CO_ASSERT_OK(server);
    const uint16_t port = (*server)->endpoints().front().port();
    auto connection = co_await AsyncOpenConnection(executor, "127.0.0.1", port);
    CO_ASSERT_OK(connection);
    // The server could not start TLS on it: the connection is closed.
    EXPECT_THAT(co_await connection->reader.AsyncRead(-1), IsOkAndHolds(""));
    (*server)->Close();
    EXPECT_THAT(co_await (*server)->AsyncWaitClosed(), IsOk());
  });
}

}  // namespace
}  // namespace streams
