// Ports of test_streams.py's writer and server tests (CPython 3.11.7) onto
// loopback sockets, plus what asyncio's open_connection/start_server offer
// beyond them: IPv6, several listen addresses, port 0, Server's Close() and
// AsyncWaitClosed() as 3.11.7 has them, CloseClients()/AbortClients() (3.13),
// local_addr and happy eyeballs.
//
// Where test_streams.py uses test_utils.run_test_server() (an HTTP server in
// a thread), a tiny HTTP server on AsyncStartServer answers instead: it reads
// the request head, sends "HTTP/1.0 200 OK\r\n...\r\n\r\nTest message" and
// closes.

#include <stdlib.h>
#include <unistd.h>

#include <any>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/local/stream_protocol.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/net/connect.h"
#include "streams/net/open_connection.h"
#include "streams/net/server.h"
#include "streams/net/testing/loopback.h"
#include "streams/net/testing/transports.h"
#include "streams/net/tls.h"
#include "streams/stream_reader.h"
#include "streams/stream_writer.h"
#include "streams/testing/co_assert.h"
#include "streams/testing/status_matchers.h"
#include "streams/testing/warnings.h"

namespace streams {

namespace asio = ::boost::asio;
namespace {

using ::streams::testing::ClientTlsContext;
using ::streams::testing::HaveIpv6Loopback;
using ::streams::testing::IsOk;
using ::streams::testing::IsUnix;
using ::streams::testing::Loopback;
using ::streams::testing::LoopbackPeer;
using ::streams::testing::RunUntilDone;
using ::streams::testing::ServerTlsContext;
using ::streams::testing::Sleep;
using ::streams::testing::UnixPath;
using ::streams::testing::WarningCollector;

using namespace std::chrono_literals;
using asio::ip::tcp;

constexpr absl::string_view kHttpResponse =
    "HTTP/1.0 200 OK\r\n"
    "Server: streams-test\r\n"
    "Content-type: text/plain\r\n"
    "Content-Length: 12\r\n"
    "\r\n"
    "Test message";

// test_utils.run_test_server()'s answer to any request.
asio::awaitable<void> ServeHttp(StreamReader reader, StreamWriter writer) {
  std::string separator = "\r\n\r\n";
  absl::StatusOr<std::string> request =
      co_await reader.AsyncReadUntil(separator);
  if (request.ok()) {
    EXPECT_THAT(writer.Write(kHttpResponse), IsOk());
    (void)co_await writer.AsyncDrain();
  }
  writer.Close();
  (void)co_await writer.AsyncWaitClosed();
}

// The client side of _basetest_open_connection: sends a GET, checks the
// status line and that the rest ends with the body.
asio::awaitable<void> GetAndCheck(StreamReader* reader, StreamWriter* writer) {
  EXPECT_THAT(writer->Write("GET / HTTP/1.0\r\n\r\n"), IsOk());
  absl::StatusOr<std::string> line = co_await reader->AsyncReadLine();
  EXPECT_EQ(line.value_or("<error>"), "HTTP/1.0 200 OK\r\n") << line.status();
  absl::StatusOr<std::string> rest = co_await reader->AsyncRead();
  EXPECT_THAT(rest, IsOk());
  EXPECT_TRUE(absl::EndsWith(rest.value_or(""), "\r\n\r\nTest message"))
      << rest.value_or("");
}

// asyncio's loop.set_exception_handler(lambda loop, ctx:
// messages.append(ctx)).
ServerOptions RecordingOptions(std::vector<std::string>* messages) {
  ServerOptions options;
  options.exception_handler = [messages](const ServerError& error) {
    messages->push_back(
        absl::StrCat(error.message, ": ", error.error.ToString()));
  };
  return options;
}

// test_start_server's handle_client.
asio::awaitable<void> EchoOneLine(StreamReader reader, StreamWriter writer) {
  absl::StatusOr<std::string> data = co_await reader.AsyncReadLine();
  EXPECT_THAT(writer.Write(data.value_or("")), IsOk());
  (void)co_await writer.AsyncDrain();
  writer.Close();
  (void)co_await writer.AsyncWaitClosed();
}

// test_start_server's client(): sends a line and returns the echo.
asio::awaitable<absl::StatusOr<std::string>> SendLine(
    absl::StatusOr<Connection> connection) {
  if (!connection.ok()) co_return connection.status();
  EXPECT_THAT(connection->writer.Write("hello world!\n"), IsOk());
  absl::StatusOr<std::string> back =
      co_await connection->reader.AsyncReadLine();
  connection->writer.Close();
  absl::Status closed = co_await connection->writer.AsyncWaitClosed();
  EXPECT_THAT(closed, IsOk());
  co_return back;
}

// ---------------------------------------------------------------------------
// Opening connections.

// The same test body over TCP and a Unix socket, and over TLS on either.
class StreamsLoopbackPlainTest : public ::testing::TestWithParam<Loopback> {};
class StreamsLoopbackTlsTest : public ::testing::TestWithParam<Loopback> {};

INSTANTIATE_TEST_SUITE_P(, StreamsLoopbackPlainTest,
                         ::testing::Values(Loopback::kTcp, Loopback::kUnix),
                         ::testing::PrintToStringParamName());
INSTANTIATE_TEST_SUITE_P(, StreamsLoopbackTlsTest,
                         ::testing::Values(Loopback::kTls, Loopback::kUnixTls),
                         ::testing::PrintToStringParamName());

// Port of test_streams.py::test_open_connection (Tcp) and
// test_open_unix_connection (Unix).
TEST_P(StreamsLoopbackPlainTest, OpenConnection) {
  LoopbackPeer peer(GetParam());
  std::vector<std::string> messages;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    ServerOptions options = RecordingOptions(&messages);
    auto server = co_await peer.StartServer(executor, ServeHttp, options);
    CO_ASSERT_OK(server);
    if (IsUnix(GetParam())) {
      EXPECT_EQ((*server)->unix_path(), peer.unix_path());
    }
    auto connection = co_await peer.Connect(executor, **server);
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) {
      co_await GetAndCheck(&connection->reader, &connection->writer);
      connection->writer.Close();
    }
    (*server)->Close();
  });
  EXPECT_TRUE(messages.empty()) << messages.front();
}

