// TLS on loopback: AsyncOpenConnection/AsyncStartServer with a TLS context,
// certificate and hostname verification, and AsyncStartTls upgrading a plain
// connection, or a TLS one (TLS in TLS). Certificates: testdata/tls (checked
// in; see its README).

#include "streams/net/tls.h"

#include <openssl/ssl.h>

#include <any>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/net/open_connection.h"
#include "streams/net/server.h"
#include "streams/net/testing/loopback.h"
#include "streams/streams.h"
#include "streams/testing/co_assert.h"
#include "streams/testing/status_matchers.h"

namespace streams {

namespace asio = ::boost::asio;
namespace {

using ::streams::testing::ClientTlsContext;
using ::streams::testing::Echo;
using ::streams::testing::IsOk;
using ::streams::testing::RunUntilDone;
using ::streams::testing::ServerTlsContext;

using namespace std::chrono_literals;

// Runs `body` as a coroutine on a fresh io_context until everything is done.
TEST(TlsTest, EchoOverTlsWithVerifiedHostname) {
  asio::ssl::context server_tls = ServerTlsContext();
  asio::ssl::context client_tls = ClientTlsContext();
  std::optional<std::string> got;
  bool over_ssl = false;
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
        executor, "127.0.0.1", (*server)->endpoints()[0].port(), options);
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) {
      EXPECT_FALSE(connection->writer.CanWriteEof());
      over_ssl = connection->writer.GetExtraInfo("sslcontext").has_value();
      EXPECT_THAT(connection->writer.Write("secret\n"), IsOk());
      absl::StatusOr<std::string> line =
          co_await connection->reader.AsyncReadLine();
      if (line.ok()) got = *line;
      connection->writer.Close();
      EXPECT_THAT(co_await connection->writer.AsyncWaitClosed(), IsOk());
    }
    (*server)->Close();
  });
  EXPECT_EQ(got, "secret\n");
  EXPECT_TRUE(over_ssl);
}

// What a client with `server_hostname` gets from the test server (whose
// certificate is for localhost, 127.0.0.1 and ::1), and the error the server
// reports for that handshake.
struct MismatchOutcome {
  absl::Status client;
  absl::Status server;
};

MismatchOutcome ConnectWithServerHostname(const std::string& hostname) {
  asio::ssl::context server_tls = ServerTlsContext();
  asio::ssl::context client_tls = ClientTlsContext();
  MismatchOutcome outcome;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    ServerOptions server_options;
    server_options.ssl = &server_tls;
    server_options.exception_handler = [&](const ServerError& error) {
      outcome.server = error.error;
    };
    auto server = co_await AsyncStartServer(executor, Echo, "127.0.0.1", 0,
                                            server_options);
    CO_ASSERT_OK(server);
    ConnectionOptions options;
    options.ssl = &client_tls;
    options.server_hostname = hostname;
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints()[0].port(), options);
    outcome.client = connection.status();
    // Let the server see the client's alert.
    co_await testing::Sleep(100ms);
    (*server)->Close();
  });
  return outcome;
}

// Messages checked against CPython 3.11.7 (ssl.create_default_context with
// testdata/tls/ca.pem, the same server; CPython appends " (_ssl.c:1006)",
// which TlsError() leaves out everywhere). The server's side is CPython's
// too: "[SSL: SSLV3_ALERT_BAD_CERTIFICATE] sslv3 alert bad certificate".
TEST(TlsTest, HostnameMismatchIsCertVerificationError) {
  MismatchOutcome outcome = ConnectWithServerHostname("wrong.example");
  const absl::Status& status = outcome.client;
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_EQ(GetErrorKind(status), ErrorKind::kSSLCertVerificationError);
  EXPECT_EQ(std::string(status.message()),
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
            "Hostname mismatch, certificate is not valid for "
            "'wrong.example'.");
  EXPECT_EQ(GetErrorKind(outcome.server), ErrorKind::kSSLError)
      << outcome.server;
  EXPECT_EQ(std::string(outcome.server.message()),
            "[SSL: SSLV3_ALERT_BAD_CERTIFICATE] sslv3 alert bad certificate");
}

