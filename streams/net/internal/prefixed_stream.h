// -----------------------------------------------------------------------------
// File: net/internal/prefixed_stream.h
// -----------------------------------------------------------------------------
//
// `PrefixedStream<NextLayer>` reads `prefix` first, then from `next`: an Asio
// AsyncReadStream/AsyncWriteStream adaptor. TLS runs over it so that bytes
// already read off a connection before StreamWriter::AsyncStartTls() (a TLS
// ClientHello that arrived right behind "STARTTLS\n") reach the TLS engine
// instead of being lost, as asyncio loses them.

#ifndef STREAMS_NET_INTERNAL_PREFIXED_STREAM_H_
#define STREAMS_NET_INTERNAL_PREFIXED_STREAM_H_

#include <cstddef>
#include <string>
#include <utility>

#include "boost/asio/append.hpp"
#include "boost/asio/async_result.hpp"
#include "boost/asio/buffer.hpp"
#include "boost/asio/post.hpp"
#include "boost/system/error_code.hpp"

namespace streams::net {

template <typename NextLayer>
class PrefixedStream {
 public:
  using executor_type = typename NextLayer::executor_type;
  using next_layer_type = NextLayer;
  using lowest_layer_type = typename NextLayer::lowest_layer_type;

  PrefixedStream(NextLayer next, std::string prefix)
      : next_(std::move(next)), prefix_(std::move(prefix)) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() { return next_; }
  lowest_layer_type& lowest_layer() { return next_.lowest_layer(); }
  const lowest_layer_type& lowest_layer() const { return next_.lowest_layer(); }

  template <typename MutableBufferSequence, typename ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers,
                       ReadToken&& token) {
    return boost::asio::async_initiate<
        ReadToken, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBufferSequence& buffers) {
          if (prefix_.empty()) {
            next_.async_read_some(buffers, std::move(handler));
            return;
          }
          const std::size_t n =
              boost::asio::buffer_copy(buffers, boost::asio::buffer(prefix_));
          prefix_.erase(0, n);
          // Complete through the I/O executor: never inside this call.
          boost::asio::post(
              next_.get_executor(),
              boost::asio::append(std::move(handler),
                                  boost::system::error_code(), n));
        },
        token, buffers);
  }

  template <typename ConstBufferSequence, typename WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers,
                        WriteToken&& token) {
    return next_.async_write_some(buffers, std::forward<WriteToken>(token));
  }

 private:
  NextLayer next_;
  std::string prefix_;
};

}  // namespace streams::net

#endif  // STREAMS_NET_INTERNAL_PREFIXED_STREAM_H_