// Port of test_streams.py::test_open_connection_no_loop_ssl (Tls) and
// test_open_unix_connection_no_loop_ssl (UnixTls), each with
// server_hostname='' (as the Unix one: no SNI, no name check) and with a
// name.
TEST_P(StreamsLoopbackTlsTest, OpenConnectionNoLoopSsl) {
  LoopbackPeer peer(GetParam());
  std::vector<std::string> messages;
  std::vector<std::string> bodies;
  for (const std::string hostname : {"", "localhost"}) {
    RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
      ServerOptions server_options = RecordingOptions(&messages);
      auto server =
          co_await peer.StartServer(executor, ServeHttp, server_options);
      CO_ASSERT_OK(server);
      ConnectionOptions options;
      options.server_hostname = hostname;
      auto connection = co_await peer.Connect(executor, **server, options);
      EXPECT_THAT(connection, IsOk());
      if (connection.ok()) {
        EXPECT_TRUE(connection->writer.GetExtraInfo("sslcontext").has_value());
        EXPECT_THAT(connection->writer.Write("GET / HTTP/1.0\r\n\r\n"), IsOk());
        absl::StatusOr<std::string> data =
            co_await connection->reader.AsyncRead();
        bodies.push_back(data.value_or(data.status().ToString()));
        connection->writer.Close();
        EXPECT_THAT(co_await connection->writer.AsyncWaitClosed(), IsOk());
      }
      (*server)->Close();
    });
  }
  ASSERT_EQ(bodies.size(), 2u);
  for (const std::string& body : bodies) {
    EXPECT_TRUE(absl::EndsWith(body, "\r\n\r\nTest message")) << body;
  }
  EXPECT_TRUE(messages.empty()) << messages.front();
}

// Port of test_streams.py::test_open_connection_error
//
// CPython calls protocol.connection_lost(ZeroDivisionError()) by hand; the
// socket analogue is a server that dies: it resets the connection (SO_LINGER
// 0). reader.read() then raises what Python shows:
// ConnectionResetError "[Errno 104] Connection reset by peer".
TEST(StreamsLoopbackTest, OpenConnectionError) {
  absl::Status read_status;
  absl::Status reader_exception;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
    tcp::acceptor acceptor(executor, loopback);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", acceptor.local_endpoint().port());
    CO_ASSERT_OK(connection);
    tcp::socket peer = co_await acceptor.async_accept(asio::use_awaitable);
    peer.set_option(asio::socket_base::linger(true, 0));
    peer.close();
    absl::StatusOr<std::string> data = co_await connection->reader.AsyncRead();
    read_status = data.status();
    reader_exception = connection->reader.exception();
    connection->writer.Close();
  });
  EXPECT_EQ(GetErrorKind(read_status), ErrorKind::kConnectionResetError)
      << read_status;
  EXPECT_EQ(read_status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(read_status.message(), "[Errno 104] Connection reset by peer");
  EXPECT_TRUE(GetErrorCode(read_status).value_or(std::error_code()) ==
              std::errc::connection_reset);
  EXPECT_EQ(reader_exception, read_status);
}

// Port of test_streams.py::test_open_unix_connection_error
//
// A Unix server that dies with the request unread: Linux resets the
// connection, and Python shows ConnectionResetError "[Errno 104] Connection
// reset by peer" from reader.read().
TEST(StreamsLoopbackTest, OpenUnixConnectionError) {
  UnixPath unix_path;
  absl::Status read_status;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    asio::local::stream_protocol::endpoint endpoint(unix_path.path());
    asio::local::stream_protocol::acceptor acceptor(executor, endpoint);
    auto connection =
        co_await AsyncOpenUnixConnection(executor, unix_path.path());
    CO_ASSERT_OK(connection);
    EXPECT_THAT(connection->writer.Write("GET / HTTP/1.0\r\n\r\n"), IsOk());
    (void)co_await connection->writer.AsyncDrain();
    auto peer = co_await acceptor.async_accept(asio::use_awaitable);
    co_await Sleep(50ms);  // let the request arrive, unread
    peer.close();
    absl::StatusOr<std::string> data = co_await connection->reader.AsyncRead();
    read_status = data.status();
    connection->writer.Close();
  });
  EXPECT_EQ(GetErrorKind(read_status), ErrorKind::kConnectionResetError)
      << read_status;
  EXPECT_EQ(read_status.message(), "[Errno 104] Connection reset by peer");
}

// Opening a connection where no server is: what Python raises.
TEST(StreamsLoopbackTest, OpenConnectionToDeadServers) {
  UnixPath missing;
  UnixPath stale;
  absl::Status tcp_status;
  absl::Status missing_status;
  absl::Status stale_status;
  uint16_t port = 0;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    {
      tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
      tcp::acceptor acceptor(executor, loopback);
      port = acceptor.local_endpoint().port();
    }
    tcp_status =
        (co_await AsyncOpenConnection(executor, "127.0.0.1", port)).status();
    missing_status =
        (co_await AsyncOpenUnixConnection(executor, missing.path())).status();
    {
      // A socket file nobody listens on.
      asio::local::stream_protocol::socket socket(executor);
      socket.open();
      socket.bind(asio::local::stream_protocol::endpoint(stale.path()));
    }
    stale_status =
        (co_await AsyncOpenUnixConnection(executor, stale.path())).status();
  });
  EXPECT_EQ(GetErrorKind(tcp_status), ErrorKind::kConnectionRefusedError)
      << tcp_status;
  EXPECT_EQ(tcp_status.message(),
            absl::StrCat("[Errno 111] Connect call failed ('127.0.0.1', ", port,
                         ")"));
  EXPECT_EQ(GetErrorKind(missing_status), ErrorKind::kFileNotFoundError)
      << missing_status;
  EXPECT_EQ(missing_status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing_status.message(), "[Errno 2] No such file or directory");
  EXPECT_EQ(GetErrorKind(stale_status), ErrorKind::kConnectionRefusedError)
      << stale_status;
  EXPECT_EQ(stale_status.message(), "[Errno 111] Connection refused");
}

// ---------------------------------------------------------------------------
// Servers.

// Port of test_streams.py::test_start_server (Tcp) and
// test_start_unix_server (Unix).
TEST_P(StreamsLoopbackPlainTest, StartServer) {
  LoopbackPeer peer(GetParam());
  std::vector<std::string> messages;
  std::vector<absl::StatusOr<std::string>> got;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    // The server variant with a coroutine as client handler.
    ServerOptions options = RecordingOptions(&messages);
    auto server = co_await peer.StartServer(executor, EchoOneLine, options);
    CO_ASSERT_OK(server);
    got.push_back(co_await SendLine(co_await peer.Connect(executor, **server)));
    (*server)->Close();
    EXPECT_THAT(co_await (*server)->AsyncWaitClosed(), IsOk());

    // The server variant with a plain callback as client handler.
    auto callback = [](StreamReader reader, StreamWriter writer) {
      const asio::any_io_executor executor = reader.get_executor();
      asio::co_spawn(executor,
                     EchoOneLine(std::move(reader), std::move(writer)),
                     asio::detached);
    };
    ServerOptions options2 = RecordingOptions(&messages);
    server = co_await peer.StartServer(executor, callback, options2);
    CO_ASSERT_OK(server);
    got.push_back(co_await SendLine(co_await peer.Connect(executor, **server)));
    (*server)->Close();
    EXPECT_THAT(co_await (*server)->AsyncWaitClosed(), IsOk());
  });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].value_or("<error>"), "hello world!\n") << got[0].status();
  EXPECT_EQ(got[1].value_or("<error>"), "hello world!\n") << got[1].status();
  EXPECT_TRUE(messages.empty()) << messages.front();
}

