// First end-to-end checks of //streams/net on loopback sockets.

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
#include "streams/testing/co_assert.h"
#include "streams/testing/status_matchers.h"

namespace streams {

namespace asio = ::boost::asio;
namespace {

using ::streams::testing::Echo;
using ::streams::testing::IsOk;
using ::streams::testing::UnixPath;

TEST(LoopbackSmokeTest, TcpEcho) {
  asio::io_context context;
  std::string got;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        auto executor = co_await asio::this_coro::executor;
        absl::StatusOr<std::shared_ptr<Server>> server =
            co_await AsyncStartServer(executor, Echo, "127.0.0.1", 0);
        CO_ASSERT_OK(server);
        const uint16_t port = (*server)->endpoints().at(0).port();
        absl::StatusOr<Connection> connection =
            co_await AsyncOpenConnection(executor, "127.0.0.1", port);
        CO_ASSERT_OK(connection);
        EXPECT_THAT(connection->writer.Write("hello\nworld\n"), IsOk());
        got += *co_await connection->reader.AsyncReadLine();
        got += *co_await connection->reader.AsyncReadLine();
        connection->writer.Close();
        EXPECT_THAT(co_await connection->writer.AsyncWaitClosed(), IsOk());
        (*server)->Close();
        co_await (*server)->AsyncWaitClosed();
      },
      asio::detached);
  context.run();
  EXPECT_EQ(got, "hello\nworld\n");
}

TEST(LoopbackSmokeTest, UnixEcho) {
  asio::io_context context;
  UnixPath unix_path;
  const std::string path = unix_path.path();
  std::string got;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        auto executor = co_await asio::this_coro::executor;
        auto server = co_await AsyncStartUnixServer(executor, Echo, path);
        CO_ASSERT_OK(server);
        auto connection = co_await AsyncOpenUnixConnection(executor, path);
        CO_ASSERT_OK(connection);
        EXPECT_THAT(connection->writer.Write("unix\n"), IsOk());
        got = *co_await connection->reader.AsyncReadLine();
        connection->writer.Close();
        (*server)->Close();
      },
      asio::detached);
  context.run();
  EXPECT_EQ(got, "unix\n");
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
