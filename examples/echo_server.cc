// A line echo server: each client is served by a coroutine that sends every
// line back until EOF. SIGINT or SIGTERM stops it. Port 0: any free port.
//
//   bazel-bin/examples/echo_server [host] [port]   # 127.0.0.1 8888
//   nc 127.0.0.1 8888                               # in another terminal
//
// Shows: AsyncStartServer with a coroutine callback, AsyncReadLine, Write,
// AsyncDrain, errors as absl::Status, and shutting a server down.

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <iostream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio.hpp"
#include "streams/streams.h"

namespace asio = boost::asio;

// One client. An error returned here is reported by the server on stderr
// ("Unhandled exception in client_connected_cb: ...") and the connection is
// closed, as asyncio does.
asio::awaitable<absl::Status> Echo(streams::StreamReader reader,
                                   streams::StreamWriter writer) {
  while (true) {
    absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
    if (!line.ok()) co_return line.status();
    if (line->empty()) break;  // EOF: the client has nothing more to send.
    if (absl::Status written = writer.Write(*line); !written.ok()) {
      co_return written;  // RuntimeError: only after WriteEof().
    }
    absl::Status drained = co_await writer.AsyncDrain();
    if (!drained.ok()) co_return drained;
  }
  writer.Close();
  co_return absl::OkStatus();
}

// Serves until SIGINT or SIGTERM; returns the exit code.
asio::awaitable<int> Serve(std::string host, uint16_t port) {
  auto executor = co_await asio::this_coro::executor;
  absl::StatusOr<std::shared_ptr<streams::Server>> server =
      co_await streams::AsyncStartServer(executor, Echo, host, port);
  if (!server.ok()) {
    std::cerr << streams::PythonString(server.status()) << "\n";
    co_return 1;
  }
  // With port 0, the port the system chose.
  std::cout << "listening on " << (*server)->endpoints().at(0) << std::endl;
  asio::signal_set signals(executor, SIGINT, SIGTERM);
  co_await signals.async_wait(asio::use_awaitable);
  (*server)->Close();         // Stop accepting...
  (*server)->CloseClients();  // ...and close the connections still open.
  co_return 0;
}

int main(int argc, char** argv) {
  const std::string host = argc > 1 ? argv[1] : "127.0.0.1";
  const auto port = static_cast<uint16_t>(argc > 2 ? std::atoi(argv[2]) : 8888);
  asio::io_context context;
  std::future<int> exit_code =
      asio::co_spawn(context, Serve(host, port), asio::use_future);
  context.run();  // Returns once every connection is closed.
  return exit_code.get();
}