TEST(TlsTest, IpAddressMismatchIsCertVerificationError) {
  MismatchOutcome outcome = ConnectWithServerHostname("127.0.0.2");
  const absl::Status& status = outcome.client;
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_EQ(GetErrorKind(status), ErrorKind::kSSLCertVerificationError);
  EXPECT_EQ(std::string(status.message()),
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
            "IP address mismatch, certificate is not valid for "
            "'127.0.0.2'.");
}

// The certificate's IP entries match an IP server_hostname (sent as no SNI).
TEST(TlsTest, IpAddressServerHostnameMatches) {
  MismatchOutcome outcome = ConnectWithServerHostname("127.0.0.1");
  EXPECT_THAT(outcome.client, IsOk());
}

TEST(TlsTest, UntrustedCertificateIsCertVerificationError) {
  asio::ssl::context server_tls = ServerTlsContext();
  asio::ssl::context client_tls = net::MakeClientTlsContext();  // no test CA
  absl::Status status;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    ServerOptions server_options;
    server_options.ssl = &server_tls;
    server_options.exception_handler = [](const ServerError&) {};
    auto server = co_await AsyncStartServer(executor, Echo, "127.0.0.1", 0,
                                            server_options);
    CO_ASSERT_OK(server);
    ConnectionOptions options;
    options.ssl = &client_tls;
    options.server_hostname = "localhost";
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints()[0].port(), options);
    status = connection.status();
    (*server)->Close();
  });
  EXPECT_EQ(GetErrorKind(status), ErrorKind::kSSLCertVerificationError)
      << status;
  // CPython 3.11.7, same setup, less " (_ssl.c:1006)".
  EXPECT_EQ(std::string(status.message()),
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
            "unable to get local issuer certificate");
}

// The client sends "STARTTLS\n" and its ClientHello back to back, so the
// hello sits in the server reader's buffer when the server calls
// AsyncStartTls. asyncio loses those bytes (the handshake then hangs); here
// they are handed to the TLS engine and the upgrade succeeds.
TEST(TlsTest, StartTlsKeepsHandshakeBytesAlreadyBuffered) {
  asio::ssl::context server_tls = ServerTlsContext();
  asio::ssl::context client_tls = ClientTlsContext();
  size_t buffered_at_upgrade = 0;
  absl::Status server_upgrade = absl::UnknownError("not run");
  absl::Status client_upgrade = absl::UnknownError("not run");
  std::optional<std::string> got;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto on_client = [&](StreamReader reader,
                         StreamWriter writer) -> asio::awaitable<void> {
      // Let the ClientHello arrive behind the line.
      asio::steady_timer timer(co_await asio::this_coro::executor, 100ms);
      co_await timer.async_wait(asio::use_awaitable);
      absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
      EXPECT_EQ(line.value_or(""), "STARTTLS\n");
      buffered_at_upgrade = reader.buffer_size();
      server_upgrade = co_await writer.AsyncStartTls(server_tls);
      if (!server_upgrade.ok()) co_return;
      EXPECT_TRUE(writer.GetExtraInfo("sslcontext").has_value());
      absl::StatusOr<std::string> secret = co_await reader.AsyncReadLine();
      EXPECT_THAT(writer.Write(secret.value_or("?\n")), IsOk());
      co_await writer.AsyncDrain();
      writer.Close();
    };
    auto server =
        co_await AsyncStartServer(executor, on_client, "127.0.0.1", 0);
    CO_ASSERT_OK(server);
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints()[0].port());
    CO_ASSERT_OK(connection);
    EXPECT_THAT(connection->writer.Write("STARTTLS\n"), IsOk());
    StartTlsOptions tls_options;
    tls_options.server_hostname = "localhost";
    tls_options.handshake_timeout = 5s;
    client_upgrade =
        co_await connection->writer.AsyncStartTls(client_tls, tls_options);
    if (client_upgrade.ok()) {
      EXPECT_THAT(connection->writer.Write("over tls\n"), IsOk());
      absl::StatusOr<std::string> line =
          co_await connection->reader.AsyncReadLine();
      if (line.ok()) got = *line;
    }
    connection->writer.Close();
    (*server)->Close();
  });
  EXPECT_GT(buffered_at_upgrade, 0u) << "the ClientHello was not buffered";
  EXPECT_THAT(server_upgrade, IsOk());
  EXPECT_THAT(client_upgrade, IsOk());
  EXPECT_EQ(got, "over tls\n");
}

