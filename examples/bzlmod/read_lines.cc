// Reads lines from a StreamReader in a coroutine, with a timeout on each,
// while a producer feeds it in uneven chunks. Exits 0 when every line came
// through in order, then EOF.

#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "streams/streams.h"

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

asio::awaitable<absl::StatusOr<std::vector<std::string>>> ReadAll(
    streams::StreamReader& reader) {
  std::vector<std::string> lines;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (true) {
    timer.expires_after(5s);
    auto result = co_await (reader.AsyncReadLine(asio::use_awaitable) ||
                            timer.async_wait(asio::use_awaitable));
    if (result.index() == 1) co_return absl::DeadlineExceededError("timeout");
    absl::StatusOr<std::string> line = std::get<0>(std::move(result));
    if (!line.ok()) co_return line.status();
    if (line->empty()) co_return lines;  // EOF
    lines.push_back(*std::move(line));
  }
}

asio::awaitable<void> Produce(streams::StreamReader& reader) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const std::string text = "first line\nsecond li";
  (void)reader.FeedData(text);
  timer.expires_after(10ms);
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
    std::cerr << "consumer: unexpected result: " << lines.status() << "\n";
    return 1;
  }
  for (const std::string& line : *lines) std::cout << "read: " << line;
  std::cout << "consumer: OK, " << lines->size()
            << " lines through @asyncio_streams//streams\n";
  return 0;
}