// Port of test_streams.py::test_start_tls
TEST(StreamsLoopbackTest, StartTls) {
  asio::ssl::context server_tls = ServerTlsContext();
  asio::ssl::context client_tls = ClientTlsContext();
  std::vector<std::string> messages;
  std::optional<std::string> msg1;
  std::optional<std::string> msg2;
  bool server_ssl_before = true;
  bool server_ssl_after = false;
  bool client_ssl_before = true;
  bool client_ssl_after = false;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto handle_client = [&](StreamReader reader,
                             StreamWriter writer) -> asio::awaitable<void> {
      absl::StatusOr<std::string> data1 = co_await reader.AsyncReadLine();
      EXPECT_THAT(writer.Write(data1.value_or("")), IsOk());
      (void)co_await writer.AsyncDrain();
      server_ssl_before = writer.GetExtraInfo("sslcontext").has_value();
      absl::Status upgraded = co_await writer.AsyncStartTls(server_tls);
      EXPECT_THAT(upgraded, IsOk());
      server_ssl_after = writer.GetExtraInfo("sslcontext").has_value();
      absl::StatusOr<std::string> data2 = co_await reader.AsyncReadLine();
      EXPECT_THAT(writer.Write(data2.value_or("")), IsOk());
      (void)co_await writer.AsyncDrain();
      writer.Close();
      (void)co_await writer.AsyncWaitClosed();
    };
    ServerOptions server_options = RecordingOptions(&messages);
    auto server = co_await AsyncStartServer(executor, handle_client,
                                            "127.0.0.1", 0, server_options);
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port());
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) {
      StreamReader& reader = connection->reader;
      StreamWriter& writer = connection->writer;
      EXPECT_THAT(writer.Write("hello world 1!\n"), IsOk());
      (void)co_await writer.AsyncDrain();
      absl::StatusOr<std::string> back1 = co_await reader.AsyncReadLine();
      if (back1.ok()) msg1 = *back1;
      client_ssl_before = writer.GetExtraInfo("sslcontext").has_value();
      StartTlsOptions tls_options;
      tls_options.server_hostname = "localhost";
      absl::Status upgraded =
          co_await writer.AsyncStartTls(client_tls, tls_options);
      EXPECT_THAT(upgraded, IsOk());
      client_ssl_after = writer.GetExtraInfo("sslcontext").has_value();
      EXPECT_THAT(writer.Write("hello world 2!\n"), IsOk());
      (void)co_await writer.AsyncDrain();
      absl::StatusOr<std::string> back2 = co_await reader.AsyncReadLine();
      if (back2.ok()) msg2 = *back2;
      writer.Close();
      absl::Status closed = co_await writer.AsyncWaitClosed();
      EXPECT_THAT(closed, IsOk());
    }
    (*server)->Close();
    (void)co_await (*server)->AsyncWaitClosed();
  });
  EXPECT_TRUE(messages.empty()) << messages.front();
  EXPECT_EQ(msg1, "hello world 1!\n");
  EXPECT_EQ(msg2, "hello world 2!\n");
  EXPECT_FALSE(server_ssl_before);
  EXPECT_TRUE(server_ssl_after);
  EXPECT_FALSE(client_ssl_before);
  EXPECT_TRUE(client_ssl_after);
}

// Port of test_streams.py::test_read_all_from_pipe_reader
//
// The socket analogue: a reader whose limit (1) is far below the data, fed by
// a peer that writes b'data' and closes; read(-1) returns all of it.
TEST(StreamsLoopbackTest, ReadAllFromPipeReader) {
  UnixPath unix_path;
  absl::StatusOr<std::string> data = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto write_and_close = [](StreamReader, StreamWriter writer) {
      EXPECT_THAT(writer.Write("data"), IsOk());
      writer.Close();
    };
    auto server = co_await AsyncStartUnixServer(executor, write_and_close,
                                                unix_path.path());
    CO_ASSERT_OK(server);
    ConnectionOptions options;
    options.limit = 1;
    auto connection =
        co_await AsyncOpenUnixConnection(executor, unix_path.path(), options);
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) {
      EXPECT_EQ(connection->reader.limit(), 1);
      data = co_await connection->reader.AsyncRead(-1);
      connection->writer.Close();
    }
    (*server)->Close();
  });
  EXPECT_EQ(data.value_or("<error>"), "data") << data.status();
}

// ---------------------------------------------------------------------------
// Writers.

// Port of test_streams.py::test_multiple_drain
//
// Ten drains wait while the transport is paused (a peer that does not read
// and a write far past the high-water mark); all ten complete, OK, once the
// peer reads.
TEST(StreamsLoopbackTest, MultipleDrain) {
  int drained = 0;
  std::vector<absl::Status> results;
  bool paused_while_waiting = false;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
    tcp::acceptor acceptor(executor, loopback);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", acceptor.local_endpoint().port());
    CO_ASSERT_OK(connection);
    tcp::socket peer = co_await acceptor.async_accept(asio::use_awaitable);
    const std::string big(16 * 1024 * 1024, 'x');
    EXPECT_THAT(connection->writer.Write(big), IsOk());
    StreamWriter* writer = &connection->writer;
    for (int i = 0; i < 10; ++i) {
      asio::co_spawn(
          executor,
          [writer, &drained, &results]() -> asio::awaitable<void> {
            absl::Status status = co_await writer->AsyncDrain();
            results.push_back(status);
            ++drained;
          },
          asio::detached);
    }
    co_await Sleep(20ms);
    paused_while_waiting =
        drained == 0 &&
        connection->writer.transport()->GetWriteBufferSize() > 64 * 1024;
    // The peer reads everything.
    std::vector<char> buffer(1 << 20);
    size_t total = 0;
    while (total < big.size()) {
      total += co_await peer.async_read_some(asio::buffer(buffer),
                                             asio::use_awaitable);
    }
    while (drained < 10) co_await Sleep(1ms);
    connection->writer.Close();
    (void)co_await connection->writer.AsyncWaitClosed();
  });
  EXPECT_TRUE(paused_while_waiting);
  EXPECT_EQ(drained, 10);
  for (const absl::Status& status : results) EXPECT_THAT(status, IsOk());
}

// Port of test_streams.py::test_drain_raises
//
// The server accepts and closes at once; the client's write+drain loop must
// end with ConnectionResetError, ConnectionAbortedError or BrokenPipeError,
// not spin forever. As in CPython's test, the server runs in its own thread:
// a drain that is not paused does not yield, so a server on the client's
// loop would never run.
TEST(StreamsLoopbackTest, DrainRaises) {
  absl::Status status;
  int iterations = 0;
  asio::io_context server_context;
  tcp::acceptor acceptor(server_context,
                         tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::thread server([&acceptor, &server_context] {
    tcp::socket client(server_context);
    boost::system::error_code ignored;
    acceptor.accept(client, ignored);
    client.close(ignored);
  });
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto connection = co_await AsyncOpenConnection(
        executor, "localhost", acceptor.local_endpoint().port());
    CO_ASSERT_OK(connection);
    while (iterations < 1000000) {
      EXPECT_THAT(connection->writer.Write("foo\n"), IsOk());
      status = co_await connection->writer.AsyncDrain();
      if (!status.ok()) break;
      ++iterations;
    }
    connection->writer.Close();
  });
  server.join();
  ASSERT_FALSE(status.ok()) << "still draining after " << iterations;
  const std::optional<ErrorKind> kind = GetErrorKind(status);
  EXPECT_TRUE(kind == ErrorKind::kConnectionResetError ||
              kind == ErrorKind::kConnectionAbortedError ||
              kind == ErrorKind::kBrokenPipeError)
      << status;
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
}

