// Writes on socket transports in the states where asyncio's transports do
// not simply send: after write_eof() (RuntimeError), over TLS where
// write_eof() is not supported, and after the connection is lost (dropped,
// with a warning from the fifth write on).

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "boost/asio/ssl/context.hpp"
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

using ::streams::testing::ClientTlsContext;
using ::streams::testing::Echo;
using ::streams::testing::IsOk;
using ::streams::testing::IsTls;
using ::streams::testing::Loopback;
using ::streams::testing::LoopbackPeer;
using ::streams::testing::RunUntilDone;
using ::streams::testing::ServerTlsContext;

using namespace std::chrono_literals;

constexpr absl::string_view kAfterEof = "Cannot call write() after write_eof()";

// Reads to EOF, then answers with what it got.
asio::awaitable<void> ReadAllThenAnswer(StreamReader reader,
                                        StreamWriter writer) {
  absl::StatusOr<std::string> request = co_await reader.AsyncRead();
  EXPECT_THAT(
      writer.Write(absl::StrCat("got '", request.value_or("<error>"), "'\n")),
      IsOk());
  (void)co_await writer.AsyncDrain();
  writer.Close();
}

struct AfterEof {
  absl::Status write = absl::UnknownError("not run");
  absl::Status write_empty = absl::UnknownError("not run");
  absl::Status write_lines = absl::UnknownError("not run");
  absl::StatusOr<std::string> answer = absl::UnknownError("not run");
};

// Sends "data", WriteEof(), then tries to write more; reads the answer.
asio::awaitable<void> WriteAfterEof(Connection& connection, AfterEof& out) {
  StreamWriter& writer = connection.writer;
  EXPECT_THAT(writer.Write("data"), IsOk());
  EXPECT_THAT(writer.WriteEof(), IsOk());
  out.write = writer.Write("more");
  out.write_empty = writer.Write("");
  out.write_lines = writer.WriteLines({"a\n", "b\n"});
  out.answer = co_await connection.reader.AsyncRead();
  writer.Close();
  (void)co_await writer.AsyncWaitClosed();
}

void ExpectRuntimeErrors(const AfterEof& out) {
  for (const absl::Status* status :
       {&out.write, &out.write_empty, &out.write_lines}) {
    EXPECT_EQ(status->code(), absl::StatusCode::kFailedPrecondition) << *status;
    EXPECT_EQ(status->message(), kAfterEof);
    EXPECT_EQ(GetErrorKind(*status), ErrorKind::kRuntimeError);
  }
  // The peer got what was written before WriteEof(), nothing after.
  EXPECT_EQ(out.answer.value_or("<error>"), "got 'data'\n")
      << out.answer.status();
}

// The plain transports (TCP, Unix) can write EOF; the write side is then
// closed.
class WriteAfterWriteEofTest : public ::testing::TestWithParam<Loopback> {};

INSTANTIATE_TEST_SUITE_P(, WriteAfterWriteEofTest,
                         ::testing::Values(Loopback::kTcp, Loopback::kUnix),
                         ::testing::PrintToStringParamName());

TEST_P(WriteAfterWriteEofTest, WritesFail) {
  LoopbackPeer peer(GetParam());
  AfterEof out;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server = co_await peer.StartServer(executor, ReadAllThenAnswer);
    CO_ASSERT_OK(server);
    auto connection = co_await peer.Connect(executor, **server);
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) co_await WriteAfterEof(*connection, out);
    (*server)->Close();
  });
  ExpectRuntimeErrors(out);
}

