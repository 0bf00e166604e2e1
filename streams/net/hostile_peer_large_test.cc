// A hostile peer that sends one line of 100 MiB without a newline to a
// server reading lines. Its own target (tagged "large": slow
// configurations such as TSan can leave it out); the other hostile peers are
// in hostile_peer_test.cc.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/net/open_connection.h"
#include "streams/net/socket_transport.h"
#include "streams/net/testing/loopback.h"
#include "streams/net/testing/process_stats.h"
#include "streams/stream_reader.h"
#include "streams/stream_reader_protocol.h"
#include "streams/stream_writer.h"
#include "streams/testing/co_assert.h"
#include "streams/testing/status_matchers.h"

namespace streams {

namespace asio = ::boost::asio;
namespace {

using ::boost::asio::ip::tcp;
using ::streams::testing::IsOk;
using ::streams::testing::PeakResidentKb;
using ::streams::testing::ResetPeakResident;
using ::streams::testing::ResidentKb;
using ::streams::testing::RunUntilDone;

using namespace std::chrono_literals;

// RSS figures are meaningless under AddressSanitizer (its quarantine keeps
// freed memory resident): they are then reported, not asserted.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

// The server side's protocol, measuring the reader's buffer right after each
// transport read is fed to it (where it peaks).
class MeasuringProtocol : public StreamReaderProtocol {
 public:
  MeasuringProtocol(const StreamReader& reader, size_t& max_buffered)
      : StreamReaderProtocol(reader, nullptr),
        reader_(reader),
        max_buffered_(max_buffered) {}

  absl::Status DataReceived(ByteView data) override {
    absl::Status fed = StreamReaderProtocol::DataReceived(data);
    max_buffered_ = std::max(max_buffered_, reader_.buffer_size());
    return fed;
  }

 private:
  const StreamReader& reader_;
  size_t& max_buffered_;
};

// The server reads lines (default limit, 64 KiB) on the library's socket
// transport (its default 256 KiB reads); the client sends 100 MiB of 'x' in
// 256 KiB writes, draining after each, then EOF. asyncio's rule (streams.py
// readuntil/readline): once more than `limit` bytes are buffered with no
// newline, readline raises ValueError('Separator is not found, and chunk
// exceed the limit') and clears the buffer; so the server sees that error
// again and again and never holds the line. The reader's buffer stays
// within 2 * limit + one transport read; the process's resident memory grows
// by far less than the 100 MiB sent.
TEST(HostilePeerLargeTest, HundredMebibyteLineWithoutNewline) {
  constexpr size_t kLimit = StreamReader::kDefaultLimit;
  constexpr size_t kReadChunk = 256 * 1024;
  constexpr size_t kTotal = size_t{100} << 20;
  constexpr size_t kWrite = 256 * 1024;
  size_t max_buffered = 0;
  int value_errors = 0;
  absl::Status other_error;
  bool server_saw_eof = false;
  size_t max_write_buffer = 0;
  int64_t rss_before = 0;
  int64_t rss_peak = 0;
  bool peak_reset = false;
  const auto start = std::chrono::steady_clock::now();
  RunUntilDone(
      [&](asio::any_io_executor executor) -> asio::awaitable<void> {
        tcp::acceptor acceptor(
            executor, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        // The server: one connection, read line by line until EOF.
        asio::co_spawn(
            executor,
            [&]() -> asio::awaitable<void> {
              auto [error, socket] = co_await acceptor.async_accept(
                  asio::as_tuple(asio::use_awaitable));
              EXPECT_FALSE(error) << error.message();
              if (error) co_return;
              StreamReader reader(socket.get_executor());
              auto protocol =
                  std::make_shared<MeasuringProtocol>(reader, max_buffered);
              std::shared_ptr<Transport> transport = net::StartSocketTransport(
                  std::move(socket), protocol, net::TransportOptions());
              StreamWriter writer(transport, protocol, &reader);
              while (true) {
                absl::StatusOr<std::string> line =
                    co_await reader.AsyncReadLine();
                if (line.ok()) {
                  if (line->empty()) {
                    server_saw_eof = true;
                    break;
                  }
                  continue;  // what was left at EOF, within the limit
                }
                if (GetErrorKind(line.status()) == ErrorKind::kValueError &&
                    line.status().message() ==
                        "Separator is not found, and chunk exceed the limit") {
                  ++value_errors;
                  continue;
                }
                other_error = line.status();
                break;
              }
              writer.Close();
              co_await writer.AsyncWaitClosed();
            },
            asio::detached);
        auto connection = co_await AsyncOpenConnection(
            executor, "127.0.0.1", acceptor.local_endpoint().port());
        CO_ASSERT_OK(connection);
        auto& [reader, writer] = *connection;
        peak_reset = ResetPeakResident();
        rss_before = ResidentKb();
        const std::string chunk(kWrite, 'x');
        for (size_t sent = 0; sent < kTotal; sent += kWrite) {
          EXPECT_THAT(writer.Write(chunk), IsOk());
          max_write_buffer = std::max(max_write_buffer,
                                      writer.transport()->GetWriteBufferSize());
          absl::Status drained = co_await writer.AsyncDrain();
          if (!drained.ok()) {
            ADD_FAILURE() << drained;
            break;
          }
        }
        EXPECT_THAT(writer.WriteEof(), IsOk());
        absl::StatusOr<std::string> rest = co_await reader.AsyncRead(-1);
        EXPECT_EQ(rest.value_or("?"), "");  // the server only closes
        rss_peak = peak_reset ? PeakResidentKb() : ResidentKb();
        writer.Close();
        co_await writer.AsyncWaitClosed();
      },
      std::chrono::seconds(240));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::cout << "100 MiB line: " << seconds << " s, " << value_errors
            << " ValueErrors; reader buffer at most " << max_buffered
            << " bytes (bound " << 2 * kLimit + kReadChunk
            << "); client write buffer at most " << max_write_buffer
            << " bytes; RSS " << rss_before << " KiB -> "
            << (peak_reset ? "peak " : "") << rss_peak << " KiB"
            << (kAsan ? " [ASan]" : "") << "\n";
  EXPECT_THAT(other_error, IsOk());
  EXPECT_TRUE(server_saw_eof);
  // Each error cleared at most 2 * limit + one read.
  EXPECT_GE(static_cast<size_t>(value_errors),
            kTotal / (2 * kLimit + kReadChunk));
  EXPECT_GT(max_buffered, kLimit);
  EXPECT_LE(max_buffered, 2 * kLimit + kReadChunk);
  // The writer: high-water mark (64 KiB) + what was written since the
  // last drain.
  EXPECT_LE(max_write_buffer, 64 * 1024 + kWrite);
  if (!kAsan) {
    EXPECT_LT(rss_peak - rss_before, 16 * 1024) << "KiB";
  }
}

}  // namespace
}  // namespace streams