// Port of test_streams.py::test_wait_closed_on_close
TEST(StreamsLoopbackTest, WaitClosedOnClose) {
  bool closing_before = true;
  bool closing_after = false;
  absl::Status closed = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server =
        co_await AsyncStartServer(executor, ServeHttp, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port());
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) {
      co_await GetAndCheck(&connection->reader, &connection->writer);
      closing_before = connection->writer.IsClosing();
      connection->writer.Close();
      closing_after = connection->writer.IsClosing();
      closed = co_await connection->writer.AsyncWaitClosed();
    }
    (*server)->Close();
  });
  // The server closed its end first; the reader's EOF keeps the client
  // transport open (EofReceived() is true), so is_closing() is still false.
  EXPECT_FALSE(closing_before);
  EXPECT_TRUE(closing_after);
  EXPECT_THAT(closed, IsOk());
}

// Port of test_streams.py::test_wait_closed_on_close_with_unread_data
TEST(StreamsLoopbackTest, WaitClosedOnCloseWithUnreadData) {
  absl::Status closed = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server =
        co_await AsyncStartServer(executor, ServeHttp, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port());
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) {
      EXPECT_THAT(connection->writer.Write("GET / HTTP/1.0\r\n\r\n"), IsOk());
      absl::StatusOr<std::string> line =
          co_await connection->reader.AsyncReadLine();
      EXPECT_EQ(line.value_or(""), "HTTP/1.0 200 OK\r\n");
      connection->writer.Close();
      closed = co_await connection->writer.AsyncWaitClosed();
    }
    (*server)->Close();
  });
  EXPECT_THAT(closed, IsOk());
}

// Port of test_streams.py::test_async_writer_api
TEST(StreamsLoopbackTest, AsyncWriterApi) {
  std::vector<std::string> messages;
  absl::Status closed = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    ServerOptions options = RecordingOptions(&messages);
    auto server =
        co_await AsyncStartServer(executor, ServeHttp, "127.0.0.1", 0, options);
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port());
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) {
      co_await GetAndCheck(&connection->reader, &connection->writer);
      connection->writer.Close();
      closed = co_await connection->writer.AsyncWaitClosed();
    }
    (*server)->Close();
  });
  EXPECT_THAT(closed, IsOk());
  EXPECT_TRUE(messages.empty()) << messages.front();
}

// Port of test_streams.py::test_async_writer_api_exception_after_close
TEST(StreamsLoopbackTest, AsyncWriterApiExceptionAfterClose) {
  std::vector<std::string> messages;
  absl::Status drained;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    ServerOptions options = RecordingOptions(&messages);
    auto server =
        co_await AsyncStartServer(executor, ServeHttp, "127.0.0.1", 0, options);
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port());
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) {
      co_await GetAndCheck(&connection->reader, &connection->writer);
      connection->writer.Close();
      EXPECT_THAT(connection->writer.Write("data"), IsOk());
      drained = co_await connection->writer.AsyncDrain();
    }
    (*server)->Close();
  });
  EXPECT_EQ(GetErrorKind(drained), ErrorKind::kConnectionResetError) << drained;
  EXPECT_EQ(drained.message(), "Connection lost");
  EXPECT_TRUE(messages.empty()) << messages.front();
}

// The same with a live peer (Python: ConnectionResetError 'Connection lost'
// too), so the error cannot come from the peer's EOF.
TEST(StreamsLoopbackTest, WriteAndDrainAfterCloseWithLivePeer) {
  absl::Status drained;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
    tcp::acceptor acceptor(executor, loopback);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", acceptor.local_endpoint().port());
    CO_ASSERT_OK(connection);
    tcp::socket peer = co_await acceptor.async_accept(asio::use_awaitable);
    connection->writer.Close();
    EXPECT_THAT(connection->writer.Write("data"), IsOk());
    drained = co_await connection->writer.AsyncDrain();
  });
  EXPECT_EQ(GetErrorKind(drained), ErrorKind::kConnectionResetError) << drained;
  EXPECT_EQ(drained.message(), "Connection lost");
}

// Port of test_streams.py::test_eof_feed_when_closing_writer
TEST(StreamsLoopbackTest, EofFeedWhenClosingWriter) {
  std::vector<std::string> messages;
  bool at_eof = false;
  absl::StatusOr<std::string> data = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    ServerOptions options = RecordingOptions(&messages);
    auto server =
        co_await AsyncStartServer(executor, ServeHttp, "127.0.0.1", 0, options);
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port());
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) {
      connection->writer.Close();
      absl::Status closed = co_await connection->writer.AsyncWaitClosed();
      EXPECT_THAT(closed, IsOk());
      at_eof = connection->reader.AtEof();
      data = co_await connection->reader.AsyncRead();
    }
    (*server)->Close();
  });
  EXPECT_TRUE(at_eof);
  EXPECT_EQ(data.value_or("<error>"), "") << data.status();
  EXPECT_TRUE(messages.empty()) << messages.front();
}

// Port of test_streams.py::test_unclosed_resource_warnings
//
// Destroying a writer whose transport is open closes it and reports
// "unclosed <StreamWriter ...>" once.
TEST(StreamsLoopbackTest, UnclosedResourceWarnings) {
  WarningCollector recorder;
  std::vector<std::string> messages;
  bool closing_after = false;
  absl::Status peer_read = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    // A server that answers, then waits for the client's EOF.
    auto handler = [&](StreamReader reader,
                       StreamWriter writer) -> asio::awaitable<void> {
      std::string separator = "\r\n\r\n";
      (void)co_await reader.AsyncReadUntil(separator);
      EXPECT_THAT(writer.Write(kHttpResponse), IsOk());
      absl::StatusOr<std::string> rest = co_await reader.AsyncRead();
      peer_read = rest.status();
      EXPECT_EQ(rest.value_or("<error>"), "");
      writer.Close();
    };
    ServerOptions options = RecordingOptions(&messages);
    auto server =
        co_await AsyncStartServer(executor, handler, "127.0.0.1", 0, options);
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port());
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) {
      EXPECT_THAT(connection->writer.Write("GET / HTTP/1.0\r\n\r\n"), IsOk());
      absl::StatusOr<std::string> line =
          co_await connection->reader.AsyncReadLine();
      EXPECT_EQ(line.value_or(""), "HTTP/1.0 200 OK\r\n");
      std::shared_ptr<Transport> transport = connection->writer.transport();
      EXPECT_TRUE(recorder.warnings().empty());
      { StreamWriter doomed = std::move(connection->writer); }
      closing_after = transport->IsClosing();
      EXPECT_EQ(recorder.warnings().size(), 1u);
    }
    co_await Sleep(10ms);
    (*server)->Close();
  });
  ASSERT_EQ(recorder.warnings().size(), 1u);
  EXPECT_TRUE(
      absl::StartsWith(recorder.warnings()[0], "unclosed <StreamWriter"))
      << recorder.warnings()[0];
  EXPECT_TRUE(closing_after);
  EXPECT_THAT(peer_read, IsOk());  // the peer saw a clean EOF
  EXPECT_TRUE(messages.empty()) << messages.front();
}

