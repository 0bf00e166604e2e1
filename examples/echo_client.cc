// A client for echo_server: sends stdin line by line, printing each line the
// server echoes back; at the end of stdin, closes the connection and exits.
// Shows AsyncOpenConnection, and a StreamReader that reads stdin's lines: its
// bytes are fed in with FeedData.
//
//   printf 'hello\nworld\n' | bazel-bin/examples/echo_client [host] [port]

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "boost/asio.hpp"
#include "streams/streams.h"

namespace asio = boost::asio;

asio::awaitable<void> PumpStdin(asio::posix::stream_descriptor& input,
                                streams::StreamReader& lines) {
  char buffer[4096];
  while (true) {
    auto [error, n] = co_await input.async_read_some(
        asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    if (error) break;  // The end of stdin, or input.close().
    (void)lines.FeedData(absl::string_view(buffer, n));
  }
  lines.FeedEof();
}

asio::awaitable<absl::Status> Talk(std::string host, uint16_t port,
                                   streams::StreamReader& stdin_lines) {
  auto executor = co_await asio::this_coro::executor;
  absl::StatusOr<streams::Connection> connection =
      co_await streams::AsyncOpenConnection(executor, host, port);
  if (!connection.ok()) co_return connection.status();
  auto& [reader, writer] = *connection;
  while (true) {
    absl::StatusOr<std::string> line = co_await stdin_lines.AsyncReadLine();
    if (!line.ok()) co_return line.status();
    if (line->empty()) break;                         // End of stdin.
    if (line->back() != '\n') line->push_back('\n');  // A last, unended line.
    if (absl::Status written = writer.Write(*line); !written.ok()) {
      co_return written;
    }
    absl::Status drained = co_await writer.AsyncDrain();
    if (!drained.ok()) co_return drained;
    absl::StatusOr<std::string> echoed = co_await reader.AsyncReadLine();
    if (!echoed.ok()) co_return echoed.status();
    if (echoed->empty()) co_return absl::UnavailableError("server went away");
    std::cout << *echoed << std::flush;
  }
  writer.Close();
  co_return co_await writer.AsyncWaitClosed();
}

int main(int argc, char** argv) {
  const std::string host = argc > 1 ? argv[1] : "127.0.0.1";
  const auto port = static_cast<uint16_t>(argc > 2 ? std::atoi(argv[2]) : 8888);
  asio::io_context context;
  const int stdin_flags = ::fcntl(STDIN_FILENO, F_GETFL);  // See below.
  asio::posix::stream_descriptor input(context, ::dup(STDIN_FILENO));
  streams::StreamReader stdin_lines(context.get_executor());
  asio::co_spawn(context, PumpStdin(input, stdin_lines), asio::detached);
  absl::Status status;
  asio::co_spawn(context, Talk(host, port, stdin_lines),
                 [&](std::exception_ptr error, absl::Status result) {
                   if (error) std::rethrow_exception(error);
                   status = result;
                   input.close();  // Stop reading stdin, if not at its end.
                 });
  context.run();
  ::fcntl(STDIN_FILENO, F_SETFL, stdin_flags);  // Asio made it non-blocking.
  if (!status.ok()) std::cerr << streams::PythonString(status) << "\n";
  return status.ok() ? 0 : 1;
}
