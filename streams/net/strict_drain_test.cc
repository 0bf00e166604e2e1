// StreamWriter::SetStrictDrain() (gh-80982) against CPython 3.11.7's drain
// over TCP loopback: a client closes while bytes wait in its transport's
// buffer for a peer that does not read. asyncio's drain() then returns OK
// (it yields once; the connection is not lost yet), although none of those
// bytes may ever arrive; a strict drain waits, and fails once the peer is
// gone (here: the server aborts the connection, a reset).

#include <chrono>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/awaitable.hpp"
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
namespace {

namespace asio = ::boost::asio;
using ::streams::testing::IsOk;
using ::streams::testing::RunUntilDone;
using namespace std::chrono_literals;

// What the client's drain after Close() gives, strict or not.
absl::Status DrainAfterCloseToAPeerThatLeaves(bool strict) {
  absl::Status drained = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    std::optional<StreamWriter> server_side;
    auto never_read = [&](StreamReader, StreamWriter writer) {
      server_side.emplace(std::move(writer));
    };
    auto server =
        co_await AsyncStartServer(executor, never_read, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port());
    CO_ASSERT_OK(connection);
    StreamWriter& writer = connection->writer;
    writer.SetStrictDrain(strict);
    // Fill the kernel's buffers until the transport keeps some bytes
    // (fewer than its high-water mark: writing is not paused).
    const std::string chunk(4096, 'x');
    for (int i = 0; i < 100000 && writer.transport()->GetWriteBufferSize() == 0;
         ++i) {
      EXPECT_THAT(writer.Write(chunk), IsOk());
    }
    EXPECT_GT(writer.transport()->GetWriteBufferSize(), 0u);
    co_await testing::Sleep(0ms);  // the server's callback has run
    writer.Close();  // closing; waits to flush to a peer that never reads
    writer.AsyncDrain([&](absl::Status status) { drained = status; });
    co_await testing::Sleep(10ms);
    if (server_side.has_value()) {
      server_side->transport()->Abort();  // the peer leaves: a reset
    }
    (void)co_await writer.AsyncWaitClosed();
    if (server_side.has_value()) server_side->Close();
    server_side.reset();
    (*server)->Close();
  });
  return drained;
}

TEST(StrictDrainTest, DefaultDrainOnAClosingTransportReturnsOk) {
  // CPython 3.11.7 behaviour, kept by default.
  EXPECT_THAT(DrainAfterCloseToAPeerThatLeaves(/*strict=*/false), IsOk());
}

TEST(StrictDrainTest, StrictDrainFailsOnceThePeerIsGone) {
  absl::Status drained = DrainAfterCloseToAPeerThatLeaves(/*strict=*/true);
  EXPECT_EQ(drained.code(), absl::StatusCode::kUnavailable) << drained;
  EXPECT_TRUE(GetErrorKind(drained) == ErrorKind::kConnectionResetError ||
              GetErrorKind(drained) == ErrorKind::kBrokenPipeError)
      << drained;
}

}  // namespace
}  // namespace streams
