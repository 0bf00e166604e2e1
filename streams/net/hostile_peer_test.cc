// Hostile peers on loopback: lines around the reader's limit, a slowloris
// against a read timeout, resets mid-read and mid-drain, a peer that never
// reads, junk and silence on a TLS port, connect/close churn and many idle
// connections. Each case is bounded in time (RunUntilDone's bound) and checks
// the specific error asyncio 3.11.7 reports, checked with python3 against an
// asyncio server doing the same; the 100 MiB line is in
// hostile_peer_large_test.cc.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/net/open_connection.h"
#include "streams/net/server.h"
#include "streams/net/testing/loopback.h"
#include "streams/net/testing/process_stats.h"
#include "streams/stream_reader.h"
#include "streams/stream_writer.h"
#include "streams/testing/co_assert.h"
#include "streams/testing/status_matchers.h"
#include "streams/transport.h"

namespace streams {

namespace asio = ::boost::asio;
namespace {

using ::boost::asio::ip::tcp;
using ::streams::testing::ClientTlsContext;
using ::streams::testing::CountOpenFds;
using ::streams::testing::CpuSeconds;
using ::streams::testing::IsOk;
using ::streams::testing::RaiseFdLimit;
using ::streams::testing::ResidentKb;
using ::streams::testing::RunUntilDone;
using ::streams::testing::ServerTlsContext;
using ::streams::testing::Sleep;

using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;

// What the transport reads at most per recv (TransportOptions).
constexpr size_t kReadChunk = 256 * 1024;

// RSS figures are meaningless under AddressSanitizer (its quarantine keeps
// freed memory resident): they are then reported, not asserted.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

std::string Describe(const absl::StatusOr<std::string>& result) {
  if (result.ok()) return absl::StrCat("'", *result, "'");
  return absl::StrCat(PythonTypeName(result.status()), ": ",
                      result.status().message());
}

// The port of a server just started, or 0 (after a test failure).
uint16_t PortOf(const absl::StatusOr<std::shared_ptr<Server>>& server) {
  EXPECT_THAT(server, IsOk());
  return server.ok() ? (*server)->endpoints()[0].port() : 0;
}

// Waits (at most `bound`) until the server has no connection left.
// Until `server` has accepted a connection (a client's connect completes
// once the kernel has queued it, before the server accepts it).
asio::awaitable<void> UntilAConnection(Server& server) {
  const auto deadline = std::chrono::steady_clock::now() + 5000ms;
  while (server.active_connections() == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    co_await Sleep(1ms);
  }
}

asio::awaitable<void> UntilNoConnections(
    Server& server, std::chrono::milliseconds bound = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (server.active_connections() > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    co_await Sleep(10ms);
  }
}

// A bare TCP client (no streams), for peers that misbehave at the socket
// level.
asio::awaitable<tcp::socket> RawConnect(uint16_t port) {
  tcp::socket socket(co_await asio::this_coro::executor);
  auto [error] = co_await socket.async_connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
      asio::as_tuple(asio::use_awaitable));
  EXPECT_FALSE(error) << error.message();
  co_return socket;
}

// Closes `socket` with SO_LINGER 0: the peer gets a RST, not a FIN.
void Reset(tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

// An operation's status code, so that `||` with a timer yields a
// std::variant<absl::StatusCode, std::monostate>: with one of
// absl::Status, g++ 12 at -O1 (the sanitizer configurations) warns that the
// variant's Status may be used uninitialized, a false positive.
asio::awaitable<absl::StatusCode> Code(
    asio::awaitable<absl::Status> operation) {
  co_return (co_await std::move(operation)).code();
}

void ExpectConnectionReset(const absl::Status& status) {
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(GetErrorKind(status), ErrorKind::kConnectionResetError) << status;
  EXPECT_EQ(std::string(status.message()),
            "[Errno 104] Connection reset by peer");
}

// ---------------------------------------------------------------------------
// Lines at every length around the limit.

// Lines of every length n (newline included) from limit-1 to 4*limit, each
// followed by "ok\n" in the same write, to a line-echo server whose reader
// has limit 1024 and answers "echo <n>" or "ValueError: <message>". Checked
// against CPython 3.11.7 (asyncio.start_server(limit=1024), the same client
// and answers): n <= limit+1 is echoed; from limit+2 on, readline raises
// ValueError('Separator is found, but chunk is longer than limit'), drops
// that line, and the next readline returns b'ok\n'. Then limit+100 bytes
// without a newline, and "tail\n" 100 ms later: ValueError('Separator is not
// found, and chunk exceed the limit') (the buffer is cleared), then b'tail\n'.
TEST(HostilePeerTest, LinesAroundTheLimit) {
  constexpr int64_t kLimit = 1024;
  size_t max_buffered = 0;
  int lines = 0;
  int mismatches = 0;
  std::string first_mismatch;
  std::vector<std::string> split;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto on_client = [&](StreamReader reader,
                         StreamWriter writer) -> asio::awaitable<void> {
      while (true) {
        absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
        max_buffered = std::max(max_buffered, reader.buffer_size());
        if (line.ok() && line->empty()) break;
        if (line.ok()) {
          EXPECT_THAT(writer.Write(absl::StrCat("echo ", line->size(), "\n")),
                      IsOk());
        } else if (line.status().code() ==
                       absl::StatusCode::kResourceExhausted &&
                   GetErrorKind(line.status()) == ErrorKind::kValueError) {
          EXPECT_THAT(writer.Write(absl::StrCat(
                          "ValueError: ", line.status().message(), "\n")),
                      IsOk());
        } else {
          ADD_FAILURE() << line.status();
          break;
        }
        if (!(co_await writer.AsyncDrain()).ok()) break;
      }
      writer.Close();
    };
    ServerOptions options;
    options.limit = kLimit;
    auto server =
        co_await AsyncStartServer(executor, on_client, "127.0.0.1", 0, options);
    const uint16_t port = PortOf(server);
    if (port == 0) co_return;
    auto connection = co_await AsyncOpenConnection(executor, "127.0.0.1", port);
    CO_ASSERT_OK(connection);
    auto& [reader, writer] = *connection;
    for (int64_t n = kLimit - 1; n <= 4 * kLimit; ++n) {
      EXPECT_THAT(writer.Write(std::string(n - 1, 'x') + "\n" + "ok\n"),
                  IsOk());
      absl::StatusOr<std::string> answer = co_await reader.AsyncReadLine();
      absl::StatusOr<std::string> next = co_await reader.AsyncReadLine();
      ++lines;
      const std::string expected =
          n <= kLimit + 1 ? absl::StrCat("echo ", n, "\n")
                          : "ValueError: Separator is found, but chunk is "
                            "longer than limit\n";
      if (answer.value_or("") != expected || next.value_or("") != "echo 3\n") {
        if (mismatches++ == 0) {
          first_mismatch = absl::StrCat("n=", n, ": ", Describe(answer), " ",
                                        Describe(next));
        }
      }
    }
    EXPECT_THAT(writer.Write(std::string(kLimit + 100, 'y')), IsOk());
    co_await Sleep(100ms);
    EXPECT_THAT(writer.Write("tail\n"), IsOk());
    for (int i = 0; i < 2; ++i) {
      split.push_back(Describe(co_await reader.AsyncReadLine()));
    }
    writer.Close();
    EXPECT_THAT(co_await writer.AsyncWaitClosed(), IsOk());
    (*server)->Close();
  });
  EXPECT_EQ(lines, 3 * kLimit + 2);
  EXPECT_EQ(mismatches, 0) << "first: " << first_mismatch;
  EXPECT_EQ(split, (std::vector<std::string>{
                       "'ValueError: Separator is not found, and chunk "
                       "exceed the limit\n'",
                       "'echo 5\n'"}));
  // The reader's bound: 2 * limit plus one transport read.
  EXPECT_LE(max_buffered, 2 * kLimit + kReadChunk);
}

