// Tests of MakeClientConnectedCallback() over a fake transport: the
// callback a Server gives each connection's protocol, driven by hand.
// Port of test_streams.py::test_start_server_callback_exception (whose
// error path closes the transport), in the conformance suite's terms.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/io_context.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/net/server.h"
#include "streams/stream_reader.h"
#include "streams/stream_reader_protocol.h"
#include "streams/stream_writer.h"
#include "streams/testing/fake_transport.h"
#include "streams/testing/status_matchers.h"

namespace streams {
namespace {

namespace asio = ::boost::asio;
using ::streams::testing::FakeTransport;
using ::streams::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class ClientConnectedCallbackTest : public ::testing::Test {
 protected:
  // Ends the connection as a real transport does when its io_context goes:
  // the server-side protocol holds its writer until then
  // (stream_reader_protocol.h), and a fake transport never ends it.
  ~ClientConnectedCallbackTest() override {
    if (protocol_ != nullptr) protocol_->ContextShutdown();
  }

  // The protocol of one connection with `callback`, made over transport_.
  void Connect(ClientConnected callback) {
    protocol_ = StreamReaderProtocol::Create(
        reader_, MakeClientConnectedCallback(
                     std::move(callback), [this](ServerError error) {
                       errors_.push_back(std::move(error));
                     }));
    ASSERT_TRUE(protocol_->ConnectionMade(transport_).ok());
  }

  asio::io_context context_;
  StreamReader reader_{context_.get_executor()};
  std::shared_ptr<FakeTransport> transport_ = std::make_shared<FakeTransport>();
  std::shared_ptr<StreamReaderProtocol> protocol_;
  std::vector<ServerError> errors_;
};

// The coroutine gets the protocol's reader and a writer on the connection's
// transport; it runs as a task (not inside ConnectionMade()); when it returns
// an error, that is reported, then the transport is closed.
TEST_F(ClientConnectedCallbackTest, CoroutineErrorIsReportedThenCloses) {
  std::vector<std::string> lines;
  Connect([&lines](StreamReader reader,
                   StreamWriter writer) -> asio::awaitable<absl::Status> {
    if (absl::Status written = writer.Write("hello\n"); !written.ok()) {
      co_return written;
    }
    absl::StatusOr<std::string> line = co_await reader.AsyncReadLine();
    if (line.ok()) lines.push_back(*line);
    co_return absl::InvalidArgumentError("boom");
  });
  EXPECT_THAT(transport_->CallNames(), IsEmpty());
  context_.poll();
  EXPECT_THAT(transport_->CallNames(), ElementsAre("write"));
  ASSERT_TRUE(protocol_->DataReceived("line\n").ok());
  context_.poll();
  EXPECT_THAT(lines, ElementsAre("line\n"));
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(errors_[0].message, "Unhandled exception in client_connected_cb");
  EXPECT_THAT(errors_[0].error,
              StatusIs(absl::StatusCode::kInvalidArgument, "boom"));
  EXPECT_EQ(errors_[0].transport, transport_);
  EXPECT_THAT(transport_->CallNames(), ElementsAre("write", "close"));
}

// A coroutine that returns OK reports nothing and closes nothing while the
// writer is held elsewhere (here: the transport is closing by itself, so the
// last writer handle closes nothing either).
TEST_F(ClientConnectedCallbackTest, CoroutineThatReturnsClosesNothing) {
  bool ran = false;
  Connect([&ran](StreamReader,
                 StreamWriter writer) -> asio::awaitable<absl::Status> {
    ran = true;
    writer.Close();
    co_return absl::OkStatus();
  });
  context_.poll();
  EXPECT_TRUE(ran);
  EXPECT_THAT(errors_, IsEmpty());
  EXPECT_THAT(transport_->CallNames(), ElementsAre("close"));
}

// A plain callback that throws: reported, then closed, inside the call.
TEST_F(ClientConnectedCallbackTest, PlainCallbackThatThrowsCloses) {
  Connect([](StreamReader, StreamWriter) { throw std::runtime_error("bad"); });
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(errors_[0].message, "Unhandled exception in client_connected_cb");
  EXPECT_THAT(transport_->CallNames(), ElementsAre("close"));
}

}  // namespace
}  // namespace streams