// Port of test_streams.py::test_loop_is_closed_resource_warnings
//
// C++ cannot tell a stopped io_context from a running one, so the analogue
// is: a writer still open when the io_context stops is closed and reported
// when it is destroyed afterwards; one closed before is not reported.
TEST(StreamsLoopbackTest, LoopIsClosedResourceWarnings) {
  WarningCollector recorder;
  std::optional<StreamWriter> unclosed;
  std::optional<StreamWriter> closed;
  std::shared_ptr<Transport> transport;
  std::shared_ptr<Server> server_kept;
  {
    asio::io_context context;
    asio::co_spawn(
        context,
        [&]() -> asio::awaitable<void> {
          auto executor = co_await asio::this_coro::executor;
          // The server keeps its connections open until the client's EOF.
          auto handler = [](StreamReader reader,
                            StreamWriter writer) -> asio::awaitable<void> {
            (void)co_await reader.AsyncRead();
            writer.Close();
          };
          auto server =
              co_await AsyncStartServer(executor, handler, "127.0.0.1", 0);
          CO_ASSERT_OK(server);
          server_kept = *server;
          const uint16_t port = (*server)->endpoints().at(0).port();
          auto first =
              co_await AsyncOpenConnection(executor, "127.0.0.1", port);
          auto second =
              co_await AsyncOpenConnection(executor, "127.0.0.1", port);
          if (!first.ok() || !second.ok()) co_return;
          transport = first->writer.transport();
          unclosed.emplace(std::move(first->writer));
          second->writer.Close();
          closed.emplace(std::move(second->writer));
          (*server)->Close();
          // "Make 'loop is closed' occur first before 'del wr'."
          context.stop();
        },
        asio::detached);
    context.run_for(20s);
    ASSERT_TRUE(context.stopped());
    ASSERT_TRUE(unclosed.has_value());
    EXPECT_FALSE(transport->IsClosing());
    closed.reset();
    EXPECT_TRUE(recorder.warnings().empty());
    unclosed.reset();
    EXPECT_TRUE(transport->IsClosing());
    ASSERT_EQ(recorder.warnings().size(), 1u);
    EXPECT_TRUE(
        absl::StartsWith(recorder.warnings()[0], "unclosed <StreamWriter"))
        << recorder.warnings()[0];
    // Let the close finish before the io_context goes.
    transport.reset();
    server_kept.reset();
    context.restart();
    context.run_for(5s);
  }
}

// Port of test_streams.py::test_unhandled_exceptions
//
// A coroutine callback that throws, or returns an error, is reported as
// "Unhandled exception in client_connected_cb"; that connection is closed;
// the server goes on serving.
TEST(StreamsLoopbackTest, UnhandledExceptions) {
  std::vector<ServerError> errors;
  std::vector<absl::StatusOr<std::string>> client_reads;
  std::vector<bool> transports_closing;
  absl::StatusOr<std::string> echoed = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    int calls = 0;
    auto handle_echo =
        [&calls](StreamReader reader,
                 StreamWriter writer) -> asio::awaitable<absl::Status> {
      const int call = ++calls;
      if (call == 1) throw std::runtime_error("test");
      if (call == 2) co_return RuntimeError("returned");
      absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
      EXPECT_THAT(writer.Write(line.value_or("")), IsOk());
      (void)co_await writer.AsyncDrain();
      writer.Close();
      co_return absl::OkStatus();
    };
    ServerOptions options;
    options.exception_handler = [&errors](const ServerError& error) {
      errors.push_back(error);
    };
    auto server = co_await AsyncStartServer(executor, handle_echo, "localhost",
                                            0, options);
    CO_ASSERT_OK(server);
    const uint16_t port = (*server)->endpoints().at(0).port();
    for (int i = 0; i < 2; ++i) {
      auto connection =
          co_await AsyncOpenConnection(executor, "localhost", port);
      EXPECT_THAT(connection, IsOk());
      if (!connection.ok()) continue;
      EXPECT_THAT(connection->writer.Write("test msg"), IsOk());
      (void)co_await connection->writer.AsyncDrain();
      // The server closed this connection: EOF (or a reset, when "test msg"
      // was still unread there).
      client_reads.push_back(co_await connection->reader.AsyncRead());
      connection->writer.Close();
      (void)co_await connection->writer.AsyncWaitClosed();
    }
    EXPECT_TRUE((*server)->IsServing());
    // The reported transports are closed; drop them while the io_context
    // lives.
    for (ServerError& error : errors) {
      transports_closing.push_back(error.transport != nullptr &&
                                   error.transport->IsClosing());
      error.transport = nullptr;
    }
    echoed = co_await SendLine(
        co_await AsyncOpenConnection(executor, "localhost", port));
    (*server)->Close();
    (void)co_await (*server)->AsyncWaitClosed();
  });
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].message, "Unhandled exception in client_connected_cb");
  EXPECT_EQ(GetErrorKind(errors[0].error), ErrorKind::kException)
      << errors[0].error;
  EXPECT_EQ(errors[0].error.message(), "test");
  EXPECT_EQ(errors[1].message, "Unhandled exception in client_connected_cb");
  EXPECT_EQ(GetErrorKind(errors[1].error), ErrorKind::kRuntimeError)
      << errors[1].error;
  EXPECT_EQ(errors[1].error.message(), "returned");
  EXPECT_EQ(transports_closing, (std::vector<bool>{true, true}));
  ASSERT_EQ(client_reads.size(), 2u);
  for (const absl::StatusOr<std::string>& read : client_reads) {
    EXPECT_TRUE(read.value_or("") == "" ||
                GetErrorKind(read.status()) == ErrorKind::kConnectionResetError)
        << read.status();
  }
  EXPECT_EQ(echoed.value_or("<error>"), "hello world!\n") << echoed.status();
}

// The connection of a failed coroutine callback is closed by the server,
// as asyncio does: no "unclosed <StreamWriter ...>" warning on top of the
// report (CPython 3.11.7 under -X dev shows only the exception handler's
// "Unhandled exception in client_connected_cb", no ResourceWarning).
TEST(StreamsLoopbackTest, UnhandledExceptionsWarnNothingElse) {
  WarningCollector recorder;
  std::vector<std::string> messages;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto handle_echo = [](StreamReader, StreamWriter) -> asio::awaitable<void> {
      throw std::runtime_error("test");
      co_return;
    };
    ServerOptions options = RecordingOptions(&messages);
    auto server = co_await AsyncStartServer(executor, handle_echo, "127.0.0.1",
                                            0, options);
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port());
    if (connection.ok()) {
      (void)co_await connection->reader.AsyncRead();
      connection->writer.Close();
      (void)co_await connection->writer.AsyncWaitClosed();
    }
    (*server)->Close();
  });
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(messages[0],
                               "Unhandled exception in client_connected_cb"))
      << messages[0];
  EXPECT_TRUE(recorder.warnings().empty()) << recorder.warnings().front();
}