// ---------------------------------------------------------------------------
// A slowloris against a read timeout made from cancellation.

// The client sends "0123456789" one byte every 50 ms and never a newline;
// the server gives each line 200 ms (readline || timer), then closes. The
// timed-out read consumed nothing: the buffer holds exactly the bytes that
// arrived, from the first. The client sees EOF; nothing is left behind.
TEST(HostilePeerTest, SlowlorisHitsReadTimeout) {
  bool timed_out = false;
  std::string buffered_at_timeout;
  std::chrono::milliseconds waited{0};
  absl::Status server_closed = absl::UnknownError("not run");
  std::weak_ptr<Transport> server_transport;
  absl::StatusOr<std::string> client_read = absl::UnknownError("not run");
  int sent = 0;
  bool transport_freed = false;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto on_client = [&](StreamReader reader,
                         StreamWriter writer) -> asio::awaitable<void> {
      server_transport = writer.transport();
      asio::steady_timer timer(co_await asio::this_coro::executor, 200ms);
      const auto start = std::chrono::steady_clock::now();
      auto result = co_await (reader.AsyncReadLine(asio::use_awaitable) ||
                              timer.async_wait(asio::use_awaitable));
      waited = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      if (result.index() == 1) {
        timed_out = true;
        // Bytes still buffered: read them without waiting.
        buffered_at_timeout = (co_await reader.AsyncRead(100)).value_or("?");
      }
      writer.Close();
      server_closed = co_await writer.AsyncWaitClosed();
    };
    auto server =
        co_await AsyncStartServer(executor, on_client, "127.0.0.1", 0);
    const uint16_t port = PortOf(server);
    if (port == 0) co_return;
    auto connection = co_await AsyncOpenConnection(executor, "127.0.0.1", port);
    CO_ASSERT_OK(connection);
    auto& [reader, writer] = *connection;
    const std::string bytes = "0123456789";
    for (char byte : bytes) {
      EXPECT_THAT(writer.Write(std::string(1, byte)), IsOk());
      ++sent;
      asio::steady_timer pace(executor, 50ms);
      auto result = co_await (reader.AsyncRead(100, asio::use_awaitable) ||
                              pace.async_wait(asio::use_awaitable));
      if (result.index() == 0) {
        client_read = std::get<0>(std::move(result));
        break;
      }
    }
    writer.transport()->Abort();
    co_await UntilNoConnections(**server);
    transport_freed = server_transport.expired();
    (*server)->Close();
  });
  EXPECT_TRUE(timed_out);
  EXPECT_GE(waited, 200ms);
  EXPECT_FALSE(buffered_at_timeout.empty());
  EXPECT_EQ(buffered_at_timeout,
            std::string("0123456789").substr(0, buffered_at_timeout.size()));
  EXPECT_THAT(server_closed, IsOk());
  // The server closed: the client reads EOF, or, when a byte it sent after
  // the server's last read was still unread in the server's socket at
  // close(), the kernel's reset (asyncio's close() does the same).
  EXPECT_THAT(
      Describe(client_read),
      ::testing::AnyOf("''",
                       "ConnectionResetError: [Errno 104] Connection reset "
                       "by peer"));
  EXPECT_LT(sent, 10);
  EXPECT_TRUE(transport_freed);
}

