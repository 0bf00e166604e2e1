// How a plain socket transport receives, over a Unix socket pair: what the
// socket holds arrives as one chunk of up to read_chunk_size bytes (asyncio's
// recv(max_size) per readiness), though a read waits with a 2 KiB buffer;
// while paused, and after Close(), nothing is taken from the socket (asyncio
// removes its reader): bytes sent then stay there. And its recv() calls are
// counted: a receive that empties the socket is not followed by a recv() that
// can only fail.

#include <dlfcn.h>
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <any>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/local/connect_pair.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/write.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/byte_view.h"
#include "streams/net/socket_transport.h"
#include "streams/protocol.h"
#include "streams/transport.h"

namespace {

// Every recv() of this process (Asio's receives and the transport's own),
// and those that failed with EAGAIN: the real recv() is libc's, found next.
std::atomic<int> recv_calls{0};
std::atomic<int> recv_would_block{0};

}  // namespace

extern "C" ssize_t recv(int fd, void* buffer, size_t size, int flags) {
  using Recv = ssize_t (*)(int, void*, size_t, int);
  static const Recv real = reinterpret_cast<Recv>(dlsym(RTLD_NEXT, "recv"));
  const ssize_t got = real(fd, buffer, size, flags);
  recv_calls.fetch_add(1, std::memory_order_relaxed);
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    recv_would_block.fetch_add(1, std::memory_order_relaxed);
  }
  return got;
}

namespace streams::net {

namespace asio = ::boost::asio;
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Records the size of each chunk it receives.
class ChunkRecorder : public Protocol {
 public:
  absl::Status ConnectionMade(std::shared_ptr<Transport> transport) override {
    transport_ = std::move(transport);
    return absl::OkStatus();
  }
  absl::Status DataReceived(ByteView data) override {
    chunks.push_back(absl::string_view(data).size());
    if (pause_after_chunks != 0 && chunks.size() == pause_after_chunks) {
      return transport_->PauseReading();
    }
    return absl::OkStatus();
  }
  bool EofReceived() override {
    eof_after_chunks = chunks.size();
    return false;
  }
  void ConnectionLost(absl::Status) override { transport_ = nullptr; }

  Transport& transport() { return *transport_; }

  std::vector<size_t> chunks;
  size_t pause_after_chunks = 0;  // 0: never pause
  std::optional<size_t> eof_after_chunks;

 private:
  std::shared_ptr<Transport> transport_;
};

// Runs the context until nothing is ready, without waiting for I/O to come.
void RunReady(asio::io_context& context) {
  context.restart();
  context.poll();
}

class ReceiveTest : public ::testing::Test {
 protected:
  ReceiveTest() : ours_(context_), peer_(context_) {
    asio::local::connect_pair(ours_, peer_);
    // Room for what the tests send, so that the peer's writes never block.
    peer_.set_option(asio::socket_base::send_buffer_size(1 << 20));
    ours_.set_option(asio::socket_base::receive_buffer_size(1 << 20));
  }

  std::shared_ptr<Transport> Start(const TransportOptions& options = {}) {
    return StartSocketTransport(std::move(ours_), recorder_, options);
  }

  void Send(size_t n) { asio::write(peer_, asio::buffer(std::string(n, 'x'))); }

  // Bytes the peer sent that are still in the socket, unread.
  size_t Unread() {
    const int fd =
        std::any_cast<int>(recorder_->transport().GetExtraInfo("socket"));
    int unread = 0;
    EXPECT_EQ(ioctl(fd, FIONREAD, &unread), 0);
    return unread;
  }

