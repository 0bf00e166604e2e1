// Flow control and connection ends on loopback sockets: backpressure through
// AsyncDrain, half-close, abort, a peer that resets the connection while a
// read or a drain waits, and a TLS peer that closes without close_notify.

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/ssl/stream.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/net/open_connection.h"
#include "streams/net/server.h"
#include "streams/net/testing/loopback.h"
#include "streams/net/tls.h"
#include "streams/stream_reader.h"
#include "streams/stream_writer.h"
#include "streams/testing/co_assert.h"
#include "streams/testing/status_matchers.h"

namespace streams {

namespace asio = ::boost::asio;
namespace {

using ::streams::testing::IsOk;
using ::streams::testing::RunUntilDone;
using ::streams::testing::Sleep;

using namespace std::chrono_literals;
using asio::ip::tcp;

// A one-shot event: Wait() completes once Set() was called.
class Event {
 public:
  explicit Event(const asio::any_io_executor& executor)
      : timer_(executor, asio::steady_timer::time_point::max()) {}
  void Set() {
    set_ = true;
    timer_.cancel();
  }
  bool is_set() const { return set_; }
  asio::awaitable<void> Wait() {
    while (!set_) {
      (void)co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

bool IsOsErrorFamily(const absl::Status& status) {
  const std::optional<ErrorKind> kind = GetErrorKind(status);
  return kind == ErrorKind::kOSError ||
         kind == ErrorKind::kConnectionResetError ||
         kind == ErrorKind::kBrokenPipeError ||
         kind == ErrorKind::kConnectionAbortedError;
}

// Backpressure. The server does not read until told; the client writes
// 64 KiB chunks, draining after each. Once the kernel's buffers are full the
// transport's buffer passes the high-water mark and a drain waits; it
// completes only after the server started reading again. Throughout, the
// write buffer never holds more than the high-water mark plus what was
// written since the last drain. Every byte arrives.
TEST(FlowControlLoopbackTest, DrainWaitsWhileThePeerDoesNotRead) {
  constexpr size_t kHigh = 128 * 1024;
  constexpr size_t kLow = 32 * 1024;
  constexpr size_t kChunk = 64 * 1024;
  constexpr size_t kMaxBytes = size_t{512} * 1024 * 1024;
  size_t written = 0;
  size_t received = 0;
  bool paused_seen = false;
  size_t server_read_when_drained = 0;
  size_t worst_excess = 0;  // buffer - (high + written since last drain)
  size_t buffer_after_paused_drain = 0;
  std::vector<absl::Status> drain_errors;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    Event resume(executor);
    auto sink = [&](StreamReader reader,
                    StreamWriter writer) -> asio::awaitable<void> {
      co_await resume.Wait();
      while (true) {
        absl::StatusOr<std::string> data = co_await reader.AsyncRead(kChunk);
        if (!data.ok() || data->empty()) break;
        received += data->size();
      }
      writer.Close();
    };
    auto server = co_await AsyncStartServer(executor, sink, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    ConnectionOptions options;
    options.transport.write_high_water = kHigh;
    options.transport.write_low_water = kLow;
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port(), options);
    CO_ASSERT_OK(connection);
    StreamWriter& writer = connection->writer;
    const std::string chunk(kChunk, 'x');
    size_t since_drain = 0;
    while (written < kMaxBytes) {
      EXPECT_THAT(writer.Write(chunk), IsOk());
      written += chunk.size();
      since_drain += chunk.size();
      // Let the transport hand what it can to the kernel: a drain that is not
      // paused returns without yielding (as asyncio's), so only this makes
      // the buffer pass the high-water mark once the peer's socket is full,
      // not merely before the first send completed.
      co_await asio::post(executor, asio::use_awaitable);
      const size_t buffered = writer.transport()->GetWriteBufferSize();
      if (buffered > kHigh + since_drain) {
        worst_excess = std::max(worst_excess, buffered - kHigh - since_drain);
      }
      const bool paused = buffered > kHigh;
      if (paused && !paused_seen) {
        paused_seen = true;
        resume.Set();  // the server reads from now on
      }
      absl::Status drained = co_await writer.AsyncDrain();
      if (!drained.ok()) drain_errors.push_back(drained);
      since_drain = 0;
      if (paused) {
        server_read_when_drained = received;
        buffer_after_paused_drain = writer.transport()->GetWriteBufferSize();
        break;
      }
    }
    // A little more after resuming, then EOF.
    for (int i = 0; i < 16; ++i) {
      EXPECT_THAT(writer.Write(chunk), IsOk());
      written += chunk.size();
      absl::Status drained = co_await writer.AsyncDrain();
      if (!drained.ok()) drain_errors.push_back(drained);
    }
    EXPECT_THAT(writer.WriteEof(), IsOk());
    absl::StatusOr<std::string> eof = co_await connection->reader.AsyncRead();
    EXPECT_EQ(eof.value_or("<error>"), "") << eof.status();
    writer.Close();
    (void)co_await writer.AsyncWaitClosed();
    (*server)->Close();
  });
  ASSERT_TRUE(paused_seen) << "the write buffer never passed the high-water "
                              "mark after "
                           << written << " bytes";
  EXPECT_GT(server_read_when_drained, 0u)
      << "the drain completed before the server read anything";
  EXPECT_LE(buffer_after_paused_drain, kLow);
  EXPECT_EQ(worst_excess, 0u);
  EXPECT_TRUE(drain_errors.empty()) << drain_errors.front();
  EXPECT_EQ(received, written);
}

// SetWriteBufferLimits() on a live transport: a buffer past the new
// high-water mark pauses at once (the drain waits), and drains to low.
TEST(FlowControlLoopbackTest, SetWriteBufferLimitsOnLiveTransport) {
  absl::Status drained = absl::UnknownError("not run");
  size_t buffered_before = 0;
  size_t buffered_after = 99;
  std::string got;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto sink = [&](StreamReader reader,
                    StreamWriter writer) -> asio::awaitable<void> {
      absl::StatusOr<std::string> all = co_await reader.AsyncRead();
      got = all.value_or("<error>");
      writer.Close();
    };
    auto server = co_await AsyncStartServer(executor, sink, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port());
    CO_ASSERT_OK(connection);
    connection->writer.transport()->SetWriteBufferLimits(10, 0);
    EXPECT_THAT(connection->writer.Write(std::string(1000, 'y')), IsOk());
    buffered_before = connection->writer.transport()->GetWriteBufferSize();
    drained = co_await connection->writer.AsyncDrain();
    buffered_after = connection->writer.transport()->GetWriteBufferSize();
    connection->writer.Close();
    (void)co_await connection->writer.AsyncWaitClosed();
    while (got.empty()) co_await Sleep(1ms);
    (*server)->Close();
  });
  // asyncio's write() sends at once what the kernel takes and buffers the
  // rest: here the kernel takes it all or part of it.
  EXPECT_LE(buffered_before, 1000u);
  EXPECT_THAT(drained, IsOk());
  EXPECT_EQ(buffered_after, 0u);
  EXPECT_EQ(got, std::string(1000, 'y'));
}

// Half-close: the client sends its request and WriteEof(); the server reads
// to EOF (its StreamReaderProtocol's EofReceived() returns true, so its
// transport stays open), then replies; the client still receives the reply.
TEST(FlowControlLoopbackTest, HalfClose) {
  std::string server_got;
  bool server_closing_at_eof = true;
  bool client_can_write_eof = false;
  bool client_closing_after_eof = true;
  absl::StatusOr<std::string> reply = absl::UnknownError("not run");
  absl::Status closed = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto respond = [&](StreamReader reader,
                       StreamWriter writer) -> asio::awaitable<void> {
      absl::StatusOr<std::string> request = co_await reader.AsyncRead();
      server_got = request.value_or("<error>");
      server_closing_at_eof = writer.IsClosing();
      EXPECT_THAT(
          writer.Write(absl::StrCat("got ", server_got.size(), " bytes\n")),
          IsOk());
      (void)co_await writer.AsyncDrain();
      writer.Close();
    };
    auto server = co_await AsyncStartServer(executor, respond, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port());
    CO_ASSERT_OK(connection);
    client_can_write_eof = connection->writer.CanWriteEof();
    EXPECT_THAT(connection->writer.Write("request body"), IsOk());
    EXPECT_THAT(connection->writer.WriteEof(), IsOk());
    client_closing_after_eof = connection->writer.IsClosing();
    reply = co_await connection->reader.AsyncRead();
    connection->writer.Close();
    closed = co_await connection->writer.AsyncWaitClosed();
    (*server)->Close();
  });
  EXPECT_TRUE(client_can_write_eof);
  EXPECT_FALSE(client_closing_after_eof);
  EXPECT_EQ(server_got, "request body");
  EXPECT_FALSE(server_closing_at_eof);
  EXPECT_EQ(reply.value_or("<error>"), "got 12 bytes\n") << reply.status();
  EXPECT_THAT(closed, IsOk());
}