// asyncio's TLS transport cannot write EOF: write_eof() raises
// NotImplementedError and changes nothing, so writes go on; so does
// WriteEof() here.
TEST(WriteAfterEofTest, TlsWriteEofLeavesWritesWorking) {
  asio::ssl::context server_tls = ServerTlsContext();
  asio::ssl::context client_tls = ClientTlsContext();
  absl::Status write_eof = absl::UnknownError("not run");
  absl::Status written = absl::UnknownError("not run");
  absl::StatusOr<std::string> echoed = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    ServerOptions server_options;
    server_options.ssl = &server_tls;
    auto server = co_await AsyncStartServer(executor, Echo, "127.0.0.1", 0,
                                            server_options);
    CO_ASSERT_OK(server);
    ConnectionOptions options;
    options.ssl = &client_tls;
    options.server_hostname = "localhost";
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port(), options);
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) {
      EXPECT_FALSE(connection->writer.CanWriteEof());
      write_eof = connection->writer.WriteEof();
      written = connection->writer.Write("still open\n");
      echoed = co_await connection->reader.AsyncReadLine();
      connection->writer.Close();
      (void)co_await connection->writer.AsyncWaitClosed();
    }
    (*server)->Close();
  });
  EXPECT_EQ(GetErrorKind(write_eof), ErrorKind::kNotImplementedError)
      << write_eof;
  EXPECT_EQ(write_eof.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(written, IsOk());
  EXPECT_EQ(echoed.value_or("<error>"), "still open\n") << echoed.status();
}

// Counts the lines `body` writes to stderr that equal `line`.
int CountStderrLines(const std::function<void()>& body,
                     absl::string_view line) {
  ::testing::internal::CaptureStderr();
  body();
  const std::string captured = ::testing::internal::GetCapturedStderr();
  int count = 0;
  for (absl::string_view got : absl::StrSplit(captured, '\n')) {
    if (got == line) ++count;
  }
  return count;
}

// Closes the client's side (its buffer is empty, so the connection is lost at
// once), then writes seven times.
asio::awaitable<void> WriteSevenAfterClose(Connection& connection,
                                           int* written_ok) {
  connection.writer.Close();
  for (int i = 0; i < 7; ++i) {
    if (connection.writer.Write("late").ok()) ++*written_ok;
  }
  (void)co_await connection.writer.AsyncWaitClosed();
  for (int i = 0; i < 2; ++i) {
    if (connection.writer.Write("later").ok()) ++*written_ok;
  }
}

// Writes after Close(), over TCP and TLS:
//
// - asyncio's socket transport: close() with an empty buffer makes
//   _conn_lost 1; each later write is dropped and counted; from a count of 5
//   on, each logs "socket.send() raised exception.": the 5th, 6th, 7th
//   write, then both after the loss (5 lines).
// - asyncio's TLS transport drops writes from close() on (FLUSHING); its
//   count starts at 0 and the loss adds 1. Seven writes while closing log
//   "SSL connection is closed" twice (the 6th and 7th), both later writes
//   once each (4 lines).
class WritesAfterCloseTest : public ::testing::TestWithParam<Loopback> {};

INSTANTIATE_TEST_SUITE_P(, WritesAfterCloseTest,
                         ::testing::Values(Loopback::kTcp, Loopback::kTls),
                         ::testing::PrintToStringParamName());

TEST_P(WritesAfterCloseTest, AreDroppedWithWarnings) {
  const bool tls = IsTls(GetParam());
  LoopbackPeer peer(GetParam());
  int written_ok = 0;
  const int warnings = CountStderrLines(
      [&] {
        RunUntilDone(
            [&](asio::any_io_executor executor) -> asio::awaitable<void> {
              auto server = co_await peer.StartServer(executor, Echo);
              CO_ASSERT_OK(server);
              auto connection = co_await peer.Connect(executor, **server);
              EXPECT_THAT(connection, IsOk());
              if (connection.ok()) {
                co_await WriteSevenAfterClose(*connection, &written_ok);
              }
              (*server)->Close();
            });
      },
      tls ? "SSL connection is closed" : "socket.send() raised exception.");
  EXPECT_EQ(written_ok, 9);
  EXPECT_EQ(warnings, tls ? 4 : 5);
}

}  // namespace
}  // namespace streams
