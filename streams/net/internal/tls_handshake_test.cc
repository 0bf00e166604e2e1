// The handshake deadline's race, driven deterministically: a test timer
// stands in for asio::steady_timer so that the deadline can expire in the
// same loop turn as the handshake completing (the use-after-free of issue 9:
// the late timer handler cancelled a stream its owner had already freed).
// Run under --config=asan, the regression shows as heap-use-after-free.

#include "streams/net/internal/tls_handshake.h"

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/local/connect_pair.hpp"
#include "boost/asio/local/stream_protocol.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl/stream.hpp"
#include "gtest/gtest.h"
#include "streams/net/testing/loopback.h"

namespace streams::internal {
namespace {

namespace asio = ::boost::asio;
using UnixSocket = asio::local::stream_protocol::socket;
using Stream = asio::ssl::stream<UnixSocket>;

// A deadline that has already expired when the handshake's completion
// cancels it: cancel() cannot recall the handler, which runs later with
// success, as asio::steady_timer's does when expiry and cancel() fall in the
// same loop turn.
class ExpiredOnCancelTimer {
 public:
  explicit ExpiredOnCancelTimer(asio::any_io_executor executor)
      : executor_(std::move(executor)) {}
  void expires_after(std::chrono::milliseconds) {}
  void async_wait(absl::AnyInvocable<void(boost::system::error_code)> handler) {
    handler_ = std::move(handler);
  }
  void cancel() {
    if (handler_ == nullptr) return;
    asio::post(executor_, [handler = std::move(handler_)]() mutable {
      std::move(handler)(boost::system::error_code());
    });
    handler_ = nullptr;
  }

 private:
  asio::any_io_executor executor_;
  absl::AnyInvocable<void(boost::system::error_code)> handler_;
};

// A deadline that expires at once.
class ExpiredTimer {
 public:
  explicit ExpiredTimer(asio::any_io_executor executor)
      : executor_(std::move(executor)) {}
  void expires_after(std::chrono::milliseconds) {}
  template <typename Handler>
  void async_wait(Handler handler) {
    asio::post(executor_, [handler = std::move(handler)]() mutable {
      std::move(handler)(boost::system::error_code());
    });
  }
  void cancel() {}

 private:
  asio::any_io_executor executor_;
};

absl::Status Timeout() { return absl::DeadlineExceededError("timed out"); }

absl::Status Failed(const boost::system::error_code& error) {
  return absl::UnavailableError(error.message());
}

TEST(TlsHandshakeTest, DeadlineExpiringAsHandshakeCompletesSparesTheStream) {
  asio::io_context context;
  asio::ssl::context server_tls = testing::ServerTlsContext();
  asio::ssl::context client_tls = testing::ClientTlsContext();
  UnixSocket client_socket(context), server_socket(context);
  asio::local::connect_pair(client_socket, server_socket);
  Stream server(std::move(server_socket), server_tls);
  auto client = std::make_unique<Stream>(std::move(client_socket), client_tls);

  server.async_handshake(asio::ssl::stream_base::server,
                         [](boost::system::error_code) {});
  std::optional<absl::Status> result;
  AsyncHandshakeWithDeadline(
      *client, asio::ssl::stream_base::client,
      ExpiredOnCancelTimer(context.get_executor()), std::chrono::seconds(1),
      Timeout, Failed, [&](absl::Status status) {
        result = std::move(status);
        client.reset();  // As connection_setup.cc does: the stream moves on.
      });
  context.run();

  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok()) << *result;
  EXPECT_EQ(client, nullptr);
}

TEST(TlsHandshakeTest, DeadlineFirstCancelsTheHandshake) {
  asio::io_context context;
  asio::ssl::context client_tls = testing::ClientTlsContext();
  UnixSocket client_socket(context), server_socket(context);
  asio::local::connect_pair(client_socket, server_socket);
  Stream client(std::move(client_socket), client_tls);

  // The peer never answers: only the deadline can end the handshake.
  std::optional<absl::Status> result;
  AsyncHandshakeWithDeadline(
      client, asio::ssl::stream_base::client,
      ExpiredTimer(context.get_executor()), std::chrono::seconds(1), Timeout,
      Failed, [&](absl::Status status) { result = std::move(status); });
  context.run();

  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), absl::StatusCode::kDeadlineExceeded) << *result;
}

}  // namespace
}  // namespace streams::internal