// Abort(): closes at once, dropping the buffer; the local side's
// wait_closed is OK; the peer sees EOF or a reset.
TEST(FlowControlLoopbackTest, Abort) {
  absl::StatusOr<std::string> peer_read = absl::UnknownError("not run");
  absl::Status local_closed = absl::UnknownError("not run");
  bool closing = false;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    Event done(executor);
    auto observe = [&](StreamReader reader,
                       StreamWriter writer) -> asio::awaitable<void> {
      // Read until EOF or an error; "partial data" may come first.
      std::string all;
      while (true) {
        absl::StatusOr<std::string> data = co_await reader.AsyncRead(65536);
        if (!data.ok()) {
          peer_read = data.status();
          break;
        }
        if (data->empty()) {
          peer_read = std::string("EOF");
          break;
        }
        all += *data;
      }
      writer.Close();
      done.Set();
    };
    auto server = co_await AsyncStartServer(executor, observe, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints().at(0).port());
    CO_ASSERT_OK(connection);
    EXPECT_THAT(connection->writer.Write(std::string(1 << 20, 'z')), IsOk());
    connection->writer.transport()->Abort();
    closing = connection->writer.IsClosing();
    local_closed = co_await connection->writer.AsyncWaitClosed();
    co_await done.Wait();
    (*server)->Close();
  });
  EXPECT_TRUE(closing);
  EXPECT_THAT(local_closed, IsOk());
  EXPECT_TRUE(peer_read.value_or("") == "EOF" ||
              GetErrorKind(peer_read.status()) ==
                  ErrorKind::kConnectionResetError)
      << peer_read.status();
}