// ---------------------------------------------------------------------------
// Resets (SO_LINGER 0 + close on the peer).

// asyncio 3.11.7: readline() raises ConnectionResetError(104, 'Connection
// reset by peer').
TEST(HostilePeerTest, ResetMidRead) {
  std::optional<absl::StatusOr<std::string>> read;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto on_client = [&](StreamReader reader,
                         StreamWriter writer) -> asio::awaitable<void> {
      read = co_await reader.AsyncReadLine();
      writer.Close();
    };
    auto server =
        co_await AsyncStartServer(executor, on_client, "127.0.0.1", 0);
    const uint16_t port = PortOf(server);
    if (port == 0) co_return;
    tcp::socket socket = co_await RawConnect(port);
    co_await asio::async_write(socket, asio::buffer("partial", 7),
                               asio::as_tuple(asio::use_awaitable));
    co_await Sleep(100ms);
    Reset(socket);
    co_await UntilNoConnections(**server);
    (*server)->Close();
  });
  ASSERT_TRUE(read.has_value());
  ExpectConnectionReset(read->status());
}

// The server writes 64 KiB at a time and drains; the peer never reads and
// resets after 300 ms. asyncio 3.11.7: drain() raises
// ConnectionResetError(104, 'Connection reset by peer'); the transport is
// closing and its buffer empty.
TEST(HostilePeerTest, ResetMidDrain) {
  absl::Status drained;
  bool closing = false;
  size_t buffered = 1;
  size_t written = 0;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto on_client = [&](StreamReader,
                         StreamWriter writer) -> asio::awaitable<void> {
      const std::string chunk(64 * 1024, 'z');
      // Bounded: 1 GiB would take a peer that reads.
      while (written < (1u << 30)) {
        EXPECT_THAT(writer.Write(chunk), IsOk());
        written += chunk.size();
        drained = co_await writer.AsyncDrain();
        if (!drained.ok()) break;
      }
      closing = writer.IsClosing();
      buffered = writer.transport()->GetWriteBufferSize();
    };
    auto server =
        co_await AsyncStartServer(executor, on_client, "127.0.0.1", 0);
    const uint16_t port = PortOf(server);
    if (port == 0) co_return;
    tcp::socket socket = co_await RawConnect(port);
    co_await Sleep(300ms);
    Reset(socket);
    co_await UntilNoConnections(**server);
    (*server)->Close();
  });
  ExpectConnectionReset(drained);
  EXPECT_TRUE(closing);
  EXPECT_EQ(buffered, 0u);
  EXPECT_LT(written, 1u << 30);
}