// TLS in TLS, as asyncio 3.11 allows (start_tls() on a TLS transport): the
// inner session runs over the outer one, and closing shuts both down, the
// inner first, so both sides' wait_closed() succeed. A third layer is not
// supported: NotImplementedError.
TEST(TlsTest, StartTlsOverTlsNestsASecondSession) {
  asio::ssl::context server_tls = ServerTlsContext();
  asio::ssl::context client_tls = ClientTlsContext();
  absl::Status server_upgrade = absl::UnknownError("not run");
  absl::Status client_upgrade = absl::UnknownError("not run");
  absl::Status third_layer = absl::UnknownError("not run");
  absl::Status server_closed = absl::UnknownError("not run");
  absl::Status client_closed = absl::UnknownError("not run");
  bool new_session = false;
  std::optional<std::string> got;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    auto on_client = [&](StreamReader reader,
                         StreamWriter writer) -> asio::awaitable<void> {
      absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
      EXPECT_EQ(line.value_or(""), "STARTTLS\n");
      server_upgrade = co_await writer.AsyncStartTls(server_tls);
      if (!server_upgrade.ok()) co_return;
      absl::StatusOr<std::string> secret = co_await reader.AsyncReadLine();
      EXPECT_THAT(writer.Write(secret.value_or("?\n")), IsOk());
      co_await writer.AsyncDrain();
      // The peer closes first; EOF, then our close completes the shutdown.
      absl::StatusOr<std::string> eof = co_await reader.AsyncReadLine();
      EXPECT_EQ(eof.value_or("?"), "");
      writer.Close();
      server_closed = co_await writer.AsyncWaitClosed();
    };
    ServerOptions server_options;
    server_options.ssl = &server_tls;
    auto server = co_await AsyncStartServer(executor, on_client, "127.0.0.1", 0,
                                            server_options);
    CO_ASSERT_OK(server);
    ConnectionOptions options;
    options.ssl = &client_tls;
    options.server_hostname = "localhost";
    auto connection = co_await AsyncOpenConnection(
        executor, "127.0.0.1", (*server)->endpoints()[0].port(), options);
    CO_ASSERT_OK(connection);
    StreamWriter& writer = connection->writer;
    std::any outer = writer.GetExtraInfo("ssl_object");
    EXPECT_THAT(writer.Write("STARTTLS\n"), IsOk());
    StartTlsOptions tls_options;
    tls_options.server_hostname = "localhost";
    tls_options.handshake_timeout = 5s;
    client_upgrade = co_await writer.AsyncStartTls(client_tls, tls_options);
    if (client_upgrade.ok()) {
      std::any inner = writer.GetExtraInfo("ssl_object");
      new_session = outer.has_value() && inner.has_value() &&
                    std::any_cast<SSL*>(outer) != std::any_cast<SSL*>(inner);
      EXPECT_THAT(writer.Write("over tls in tls\n"), IsOk());
      absl::StatusOr<std::string> line =
          co_await connection->reader.AsyncReadLine();
      if (line.ok()) got = *line;
      third_layer = co_await writer.AsyncStartTls(client_tls, tls_options);
    }
    writer.Close();
    client_closed = co_await writer.AsyncWaitClosed();
    (*server)->Close();
  });
  EXPECT_THAT(server_upgrade, IsOk());
  EXPECT_THAT(client_upgrade, IsOk());
  EXPECT_TRUE(new_session) << "the inner session has its own SSL object";
  EXPECT_EQ(got, "over tls in tls\n");
  EXPECT_EQ(third_layer.code(), absl::StatusCode::kUnimplemented)
      << third_layer;
  EXPECT_THAT(client_closed, IsOk());
  EXPECT_THAT(server_closed, IsOk());
}

