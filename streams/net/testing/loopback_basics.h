// -----------------------------------------------------------------------------
// File: net/testing/loopback_basics.h
// -----------------------------------------------------------------------------
//
// What every loopback test of //streams/net shares, TLS or not (loopback.h
// adds the TLS pieces, and links //streams/net:tls): running a coroutine on
// a fresh io_context with a time bound, a short sleep, and a line echo
// server callback.

#ifndef STREAMS_NET_TESTING_LOOPBACK_BASICS_H_
#define STREAMS_NET_TESTING_LOOPBACK_BASICS_H_

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/this_coro.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gtest/gtest.h"
#include "streams/stream_reader.h"
#include "streams/stream_writer.h"

namespace streams::testing {

// Runs `body(executor)` as a coroutine on a fresh io_context until nothing
// is left to do, at most `bound` (a bound against hangs, never asserted on
// as a timing).
template <typename Body>
void RunUntilDone(Body body,
                  std::chrono::seconds bound = std::chrono::seconds(30)) {
  boost::asio::io_context context;
  boost::asio::co_spawn(context, body(context.get_executor()),
                        boost::asio::detached);
  context.run_for(bound);
  ASSERT_TRUE(context.stopped()) << "the test did not finish";
}

// Waits `duration`, to let the peer act first.
inline boost::asio::awaitable<void> Sleep(std::chrono::milliseconds duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                  duration);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

// A line echo server's client-connected callback.
inline boost::asio::awaitable<void> Echo(StreamReader reader,
                                         StreamWriter writer) {
  while (true) {
    absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
    if (!line.ok() || line->empty()) break;
    if (!writer.Write(*line).ok()) break;
    if (!(co_await writer.AsyncDrain()).ok()) break;
  }
  writer.Close();
}

}  // namespace streams::testing

#endif  // STREAMS_NET_TESTING_LOOPBACK_BASICS_H_