// ---------------------------------------------------------------------------
// A peer that never reads.

// The server writes 16 KiB at a time, each time checking the writer's bound
// (high-water mark + what was written since the last drain), then drains
// with a 200 ms timeout; the peer's socket fills up, a drain times out.
// Close() then cannot finish (the buffer never flushes) and
// AsyncWaitClosed() times out too; Abort() ends the connection. Checked
// against CPython 3.11.7, same steps: drain() times out after ~4 MB, close()
// + wait_for(wait_closed(), 0.3) raises TimeoutError, and after abort()
// wait_closed() raises CancelledError (the timed-out wait cancelled the
// protocol's closed future), as here.
TEST(HostilePeerTest, PeerThatNeverReads) {
  constexpr size_t kChunk = 16 * 1024;
  constexpr size_t kHigh = 64 * 1024;  // asyncio's default high-water mark
  size_t written = 0;
  size_t max_buffered = 0;
  bool drain_timed_out = false;
  bool wait_closed_timed_out = false;
  bool closing = false;
  absl::Status after_abort;
  size_t buffered_after_abort = 1;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto on_client = [&](StreamReader,
                         StreamWriter writer) -> asio::awaitable<void> {
      asio::steady_timer timer(co_await asio::this_coro::executor);
      const std::string chunk(kChunk, 'q');
      while (written < (256u << 20)) {
        EXPECT_THAT(writer.Write(chunk), IsOk());
        written += chunk.size();
        const size_t size = writer.transport()->GetWriteBufferSize();
        max_buffered = std::max(max_buffered, size);
        EXPECT_LE(size, kHigh + kChunk);
        timer.expires_after(200ms);
        auto drained = co_await (Code(writer.AsyncDrain(asio::use_awaitable)) ||
                                 timer.async_wait(asio::use_awaitable));
        if (drained.index() == 1) {
          drain_timed_out = true;
          break;
        }
        if (std::get<0>(drained) != absl::StatusCode::kOk) {
          ADD_FAILURE() << "drain: "
                        << absl::StatusCodeToString(std::get<0>(drained));
          break;
        }
      }
      writer.Close();
      closing = writer.IsClosing();
      timer.expires_after(300ms);
      auto closed =
          co_await (Code(writer.AsyncWaitClosed(asio::use_awaitable)) ||
                    timer.async_wait(asio::use_awaitable));
      wait_closed_timed_out = closed.index() == 1;
      writer.transport()->Abort();
      after_abort = co_await writer.AsyncWaitClosed();
      buffered_after_abort = writer.transport()->GetWriteBufferSize();
    };
    auto server =
        co_await AsyncStartServer(executor, on_client, "127.0.0.1", 0);
    const uint16_t port = PortOf(server);
    if (port == 0) co_return;
    tcp::socket socket = co_await RawConnect(port);
    co_await UntilAConnection(**server);
    co_await UntilNoConnections(**server, 20000ms);
    (*server)->Close();
  });
  std::cout << "peer that never reads: a drain waited after " << written
            << " bytes; write buffer at most " << max_buffered << " bytes\n";
  EXPECT_TRUE(drain_timed_out);
  EXPECT_LE(max_buffered, kHigh + kChunk);
  EXPECT_TRUE(closing);
  EXPECT_TRUE(wait_closed_timed_out);
  EXPECT_EQ(after_abort.code(), absl::StatusCode::kCancelled) << after_abort;
  EXPECT_EQ(buffered_after_abort, 0u);
}