// A plain callback that throws: reported the same way, connection closed.
TEST(StreamsLoopbackTest, UnhandledExceptionInPlainCallback) {
  std::vector<ServerError> errors;
  absl::StatusOr<std::string> read = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto callback = [](StreamReader, StreamWriter) {
      throw std::runtime_error("plain");
    };
    ServerOptions options;
    options.exception_handler = [&errors](const ServerError& error) {
      errors.push_back({error.message, error.error, nullptr});
    };
    auto server =
        co_await AsyncStartServer(executor, callback, "127.0.0.1", 0, options);
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port());
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) {
      read = co_await connection->reader.AsyncRead();
      connection->writer.Close();
    }
    (*server)->Close();
  });
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "Unhandled exception in client_connected_cb");
  EXPECT_EQ(errors[0].error.message(), "plain");
  EXPECT_EQ(read.value_or("<error>"), "") << read.status();
}

// ---------------------------------------------------------------------------
// Addresses.

TEST(StreamsLoopbackTest, Ipv6ServerAndClient) {
  if (!HaveIpv6Loopback()) {
    GTEST_SKIP() << "this machine cannot bind ::1 (no IPv6 loopback)";
  }
  absl::StatusOr<std::string> got = absl::UnknownError("not run");
  std::any peername;
  tcp::endpoint listening;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server = co_await AsyncStartServer(executor, EchoOneLine, "::1", 0);
    CO_ASSERT_OK(server);
    EXPECT_EQ((*server)->endpoints().size(), 1u);
    listening = (*server)->endpoints().at(0);
    auto connection =
        co_await AsyncOpenConnection(executor, "::1", listening.port());
    if (connection.ok()) peername = connection->writer.GetExtraInfo("peername");
    got = co_await SendLine(std::move(connection));
    (*server)->Close();
  });
  EXPECT_EQ(listening.address(), asio::ip::make_address("::1"));
  EXPECT_NE(listening.port(), 0);
  EXPECT_EQ(got.value_or("<error>"), "hello world!\n") << got.status();
  const tcp::endpoint* peer = std::any_cast<tcp::endpoint>(&peername);
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(*peer, listening);
}

// Connecting to ::1 where nothing listens: Python's IPv6 address tuple.
TEST(StreamsLoopbackTest, Ipv6ConnectionRefused) {
  if (!HaveIpv6Loopback()) {
    GTEST_SKIP() << "this machine cannot bind ::1 (no IPv6 loopback)";
  }
  absl::Status status;
  uint16_t port = 0;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    {
      tcp::endpoint loopback(asio::ip::make_address("::1"), 0);
      tcp::acceptor acceptor(executor, loopback);
      port = acceptor.local_endpoint().port();
    }
    status = (co_await AsyncOpenConnection(executor, "::1", port)).status();
  });
  EXPECT_EQ(GetErrorKind(status), ErrorKind::kConnectionRefusedError) << status;
  EXPECT_EQ(status.message(),
            absl::StrCat("[Errno 111] Connect call failed ('::1', ", port,
                         ", 0, 0)"));
}

// A server on several addresses listens on each (with port 0, a free port
// each, as asyncio's separate sockets get).
TEST(StreamsLoopbackTest, ServerOnSeveralAddresses) {
  if (!HaveIpv6Loopback()) {
    GTEST_SKIP() << "this machine cannot bind ::1 (no IPv6 loopback)";
  }
  std::vector<tcp::endpoint> endpoints;
  std::vector<absl::StatusOr<std::string>> got;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    std::vector<std::string> hosts = {"127.0.0.1", "::1"};
    std::string port = "0";
    ServerOptions options;
    auto server =
        co_await AsyncStartServer(executor, EchoOneLine, hosts, port, options);
    CO_ASSERT_OK(server);
    endpoints = (*server)->endpoints();
    for (const tcp::endpoint& endpoint : endpoints) {
      got.push_back(co_await SendLine(co_await AsyncOpenConnection(
          executor, endpoint.address().to_string(), endpoint.port())));
    }
    (*server)->Close();
  });
  ASSERT_EQ(endpoints.size(), 2u);
  EXPECT_EQ(endpoints[0].address(), asio::ip::make_address("127.0.0.1"));
  EXPECT_EQ(endpoints[1].address(), asio::ip::make_address("::1"));
  for (const tcp::endpoint& endpoint : endpoints) EXPECT_NE(endpoint.port(), 0);
  ASSERT_EQ(got.size(), 2u);
  for (const auto& line : got) {
    EXPECT_EQ(line.value_or("<error>"), "hello world!\n") << line.status();
  }
}

// "localhost" listens on every address it resolves to (here at least
// 127.0.0.1).
TEST(StreamsLoopbackTest, ServerOnLocalhost) {
  std::vector<tcp::endpoint> endpoints;
  absl::StatusOr<std::string> got = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server =
        co_await AsyncStartServer(executor, EchoOneLine, "localhost", 0);
    CO_ASSERT_OK(server);
    endpoints = (*server)->endpoints();
    for (const tcp::endpoint& endpoint : endpoints) {
      if (endpoint.address().is_v4()) {
        got = co_await SendLine(co_await AsyncOpenConnection(
            executor, "localhost", endpoint.port()));
      }
    }
    (*server)->Close();
  });
  ASSERT_FALSE(endpoints.empty());
  bool has_v4 = false;
  for (const tcp::endpoint& endpoint : endpoints) {
    EXPECT_TRUE(endpoint.address().is_loopback()) << endpoint;
    EXPECT_NE(endpoint.port(), 0);
    has_v4 =
        has_v4 || endpoint.address() == asio::ip::make_address("127.0.0.1");
  }
  EXPECT_TRUE(has_v4);
  EXPECT_EQ(got.value_or("<error>"), "hello world!\n") << got.status();
}

// Binding a port in use: Python's message for it.
TEST(StreamsLoopbackTest, StartServerAddressInUse) {
  absl::Status status;
  uint16_t port = 0;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
    tcp::acceptor taken(executor, loopback);  // listening, no SO_REUSEPORT
    port = taken.local_endpoint().port();
    status =
        (co_await AsyncStartServer(executor, EchoOneLine, "127.0.0.1", port))
            .status();
  });
  EXPECT_EQ(GetErrorKind(status), ErrorKind::kOSError) << status;
  EXPECT_EQ(status.message(),
            absl::StrCat("[Errno 98] error while attempting to bind on address "
                         "('127.0.0.1', ",
                         port, "): address already in use"));
}

// ---------------------------------------------------------------------------
// Server state.

