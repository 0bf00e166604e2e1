// The interop server on //streams (conformance/INTEROP.md).
//
// Serves one case until SIGTERM or SIGINT. Its first stdout line is the port
// it bound (tcp, tls) or its socket path (unix). On the signal it stops
// listening, waits for its connections (at most kShutdownGrace), prints a
// summary and exits 0 if every server-side assert held, else 1 (`FAIL: ...`
// on stderr). interop_server.py is the same on CPython's asyncio.
//
//   interop_server --test_case=echo_lines --transport=tcp [--port=0]

#include <any>
#include <csignal>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/signal_set.hpp"
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
    "usage: interop_server --test_case=NAME --transport=tcp|unix|tls "
    "[--host=H --port=N | --path=P] [--tls_dir=D]";

// What the server saw. Every connection runs on a strand of the one thread
// that runs the io_context, so none of this is shared between threads.
struct State {
  State(const Flags& flags, asio::ssl::context& tls) : flags(flags), tls(tls) {}

  const Flags& flags;
  asio::ssl::context& tls;  // the server context (also for start_tls)
  int active = 0;
  int peak = 0;
  int served = 0;
  std::vector<std::string> failures;
  std::map<std::string, int> notes;

  // For kernel duplicates (INTEROP.md, "Duplicate connections from SYN
  // cookies"): each open connection's TCP peer ("" when not TCP) and whether
  // it has read a byte, and the peers whose connection read to EOF.
  struct Open {
    std::string peer;
    bool heard = false;
  };
  std::map<const StreamReader*, Open> open;
  std::set<std::string> finished_peers;

  // Open connections that can never hear from their client: nothing read,
  // and another connection with the same TCP peer already read its EOF (so
  // no client socket is left to send on this one).
  int KernelDuplicates() const {
    int count = 0;
    for (const auto& [reader, connection] : open) {
      if (!connection.heard && !connection.peer.empty() &&
          finished_peers.contains(connection.peer)) {
        ++count;
      }
    }
    return count;
  }
};

