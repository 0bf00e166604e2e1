// The interop client on //streams (conformance/INTEROP.md).
//
// Runs one case against a server, then prints
// `RESULT {"ok": N, "failed": {"<place>:<ErrorClass>": count}}` as its last
// stdout line and exits 0 when every assert held, else 1 (`FAIL: ...` on
// stderr). interop_client.py is the same on CPython's asyncio.
//
//   interop_client --test_case=echo_lines --transport=tcp --port=N

#include <sys/socket.h>

#include <any>
#include <chrono>
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "conformance/interop/interop_common.h"
#include "streams/streams.h"

namespace streams::interop {
namespace {

namespace asio = ::boost::asio;
using namespace asio::experimental::awaitable_operators;

constexpr absl::string_view kUsage =
    "usage: interop_client --test_case=NAME --transport=tcp|unix|tls "
    "[--host=H --port=N | --path=P] [--tls_dir=D]";

// What the client reports: connections completed, failures by key.
struct Outcome {
  int ok = 0;
  std::map<std::string, int> failed;
  std::vector<std::string> details;

  void Fail(const Failure& failure) {
    ++failed[failure.key()];
    if (details.size() < 20) details.push_back(failure.what());
  }
};

// Wakes Wait() once CountDown() was called `count` times.
class Latch {
 public:
  Latch(const asio::any_io_executor& executor, int count)
      : timer_(executor, asio::steady_timer::time_point::max()),
        count_(count) {}
  void CountDown() {
    if (--count_ == 0) timer_.cancel();
  }
  asio::awaitable<void> Wait() {
    while (count_ > 0) {
      co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

 private:
  asio::steady_timer timer_;
  int count_;
};

// The case's parameters, for every function below.
struct Context {
  const Flags& flags;
  asio::ssl::context& tls;  // the client context (also for start_tls)
};

asio::awaitable<Connection> Open(const Context& cx) {
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  ConnectionOptions options;
  if (cx.flags.unix_socket()) {
    co_return At("open", co_await AsyncOpenUnixConnection(
                             executor, cx.flags.path, options));
  }
  if (cx.flags.tls()) {
    options.ssl = &cx.tls;
    options.server_hostname = "localhost";
  }
  co_return At("open", co_await AsyncOpenConnection(executor, cx.flags.host,
                                                    cx.flags.port, options));
}

void Write(StreamWriter& writer, absl::string_view data) {
  At("write", writer.Write(data));
}

asio::awaitable<void> Drain(StreamWriter& writer) {
  At("drain", co_await writer.AsyncDrain());
}

asio::awaitable<std::string> ReadLine(StreamReader& reader) {
  co_return At("readline", co_await reader.AsyncReadLine());
}

asio::awaitable<void> Close(StreamWriter& writer) {
  writer.Close();
  At("wait_closed", co_await writer.AsyncWaitClosed());
}

asio::awaitable<void> EchoLines(const Context& cx) {
  Connection connection = co_await Open(cx);
  std::vector<std::string> lines;
  for (int i = 0; i < kEchoLines; ++i) lines.push_back(EchoLine(i));
  auto read_echoes = [&]() -> asio::awaitable<void> {
    for (int i = 0; i < kEchoLines; ++i) {
      const std::string echoed = co_await ReadLine(connection.reader);
      Check(echoed == lines[i], "echo",
            absl::StrCat("line ", i, ": sent ", Repr(lines[i]), ", got ",
                         Repr(echoed)));
    }
  };
  auto write_lines = [&]() -> asio::awaitable<void> {
    for (const std::string& line : lines) {
      Write(connection.writer, line);
      co_await Drain(connection.writer);
    }
  };
  co_await (read_echoes() && write_lines());
  co_await Close(connection.writer);
}

asio::awaitable<void> LargePayload(const Context& cx) {
  Connection connection = co_await Open(cx);
  auto send = [&]() -> asio::awaitable<void> {
    std::string chunk = RandomBlock();
    Sha256 sha;
    for (int k = 0; k < kPayloadChunks; ++k) {
      SetChunkNumber(chunk, k);
      sha.Update(chunk);
      Write(connection.writer, chunk);
      co_await Drain(connection.writer);
    }
    Write(connection.writer, absl::StrCat("sha256 ", sha.HexDigest(), "\n"));
    co_await Drain(connection.writer);
  };
  auto receive = [&]() -> asio::awaitable<void> {
    Sha256 sha;
    for (int k = 0; k < kPayloadChunks; ++k) {
      sha.Update(At("readexactly", co_await connection.reader.AsyncReadExactly(
                                       kPayloadChunk)));
    }
    const std::string trailer = co_await ReadLine(connection.reader);
    const std::string digest = sha.HexDigest();
    Check(trailer == absl::StrCat("sha256 ", digest, "\n"), "sha256",
          absl::StrCat("received ", digest, ", the server sent ",
                       Repr(trailer, 80)));
  };
  co_await (send() && receive());
  const std::string verdict = co_await ReadLine(connection.reader);
  Check(verdict == "verdict ok\n", "verdict",
        absl::StrCat("the server says ", Repr(verdict, 200)));
  co_await Close(connection.writer);
}

asio::awaitable<void> HalfClose(const Context& cx) {
  Connection connection = co_await Open(cx);
  std::string request;
  for (const std::string& chunk : HalfCloseChunks()) {
    request += chunk;
    Write(connection.writer, chunk);
    co_await Drain(connection.writer);
  }
  Check(connection.writer.CanWriteEof(), "can_write_eof", "false");
  At("write_eof", connection.writer.WriteEof());
  Check(!connection.writer.IsClosing(), "is_closing", "true after WriteEof()");
  const std::string answer = At("read", co_await connection.reader.AsyncRead());
  Check(answer == HalfCloseAnswer(request), "answer",
        absl::StrCat("got ", Repr(answer, 200)));
  co_await Close(connection.writer);
}

asio::awaitable<void> LimitOverrun(const Context& cx) {
  Connection connection = co_await Open(cx);
  int number = 0;
  for (const LimitStep& step : LimitSteps()) {
    ++number;
    for (const std::string& piece : step.pieces) {
      Write(connection.writer, piece);
      co_await Drain(connection.writer);
    }
    const std::string report = co_await ReadLine(connection.reader);
    Check(report == step.report, "report",
          absl::StrCat("message ", number, ": got ", Repr(report, 80),
                       ", expected ", Repr(step.report, 80)));
  }
  co_await Close(connection.writer);
}

asio::awaitable<void> ClientAbort(const Context& cx) {
  Connection connection = co_await Open(cx);
  for (int i = 0; i < kAbortLines; ++i) {
    Write(connection.writer, absl::StrCat("line ", i, "\n"));
  }
  co_await Drain(connection.writer);
  const std::string ack = co_await ReadLine(connection.reader);
  Check(ack == absl::StrCat("ack ", kAbortLines, "\n"), "ack",
        absl::StrCat("got ", Repr(ack)));
  if (!cx.flags.unix_socket()) {
    // Closing then sends RST, not FIN.
    const std::any socket = connection.writer.GetExtraInfo("socket");
    const int* fd = std::any_cast<int>(&socket);
    Check(fd != nullptr, "socket", "no socket extra info");
    const linger reset{1, 0};
    Check(setsockopt(*fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)) == 0,
          "so_linger", "setsockopt(SO_LINGER) failed");
  }
  Write(connection.writer, "partial");
  co_await Drain(connection.writer);
  connection.writer.transport()->Abort();
  At("wait_closed", co_await connection.writer.AsyncWaitClosed());
}

asio::awaitable<void> ServerCloseDuringDrain(const Context& cx) {
  Connection connection = co_await Open(cx);
  Write(connection.writer, "stall\n");
  co_await Drain(connection.writer);
  std::vector<std::string> observed;
  const std::string chunk(kStallChunk, 'x');
  absl::Status drained;
  for (int i = 0; i < kStallChunks && drained.ok(); ++i) {
    Write(connection.writer, chunk);
    drained = co_await connection.writer.AsyncDrain();
  }
  observed.push_back(drained.ok()
                         ? "drain:ok"
                         : absl::StrCat("drain:", PythonTypeName(drained)));
  const absl::StatusOr<std::string> line =
      co_await connection.reader.AsyncReadLine();
  observed.push_back(
      line.ok() ? absl::StrCat("readline:", line->empty() ? "EOF" : "data")
                : absl::StrCat("readline:", PythonTypeName(line.status())));
  connection.writer.Close();
  (void)co_await connection.writer.AsyncWaitClosed();  // not asserted
  const std::vector<std::string> expected = {"drain:ConnectionResetError",
                                             "readline:ConnectionResetError"};
  Check(observed == expected, "outcome",
        absl::StrCat("observed [", absl::StrJoin(observed, ", "),
                     "], CPython gets [", absl::StrJoin(expected, ", "), "]"));
}

asio::awaitable<void> WriteAfterEof(const Context& cx) {
  Connection connection = co_await Open(cx);
  StreamWriter& writer = connection.writer;
  Write(writer, "before-eof\n");
  co_await Drain(writer);
  At("write_eof", writer.WriteEof());
  ExpectWriteAfterEof("write_after_eof", writer.Write("x"));
  ExpectWriteAfterEof("write_after_eof", writer.Write(""));
  ExpectWriteAfterEof("write_after_eof", writer.WriteLines({"y\n"}));
  const std::string answer = At("read", co_await connection.reader.AsyncRead());
  Check(answer == "server-part\n", "answer",
        absl::StrCat("got ", Repr(answer)));
  co_await Close(writer);
}

asio::awaitable<void> Exchange(Connection& connection,
                               absl::string_view prefix) {
  for (int i = 0; i < kUpgradeLines; ++i) {
    const std::string line = absl::StrCat(prefix, " ", i, "\n");
    Write(connection.writer, line);
    const std::string echoed = co_await ReadLine(connection.reader);
    Check(echoed == line, "echo",
          absl::StrCat("sent ", Repr(line), ", got ", Repr(echoed)));
  }
}

asio::awaitable<void> StartTlsUpgrade(const Context& cx) {
  Connection connection = co_await Open(cx);
  co_await Exchange(connection, "plain");
  Write(connection.writer, "STARTTLS\n");
  const std::string ok = co_await ReadLine(connection.reader);
  Check(ok == "OK\n", "starttls", absl::StrCat("got ", Repr(ok)));
  StartTlsOptions options;
  options.server_hostname = "localhost";
  At("start_tls", co_await connection.writer.AsyncStartTls(cx.tls, options));
  Check(connection.writer.GetExtraInfo("sslcontext").has_value(), "upgraded",
        "no sslcontext after AsyncStartTls()");
  co_await Exchange(connection, "tls");
  co_await Close(connection.writer);
}

asio::awaitable<void> Converse(Connection& connection, int conversation) {
  for (int i = 0; i < kManyLines; ++i) {
    const std::string line =
        absl::StrCat("conn ", conversation, " line ", i, "\n");
    Write(connection.writer, line);
    co_await Drain(connection.writer);
    const std::string echoed = co_await ReadLine(connection.reader);
    Check(echoed == line, "echo",
          absl::StrCat("sent ", Repr(line), ", got ", Repr(echoed)));
  }
}

// Runs `tasks` concurrently; returns each one's failure, if any.
asio::awaitable<std::vector<std::optional<Failure>>> RunAll(
    std::vector<std::function<asio::awaitable<void>()>> tasks) {
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  std::vector<std::optional<Failure>> failures(tasks.size());
  Latch latch(executor, static_cast<int>(tasks.size()));
  for (size_t i = 0; i < tasks.size(); ++i) {
    asio::co_spawn(executor, tasks[i],
                   [&failures, &latch, i](std::exception_ptr error) {
                     if (error) failures[i] = AsFailure(error);
                     latch.CountDown();
                   });
  }
  if (!tasks.empty()) co_await latch.Wait();
  co_return failures;
}

asio::awaitable<void> ManyConnections(const Context& cx, Outcome& outcome) {
  std::vector<std::unique_ptr<Connection>> connections;
  std::optional<Failure> failed_open;
  try {
    for (int c = 0; c < kManyConnections; ++c) {
      connections.push_back(std::make_unique<Connection>(co_await Open(cx)));
      // Accepted before the next connect (INTEROP.md).
      Connection& connection = *connections.back();
      const std::string hello = absl::StrCat("conn ", c, " hello\n");
      Write(connection.writer, hello);
      const std::string echoed = co_await ReadLine(connection.reader);
      Check(echoed == hello, "echo",
            absl::StrCat("sent ", Repr(hello), ", got ", Repr(echoed)));
    }
  } catch (const Failure& failure) {
    failed_open = failure;
  }
  if (failed_open) {
    outcome.Fail(*failed_open);
    co_return;
  }
  std::vector<std::function<asio::awaitable<void>()>> conversations;
  for (int c = 0; c < kManyConnections; ++c) {
    conversations.push_back(
        [&connections, c] { return Converse(*connections[c], c); });
  }
  std::vector<std::optional<Failure>> failures =
      co_await RunAll(std::move(conversations));
  for (int c = 0; c < kManyConnections; ++c) {
    if (!failures[c]) {
      try {
        co_await Close(connections[c]->writer);
        ++outcome.ok;
        continue;
      } catch (const Failure& failure) {
        failures[c] = failure;
      }
    }
    outcome.Fail(*failures[c]);
    connections[c]->writer.Close();
  }
}

asio::awaitable<void> BurstOne(const Context& cx, int i) {
  Connection connection = co_await Open(cx);
  const std::string line = absl::StrCat("burst ", i, "\n");
  Write(connection.writer, line);
  co_await Drain(connection.writer);
  const std::string echoed = co_await ReadLine(connection.reader);
  Check(echoed == line, "echo",
        absl::StrCat("sent ", Repr(line), ", got ", Repr(echoed)));
  co_await Close(connection.writer);
}

asio::awaitable<void> BurstConnect(const Context& cx, Outcome& outcome) {
  RaiseFileLimit();
  std::vector<std::function<asio::awaitable<void>()>> tasks;
  for (int i = 0; i < kBurstConnections; ++i) {
    tasks.push_back([&cx, i] { return BurstOne(cx, i); });
  }
  for (const std::optional<Failure>& failure :
       co_await RunAll(std::move(tasks))) {
    if (failure) {
      outcome.Fail(*failure);
    } else {
      ++outcome.ok;
    }
  }
}

using SingleCase = asio::awaitable<void> (*)(const Context&);
using MultiCase = asio::awaitable<void> (*)(const Context&, Outcome&);

const std::map<std::string, SingleCase>& SingleCases() {
  static const auto* cases = new std::map<std::string, SingleCase>{
      {"echo_lines", EchoLines},
      {"large_payload", LargePayload},
      {"half_close", HalfClose},
      {"limit_overrun", LimitOverrun},
      {"client_abort", ClientAbort},
      {"server_close_during_drain", ServerCloseDuringDrain},
      {"write_after_eof", WriteAfterEof},
      {"start_tls_upgrade", StartTlsUpgrade},
  };
  return *cases;
}

const std::map<std::string, MultiCase>& MultiCases() {
  static const auto* cases = new std::map<std::string, MultiCase>{
      {"many_connections", ManyConnections},
      {"burst_connect", BurstConnect},
  };
  return *cases;
}

asio::awaitable<void> RunCase(const Context& cx, Outcome& outcome) {
  auto multi = MultiCases().find(cx.flags.test_case);
  if (multi != MultiCases().end()) {
    co_await multi->second(cx, outcome);
    co_return;
  }
  std::optional<Failure> failure;
  try {
    co_await SingleCases().at(cx.flags.test_case)(cx);
  } catch (...) {
    failure = AsFailure(std::current_exception());
  }
  if (failure) {
    outcome.Fail(*failure);
  } else {
    ++outcome.ok;
  }
}

// The case, within its bound.
asio::awaitable<void> Run(const Context& cx, Outcome& outcome) {
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  const std::chrono::seconds bound = CaseBound(cx.flags.test_case);
  asio::steady_timer timer(executor, bound);
  auto run_case = [&]() -> asio::awaitable<void> {
    co_await RunCase(cx, outcome);
  };
  std::variant<std::monostate, std::monostate> winner =
      co_await (run_case() || timer.async_wait(asio::use_awaitable));
  if (winner.index() == 1) {
    outcome.Fail(Failure("timeout:TimeoutError",
                         absl::StrCat("not done within the case's ",
                                      bound.count(), " s bound")));
  }
}

std::string ResultJson(const Outcome& outcome) {
  std::vector<std::string> failed;
  for (const auto& [key, count] : outcome.failed) {
    failed.push_back(absl::StrCat("\"", key, "\": ", count));
  }
  return absl::StrCat("{\"ok\": ", outcome.ok, ", \"failed\": {",
                      absl::StrJoin(failed, ", "), "}}");
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv, kUsage);
  asio::ssl::context tls = ClientTlsContext(flags);
  const Context cx{flags, tls};
  Outcome outcome;
  asio::io_context context;
  asio::co_spawn(context, Run(cx, outcome), [&](std::exception_ptr error) {
    if (error) outcome.Fail(AsFailure(error));
    context.stop();  // Connections left over go with it.
  });
  context.run();
  for (const std::string& detail : outcome.details) {
    std::cerr << "FAIL: " << detail << "\n";
  }
  if (!outcome.failed.empty()) {
    std::cerr << "FAIL: " << flags.test_case << " over " << flags.transport
              << ": " << outcome.ok << " completed, failures "
              << ResultJson(outcome) << "\n";
  }
  std::cout << "RESULT " << ResultJson(outcome) << std::endl;
  return outcome.failed.empty() ? 0 : 1;
}

}  // namespace
}  // namespace streams::interop

int main(int argc, char** argv) { return streams::interop::Main(argc, argv); }
