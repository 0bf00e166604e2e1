// Connections whose handles outlive their io_context. Destroying an
// io_context must free what its connections hold (transport, protocol, drain
// state, writer, receive and write buffers), destroying pending handlers
// uncalled, even while the user still holds readers and writers: those are
// destroyed later, and must not touch the dead context then. Run under
// --config=asan, LeakSanitizer reports what a reference cycle kept alive.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/net/open_connection.h"
#include "streams/net/server.h"
#include "streams/net/testing/loopback.h"
#include "streams/net/testing/transports.h"
#include "streams/stream_reader.h"
#include "streams/stream_writer.h"
#include "streams/testing/status_matchers.h"
#include "streams/testing/warnings.h"
#include "streams/transport.h"

namespace streams {

namespace asio = ::boost::asio;
namespace {

using ::streams::testing::ClientTlsContext;
using ::streams::testing::IsOk;
using ::streams::testing::IsTls;
using ::streams::testing::Loopback;
using ::streams::testing::ServerTlsContext;
using ::streams::testing::Sleep;
using ::streams::testing::WarningCollector;

using namespace std::chrono_literals;

// What one run leaves behind, outside the io_context.
struct Kept {
  std::shared_ptr<Server> server;
  std::optional<Connection> client;
  std::optional<Connection> client2;
  std::optional<StreamReader> server_reader;
  std::optional<StreamWriter> server_writer;
  std::weak_ptr<Transport> client_transport;
  std::weak_ptr<Transport> server_transport;
  // A second server connection whose callback coroutine owns its handles and
  // is suspended in AsyncWaitClosed(): the closed future owns the coroutine,
  // which owns the writer, which owns the protocol, which owns the future.
  std::weak_ptr<Transport> coroutine_transport;
  bool coroutine_destroyed = false;
  // A coroutine owning the server, suspended in its AsyncWaitClosed().
  bool server_waiter_destroyed = false;
  int resumed = 0;  // pending operations whose handler ran: must stay 0
};

// Sets the flag when the coroutine frame or handler holding it is destroyed.
struct DestroyFlag {
  bool* destroyed;
  ~DestroyFlag() {
    if (destroyed != nullptr) *destroyed = true;
  }
  explicit DestroyFlag(bool* flag) : destroyed(flag) {}
  DestroyFlag(DestroyFlag&& other)
      : destroyed(std::exchange(other.destroyed, nullptr)) {}
};

// Opens two connections to a server, leaves operations pending on both
// sides (the client's write buffer is far past its high-water mark: the
// server never reads), then stops the io_context and destroys it while
// `kept` still holds the client connection and the server-side handles.
void RunAndDestroyContext(Kept& kept, asio::ssl::context* server_tls,
                          asio::ssl::context* client_tls) {
  auto context = std::make_unique<asio::io_context>();
  asio::co_spawn(
      *context,
      [&]() -> asio::awaitable<void> {
        const asio::any_io_executor executor =
            co_await asio::this_coro::executor;
        int accepted = 0;
        auto count_resumed = [&kept](auto operation) {
          return [&kept, operation]() -> asio::awaitable<void> {
            (void)co_await operation();
            ++kept.resumed;
          };
        };
        auto on_client = [&](StreamReader reader,
                             StreamWriter writer) -> asio::awaitable<void> {
          if (accepted++ == 0) {
            kept.server_transport = writer.transport();
            kept.server_reader.emplace(std::move(reader));
            kept.server_writer.emplace(std::move(writer));
            co_return;
          }
          DestroyFlag flag{&kept.coroutine_destroyed};
          kept.coroutine_transport = writer.transport();
          asio::co_spawn(reader.get_executor(), count_resumed([&reader] {
                           return reader.AsyncReadLine();
                         }),
                         asio::detached);
          (void)co_await writer.AsyncWaitClosed();
          ++kept.resumed;
        };
        ServerOptions server_options;
        server_options.ssl = server_tls;
        auto server = co_await AsyncStartServer(executor, on_client,
                                                "127.0.0.1", 0, server_options);
        if (!server.ok()) {
          ADD_FAILURE() << server.status();
          co_return;
        }
        ConnectionOptions options;
        options.ssl = client_tls;
        if (client_tls != nullptr) options.server_hostname = "localhost";
        const uint16_t port = (*server)->endpoints()[0].port();
        auto connection =
            co_await AsyncOpenConnection(executor, "127.0.0.1", port, options);
        auto second =
            co_await AsyncOpenConnection(executor, "127.0.0.1", port, options);
        if (!connection.ok() || !second.ok()) {
          ADD_FAILURE() << connection.status() << " " << second.status();
          co_return;
        }
        kept.server = *server;
        kept.client.emplace(*std::move(connection));
        kept.client_transport = kept.client->writer.transport();
        kept.client2.emplace(*std::move(second));
        while (accepted < 2) co_await Sleep(10ms);
        asio::co_spawn(
            executor,
            [](std::shared_ptr<Server> server,
               bool* destroyed) -> asio::awaitable<void> {
              DestroyFlag flag{destroyed};
              (void)co_await server->AsyncWaitClosed();
              ADD_FAILURE() << "resumed after the io_context was destroyed";
            }(*server, &kept.server_waiter_destroyed),
            asio::detached);

        // Pending at shutdown: a drain waiting for the paused writer, a
        // wait_closed and a read on the client; a read on the server side
        // (of the second connection: the first one never reads).
        StreamWriter& writer = kept.client->writer;
        EXPECT_THAT(writer.Write(std::string(8 << 20, 'x')), IsOk());
        EXPECT_GT(writer.transport()->GetWriteBufferSize(), 64u * 1024);
        asio::co_spawn(writer.get_executor(),
                       count_resumed([&writer] { return writer.AsyncDrain(); }),
                       asio::detached);
        asio::co_spawn(writer.get_executor(), count_resumed([&writer] {
                         return writer.AsyncWaitClosed();
                       }),
                       asio::detached);
        StreamReader& reader = kept.client->reader;
        asio::co_spawn(reader.get_executor(), count_resumed([&reader] {
                         return reader.AsyncReadLine();
                       }),
                       asio::detached);
        co_await Sleep(100ms);
        context->stop();
      },
      asio::detached);
  context->run_for(10s);
  ASSERT_TRUE(context->stopped());
  ASSERT_TRUE(kept.client.has_value());
  ASSERT_TRUE(kept.server_writer.has_value());
  context.reset();
}

void ExpectEverythingFreed(bool tls) {
  asio::ssl::context server_tls = ServerTlsContext();
  asio::ssl::context client_tls = ClientTlsContext();
  WarningCollector warnings(WarningCollector::Afterwards::kFail);
  Kept kept;
  RunAndDestroyContext(kept, tls ? &server_tls : nullptr,
                       tls ? &client_tls : nullptr);
  if (::testing::Test::HasFatalFailure()) return;
  // Destroying the io_context destroyed the pending handlers uncalled, and
  // the callback coroutine suspended in AsyncWaitClosed() with them.
  EXPECT_EQ(kept.resumed, 0);
  EXPECT_TRUE(kept.coroutine_destroyed);
  EXPECT_TRUE(kept.coroutine_transport.expired());
  EXPECT_TRUE(kept.server_waiter_destroyed);
  // The handles can still be looked at (nothing runs any more: the buffer
  // was freed) and destroyed.
  EXPECT_FALSE(kept.client->writer.IsClosing());
  EXPECT_EQ(kept.client->writer.transport()->GetWriteBufferSize(), 0u);
  EXPECT_FALSE(kept.client_transport.expired());
  EXPECT_EQ(kept.server->active_connections(), 2u);
  kept.client.reset();
  kept.client2.reset();
  kept.server_reader.reset();
  kept.server_writer.reset();
  kept.server.reset();
  EXPECT_TRUE(kept.client_transport.expired());
  EXPECT_TRUE(kept.server_transport.expired());
  // asyncio's StreamWriter.__del__ once the loop is closed: no close(), a
  // ResourceWarning "loop is closed" for each writer left open: both
  // clients, the kept server writer, and the coroutine's (destroyed with
  // the context).
  EXPECT_EQ(warnings.warnings(), std::vector<std::string>(4, "loop is closed"));
}

class LifetimeTransportTest : public ::testing::TestWithParam<Loopback> {};

INSTANTIATE_TEST_SUITE_P(, LifetimeTransportTest,
                         ::testing::Values(Loopback::kTcp, Loopback::kTls),
                         ::testing::PrintToStringParamName());

TEST_P(LifetimeTransportTest, HandlesOutliveTheirIoContext) {
  ExpectEverythingFreed(IsTls(GetParam()));
}

// Two readers, each owned only by the handler of a read pending on the other:
// a cycle through both readers' pending operations. Shutting the context
// down destroys both handlers; the first reader's shutdown frees the second
// reader, which must not be visited after that (ASan: heap-use-after-free
// before the reader service took its readers one at a time).
TEST(LifetimeTest, ReadersOwnedByEachOthersPendingReads) {
  bool destroyed_a = false;
  bool destroyed_b = false;
  bool called = false;
  auto context = std::make_unique<asio::io_context>();
  {
    auto strand = asio::make_strand(*context);
    StreamReader a(strand);
    StreamReader b(strand);
    auto holds_a = std::make_shared<std::optional<StreamReader>>();
    auto holds_b = std::make_shared<std::optional<StreamReader>>();
    auto flag_a = std::make_shared<DestroyFlag>(&destroyed_a);
    auto flag_b = std::make_shared<DestroyFlag>(&destroyed_b);
    a.AsyncReadLine([holds_b, flag_b, &called](absl::StatusOr<std::string>) {
      called = true;
    });
    b.AsyncReadLine([holds_a, flag_a, &called](absl::StatusOr<std::string>) {
      called = true;
    });
    holds_a->emplace(std::move(a));
    holds_b->emplace(std::move(b));
  }
  context->run_for(100ms);
  EXPECT_FALSE(destroyed_a);
  EXPECT_FALSE(destroyed_b);
  context.reset();
  EXPECT_TRUE(destroyed_a);
  EXPECT_TRUE(destroyed_b);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace streams