// start_serving=False; IsServing() before and after StartServing() and
// Close(); endpoints() with the bound port.
TEST(StreamsLoopbackTest, ServerIsServingAndEndpoints) {
  bool serving_at_start = true;
  bool serving_after_start = false;
  bool serving_after_close = true;
  absl::StatusOr<std::string> got = absl::UnknownError("not run");
  absl::Status refused;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    ServerOptions options;
    options.start_serving = false;
    auto server = co_await AsyncStartServer(executor, EchoOneLine, "127.0.0.1",
                                            0, options);
    CO_ASSERT_OK(server);
    EXPECT_EQ((*server)->endpoints().size(), 1u);
    const tcp::endpoint endpoint = (*server)->endpoints().at(0);
    EXPECT_EQ(endpoint.address(), asio::ip::make_address("127.0.0.1"));
    EXPECT_NE(endpoint.port(), 0);
    serving_at_start = (*server)->IsServing();
    (*server)->StartServing();
    serving_after_start = (*server)->IsServing();
    got = co_await SendLine(
        co_await AsyncOpenConnection(executor, "127.0.0.1", endpoint.port()));
    (*server)->Close();
    serving_after_close = (*server)->IsServing();
    (*server)->StartServing();  // no effect once closed
    EXPECT_FALSE((*server)->IsServing());
    refused =
        (co_await AsyncOpenConnection(executor, "127.0.0.1", endpoint.port()))
            .status();
  });
  EXPECT_FALSE(serving_at_start);
  EXPECT_TRUE(serving_after_start);
  EXPECT_FALSE(serving_after_close);
  EXPECT_EQ(got.value_or("<error>"), "hello world!\n") << got.status();
  EXPECT_EQ(GetErrorKind(refused), ErrorKind::kConnectionRefusedError)
      << refused;
}

// CPython 3.11.7: close() stops listening only; wait_closed() after close()
// returns at once (the listening sockets are gone), even while a connection
// is alive; the connection goes on working.
TEST(StreamsLoopbackTest, ServerCloseThenWaitClosedReturnsAtOnce) {
  bool wait_done_while_connected = false;
  size_t active_at_wait = 0;
  absl::StatusOr<std::string> after_close = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server =
        co_await AsyncStartServer(executor, EchoOneLine, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port());
    CO_ASSERT_OK(connection);
    while ((*server)->active_connections() == 0) co_await Sleep(1ms);
    (*server)->Close();
    absl::Status waited = co_await (*server)->AsyncWaitClosed();
    EXPECT_THAT(waited, IsOk());
    active_at_wait = (*server)->active_connections();
    wait_done_while_connected = !connection->writer.IsClosing();
    after_close = co_await SendLine(std::move(*connection));
  });
  EXPECT_TRUE(wait_done_while_connected);
  EXPECT_EQ(active_at_wait, 1u);
  EXPECT_EQ(after_close.value_or("<error>"), "hello world!\n")
      << after_close.status();
}

// A wait_closed() begun before close() waits for close() and for every
// connection to be lost.
TEST(StreamsLoopbackTest, ServerWaitClosedBeforeCloseWaitsForConnections) {
  std::vector<std::string> events;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server =
        co_await AsyncStartServer(executor, EchoOneLine, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    std::shared_ptr<Server> s = *server;
    auto wait_closed = [s, &events]() -> asio::awaitable<void> {
      absl::Status waited = co_await s->AsyncWaitClosed();
      EXPECT_THAT(waited, IsOk());
      events.push_back("wait_closed");
    };
    asio::co_spawn(executor, std::move(wait_closed), asio::detached);
    auto connection = co_await AsyncOpenConnection(executor, "127.0.0.1",
                                                   s->endpoints().at(0).port());
    CO_ASSERT_OK(connection);
    while (s->active_connections() == 0) co_await Sleep(1ms);
    s->Close();
    co_await Sleep(20ms);
    events.push_back("closed, connection alive");
    absl::StatusOr<std::string> echoed =
        co_await SendLine(std::move(*connection));
    EXPECT_EQ(echoed.value_or(""), "hello world!\n");
    events.push_back("connection done");
  });
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0], "closed, connection alive");
  // wait_closed completes once the server side of the connection is lost,
  // which may be just before or after the client sees its own close.
  EXPECT_TRUE((events[1] == "wait_closed" && events[2] == "connection done") ||
              (events[1] == "connection done" && events[2] == "wait_closed"));
}

// Extension (asyncio 3.13): CloseClients() closes every live connection
// (the clients read EOF); AbortClients() aborts them (EOF or a reset).
TEST(StreamsLoopbackTest, ServerCloseClientsAndAbortClients) {
  std::vector<absl::StatusOr<std::string>> closed_reads;
  std::vector<absl::StatusOr<std::string>> aborted_reads;
  size_t active_after = 99;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    // The server never closes on its own.
    auto hold = [](StreamReader reader,
                   StreamWriter writer) -> asio::awaitable<void> {
      EXPECT_THAT(writer.Write("hi\n"), IsOk());
      (void)co_await reader.AsyncRead();
    };
    for (bool abort : {false, true}) {
      auto server = co_await AsyncStartServer(executor, hold, "127.0.0.1", 0);
      CO_ASSERT_OK(server);
      const uint16_t port = (*server)->endpoints().at(0).port();
      std::vector<Connection> connections;
      for (int i = 0; i < 3; ++i) {
        auto connection =
            co_await AsyncOpenConnection(executor, "127.0.0.1", port);
        CO_ASSERT_OK(connection);
        absl::StatusOr<std::string> hi =
            co_await connection->reader.AsyncReadLine();
        EXPECT_EQ(hi.value_or(""), "hi\n");
        connections.push_back(std::move(*connection));
      }
      (*server)->Close();
      if (abort) {
        (*server)->AbortClients();
      } else {
        (*server)->CloseClients();
      }
      for (Connection& connection : connections) {
        (abort ? aborted_reads : closed_reads)
            .push_back(co_await connection.reader.AsyncRead());
        connection.writer.Close();
        (void)co_await connection.writer.AsyncWaitClosed();
      }
      while ((*server)->active_connections() != 0) co_await Sleep(1ms);
      active_after = (*server)->active_connections();
    }
  });
  ASSERT_EQ(closed_reads.size(), 3u);
  for (const auto& read : closed_reads) {
    EXPECT_EQ(read.value_or("<error>"), "") << read.status();
  }
  ASSERT_EQ(aborted_reads.size(), 3u);
  for (const auto& read : aborted_reads) {
    EXPECT_TRUE(read.value_or("x") == "" ||
                GetErrorKind(read.status()) == ErrorKind::kConnectionResetError)
        << read.status();
  }
  EXPECT_EQ(active_after, 0u);
}

// A connection is visible to CloseClients() from the moment its callback
// starts: a callback that closes every client (its own connection
// included) before doing anything else sees its own writer closing. The
// server used to register the transport one post later, after the
// callback had run.
TEST(StreamsLoopbackTest, CloseClientsSeesAConnectionWhoseCallbackRuns) {
  std::optional<bool> closing_in_callback;
  absl::StatusOr<std::string> client_read = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    std::shared_ptr<Server> serving;
    auto close_all = [&](StreamReader, StreamWriter writer) {
      if (serving != nullptr) serving->CloseClients();
      closing_in_callback = writer.IsClosing();
    };
    auto server =
        co_await AsyncStartServer(executor, close_all, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    serving = *server;
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port());
    if (connection.ok()) {
      client_read = co_await connection->reader.AsyncRead();
      connection->writer.Close();
      (void)co_await connection->writer.AsyncWaitClosed();
    }
    (*server)->Close();
    co_await (*server)->AsyncWaitClosed();
  });
  EXPECT_EQ(closing_in_callback, true);
  EXPECT_EQ(client_read.value_or("<error>"), "") << client_read.status();
}