  asio::io_context context_;
  UnixSocket ours_;
  UnixSocket peer_;
  std::shared_ptr<ChunkRecorder> recorder_ = std::make_shared<ChunkRecorder>();
};

TEST_F(ReceiveTest, WhatTheSocketHoldsArrivesAsOneChunk) {
  Send(100 * 1024);
  std::shared_ptr<Transport> transport = Start();
  RunReady(context_);
  EXPECT_THAT(recorder_->chunks, ElementsAre(100 * 1024));
  transport->Abort();
  RunReady(context_);
}

TEST_F(ReceiveTest, AChunkIsAtMostReadChunkSize) {
  Send(300 * 1024);
  TransportOptions options;
  options.read_chunk_size = 256 * 1024;
  std::shared_ptr<Transport> transport = Start(options);
  RunReady(context_);
  EXPECT_THAT(recorder_->chunks, ElementsAre(256 * 1024, 44 * 1024));
  transport->Abort();
  RunReady(context_);
}

TEST_F(ReceiveTest, ASmallReadChunkSizeIsKept) {
  Send(1000);
  TransportOptions options;
  options.read_chunk_size = 300;
  std::shared_ptr<Transport> transport = Start(options);
  RunReady(context_);
  EXPECT_THAT(recorder_->chunks, ElementsAre(300, 300, 300, 100));
  transport->Abort();
  RunReady(context_);
}

// What the peer sends while the read waits, the chunks it arrives in, and
// the recv() calls that takes.
struct CountedReceive {
  const char* name;
  size_t sent;
  std::vector<size_t> chunks;
  int recv_calls;  // of which one fails: Asio's attempt as the next read
                   // starts, which finds the socket empty
};

class ReceiveCountTest : public ReceiveTest,
                         public ::testing::WithParamInterface<CountedReceive> {
};

// A receive that got less than it asked for emptied the socket: no recv()
// of the transport's own follows it (one could only fail, before Asio's own
// attempt fails again). One that filled its chunk is followed by a recv()
// straight into the next.
TEST_P(ReceiveCountTest, AReceiveThatEmptiesTheSocketIsNotRetried) {
  std::shared_ptr<Transport> transport = Start();
  RunReady(context_);  // The read now waits for data.
  recv_calls = 0;
  recv_would_block = 0;
  Send(GetParam().sent);
  RunReady(context_);
  EXPECT_EQ(recorder_->chunks, GetParam().chunks);
  EXPECT_EQ(recv_calls.load(), GetParam().recv_calls);
  EXPECT_EQ(recv_would_block.load(), 1);
  transport->Abort();
  RunReady(context_);
}

INSTANTIATE_TEST_SUITE_P(
    ReceiveTest, ReceiveCountTest,
    ::testing::Values(
        // The 2 KiB wait buffer, a follow-up recv() for the rest (less than
        // asked for), the failing one.
        CountedReceive{"OneChunk", 10000, {10000}, 3},
        // 2 KiB + the rest of the first 256 KiB chunk (full), the second
        // chunk (less than asked for), the failing one.
        CountedReceive{"TwoChunks", 300 * 1024, {256 * 1024, 44 * 1024}, 4}),
    [](const ::testing::TestParamInfo<CountedReceive>& info) {
      return std::string(info.param.name);
    });

TEST_F(ReceiveTest, NothingIsTakenWhilePaused) {
  std::shared_ptr<Transport> transport = Start();
  RunReady(context_);  // The read now waits for data.
  ASSERT_TRUE(transport->PauseReading().ok());
  Send(5000);
  RunReady(context_);
  EXPECT_THAT(recorder_->chunks, IsEmpty());
  EXPECT_EQ(Unread(), 5000u);
  transport->ResumeReading();
  RunReady(context_);
  EXPECT_THAT(recorder_->chunks, ElementsAre(5000));
  transport->Abort();
  RunReady(context_);
}

TEST_F(ReceiveTest, NothingIsTakenAfterClose) {
  std::shared_ptr<Transport> transport = Start();
  RunReady(context_);
  // More than the socket takes: the close waits for the write buffer, and
  // the transport stays open meanwhile.
  ASSERT_TRUE(transport->Write(std::string(8 << 20, 'y')).ok());
  ASSERT_GT(transport->GetWriteBufferSize(), 0u);
  transport->Close();
  Send(5000);
  RunReady(context_);
  EXPECT_THAT(recorder_->chunks, IsEmpty());
  EXPECT_EQ(Unread(), 5000u);
  transport->Abort();
  RunReady(context_);
}

// While bytes stream in, each receive takes what the socket holds, up to
// read_chunk_size, and the stream's end comes after the last chunk.
TEST_F(ReceiveTest, StreamedChunksEndWithTheEof) {
  Send(600 * 1024);
  peer_.shutdown(asio::socket_base::shutdown_send);
  TransportOptions options;
  options.read_chunk_size = 256 * 1024;
  std::shared_ptr<Transport> transport = Start(options);
  RunReady(context_);
  EXPECT_THAT(recorder_->chunks,
              ElementsAre(256 * 1024, 256 * 1024, 88 * 1024));
  EXPECT_EQ(recorder_->eof_after_chunks, 3u);
}

// A pause from DataReceived() stops the streamed receives at once: the rest
// stays in the socket until ResumeReading().
TEST_F(ReceiveTest, APauseStopsStreamedReceives) {
  Send(600 * 1024);
  TransportOptions options;
  options.read_chunk_size = 256 * 1024;
  recorder_->pause_after_chunks = 2;
  std::shared_ptr<Transport> transport = Start(options);
  RunReady(context_);
  EXPECT_THAT(recorder_->chunks, ElementsAre(256 * 1024, 256 * 1024));
  EXPECT_EQ(Unread(), 88u * 1024);
  transport->ResumeReading();
  RunReady(context_);
  EXPECT_THAT(recorder_->chunks,
              ElementsAre(256 * 1024, 256 * 1024, 88 * 1024));
  transport->Abort();
  RunReady(context_);
}

}  // namespace
}  // namespace streams::net