// Abort() drops the write buffer: asyncio's _force_close clears it, so
// get_write_buffer_size() is 0 right after abort() (CPython 3.11.7 on
// loopback, 64 MiB written to a peer that does not read: 64237973 before,
// 0 after).
TEST(FlowControlLoopbackTest, AbortEmptiesTheWriteBuffer) {
  size_t buffered_before = 0;
  size_t buffered_after = 99;
  absl::Status local_closed = absl::UnknownError("not run");
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
    tcp::acceptor acceptor(executor, loopback);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", acceptor.local_endpoint().port());
    CO_ASSERT_OK(connection);
    tcp::socket peer = co_await acceptor.async_accept(asio::use_awaitable);
    EXPECT_THAT(connection->writer.Write(std::string(size_t{64} << 20, 'z')),
                IsOk());
    co_await Sleep(20ms);  // part of it is in flight
    buffered_before = connection->writer.transport()->GetWriteBufferSize();
    connection->writer.transport()->Abort();
    buffered_after = connection->writer.transport()->GetWriteBufferSize();
    local_closed = co_await connection->writer.AsyncWaitClosed();
  });
  EXPECT_GT(buffered_before, 0u);
  EXPECT_EQ(buffered_after, 0u);
  EXPECT_THAT(local_closed, IsOk());
}

// A peer resets the connection (SO_LINGER 0) while a read waits: the read
// completes with ConnectionResetError "[Errno 104] Connection reset by peer"
// (as in Python), the reader's exception is set, and wait_closed raises it.
TEST(FlowControlLoopbackTest, PeerResetMidRead) {
  absl::Status read_status;
  absl::Status reader_exception;
  absl::Status wait_closed;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
    tcp::acceptor acceptor(executor, loopback);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", acceptor.local_endpoint().port());
    CO_ASSERT_OK(connection);
    tcp::socket peer = co_await acceptor.async_accept(asio::use_awaitable);
    StreamReader* reader = &connection->reader;
    bool read_done = false;
    asio::co_spawn(
        executor,
        [reader, &read_status, &read_done]() -> asio::awaitable<void> {
          absl::StatusOr<std::string> data = co_await reader->AsyncRead(100);
          read_status = data.status();
          read_done = true;
        },
        asio::detached);
    co_await Sleep(20ms);  // the read is waiting
    EXPECT_FALSE(read_done);
    peer.set_option(asio::socket_base::linger(true, 0));
    peer.close();
    while (!read_done) co_await Sleep(1ms);
    reader_exception = connection->reader.exception();
    wait_closed = co_await connection->writer.AsyncWaitClosed();
    connection->writer.Close();
  });
  EXPECT_EQ(GetErrorKind(read_status), ErrorKind::kConnectionResetError)
      << read_status;
  EXPECT_EQ(read_status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(read_status.message(), "[Errno 104] Connection reset by peer");
  EXPECT_TRUE(GetErrorCode(read_status).value_or(std::error_code()) ==
              std::errc::connection_reset);
  EXPECT_EQ(reader_exception, read_status);
  EXPECT_EQ(GetErrorKind(wait_closed), ErrorKind::kConnectionResetError)
      << wait_closed;
}

