// -----------------------------------------------------------------------------
// File: net/connect.h
// -----------------------------------------------------------------------------
//
// Connecting a TCP socket to one of several addresses, as asyncio's
// create_connection does: in order, one attempt after another; or, with a
// happy-eyeballs delay (RFC 8305), starting the next attempt whenever the
// previous one has not connected within the delay (or has failed), keeping
// earlier attempts going; the first to connect wins, the others are closed.
// Private to //streams/net (AsyncOpenConnection() uses it).

#ifndef STREAMS_NET_CONNECT_H_
#define STREAMS_NET_CONNECT_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/any_completion_handler.hpp"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/async_result.hpp"
#include "boost/asio/ip/tcp.hpp"

namespace streams::net {

// Python's repr of a socket address: ('127.0.0.1', 8888) or
// ('::1', 8888, 0, 0), as asyncio's error messages show it.
std::string PythonAddress(const boost::asio::ip::tcp::endpoint& endpoint);

// asyncio's _interleave_addrinfos: group by address family keeping order,
// take `first_family_count` of the first family, then alternate families.
std::vector<boost::asio::ip::tcp::endpoint> InterleaveByFamily(
    const std::vector<boost::asio::ip::tcp::endpoint>& endpoints,
    int first_family_count);

struct ConnectOptions {
  std::optional<boost::asio::ip::tcp::endpoint> local_addr;
  std::optional<std::chrono::milliseconds> happy_eyeballs_delay;
};

using ConnectHandler = boost::asio::any_completion_handler<void(
    absl::StatusOr<boost::asio::ip::tcp::socket>)>;

void StartConnect(const boost::asio::any_io_executor& executor,
                  std::vector<boost::asio::ip::tcp::endpoint> endpoints,
                  ConnectOptions options, ConnectHandler handler);

// AsyncConnect()
//
// Completion: void(absl::StatusOr<tcp::socket>). Never inside this call.
// Errors: the attempt's kUnavailable OSError ("[Errno 111] Connect call
//   failed ('127.0.0.1', 8888)", ConnectionRefusedError...) when all failed
//   alike; else kUnavailable OSError "Multiple exceptions: ...".
// Cancellation: terminal, partial, total (all types); closes every attempt
//   and completes with kCancelled.
// Concurrency: any number may run at once, on `executor`.
template <boost::asio::completion_token_for<
    void(absl::StatusOr<boost::asio::ip::tcp::socket>)>
              CompletionToken>
auto AsyncConnect(const boost::asio::any_io_executor& executor,
                  std::vector<boost::asio::ip::tcp::endpoint> endpoints,
                  ConnectOptions options, CompletionToken&& token) {
  return boost::asio::async_initiate<
      CompletionToken, void(absl::StatusOr<boost::asio::ip::tcp::socket>)>(
      [](auto handler, const boost::asio::any_io_executor& executor,
         std::vector<boost::asio::ip::tcp::endpoint> endpoints,
         ConnectOptions options) {
        StartConnect(executor, std::move(endpoints), std::move(options),
                     ConnectHandler(std::move(handler)));
      },
      token, executor, std::move(endpoints), std::move(options));
}

}  // namespace streams::net

#endif  // STREAMS_NET_CONNECT_H_