// ---------------------------------------------------------------------------
// TLS ports.

// What a plaintext client that sends `data` (maybe nothing) to a TLS server
// reads, and what the server reports.
struct TlsJunkOutcome {
  absl::StatusOr<std::string> client_read = absl::UnknownError("not run");
  std::chrono::milliseconds read_after{0};
  std::vector<ServerError> reports;
  absl::StatusOr<std::string> good_client = absl::UnknownError("not run");
};

TlsJunkOutcome SendToTlsPort(const std::string& data,
                             std::chrono::milliseconds handshake_timeout) {
  asio::ssl::context server_tls = ServerTlsContext();
  asio::ssl::context client_tls = ClientTlsContext();
  TlsJunkOutcome outcome;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto on_client = [](StreamReader,
                        StreamWriter writer) -> asio::awaitable<void> {
      EXPECT_THAT(writer.Write("hi\n"), IsOk());
      co_await writer.AsyncDrain();
      writer.Close();
    };
    ServerOptions options;
    options.ssl = &server_tls;
    options.ssl_handshake_timeout = handshake_timeout;
    options.exception_handler = [&](const ServerError& error) {
      outcome.reports.push_back(error);
    };
    auto server =
        co_await AsyncStartServer(executor, on_client, "127.0.0.1", 0, options);
    const uint16_t port = PortOf(server);
    if (port == 0) co_return;
    auto plain = co_await AsyncOpenConnection(executor, "127.0.0.1", port);
    CO_ASSERT_OK(plain);
    EXPECT_THAT(plain->writer.Write(data), IsOk());
    const auto start = std::chrono::steady_clock::now();
    outcome.client_read = co_await plain->reader.AsyncRead(100);
    outcome.read_after = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    plain->writer.Close();
    co_await plain->writer.AsyncWaitClosed();
    // The server goes on serving.
    ConnectionOptions tls_options;
    tls_options.ssl = &client_tls;
    tls_options.server_hostname = "localhost";
    auto good =
        co_await AsyncOpenConnection(executor, "127.0.0.1", port, tls_options);
    if (good.ok()) {
      outcome.good_client = co_await good->reader.AsyncReadLine();
      good->writer.Close();
      co_await good->writer.AsyncWaitClosed();
    } else {
      outcome.good_client = good.status();
    }
    co_await UntilNoConnections(**server);
    (*server)->Close();
  });
  return outcome;
}

void ExpectHandshakeFailure(const TlsJunkOutcome& outcome,
                            ErrorKind expected_kind,
                            absl::StatusCode expected_code,
                            const std::string& expected_message) {
  // The server drops the connection: EOF for the peer, as with asyncio.
  EXPECT_EQ(Describe(outcome.client_read), "''");
  ASSERT_EQ(outcome.reports.size(), 1u);
  const ServerError& report = outcome.reports[0];
  EXPECT_EQ(report.message, "SSL handshake failed");
  EXPECT_EQ(report.error.code(), expected_code) << report.error;
  EXPECT_EQ(GetErrorKind(report.error), expected_kind) << report.error;
  EXPECT_EQ(std::string(report.error.message()), expected_message);
  EXPECT_EQ(Describe(outcome.good_client), "'hi\n'");
}

