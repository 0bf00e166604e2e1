// First end-to-end checks of //streams/net on loopback sockets: a line echo
// over every transport, and a refused connection.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/net/open_connection.h"
#include "streams/net/server.h"
#include "streams/net/testing/loopback.h"
#include "streams/net/testing/transports.h"
#include "streams/testing/co_assert.h"
#include "streams/testing/status_matchers.h"

namespace streams {

namespace asio = ::boost::asio;
namespace {

using ::streams::testing::Echo;
using ::streams::testing::IsOk;
using ::streams::testing::IsOkAndHolds;
using ::streams::testing::Loopback;
using ::streams::testing::LoopbackAvailable;
using ::streams::testing::LoopbackPeer;
using ::streams::testing::RunUntilDone;

class LoopbackSmokeEchoTest : public ::testing::TestWithParam<Loopback> {};

INSTANTIATE_TEST_SUITE_P(, LoopbackSmokeEchoTest,
                         ::testing::Values(Loopback::kTcp, Loopback::kUnix,
                                           Loopback::kTls, Loopback::kUnixTls,
                                           Loopback::kIpv6),
                         ::testing::PrintToStringParamName());

TEST_P(LoopbackSmokeEchoTest, Echo) {
  if (!LoopbackAvailable(GetParam())) {
    GTEST_SKIP() << "this machine cannot bind ::1 (no IPv6 loopback)";
  }
  LoopbackPeer peer(GetParam());
  std::string got;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server = co_await peer.StartServer(executor, Echo);
    CO_ASSERT_OK(server);
    auto connection = co_await peer.Connect(executor, **server);
    CO_ASSERT_OK(connection);
    EXPECT_THAT(connection->writer.Write("hello\nworld\n"), IsOk());
    for (const char* expected : {"hello\n", "world\n"}) {
      absl::StatusOr<std::string> line =
          co_await connection->reader.AsyncReadLine();
      EXPECT_THAT(line, IsOkAndHolds(expected));
      got += line.value_or("");
    }
    connection->writer.Close();
    EXPECT_THAT(co_await connection->writer.AsyncWaitClosed(), IsOk());
    (*server)->Close();
    EXPECT_THAT(co_await (*server)->AsyncWaitClosed(), IsOk());
  });
  EXPECT_EQ(got, "hello\nworld\n");
}

TEST(LoopbackSmokeTest, ConnectionRefused) {
  asio::io_context context;
  absl::Status status;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        auto executor = co_await asio::this_coro::executor;
        // Bind a port and close it, so nothing listens there.
        asio::ip::tcp::acceptor acceptor(
            executor,
            asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        const uint16_t port = acceptor.local_endpoint().port();
        acceptor.close();
        auto connection =
            co_await AsyncOpenConnection(executor, "127.0.0.1", port);
        status = connection.status();
      },
      asio::detached);
  context.run();
  EXPECT_EQ(GetErrorKind(status), ErrorKind::kConnectionRefusedError) << status;
  EXPECT_TRUE(absl::StrContains(status.message(),
                                "Connect call failed ('127.0.0.1', "));
}

}  // namespace
}  // namespace streams