// ---------------------------------------------------------------------------
// Connecting.

// ConnectionOptions::local_addr: the connection comes from that address.
TEST(StreamsLoopbackTest, ConnectionLocalAddr) {
  tcp::endpoint local;
  std::any sockname;
  std::any seen_by_server;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    {
      // A free port to bind the client to.
      tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
      tcp::acceptor probe(executor, loopback);
      local = probe.local_endpoint();
    }
    auto remember = [&seen_by_server](
                        StreamReader reader,
                        StreamWriter writer) -> asio::awaitable<void> {
      seen_by_server = writer.GetExtraInfo("peername");
      co_await EchoOneLine(std::move(reader), std::move(writer));
    };
    auto server = co_await AsyncStartServer(executor, remember, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    ConnectionOptions options;
    options.local_addr = local;
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port(), options);
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) sockname = connection->writer.GetExtraInfo("sockname");
    absl::StatusOr<std::string> got = co_await SendLine(std::move(connection));
    EXPECT_EQ(got.value_or(""), "hello world!\n");
    (*server)->Close();
  });
  const tcp::endpoint* ours = std::any_cast<tcp::endpoint>(&sockname);
  const tcp::endpoint* theirs = std::any_cast<tcp::endpoint>(&seen_by_server);
  ASSERT_NE(ours, nullptr);
  ASSERT_NE(theirs, nullptr);
  EXPECT_EQ(*ours, local);
  EXPECT_EQ(*theirs, local);
}

// asyncio.base_events._interleave_addrinfos, whose output for these inputs
// (printed by CPython 3.11.7) is the expectation.
TEST(StreamsLoopbackTest, InterleaveByFamilyMatchesAsyncio) {
  auto v4 = [](const char* address, uint16_t port) {
    return tcp::endpoint(asio::ip::make_address(address), port);
  };
  const std::vector<tcp::endpoint> six_first = {v4("::1", 1), v4("::2", 2),
                                                v4("::3", 3), v4("10.0.0.1", 4),
                                                v4("10.0.0.2", 5)};
  // [('::1', 1), ('10.0.0.1', 4), ('::2', 2), ('10.0.0.2', 5), ('::3', 3)]
  EXPECT_EQ(
      net::InterleaveByFamily(six_first, 1),
      (std::vector<tcp::endpoint>{v4("::1", 1), v4("10.0.0.1", 4), v4("::2", 2),
                                  v4("10.0.0.2", 5), v4("::3", 3)}));
  // [('::1', 1), ('::2', 2), ('10.0.0.1', 4), ('::3', 3), ('10.0.0.2', 5)]
  EXPECT_EQ(
      net::InterleaveByFamily(six_first, 2),
      (std::vector<tcp::endpoint>{v4("::1", 1), v4("::2", 2), v4("10.0.0.1", 4),
                                  v4("::3", 3), v4("10.0.0.2", 5)}));
  const std::vector<tcp::endpoint> mixed = {v4("10.0.0.1", 4), v4("::1", 1),
                                            v4("10.0.0.2", 5), v4("::2", 2)};
  // [('10.0.0.1', 4), ('::1', 1), ('10.0.0.2', 5), ('::2', 2)]
  EXPECT_EQ(net::InterleaveByFamily(mixed, 1), mixed);
  // [('10.0.0.1', 4), ('10.0.0.2', 5), ('::1', 1), ('::2', 2)] for 2 and 3
  const std::vector<tcp::endpoint> grouped = {
      v4("10.0.0.1", 4), v4("10.0.0.2", 5), v4("::1", 1), v4("::2", 2)};
  EXPECT_EQ(net::InterleaveByFamily(mixed, 2), grouped);
  EXPECT_EQ(net::InterleaveByFamily(mixed, 3), grouped);
  EXPECT_TRUE(net::InterleaveByFamily({}, 1).empty());
}

// Happy eyeballs with a dead address first: the live one wins.
TEST(StreamsLoopbackTest, HappyEyeballsDeadAddressFirst) {
  absl::StatusOr<tcp::endpoint> connected_to = absl::UnknownError("not run");
  tcp::endpoint live;
  absl::Status all_dead;
  uint16_t dead_port = 0;
  uint16_t dead_port2 = 0;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
    tcp::acceptor listening(executor, loopback);
    live = listening.local_endpoint();
    {
      tcp::acceptor dead(executor, loopback);
      tcp::acceptor dead2(executor, loopback);
      dead_port = dead.local_endpoint().port();
      dead_port2 = dead2.local_endpoint().port();
    }
    const tcp::endpoint dead(live.address(), dead_port);
    const tcp::endpoint dead2(live.address(), dead_port2);
    net::ConnectOptions options;
    options.happy_eyeballs_delay = 250ms;
    std::vector<tcp::endpoint> endpoints = {dead, live};
    absl::StatusOr<tcp::socket> socket = co_await net::AsyncConnect(
        executor, endpoints, options, asio::deferred);
    if (socket.ok()) {
      connected_to = socket->remote_endpoint();
    } else {
      connected_to = socket.status();
    }
    std::vector<tcp::endpoint> dead_ones = {dead, dead2};
    all_dead = (co_await net::AsyncConnect(executor, dead_ones, options,
                                           asio::deferred))
                   .status();
  });
  EXPECT_EQ(connected_to.value_or(tcp::endpoint()), live)
      << connected_to.status();
  // asyncio: several different errors become OSError('Multiple exceptions:
  // ...').
  EXPECT_EQ(GetErrorKind(all_dead), ErrorKind::kOSError) << all_dead;
  EXPECT_EQ(all_dead.message(),
            absl::StrCat("Multiple exceptions: [Errno 111] Connect call failed "
                         "('127.0.0.1', ",
                         dead_port,
                         "), [Errno 111] Connect call failed ('127.0.0.1', ",
                         dead_port2, ")"));
}

// The same through AsyncOpenConnection: with happy_eyeballs_delay set, a
// single live address connects as usual.
TEST(StreamsLoopbackTest, OpenConnectionWithHappyEyeballsDelay) {
  absl::StatusOr<std::string> got = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto server =
        co_await AsyncStartServer(executor, EchoOneLine, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    ConnectionOptions options;
    options.happy_eyeballs_delay = 250ms;
    got = co_await SendLine(co_await AsyncOpenConnection(
        executor, "localhost", (*server)->endpoints().at(0).port(), options));
    (*server)->Close();
  });
  EXPECT_EQ(got.value_or("<error>"), "hello world!\n") << got.status();
}

}  // namespace
}  // namespace streams