// MakeServerTlsContext() is ssl.create_default_context(Purpose.CLIENT_AUTH)
// of CPython 3.11.7 on this machine's OpenSSL 3.0: the figures below are what
// Python prints for that context (options, minimum_version, verify_mode and
// get_ciphers()' TLS 1.2 names, in order). Reached through the umbrella
// header streams/streams.h.
TEST(TlsTest, ServerContextHasPythonsClientAuthDefaults) {
  asio::ssl::context context = net::MakeServerTlsContext();
  SSL_CTX* native = context.native_handle();
  // Python: hex(ctx.options): OP_ALL (without OP_DONT_INSERT_EMPTY_FRAGMENTS),
  // OP_NO_SSLv3, OP_NO_COMPRESSION, OP_CIPHER_SERVER_PREFERENCE,
  // OP_ENABLE_MIDDLEBOX_COMPAT.
  EXPECT_EQ(SSL_CTX_get_options(native), 0x82520050u);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(native), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_max_proto_version(native), 0);          // the newest
  EXPECT_EQ(SSL_CTX_get_verify_mode(native), SSL_VERIFY_NONE);  // CERT_NONE
  SSL* ssl = SSL_new(native);
  ASSERT_NE(ssl, nullptr);
  std::vector<std::string> ciphers;
  STACK_OF(SSL_CIPHER)* stack = SSL_get_ciphers(ssl);
  for (int i = 0; i < sk_SSL_CIPHER_num(stack); ++i) {
    ciphers.push_back(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(stack, i)));
  }
  SSL_free(ssl);
  EXPECT_THAT(
      ciphers,
      ::testing::ElementsAre(
          "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
          "TLS_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
          "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
          "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
          "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES256-SHA384",
          "ECDHE-RSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA256",
          "ECDHE-RSA-AES128-SHA256", "DHE-RSA-AES256-GCM-SHA384",
          "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-SHA256",
          "DHE-RSA-AES128-SHA256"));
}

// A server on MakeServerTlsContext() with the test certificate serves a
// verifying client that has no certificate of its own (no client auth by
// default); a TLS 1.1 client is refused.
TEST(TlsTest, ServerContextServesAClientWithoutCertificate) {
  asio::ssl::context server_tls = net::MakeServerTlsContext();
  server_tls.use_certificate_chain_file("testdata/tls/server.pem");
  server_tls.use_private_key_file("testdata/tls/server.key",
                                  asio::ssl::context::pem);
  asio::ssl::context client_tls = ClientTlsContext();
  asio::ssl::context old_client = ClientTlsContext();
  SSL_CTX_set_min_proto_version(old_client.native_handle(), TLS1_1_VERSION);
  SSL_CTX_set_max_proto_version(old_client.native_handle(), TLS1_1_VERSION);
  SSL_CTX_set_security_level(old_client.native_handle(), 0);
  std::optional<std::string> got;
  absl::Status old_status;
  RunUntilDone([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    ServerOptions server_options;
    server_options.ssl = &server_tls;
    server_options.exception_handler = [](const ServerError&) {};
    auto server = co_await AsyncStartServer(executor, Echo, "127.0.0.1", 0,
                                            server_options);
    CO_ASSERT_OK(server);
    ConnectionOptions options;
    options.ssl = &client_tls;
    options.server_hostname = "localhost";
    const uint16_t port = (*server)->endpoints()[0].port();
    auto connection =
        co_await AsyncOpenConnection(executor, "127.0.0.1", port, options);
    EXPECT_THAT(connection, IsOk());
    if (connection.ok()) {
      EXPECT_THAT(connection->writer.Write("hello\n"), IsOk());
      absl::StatusOr<std::string> line =
          co_await connection->reader.AsyncReadLine();
      if (line.ok()) got = *line;
      connection->writer.Close();
      EXPECT_THAT(co_await connection->writer.AsyncWaitClosed(), IsOk());
    }
    options.ssl = &old_client;
    auto old =
        co_await AsyncOpenConnection(executor, "127.0.0.1", port, options);
    old_status = old.status();
    (*server)->Close();
  });
  EXPECT_EQ(got, "hello\n");
  EXPECT_EQ(old_status.code(), absl::StatusCode::kUnavailable) << old_status;
  EXPECT_EQ(GetErrorKind(old_status), ErrorKind::kSSLError) << old_status;
}

}  // namespace
}  // namespace streams
