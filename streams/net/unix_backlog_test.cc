// AsyncOpenUnixConnection() to a listener whose queue is full, pinned to what
// CPython 3.11.7 does (conformance/INTEROP.md, "Unix connect to a full
// backlog"). A non-blocking AF_UNIX connect() then fails with EAGAIN;
// asyncio's sock_connect(), like Asio, takes that for "in progress", waits
// for writability and, SO_ERROR being 0, reports success. The socket is not
// connected: the first I/O fails. Which one fails first decides the error:
//
//   - a write at once: send() -> ENOTCONN; the reader gets OSError [Errno
//     107] and drain() raises ConnectionResetError('Connection lost');
//   - after the loop has run (the read readiness first): recv() -> EINVAL;
//     drain() and readline() raise OSError [Errno 22].
//
// //streams does the same, in the same places: nothing to fix.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/net/open_connection.h"
#include "streams/net/testing/loopback.h"
#include "streams/testing/status_matchers.h"

namespace streams {

namespace asio = ::boost::asio;
namespace {

using ::streams::testing::IsOk;
using ::streams::testing::RunUntilDone;
using ::streams::testing::Sleep;
using ::streams::testing::UnixPath;

using namespace std::chrono_literals;

// A Unix listener that never accepts, with listen(0): Linux queues one
// connection, the next connect() gets EAGAIN.
class FullListener {
 public:
  explicit FullListener(const std::string& path)
      : fd_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    ok_ = fd_ >= 0 &&
          ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) ==
              0 &&
          ::listen(fd_, 0) == 0;
  }
  ~FullListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return ok_; }

 private:
  int fd_;
  bool ok_ = false;
};

struct Outcome {
  absl::Status opened = absl::UnknownError("not run");
  absl::Status drained = absl::UnknownError("not run");
  absl::Status read = absl::UnknownError("not run");
};

// Opens a connection that the full queue makes a dud, then writes, drains
// and reads, idling first for `idle`.
asio::awaitable<Outcome> Dud(asio::any_io_executor executor,
                             const std::string& path,
                             std::chrono::milliseconds idle,
                             std::vector<Connection>* keep) {
  Outcome outcome;
  absl::StatusOr<Connection> connection =
      co_await AsyncOpenUnixConnection(executor, path);
  outcome.opened = connection.status();
  if (!connection.ok()) co_return outcome;
  if (idle > 0ms) co_await Sleep(idle);
  EXPECT_THAT(connection->writer.Write("hello\n"), IsOk());
  outcome.drained = co_await connection->writer.AsyncDrain();
  outcome.read = (co_await connection->reader.AsyncReadLine()).status();
  keep->push_back(*std::move(connection));
  co_return outcome;
}

TEST(UnixBacklogTest, WriteAtOnceFailsAsInCPython) {
  UnixPath path;
  FullListener listener(path.path());
  ASSERT_TRUE(listener.ok());
  std::vector<Outcome> outcomes;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    std::vector<Connection> keep;
    // The first connection fills the queue (it stays unanswered).
    auto first = co_await AsyncOpenUnixConnection(executor, path.path());
    EXPECT_THAT(first, IsOk());
    for (int i = 0; i < 3; ++i) {
      outcomes.push_back(co_await Dud(executor, path.path(), 0ms, &keep));
    }
    for (Connection& connection : keep) connection.writer.Close();
    if (first.ok()) first->writer.Close();
  });
  ASSERT_EQ(outcomes.size(), 3u);
  for (const Outcome& outcome : outcomes) {
    EXPECT_THAT(outcome.opened, IsOk());
    EXPECT_EQ(PythonString(outcome.drained),
              "ConnectionResetError: Connection lost");
    EXPECT_EQ(PythonString(outcome.read),
              "OSError: [Errno 107] Transport endpoint is not connected");
  }
}

TEST(UnixBacklogTest, ReadReadinessFirstFailsAsInCPython) {
  UnixPath path;
  FullListener listener(path.path());
  ASSERT_TRUE(listener.ok());
  std::vector<Outcome> outcomes;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    std::vector<Connection> keep;
    auto first = co_await AsyncOpenUnixConnection(executor, path.path());
    EXPECT_THAT(first, IsOk());
    for (int i = 0; i < 2; ++i) {
      outcomes.push_back(co_await Dud(executor, path.path(), 50ms, &keep));
    }
    for (Connection& connection : keep) connection.writer.Close();
    if (first.ok()) first->writer.Close();
  });
  ASSERT_EQ(outcomes.size(), 2u);
  for (const Outcome& outcome : outcomes) {
    EXPECT_THAT(outcome.opened, IsOk());
    EXPECT_EQ(PythonString(outcome.drained),
              "OSError: [Errno 22] Invalid argument");
    EXPECT_EQ(PythonString(outcome.read),
              "OSError: [Errno 22] Invalid argument");
  }
}

}  // namespace
}  // namespace streams