std::string TcpPeer(const StreamWriter& writer) {
  const std::any peer = writer.GetExtraInfo("peername");
  const auto* endpoint = std::any_cast<asio::ip::tcp::endpoint>(&peer);
  if (endpoint == nullptr) return "";
  return absl::StrCat(endpoint->address().to_string(), ":", endpoint->port());
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

asio::awaitable<void> Echo(State& state, StreamReader& reader,
                           StreamWriter& writer) {
  while (true) {
    const std::string line = co_await ReadLine(reader);
    State::Open& open = state.open[&reader];
    if (line.empty()) {
      state.finished_peers.insert(open.peer);
      break;
    }
    open.heard = true;
    Write(writer, line);
    co_await Drain(writer);
  }
  co_await Close(writer);
}

asio::awaitable<void> EchoLines(State&, StreamReader& reader,
                                StreamWriter& writer) {
  int count = 0;
  while (true) {
    const std::string line = co_await ReadLine(reader);
    if (line.empty()) break;
    if (count < kEchoLines) {
      Check(line == EchoLine(count), "line",
            absl::StrCat("line ", count, ": got ", Repr(line)));
    }
    ++count;
    Write(writer, line);
    co_await Drain(writer);
  }
  Check(count == kEchoLines, "count",
        absl::StrCat("got ", count, " lines, expected ", kEchoLines));
  co_await Close(writer);
}

asio::awaitable<void> LargePayload(State&, StreamReader& reader,
                                   StreamWriter& writer) {
  auto send = [&]() -> asio::awaitable<void> {
    std::string chunk = RandomBlock();
    Sha256 sha;
    for (int k = 0; k < kPayloadChunks; ++k) {
      SetChunkNumber(chunk, k);
      sha.Update(chunk);
      Write(writer, chunk);
      co_await Drain(writer);
    }
    Write(writer, absl::StrCat("sha256 ", sha.HexDigest(), "\n"));
    co_await Drain(writer);
  };
  std::string verdict;
  auto receive = [&]() -> asio::awaitable<void> {
    Sha256 sha;
    for (int k = 0; k < kPayloadChunks; ++k) {
      sha.Update(
          At("readexactly", co_await reader.AsyncReadExactly(kPayloadChunk)));
    }
    const std::string trailer = co_await ReadLine(reader);
    const std::string digest = sha.HexDigest();
    verdict = trailer == absl::StrCat("sha256 ", digest, "\n")
                  ? "ok"
                  : absl::StrCat("sha256 mismatch: received ", digest,
                                 ", the client sent ", Repr(trailer, 80));
  };
  co_await (send() && receive());
  Write(writer, absl::StrCat("verdict ", verdict, "\n"));
  co_await Drain(writer);
  Check(verdict == "ok", "verdict", verdict);
  At("read", co_await reader.AsyncRead());
  co_await Close(writer);
}

asio::awaitable<void> HalfClose(State&, StreamReader& reader,
                                StreamWriter& writer) {
  const std::string request = At("read", co_await reader.AsyncRead());
  Check(reader.AtEof(), "at_eof", "false after AsyncRead() to EOF");
  Check(!writer.IsClosing(), "is_closing",
        "the transport closed at EOF (EofReceived() should keep it open)");
  Write(writer, HalfCloseAnswer(request));
  co_await Drain(writer);
  co_await Close(writer);
}

asio::awaitable<void> LimitOverrun(State&, StreamReader& reader,
                                   StreamWriter& writer) {
  // The line's end is still to come after a "not found" ValueError.
  bool discarding = false;
  while (true) {
    const absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
    if (!line.ok()) {
      const absl::Status& error = line.status();
      const bool known =
          GetErrorKind(error) == ErrorKind::kValueError &&
          (error.message() == kLimitFound || error.message() == kLimitNotFound);
      if (!known) {
        Write(writer, absl::StrCat("error ", PythonTypeName(error), " ",
                                   error.message(), "\n"));
        throw Failure("assert:message", PythonString(error));
      }
      if (!discarding) {
        Write(writer, "error ValueError\n");
        co_await Drain(writer);
      }
      discarding = error.message() == kLimitNotFound;
      continue;
    }
    if (line->empty()) break;
    if (discarding) {
      discarding = line->back() != '\n';
      continue;
    }
    Write(writer, LimitReport(*line));
    co_await Drain(writer);
  }
  co_await Close(writer);
}

asio::awaitable<void> ClientAbort(State& state, StreamReader& reader,
                                  StreamWriter& writer) {
  int count = 0;
  absl::StatusOr<std::string> line;
  while ((line = co_await reader.AsyncReadLine()).ok()) {
    Check(!line->empty(), "reset",
          absl::StrCat("EOF after ", count, " lines, not a reset"));
    Check(*line == absl::StrCat("line ", count, "\n"), "line",
          absl::StrCat("line ", count, ": got ", Repr(*line)));
    ++count;
    if (count == kAbortLines) {
      Write(writer,
            absl::StrCat("ack ", count, "\n", std::string(kAbortFiller, 'f')));
    }
  }
  const std::string error = PythonTypeName(line.status());
  Check(error == "ConnectionResetError" || error == "BrokenPipeError", error,
        absl::StrCat(count, " lines, then ", PythonString(line.status()),
                     "; expected ConnectionResetError or "
                     "BrokenPipeError"));
  Check(
      count == kAbortLines, "lines",
      absl::StrCat(count, " lines before ", error, ", expected ", kAbortLines));
  ++state.notes[absl::StrCat(count, " lines, then ", error)];
  writer.Close();
}

asio::awaitable<void> ServerCloseDuringDrain(State& state, StreamReader& reader,
                                             StreamWriter& writer) {
  const std::string line = co_await ReadLine(reader);
  Check(line == "stall\n", "stall", absl::StrCat("got ", Repr(line)));
  asio::steady_timer timer(co_await asio::this_coro::executor, kStallSleep);
  co_await timer.async_wait(asio::use_awaitable);
  writer.Close();
  const absl::Status closed = co_await writer.AsyncWaitClosed();
  ++state.notes[absl::StrCat("wait_closed: ",
                             closed.ok() ? "ok" : PythonTypeName(closed))];
}

asio::awaitable<void> WriteAfterEof(State&, StreamReader& reader,
                                    StreamWriter& writer) {
  const std::string request = At("read", co_await reader.AsyncRead());
  Check(request == "before-eof\n", "request",
        absl::StrCat("got ", Repr(request)));
  Write(writer, "server-part\n");
  co_await Drain(writer);
  At("write_eof", writer.WriteEof());
  ExpectWriteAfterEof("write_after_eof", writer.Write("z"));
  ExpectWriteAfterEof("write_after_eof", writer.WriteLines({"z\n"}));
  co_await Close(writer);
}

asio::awaitable<void> StartTlsUpgrade(State& state, StreamReader& reader,
                                      StreamWriter& writer) {
  std::vector<std::string> seen;
  while (true) {
    const std::string line = co_await ReadLine(reader);
    if (line.empty()) break;
    seen.push_back(line);
    if (line == "STARTTLS\n") {
      Write(writer, "OK\n");
      co_await Drain(writer);
      At("start_tls", co_await writer.AsyncStartTls(state.tls));
      Check(writer.GetExtraInfo("sslcontext").has_value(), "upgraded",
            "no sslcontext after AsyncStartTls()");
      continue;
    }
    Write(writer, line);
    co_await Drain(writer);
  }
  std::vector<std::string> expected;
  for (int i = 0; i < kUpgradeLines; ++i) {
    expected.push_back(absl::StrCat("plain ", i, "\n"));
  }
  expected.push_back("STARTTLS\n");
  for (int i = 0; i < kUpgradeLines; ++i) {
    expected.push_back(absl::StrCat("tls ", i, "\n"));
  }
  Check(
      seen == expected, "lines",
      absl::StrCat("got ", seen.size(), " lines: ",
                   absl::StrJoin(seen, "",
                                 [](std::string* out, const std::string& line) {
                                   absl::StrAppend(out, Repr(line), " ");
                                 })));
  co_await Close(writer);
}

using Handler = asio::awaitable<void> (*)(State&, StreamReader&, StreamWriter&);

const std::map<std::string, Handler>& Handlers() {
  static const auto* handlers = new std::map<std::string, Handler>{
      {"echo_lines", EchoLines},
      {"large_payload", LargePayload},
      {"half_close", HalfClose},
      {"limit_overrun", LimitOverrun},
      {"client_abort", ClientAbort},
      {"server_close_during_drain", ServerCloseDuringDrain},
      {"write_after_eof", WriteAfterEof},
      {"start_tls_upgrade", StartTlsUpgrade},
      {"many_connections", Echo},
      {"burst_connect", Echo},
  };
  return *handlers;
}

void FinalChecks(State& state) {
  if (state.flags.test_case == "many_connections" &&
      (state.served != kManyConnections || state.peak != kManyConnections)) {
    state.failures.push_back(absl::StrCat(
        "served ", state.served, " connections, ", state.peak,
        " at once; expected ", kManyConnections, " and ", kManyConnections));
  }
}

asio::awaitable<int> Serve(State& state) {
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  const Handler handler = Handlers().at(state.flags.test_case);
  if (state.flags.test_case == "burst_connect") RaiseFileLimit();
  // The callback runs the case's handler and records how it went; nothing
  // escapes to the server's "Unhandled exception in client_connected_cb".
  auto client_connected = [&state, handler](
                              StreamReader reader,
                              StreamWriter writer) -> asio::awaitable<void> {
    const int number = ++state.served;
    state.peak = std::max(state.peak, ++state.active);
    state.open[&reader].peer = TcpPeer(writer);
    std::optional<Failure> failure;
    try {
      co_await handler(state, reader, writer);
    } catch (...) {
      failure = AsFailure(std::current_exception());
    }
    if (failure) {
      state.failures.push_back(
          absl::StrCat("connection ", number, ": ", failure->what()));
    }
    state.open.erase(&reader);
    --state.active;
    writer.Close();
  };
  ServerOptions options;
  if (state.flags.test_case == "limit_overrun") options.limit = kLimit;
  absl::StatusOr<std::shared_ptr<Server>> server;
  if (state.flags.unix_socket()) {
    server = co_await AsyncStartUnixServer(executor, client_connected,
                                           state.flags.path, options);
  } else {
    if (state.flags.tls()) options.ssl = &state.tls;
    server =
        co_await AsyncStartServer(executor, client_connected, state.flags.host,
                                  state.flags.port, options);
  }
  if (!server.ok()) {
    std::cerr << "FAIL: cannot listen: " << PythonString(server.status())
              << "\n";
    co_return 1;
  }
  if (state.flags.unix_socket()) {
    std::cout << (*server)->unix_path() << std::endl;
  } else {
    std::cout << (*server)->endpoints().at(0).port() << std::endl;
  }

  asio::signal_set signals(executor, SIGTERM, SIGINT);
  co_await signals.async_wait(asio::use_awaitable);
  (*server)->Close();
  asio::steady_timer poll(executor);
  const auto deadline = std::chrono::steady_clock::now() + kShutdownGrace;
  while (state.active > state.KernelDuplicates() &&
         std::chrono::steady_clock::now() < deadline) {
    poll.expires_after(std::chrono::milliseconds(10));
    co_await poll.async_wait(asio::use_awaitable);
  }
  if (const int duplicates = state.KernelDuplicates(); duplicates > 0) {
    state.notes["kernel duplicate of a finished connection, closed unheard"] +=
        duplicates;
  }
  if (const int open = state.active - state.KernelDuplicates(); open > 0) {
    state.failures.push_back(absl::StrCat(open, " connections still open ",
                                          kShutdownGrace.count(),
                                          " s after SIGTERM"));
  }
  if (state.active > 0) (*server)->AbortClients();
  FinalChecks(state);
  for (const auto& [note, count] : state.notes) {
    std::cout << "note: " << note << " (x" << count << ")\n";
  }
  for (size_t i = 0; i < state.failures.size() && i < 20; ++i) {
    std::cerr << "FAIL: " << state.failures[i] << "\n";
  }
  std::cout << "server: " << state.served << " connections, " << state.peak
            << " at once, " << state.failures.size() << " failures"
            << std::endl;
  co_return state.failures.empty() ? 0 : 1;
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv, kUsage);
  asio::ssl::context tls = ServerTlsContext(flags);
  State state(flags, tls);
  asio::io_context context;
  int exit_code = 1;
  asio::co_spawn(context, Serve(state),
                 [&](std::exception_ptr error, int code) {
                   if (error) {
                     std::cerr << "FAIL: " << AsFailure(error).what() << "\n";
                   } else {
                     exit_code = code;
                   }
                   context.stop();
                 });
  context.run();
  return exit_code;
}

}  // namespace
}  // namespace streams::interop

int main(int argc, char** argv) { return streams::interop::Main(argc, argv); }
