// A chat server: each line a client sends goes to every other client as
// "<peer>: <line>"; arrivals and departures are announced and logged.
// SIGINT or SIGTERM stops it.
//
//   bazel-bin/examples/chat_server [host] [port]   # 127.0.0.1 8889
//   nc 127.0.0.1 8889                               # in two or more terminals

#include <any>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <future>
#include <iostream>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio.hpp"
#include "streams/streams.h"

namespace asio = boost::asio;

// The connected clients; one thread runs them all, so no lock.
using Clients = std::set<streams::StreamWriter*>;

asio::awaitable<void> Chat(Clients& clients, streams::StreamReader reader,
                           streams::StreamWriter writer) {
  const auto address =
      std::any_cast<asio::ip::tcp::endpoint>(writer.GetExtraInfo("peername"));
  const std::string peer =
      address.address().to_string() + ":" + std::to_string(address.port());
  // Write() never waits: a slow client's lines queue up in its transport.
  // It fails only after WriteEof(), which this server never calls.
  auto broadcast = [&](const std::string& text) {
    std::cout << text << std::flush;
    for (streams::StreamWriter* other : clients) {
      if (other != &writer) other->Write(text).IgnoreError();
    }
  };
  broadcast(peer + " joined\n");
  clients.insert(&writer);
  absl::StatusOr<std::string> line;  // Until an error, or EOF ("").
  while ((line = co_await reader.AsyncReadLine()).ok() && !line->empty()) {
    if (line->back() != '\n') line->push_back('\n');  // The last, at EOF.
    broadcast(peer + ": " + *line);
  }
  clients.erase(&writer);
  if (!line.ok()) std::cerr << streams::PythonString(line.status()) << "\n";
  broadcast(peer + " left\n");
  writer.Close();
}

// Serves until SIGINT or SIGTERM; returns the exit code.
asio::awaitable<int> Serve(std::string host, uint16_t port, Clients& clients) {
  auto executor = co_await asio::this_coro::executor;
  auto server = co_await streams::AsyncStartServer(
      executor, std::bind_front(Chat, std::ref(clients)), host, port);
  if (!server.ok()) {
    std::cerr << streams::PythonString(server.status()) << "\n";
    co_return 1;
  }
  std::cout << "listening on " << (*server)->endpoints().at(0) << std::endl;
  asio::signal_set signals(executor, SIGINT, SIGTERM);
  co_await signals.async_wait(asio::use_awaitable);
  (*server)->Close();         // Stop accepting...
  (*server)->CloseClients();  // ...and close the connections still open.
  co_return 0;
}

int main(int argc, char** argv) {
  const std::string host = argc > 1 ? argv[1] : "127.0.0.1";
  const auto port = static_cast<uint16_t>(argc > 2 ? std::atoi(argv[2]) : 8889);
  asio::io_context context;
  Clients clients;
  std::future<int> exit_code =
      asio::co_spawn(context, Serve(host, port, clients), asio::use_future);
  context.run();  // Returns once every connection is closed.
  return exit_code.get();
}