// A peer resets the connection while a drain waits (the peer reads nothing,
// the buffer is far past the high-water mark): the drain completes with an
// OSError-family error, as Python's drain raises the connection's error.
TEST(FlowControlLoopbackTest, PeerResetMidDrain) {
  absl::Status drained = absl::UnknownError("not run");
  bool was_paused = false;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
    tcp::acceptor acceptor(executor, loopback);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", acceptor.local_endpoint().port());
    CO_ASSERT_OK(connection);
    tcp::socket peer = co_await acceptor.async_accept(asio::use_awaitable);
    StreamWriter* writer = &connection->writer;
    // More than loopback's socket buffers hold.
    EXPECT_THAT(writer->Write(std::string(size_t{64} * 1024 * 1024, 'x')),
                IsOk());
    was_paused = writer->transport()->GetWriteBufferSize() > 64 * 1024;
    bool drain_done = false;
    asio::co_spawn(
        executor,
        [writer, &drained, &drain_done]() -> asio::awaitable<void> {
          drained = co_await writer->AsyncDrain();
          drain_done = true;
        },
        asio::detached);
    co_await Sleep(50ms);
    EXPECT_FALSE(drain_done) << drained;
    peer.set_option(asio::socket_base::linger(true, 0));
    peer.close();
    while (!drain_done) co_await Sleep(1ms);
    connection->writer.Close();
  });
  EXPECT_TRUE(was_paused);
  EXPECT_TRUE(IsOsErrorFamily(drained)) << drained;
  EXPECT_EQ(drained.code(), absl::StatusCode::kUnavailable) << drained;
  EXPECT_TRUE(drained.message() == "[Errno 104] Connection reset by peer" ||
              drained.message() == "[Errno 32] Broken pipe" ||
              drained.message() == "Connection lost")
      << drained;
}

// A TLS peer that closes the TCP connection without close_notify: the
// library reports SSLError "EOF occurred in violation of protocol" to the
// reader (socket_transport.h). Note: CPython 3.11.7's asyncio treats this
// as a plain EOF (read() returns b'' and wait_closed() succeeds).
TEST(FlowControlLoopbackTest, TlsTruncation) {
  asio::ssl::context server_tls(asio::ssl::context::tls_server);
  server_tls.use_certificate_chain_file("testdata/tls/server.pem");
  server_tls.use_private_key_file("testdata/tls/server.key",
                                  asio::ssl::context::pem);
  asio::ssl::context client_tls = net::MakeClientTlsContext();
  client_tls.load_verify_file("testdata/tls/ca.pem");
  absl::StatusOr<std::string> line = absl::UnknownError("not run");
  absl::Status read_status;
  absl::Status reader_exception;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
    tcp::acceptor acceptor(executor, loopback);
    Event wrote(executor);
    asio::co_spawn(
        executor,
        [&]() -> asio::awaitable<void> {
          asio::ssl::stream<tcp::socket> stream(
              co_await acceptor.async_accept(asio::use_awaitable), server_tls);
          auto [error] = co_await stream.async_handshake(
              asio::ssl::stream_base::server,
              asio::as_tuple(asio::use_awaitable));
          EXPECT_FALSE(error) << error.message();
          if (!error) {
            (void)co_await asio::async_write(
                stream, asio::buffer("hi\n", 3),
                asio::as_tuple(asio::use_awaitable));
          }
          // Close the TCP connection, no close_notify.
          stream.lowest_layer().close();
          wrote.Set();
        },
        asio::detached);
    ConnectionOptions options;
    options.ssl = &client_tls;
    options.server_hostname = "localhost";
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", acceptor.local_endpoint().port(), options);
    CO_ASSERT_OK(connection);
    line = co_await connection->reader.AsyncReadLine();
    co_await wrote.Wait();
    read_status = (co_await connection->reader.AsyncRead()).status();
    reader_exception = connection->reader.exception();
    connection->writer.Close();
    (void)co_await connection->writer.AsyncWaitClosed();
  });
  EXPECT_EQ(line.value_or("<error>"), "hi\n") << line.status();
  EXPECT_EQ(GetErrorKind(read_status), ErrorKind::kSSLError) << read_status;
  EXPECT_EQ(read_status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(read_status.message(), "EOF occurred in violation of protocol");
  EXPECT_EQ(reader_exception, read_status);
}

}  // namespace
}  // namespace streams
