// A Unix peer that closes with bytes unread: the local socket's send() then
// fails with EPIPE and its recv() with ECONNRESET, both ready at once.
// asyncio's selector loop runs the read callback first, so CPython 3.11.7's
// drain() and readline() raise ConnectionResetError (the interop matrix's
// server_close_during_drain over unix, conformance/INTEROP.md). Asio's reactor
// performs the write first; before the transport read first on EPIPE, as
// asyncio's order does, //streams raised BrokenPipeError for both.

#include <chrono>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

using ::streams::testing::IsOk;
using ::streams::testing::RunUntilDone;
using ::streams::testing::Sleep;
using ::streams::testing::UnixPath;

using namespace std::chrono_literals;

TEST(UnixResetTest, PeerClosingWithUnreadBytesIsConnectionResetError) {
  UnixPath path;
  std::optional<ErrorKind> drained;
  std::optional<ErrorKind> read;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    // Reads one line, then closes with everything else unread.
    auto stall = [](StreamReader reader,
                    StreamWriter writer) -> asio::awaitable<void> {
      (void)co_await reader.AsyncReadLine();
      co_await Sleep(200ms);
      writer.Close();
    };
    auto server = co_await AsyncStartUnixServer(executor, stall, path.path());
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenUnixConnection(executor, path.path());
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) {
      StreamWriter& writer = connection->writer;
      EXPECT_THAT(writer.Write("stall\n"), IsOk());
      (void)co_await writer.AsyncDrain();
      // More than the socket buffers hold: a drain waits when the peer
      // closes.
      const std::string mebibyte(1 << 20, 'x');
      for (int i = 0; i < 64 && !drained.has_value(); ++i) {
        EXPECT_THAT(writer.Write(mebibyte), IsOk());
        absl::Status status = co_await writer.AsyncDrain();
        if (!status.ok()) drained = GetErrorKind(status);
      }
      absl::StatusOr<std::string> line =
          co_await connection->reader.AsyncReadLine();
      if (!line.ok()) read = GetErrorKind(line.status());
      writer.Close();
      (void)co_await writer.AsyncWaitClosed();
    }
    (*server)->Close();
  });
  EXPECT_EQ(drained, ErrorKind::kConnectionResetError);
  EXPECT_EQ(read, ErrorKind::kConnectionResetError);
}

}  // namespace
}  // namespace streams