// CPython 3.11.7's server reports SSLError('[SSL: WRONG_VERSION_NUMBER] wrong
// version number (_ssl.c:1006)') for these bytes, and its client reads b''.
TEST(HostilePeerTest, GarbageToTlsPort) {
  std::string garbage;
  for (int i = 0; i < 4; ++i) {
    for (int byte = 0; byte < 256; ++byte) garbage.push_back(char(byte));
  }
  ExpectHandshakeFailure(SendToTlsPort(garbage, 5000ms), ErrorKind::kSSLError,
                         absl::StatusCode::kUnavailable,
                         "[SSL: WRONG_VERSION_NUMBER] wrong version number");
}

// CPython 3.11.7: SSLError('[SSL: HTTP_REQUEST] http request (_ssl.c:1006)').
TEST(HostilePeerTest, PlaintextHttpToTlsPort) {
  ExpectHandshakeFailure(
      SendToTlsPort("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", 5000ms),
      ErrorKind::kSSLError, absl::StatusCode::kUnavailable,
      "[SSL: HTTP_REQUEST] http request");
}

// A client that connects and says nothing: the handshake timeout (200 ms
// here) aborts the connection, which the client sees as EOF after ~0.2 s.
// The message and the exception class are CPython 3.11.7's:
// ConnectionAbortedError (sslproto._check_handshake_timeout), kUnavailable.
TEST(HostilePeerTest, StalledTlsHandshakeTimesOut) {
  TlsJunkOutcome outcome = SendToTlsPort("", 200ms);
  EXPECT_GE(outcome.read_after, 200ms);
  EXPECT_LT(outcome.read_after, 5000ms);
  ExpectHandshakeFailure(outcome, ErrorKind::kConnectionAbortedError,
                         absl::StatusCode::kUnavailable,
                         "SSL handshake is taking longer than 0.2 seconds: "
                         "aborting the connection");
}

// ---------------------------------------------------------------------------
// Churn and idle connections.

// 10,000 connect/close cycles (16 at a time; the server closes each after
// the client's EOF) leave no file descriptor open.
TEST(HostilePeerTest, ConnectCloseCyclesLeakNoDescriptor) {
  constexpr int kCycles = 10000;
  constexpr int kParallel = 16;
  ASSERT_TRUE(RaiseFdLimit(1024));
  int fds_before = -1;
  int fds_after = -1;
  int completed = 0;
  int failed = 0;
  std::string first_failure;
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = CpuSeconds();
  RunUntilDone(
      [&](asio::any_io_executor executor) -> asio::awaitable<void> {
        auto server =
            co_await AsyncStartServer(executor, testing::Echo, "127.0.0.1", 0);
        const uint16_t port = PortOf(server);
        if (port == 0) co_return;
        // Counted after one cycle: the first connection sets up what the
        // io_context keeps for good (the resolver's thread, ...).
        {
          auto warm = co_await AsyncOpenConnection(executor, "127.0.0.1", port);
          if (warm.ok()) {
            warm->writer.Close();
            co_await warm->writer.AsyncWaitClosed();
          }
          co_await UntilNoConnections(**server);
        }
        fds_before = CountOpenFds();
        int running = kParallel;
        for (int worker = 0; worker < kParallel; ++worker) {
          asio::co_spawn(
              executor,
              [&, executor]() -> asio::awaitable<void> {
                for (int i = 0; i < kCycles / kParallel; ++i) {
                  auto connection =
                      co_await AsyncOpenConnection(executor, "127.0.0.1", port);
                  absl::Status closed = connection.status();
                  if (connection.ok()) {
                    // Half-close, wait for the server's close, then close:
                    // each cycle waits for the server, so the clients never
                    // outrun its accept queue (an overflow drops SYNs, and
                    // the kernel retries them a second later).
                    EXPECT_THAT(connection->writer.WriteEof(), IsOk());
                    absl::StatusOr<std::string> eof =
                        co_await connection->reader.AsyncRead(-1);
                    connection->writer.Close();
                    closed = co_await connection->writer.AsyncWaitClosed();
                    if (closed.ok() && eof.value_or("?") != "") {
                      closed =
                          eof.ok() ? absl::InternalError(*eof) : eof.status();
                    }
                  }
                  if (closed.ok()) {
                    ++completed;
                  } else if (failed++ == 0) {
                    first_failure = closed.ToString();
                  }
                }
                --running;
              },
              asio::detached);
        }
        while (running > 0) co_await Sleep(10ms);
        co_await UntilNoConnections(**server);
        fds_after = CountOpenFds();
        (*server)->Close();
      },
      std::chrono::seconds(120));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::cout << kCycles << " connect/close cycles in " << seconds << " s ("
            << CpuSeconds() - cpu_start << " s CPU); open fds before "
            << fds_before << ", after " << fds_after << "\n";
  EXPECT_EQ(completed, kCycles);
  EXPECT_EQ(failed, 0) << first_failure;
  EXPECT_EQ(fds_after, fds_before);
}

