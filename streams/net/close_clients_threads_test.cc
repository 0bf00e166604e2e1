// Server::CloseClients() and AbortClients() from a thread that runs none of
// the connections, while the io_context runs on several threads (each
// connection on its own strand): every transport is called on its own
// strand, so ThreadSanitizer (CI's TSan stage runs this test) sees no race,
// and every client reads EOF.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/use_future.hpp"
#include "gtest/gtest.h"
#include "streams/net/server.h"
#include "streams/stream_reader.h"
#include "streams/stream_writer.h"

namespace streams {
namespace {

namespace asio = ::boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

constexpr int kClients = 8;

enum class Ending { kClose, kAbort };

class CloseClientsThreadsTest : public ::testing::TestWithParam<Ending> {};

TEST_P(CloseClientsThreadsTest, FromAForeignThreadEveryClientReadsEof) {
  asio::io_context io(2);
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) threads.emplace_back([&io] { io.run(); });

  std::atomic<int> connected{0};
  std::atomic<int> ended{0};
  auto hold = [&](StreamReader reader,
                  StreamWriter writer) -> asio::awaitable<void> {
    ++connected;
    // Until the server closes the connection: EOF, or a reset after abort.
    (void)co_await reader.AsyncRead();
    ++ended;
    (void)writer;
  };
  absl::StatusOr<std::shared_ptr<Server>> server =
      AsyncStartServer(io.get_executor(), hold, "127.0.0.1", 0,
                       asio::use_future)
          .get();
  ASSERT_TRUE(server.ok()) << server.status();
  const uint16_t port = (*server)->endpoints().at(0).port();

  asio::io_context client_io;
  std::vector<tcp::socket> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back(client_io);
    clients.back().connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (connected < kClients && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(connected, kClients);

  if (GetParam() == Ending::kClose) {
    (*server)->CloseClients();
  } else {
    (*server)->AbortClients();
  }
  for (tcp::socket& client : clients) {
    char byte;
    boost::system::error_code error;
    const size_t n = asio::read(client, asio::buffer(&byte, 1), error);
    EXPECT_EQ(n, 0u);
    // Close: a FIN. Abort: a FIN or an RST, as asyncio's abort() gives.
    EXPECT_TRUE(error == asio::error::eof ||
                error == asio::error::connection_reset)
        << error.message();
  }

  // Close() and AsyncWaitClosed() are not thread-safe (CloseClients() is
  // the one that may be called from anywhere): call them on the server's
  // executor.
  std::promise<absl::Status> closed;
  asio::post((*server)->get_executor(), [&server, &closed] {
    (*server)->Close();
    (*server)->AsyncWaitClosed(
        [&closed](absl::Status status) { closed.set_value(status); });
  });
  EXPECT_TRUE(closed.get_future().get().ok());
  // Each callback's read ends on its own strand, after its connection is
  // lost: wait_closed() (3.11.7's: at once once closed) does not wait for
  // the callbacks, so neither does this.
  while (ended < kClients && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(ended, kClients);
  server->reset();
  work.reset();
  for (std::thread& thread : threads) thread.join();
}

INSTANTIATE_TEST_SUITE_P(Endings, CloseClientsThreadsTest,
                         ::testing::Values(Ending::kClose, Ending::kAbort),
                         [](const ::testing::TestParamInfo<Ending>& info) {
                           return info.param == Ending::kClose ? "Close"
                                                               : "Abort";
                         });

}  // namespace
}  // namespace streams
