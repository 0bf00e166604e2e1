// Reads lines from a StreamReader in a coroutine while a producer feeds it
// in uneven chunks, through the installed CMake package. Exits 0 when every
// line came through in order, then EOF (examples/consumer/read_lines.cc does
// the same through Bazel).

#include <iostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/asio.hpp"
#include "streams/streams.h"

namespace asio = boost::asio;

asio::awaitable<absl::StatusOr<std::vector<std::string>>> ReadAll(
    streams::StreamReader& reader) {
  std::vector<std::string> lines;
  while (true) {
    absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
    if (!line.ok()) co_return line.status();
    if (line->empty()) co_return lines;  // EOF
    lines.push_back(*std::move(line));
  }
}

asio::awaitable<void> Produce(streams::StreamReader& reader) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  (void)reader.FeedData("first line\nsecond li");
  // Let the reader wait for the rest of its line.
  timer.expires_after(std::chrono::milliseconds(10));
  co_await timer.async_wait(asio::use_awaitable);
  (void)reader.FeedData("ne\nthird line\n");
  reader.FeedEof();
}

int main() {
  asio::io_context context;
  streams::StreamReader reader(context.get_executor());
  absl::StatusOr<std::vector<std::string>> lines;
  asio::co_spawn(context, ReadAll(reader),
                 [&](std::exception_ptr, auto result) { lines = result; });
  asio::co_spawn(context, Produce(reader), asio::detached);
  context.run();

  const std::vector<std::string> want = {"first line\n", "second line\n",
                                         "third line\n"};
  if (!lines.ok() || *lines != want) {
    std::cerr << "cmake_consumer: unexpected result: " << lines.status()
              << "\n";
    return 1;
  }
  for (const std::string& line : *lines) std::cout << "read: " << line;
  std::cout << "cmake_consumer: OK, " << lines->size()
            << " lines through asyncio_streams " << streams::kVersion
            << " (find_package)\n";
  return 0;
}