// 1,000 idle connections open at once (both ends in this process), then
// closed. Reports the resident memory per idle connection.
TEST(HostilePeerTest, ThousandIdleConnections) {
  constexpr int kConnections = 1000;
  ASSERT_TRUE(RaiseFdLimit(2 * kConnections + 256));
  int64_t rss_before = 0;
  int64_t rss_open = 0;
  int fds_before = -1;
  int fds_after = -1;
  size_t peak_active = 0;
  int eofs = 0;
  RunUntilDone(
      [&](asio::any_io_executor executor) -> asio::awaitable<void> {
        int waiting = 0;
        auto on_client = [&](StreamReader reader,
                             StreamWriter writer) -> asio::awaitable<void> {
          ++waiting;
          absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
          if (line.ok() && line->empty()) ++eofs;
          writer.Close();
        };
        auto server =
            co_await AsyncStartServer(executor, on_client, "127.0.0.1", 0);
        const uint16_t port = PortOf(server);
        if (port == 0) co_return;
        // One connection first, so that one-time allocations (the thread's
        // receive buffer, services) are not counted per connection.
        {
          auto warm = co_await AsyncOpenConnection(executor, "127.0.0.1", port);
          if (warm.ok()) {
            EXPECT_THAT(warm->writer.Write("\n"), IsOk());
            co_await warm->reader.AsyncRead(-1);
            warm->writer.Close();
            co_await warm->writer.AsyncWaitClosed();
          }
          co_await UntilNoConnections(**server);
        }
        waiting = 0;
        fds_before = CountOpenFds();
        rss_before = ResidentKb();
        std::vector<Connection> connections;
        connections.reserve(kConnections);
        for (int i = 0; i < kConnections; ++i) {
          auto connection =
              co_await AsyncOpenConnection(executor, "127.0.0.1", port);
          if (!connection.ok()) {
            ADD_FAILURE() << i << ": " << connection.status();
            break;
          }
          connections.push_back(*std::move(connection));
        }
        for (int i = 0; i < 500 && waiting < kConnections; ++i) {
          co_await Sleep(10ms);
        }
        peak_active = (*server)->active_connections();
        rss_open = ResidentKb();
        for (Connection& connection : connections) connection.writer.Close();
        for (Connection& connection : connections) {
          co_await connection.writer.AsyncWaitClosed();
        }
        connections.clear();
        co_await UntilNoConnections(**server);
        fds_after = CountOpenFds();
        (*server)->Close();
      },
      std::chrono::seconds(120));
  const double per_connection =
      static_cast<double>(rss_open - rss_before) / kConnections;
  std::cout << kConnections << " idle connections: RSS " << rss_before
            << " KiB -> " << rss_open << " KiB, " << per_connection
            << " KiB per connection (client and server ends)"
            << (kAsan ? " [ASan]" : "") << "\n";
  ::testing::Test::RecordProperty("rss_per_idle_connection_kib",
                                  static_cast<int>(per_connection));
  EXPECT_EQ(peak_active, static_cast<size_t>(kConnections));
  EXPECT_EQ(eofs, kConnections);
  EXPECT_EQ(fds_after, fds_before);
  // An idle connection holds no receive buffer (256 KiB if it did).
  if (!kAsan) {
    EXPECT_LT(per_connection, 64.0);
  }
}

}  // namespace
}  // namespace streams
