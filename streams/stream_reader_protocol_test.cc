// StreamReaderProtocol, FlowControl and StreamWriter over a FakeTransport:
// the transport's events reach the reader, the write side's flow control
// wakes drains, and the writer forwards to the transport. The socket-based
// tests of test_streams.py are ported here with the transport's part played
// by the test (each cites the test it ports).

#include "streams/stream_reader_protocol.h"

#include <any>
#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "boost/asio/bind_cancellation_slot.hpp"
#include "boost/asio/cancellation_signal.hpp"
#include "boost/asio/deferred.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl/context.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/errors.h"
#include "streams/flow_control.h"
#include "streams/stream_reader.h"
#include "streams/stream_writer.h"
#include "streams/testing/fake_connection.h"
#include "streams/testing/fake_transport.h"
#include "streams/testing/run_briefly.h"
#include "streams/testing/status_matchers.h"
#include "streams/testing/warnings.h"

namespace streams {
namespace {

namespace asio = ::boost::asio;

using ::streams::testing::ErrorKindIs;
using ::streams::testing::FakeConnection;
using ::streams::testing::FakeTransport;
using ::streams::testing::IsOk;
using ::streams::testing::IsOkAndHolds;
using ::streams::testing::StatusIs;
using ::streams::testing::WarningCollector;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class StreamReaderProtocolTest : public ::testing::Test {
 protected:
  void RunBriefly() { testing::RunBriefly(ctx_); }

  // Starts a status operation (drain, wait_closed) with a callback; the
  // result appears in the returned slot.
  template <typename DeferredOp>
  std::shared_ptr<std::optional<absl::Status>> Start(DeferredOp op) {
    auto result = std::make_shared<std::optional<absl::Status>>();
    std::move(op)([result](absl::Status status) { *result = status; });
    return result;
  }

  template <typename DeferredOp>
  std::shared_ptr<std::optional<absl::StatusOr<std::string>>> StartRead(
      DeferredOp op) {
    auto result =
        std::make_shared<std::optional<absl::StatusOr<std::string>>>();
    std::move(op)(
        [result](absl::StatusOr<std::string> value) { *result = value; });
    return result;
  }

  // A client-side connection, as AsyncOpenConnection makes it; the members
  // below name its parts.
  void Connect(FakeTransport::Options options = {}) {
    connection_.emplace(reader_, options);
    transport_ = connection_->transport;
    protocol_ = connection_->protocol;
    writer_ = &*connection_->writer;
  }

  // The transport closes (as after Close()): connection_lost follows.
  void Lose(absl::Status exception) { connection_->Lose(std::move(exception)); }

  static absl::Status Reset() {
    return MakeOsError(ErrorKind::kConnectionResetError,
                       std::error_code(ECONNRESET, std::generic_category()),
                       "[Errno 104] Connection reset by peer");
  }

  asio::io_context ctx_;
  StreamReader reader_{ctx_.get_executor()};
  std::optional<FakeConnection> connection_;
  std::shared_ptr<FakeTransport> transport_;
  std::shared_ptr<StreamReaderProtocol> protocol_;
  StreamWriter* writer_ = nullptr;
};

// -----------------------------------------------------------------------------
// Transport events.
// -----------------------------------------------------------------------------

TEST_F(StreamReaderProtocolTest, ConnectionMadeSetsTheReadersTransport) {
  Connect();
  EXPECT_EQ(protocol_->transport(), transport_);
  EXPECT_FALSE(protocol_->over_ssl());
  EXPECT_FALSE(protocol_->has_client_connected_callback());
  EXPECT_EQ(reader_.DebugString(), "<StreamReader transport=<Transport>>");
  EXPECT_EQ(writer_->transport(), transport_);
  EXPECT_EQ(writer_->get_executor(), ctx_.get_executor());
}

TEST_F(StreamReaderProtocolTest, ConnectionMadeFailsWhenReaderHasATransport) {
  ASSERT_THAT(reader_.SetTransport(std::make_shared<FakeTransport>()), IsOk());
  auto protocol = StreamReaderProtocol::Create(reader_);
  absl::Status made =
      protocol->ConnectionMade(std::make_shared<FakeTransport>());
  EXPECT_THAT(made, StatusIs(absl::StatusCode::kFailedPrecondition,
                             "Transport already set"));
  EXPECT_THAT(made, ErrorKindIs(ErrorKind::kAssertionError));
}

TEST_F(StreamReaderProtocolTest, DataReceivedFeedsTheReader) {
  Connect();
  auto line = StartRead(reader_.AsyncReadLine(asio::deferred));
  RunBriefly();
  ASSERT_THAT(protocol_->DataReceived("hello "), IsOk());
  ASSERT_THAT(protocol_->DataReceived("world\nmore"), IsOk());
  RunBriefly();
  ASSERT_TRUE(line->has_value());
  EXPECT_THAT(**line, IsOkAndHolds("hello world\n"));
  EXPECT_EQ(reader_.buffer(), "more");
}

TEST_F(StreamReaderProtocolTest, DataReceivedPausesTheTransportPastTwiceLimit) {
  absl::StatusOr<StreamReader> reader =
      StreamReader::Create(ctx_.get_executor(), 2);
  ASSERT_THAT(reader, IsOk());
  auto transport = std::make_shared<FakeTransport>();
  auto protocol = StreamReaderProtocol::Create(*reader);
  ASSERT_THAT(protocol->ConnectionMade(transport), IsOk());
  ASSERT_THAT(protocol->DataReceived("1234"), IsOk());
  EXPECT_THAT(transport->CallNames(), IsEmpty());
  ASSERT_THAT(protocol->DataReceived("5"), IsOk());
  EXPECT_THAT(transport->CallNames(), ElementsAre("pause_reading"));
  EXPECT_TRUE(reader->transport_paused());
}

TEST_F(StreamReaderProtocolTest, EofReceivedFeedsEofAndKeepsTheTransport) {
  Connect();
  ASSERT_THAT(protocol_->DataReceived("tail"), IsOk());
  EXPECT_TRUE(protocol_->EofReceived());  // Half-close: keep writing.
  auto line = StartRead(reader_.AsyncReadLine(asio::deferred));
  RunBriefly();
  ASSERT_TRUE(line->has_value());
  EXPECT_THAT(**line, IsOkAndHolds("tail"));
  EXPECT_TRUE(reader_.AtEof());
  // Data after EOF is the reader's AssertionError.
  absl::Status late = protocol_->DataReceived("late");
  EXPECT_THAT(late, StatusIs(absl::StatusCode::kFailedPrecondition,
                             "feed_data after feed_eof"));
  EXPECT_THAT(late, ErrorKindIs(ErrorKind::kAssertionError));
  EXPECT_THAT(transport_->CallNames(), IsEmpty());
}

TEST_F(StreamReaderProtocolTest, EofReceivedOverSslReturnsFalse) {
  Connect(FakeTransport::Options{.ssl = true});
  EXPECT_TRUE(protocol_->over_ssl());
  EXPECT_FALSE(protocol_->EofReceived());
  EXPECT_TRUE(reader_.AtEof());
}

TEST_F(StreamReaderProtocolTest, ConnectionLostWithoutErrorIsEof) {
  Connect();
  auto line = StartRead(reader_.AsyncReadLine(asio::deferred));
  auto closed = Start(writer_->AsyncWaitClosed());
  RunBriefly();
  ASSERT_THAT(protocol_->DataReceived("partial"), IsOk());
  EXPECT_FALSE(closed->has_value());
  Lose(absl::OkStatus());
  RunBriefly();
  ASSERT_TRUE(line->has_value());
  EXPECT_THAT(**line, IsOkAndHolds("partial"));
  EXPECT_TRUE(reader_.AtEof());
  EXPECT_THAT(reader_.exception(), IsOk());
  ASSERT_TRUE(closed->has_value());
  EXPECT_THAT(**closed, IsOk());
  // The protocol let go of the transport; a later wait_closed is done at once.
  EXPECT_EQ(protocol_->transport(), nullptr);
  EXPECT_TRUE(protocol_->connection_lost());
  auto again = Start(writer_->AsyncWaitClosed());
  RunBriefly();
  ASSERT_TRUE(again->has_value());
  EXPECT_THAT(**again, IsOk());
}

TEST_F(StreamReaderProtocolTest, ConnectionLostWithErrorSetsTheException) {
  Connect();
  auto line = StartRead(reader_.AsyncReadLine(asio::deferred));
  auto closed = Start(writer_->AsyncWaitClosed());
  RunBriefly();
  ASSERT_THAT(protocol_->DataReceived("partial"), IsOk());
  RunBriefly();  // The read looks, finds no "\n", and waits again.
  Lose(Reset());
  RunBriefly();
  ASSERT_TRUE(line->has_value());
  EXPECT_EQ((*line)->status(), Reset());
  EXPECT_EQ(reader_.exception(), Reset());
  EXPECT_EQ(reader_.buffer(), "partial");
  ASSERT_TRUE(closed->has_value());
  EXPECT_THAT(**closed, StatusIs(absl::StatusCode::kUnavailable,
                                 "[Errno 104] Connection reset by peer"));
  EXPECT_THAT(**closed, ErrorKindIs(ErrorKind::kConnectionResetError));
  auto again = Start(writer_->AsyncWaitClosed());
  RunBriefly();
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ(**again, Reset());
}

TEST_F(StreamReaderProtocolTest, ProtocolHoldsAClientReaderWeakly) {
  auto transport = std::make_shared<FakeTransport>();
  std::shared_ptr<StreamReaderProtocol> protocol;
  {
    StreamReader reader(ctx_.get_executor());
    protocol = StreamReaderProtocol::Create(reader);
    ASSERT_THAT(protocol->ConnectionMade(transport), IsOk());
  }
  // The reader is gone: events reach nobody, and fail nothing.
  EXPECT_THAT(protocol->DataReceived("ignored"), IsOk());
  EXPECT_TRUE(protocol->EofReceived());
  protocol->ConnectionLost(absl::OkStatus());
  EXPECT_TRUE(protocol->connection_lost());
}

TEST_F(StreamReaderProtocolTest, WaitClosedCancelledCancelsEveryWaitClosed) {
  // As asyncio: cancelling wait_closed() cancels the protocol's closed
  // future.
  Connect();
  asio::cancellation_signal signal;
  std::optional<absl::Status> cancelled;
  writer_->AsyncWaitClosed(asio::bind_cancellation_slot(
      signal.slot(), [&](absl::Status status) { cancelled = status; }));
  auto other = Start(writer_->AsyncWaitClosed());
  RunBriefly();
  signal.emit(asio::cancellation_type::terminal);
  RunBriefly();
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_THAT(*cancelled, StatusIs(absl::StatusCode::kCancelled));
  ASSERT_TRUE(other->has_value());
  EXPECT_THAT(**other, StatusIs(absl::StatusCode::kCancelled));
}

// -----------------------------------------------------------------------------
// Flow control of the write side.
// -----------------------------------------------------------------------------

TEST_F(StreamReaderProtocolTest, PauseWritingTwiceIsAnAssertionError) {
  Connect();
  ASSERT_THAT(protocol_->PauseWriting(), IsOk());
  EXPECT_TRUE(protocol_->writing_paused());
  absl::Status again = protocol_->PauseWriting();
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kFailedPrecondition, ""));
  EXPECT_THAT(again, ErrorKindIs(ErrorKind::kAssertionError));
  EXPECT_TRUE(protocol_->writing_paused());
  ASSERT_THAT(protocol_->ResumeWriting(), IsOk());
  absl::Status resumed = protocol_->ResumeWriting();
  EXPECT_THAT(resumed, StatusIs(absl::StatusCode::kFailedPrecondition, ""));
  EXPECT_THAT(resumed, ErrorKindIs(ErrorKind::kAssertionError));
  EXPECT_FALSE(protocol_->writing_paused());
}

TEST_F(StreamReaderProtocolTest, DrainsWaitWhilePausedAndAllWakeOnResume) {
  Connect();
  ASSERT_THAT(protocol_->PauseWriting(), IsOk());
  std::vector<std::shared_ptr<std::optional<absl::Status>>> drains;
  for (int i = 0; i < 3; ++i)
    drains.push_back(Start(writer_->AsyncDrain(asio::deferred)));
  drains.push_back(Start(protocol_->AsyncDrainHelper()));
  RunBriefly();
  EXPECT_EQ(protocol_->drain_waiters(), 4u);
  for (const auto& drain : drains) EXPECT_FALSE(drain->has_value());
  ASSERT_THAT(protocol_->ResumeWriting(), IsOk());
  RunBriefly();
  for (const auto& drain : drains) {
    ASSERT_TRUE(drain->has_value());
    EXPECT_THAT(**drain, IsOk());
  }
  EXPECT_EQ(protocol_->drain_waiters(), 0u);
}

TEST_F(StreamReaderProtocolTest, DrainCompletesAtOnceWhenNotPaused) {
  Connect();
  EXPECT_THAT(writer_->Write("data"), IsOk());
  auto drained = Start(writer_->AsyncDrain(asio::deferred));
  RunBriefly();
  ASSERT_TRUE(drained->has_value());
  EXPECT_THAT(**drained, IsOk());
  EXPECT_EQ(protocol_->drain_waiters(), 0u);
}

TEST_F(StreamReaderProtocolTest, DrainAfterConnectionLostIsConnectionReset) {
  Connect();
  protocol_->ConnectionLost(absl::OkStatus());  // Transport not closing.
  auto drained = Start(writer_->AsyncDrain(asio::deferred));
  auto helper = Start(protocol_->AsyncDrainHelper());
  RunBriefly();
  for (const auto& result : {drained, helper}) {
    ASSERT_TRUE(result->has_value());
    EXPECT_THAT(**result,
                StatusIs(absl::StatusCode::kUnavailable, "Connection lost"));
    EXPECT_THAT(**result, ErrorKindIs(ErrorKind::kConnectionResetError));
  }
}

TEST_F(StreamReaderProtocolTest, ConnectionLostWakesPausedDrains) {
  for (bool with_error : {false, true}) {
    SCOPED_TRACE(with_error ? "with error" : "clean");
    auto flow = std::make_shared<FlowControl>(ctx_.get_executor());
    ASSERT_THAT(flow->PauseWriting(), IsOk());
    auto first = Start(flow->AsyncDrainHelper());
    auto second = Start(flow->AsyncDrainHelper());
    RunBriefly();
    flow->ConnectionLost(with_error ? Reset() : absl::OkStatus());
    RunBriefly();
    for (const auto& result : {first, second}) {
      ASSERT_TRUE(result->has_value());
      if (with_error) {
        EXPECT_EQ(**result, Reset());
      } else {
        EXPECT_THAT(**result, IsOk());
      }
    }
    EXPECT_TRUE(flow->connection_lost());
    EXPECT_EQ(flow->drain_waiters(), 0u);
  }
}

TEST_F(StreamReaderProtocolTest, DrainRaisesTheReadersException) {
  Connect();
  reader_.SetException(RuntimeError("reader failed"));
  auto drained = Start(writer_->AsyncDrain(asio::deferred));
  RunBriefly();
  ASSERT_TRUE(drained->has_value());
  EXPECT_THAT(**drained,
              StatusIs(absl::StatusCode::kFailedPrecondition, "reader failed"));
  EXPECT_THAT(**drained, ErrorKindIs(ErrorKind::kRuntimeError));
}

TEST_F(StreamReaderProtocolTest, DrainWhileClosingYieldsOnce) {
  // Not closing: one step completes the drain.
  Connect();
  std::optional<absl::Status> drained;
  writer_->AsyncDrain([&](absl::Status status) { drained = status; });
  EXPECT_EQ(ctx_.run_one(), 1u);
  ASSERT_TRUE(drained.has_value());
  EXPECT_THAT(*drained, IsOk());

  // Closing: the first step yields, so connection_lost (already scheduled)
  // runs before the drain looks at the flow control.
  drained.reset();
  writer_->Close();
  writer_->AsyncDrain([&](absl::Status status) { drained = status; });
  asio::post(ctx_, [this] { protocol_->ConnectionLost(absl::OkStatus()); });
  ctx_.restart();
  EXPECT_EQ(ctx_.run_one(), 1u);  // The drain's first step: it yields.
  EXPECT_FALSE(drained.has_value());
  RunBriefly();
  ASSERT_TRUE(drained.has_value());
  EXPECT_THAT(*drained,
              StatusIs(absl::StatusCode::kUnavailable, "Connection lost"));
}

// -----------------------------------------------------------------------------
// StreamWriter.
// -----------------------------------------------------------------------------

TEST_F(StreamReaderProtocolTest, WriterForwardsToTheTransport) {
  Connect();
  EXPECT_FALSE(writer_->IsClosing());
  EXPECT_TRUE(writer_->CanWriteEof());
  EXPECT_THAT(writer_->Write("GET / HTTP/1.0\r\n"), IsOk());
  EXPECT_THAT(writer_->WriteLines({"Host: x\r\n", "\r\n"}), IsOk());
  EXPECT_THAT(writer_->WriteEof(), IsOk());
  writer_->Close();
  EXPECT_TRUE(writer_->IsClosing());
  EXPECT_THAT(
      transport_->TakeCalls(),
      ElementsAre(
          FakeTransport::Call{"write", "GET / HTTP/1.0\r\n", {}},
          FakeTransport::Call{"writelines", "", {"Host: x\r\n", "\r\n"}},
          FakeTransport::Call{"write_eof", "", {}},
          FakeTransport::Call{"close", "", {}}));
  EXPECT_FALSE(writer_->GetExtraInfo("sslcontext").has_value());
  EXPECT_FALSE(writer_->GetExtraInfo("peername").has_value());
}

// asyncio's socket transport raises RuntimeError from write() after
// write_eof(), before looking at the data: so for b'' and writelines() too.
TEST_F(StreamReaderProtocolTest, WriterWriteAfterWriteEofFails) {
  Connect();
  EXPECT_THAT(writer_->Write("last\n"), IsOk());
  EXPECT_THAT(writer_->WriteEof(), IsOk());
  EXPECT_THAT(writer_->Write("late"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "Cannot call write() after write_eof()"));
  EXPECT_THAT(writer_->Write(""), ErrorKindIs(ErrorKind::kRuntimeError));
  EXPECT_THAT(writer_->WriteLines({"a", "b"}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "Cannot call write() after write_eof()"));
  EXPECT_THAT(writer_->WriteLines({}), ErrorKindIs(ErrorKind::kRuntimeError));
  // Nothing after write_eof reached the transport.
  EXPECT_THAT(transport_->TakeCalls(),
              ElementsAre(FakeTransport::Call{"write", "last\n", {}},
                          FakeTransport::Call{"write_eof", "", {}}));
}

TEST_F(StreamReaderProtocolTest, WriterCanWriteEofAndSslFromTheTransport) {
  Connect(FakeTransport::Options{.ssl = true, .cannot_write_eof = true});
  EXPECT_FALSE(writer_->CanWriteEof());
  std::any ssl = writer_->GetExtraInfo("sslcontext");
  ASSERT_TRUE(ssl.has_value());
  EXPECT_EQ(std::any_cast<std::string>(ssl), "fake-ssl");
}

// A transport that cannot start TLS refuses AsyncStartTls() (asyncio: the
// transport is not start_tls()-compatible) and the bytes the reader had
// buffered stay readable: only an upgrade that starts hands them to TLS.
TEST_F(StreamReaderProtocolTest, RefusedStartTlsKeepsTheReadersBytes) {
  Connect();
  ASSERT_THAT(protocol_->DataReceived("buffered\n"), IsOk());
  asio::ssl::context tls(asio::ssl::context::tls_client);
  auto upgraded = Start(writer_->AsyncStartTls(tls));
  RunBriefly();
  ASSERT_TRUE(upgraded->has_value());
  EXPECT_THAT(**upgraded, StatusIs(absl::StatusCode::kUnimplemented));
  auto line = StartRead(reader_.AsyncReadLine(asio::deferred));
  RunBriefly();
  ASSERT_TRUE(line->has_value());
  EXPECT_THAT(**line, IsOkAndHolds("buffered\n"));
}

TEST_F(StreamReaderProtocolTest, WriterDebugString) {
  Connect();
  EXPECT_EQ(writer_->DebugString(),
            "<StreamWriter transport=<Transport> reader=<StreamReader>>");
  StreamWriter without_reader(transport_, protocol_, nullptr);
  EXPECT_EQ(without_reader.DebugString(),
            "<StreamWriter transport=<Transport>>");
  transport_->StartClosing();
}

// Port of test_streams.py::test_unclosed_resource_warnings (the writer part).
TEST_F(StreamReaderProtocolTest, UnclosedResourceWarnings) {
  WarningCollector collector;
  auto transport = std::make_shared<FakeTransport>();
  StreamReader reader(ctx_.get_executor());
  auto protocol = StreamReaderProtocol::Create(reader);
  ASSERT_THAT(protocol->ConnectionMade(transport), IsOk());
  {
    StreamWriter writer(transport, protocol, &reader);
    EXPECT_THAT(writer.Write("GET / HTTP/1.0\r\n\r\n"), IsOk());
  }
  EXPECT_THAT(collector.warnings(),
              ElementsAre("unclosed <StreamWriter transport=<Transport> "
                          "reader=<StreamReader>>"));
  EXPECT_THAT(transport->CallNames(), ElementsAre("write", "close"));
  EXPECT_TRUE(transport->IsClosing());
}

TEST_F(StreamReaderProtocolTest, ClosedWriterDestroyedQuietly) {
  WarningCollector collector;
  auto transport = std::make_shared<FakeTransport>();
  auto protocol = StreamReaderProtocol::Create(reader_);
  ASSERT_THAT(protocol->ConnectionMade(transport), IsOk());
  {
    StreamWriter writer(transport, protocol, &reader_);
    writer.Close();
  }
  {
    // Moved-from writers say nothing either.
    auto other = std::make_shared<FakeTransport>();
    StreamWriter first(other, protocol, nullptr);
    StreamWriter second = std::move(first);
    other->StartClosing();
  }
  EXPECT_THAT(collector.warnings(), IsEmpty());
  EXPECT_THAT(transport->CallNames(), ElementsAre("close"));
}

TEST_F(StreamReaderProtocolTest, MoveAssigningOverAnUnclosedWriterClosesIt) {
  WarningCollector collector;
  auto protocol = StreamReaderProtocol::Create(reader_);
  auto old_transport = std::make_shared<FakeTransport>();
  auto new_transport = std::make_shared<FakeTransport>();
  StreamWriter writer(old_transport, protocol, nullptr);
  writer = StreamWriter(new_transport, protocol, nullptr);
  EXPECT_THAT(old_transport->CallNames(), ElementsAre("close"));
  EXPECT_THAT(collector.warnings(),
              ElementsAre("unclosed <StreamWriter transport=<Transport>>"));
  EXPECT_EQ(writer.transport(), new_transport);
  new_transport->StartClosing();
}

// Port of test_streams.py::test_wait_closed_on_close (the writer part).
TEST_F(StreamReaderProtocolTest, WaitClosedOnClose) {
  Connect();
  EXPECT_FALSE(writer_->IsClosing());
  writer_->Close();
  EXPECT_TRUE(writer_->IsClosing());
  auto closed = Start(writer_->AsyncWaitClosed());
  // The transport calls connection_lost(None) once it closed.
  asio::post(ctx_, [this] { protocol_->ConnectionLost(absl::OkStatus()); });
  RunBriefly();
  ASSERT_TRUE(closed->has_value());
  EXPECT_THAT(**closed, IsOk());
}

// Port of test_streams.py::test_eof_feed_when_closing_writer (the protocol
// part).
TEST_F(StreamReaderProtocolTest, EofFeedWhenClosingWriter) {
  Connect();
  writer_->Close();
  auto closed = Start(writer_->AsyncWaitClosed());
  asio::post(ctx_, [this] { protocol_->ConnectionLost(absl::OkStatus()); });
  RunBriefly();
  ASSERT_TRUE(closed->has_value());
  EXPECT_THAT(**closed, IsOk());
  EXPECT_TRUE(reader_.AtEof());
  auto data = StartRead(reader_.AsyncRead(-1, asio::deferred));
  RunBriefly();
  ASSERT_TRUE(data->has_value());
  EXPECT_THAT(**data, IsOkAndHolds(""));
}

// Port of test_streams.py::test_async_writer_api_exception_after_close (the
// writer part).
TEST_F(StreamReaderProtocolTest, AsyncWriterApiExceptionAfterClose) {
  Connect();
  writer_->Close();
  asio::post(ctx_, [this] { protocol_->ConnectionLost(absl::OkStatus()); });
  EXPECT_THAT(writer_->Write("data"), IsOk());
  auto drained = Start(writer_->AsyncDrain(asio::deferred));
  RunBriefly();
  ASSERT_TRUE(drained->has_value());
  EXPECT_THAT(**drained,
              StatusIs(absl::StatusCode::kUnavailable, "Connection lost"));
  EXPECT_THAT(**drained, ErrorKindIs(ErrorKind::kConnectionResetError));
}

// -----------------------------------------------------------------------------
// Server side.
// -----------------------------------------------------------------------------

TEST_F(StreamReaderProtocolTest, ClientConnectedCallbackGetsReaderAndWriter) {
  auto transport = std::make_shared<FakeTransport>();
  std::optional<StreamReader> server_reader;
  std::optional<StreamWriter> server_writer;
  std::shared_ptr<StreamReaderProtocol> protocol;
  {
    // The server's factory: the protocol keeps the reader alive until the
    // connection is made.
    StreamReader reader(ctx_.get_executor());
    protocol = StreamReaderProtocol::Create(
        reader, [&](StreamReader r, StreamWriter w) {
          server_reader.emplace(std::move(r));
          server_writer.emplace(std::move(w));
        });
  }
  EXPECT_TRUE(protocol->has_client_connected_callback());
  EXPECT_FALSE(server_reader.has_value());
  ASSERT_THAT(protocol->ConnectionMade(transport), IsOk());
  ASSERT_TRUE(server_reader.has_value());
  ASSERT_TRUE(server_writer.has_value());
  EXPECT_EQ(server_reader->DebugString(),
            "<StreamReader transport=<Transport>>");
  EXPECT_EQ(server_writer->transport(), transport);
  EXPECT_EQ(server_writer->DebugString(),
            "<StreamWriter transport=<Transport> reader=<StreamReader>>");

  // The callback's reader is the one the protocol feeds.
  ASSERT_THAT(protocol->DataReceived("ping\n"), IsOk());
  auto line = StartRead(server_reader->AsyncReadLine(asio::deferred));
  RunBriefly();
  ASSERT_TRUE(line->has_value());
  EXPECT_THAT(**line, IsOkAndHolds("ping\n"));
  // The callback's writer writes to the transport and drains through the
  // protocol.
  EXPECT_THAT(server_writer->Write("pong\n"), IsOk());
  ASSERT_THAT(protocol->PauseWriting(), IsOk());
  auto drained = Start(server_writer->AsyncDrain(asio::deferred));
  RunBriefly();
  EXPECT_FALSE(drained->has_value());
  ASSERT_THAT(protocol->ResumeWriting(), IsOk());
  RunBriefly();
  ASSERT_TRUE(drained->has_value());
  EXPECT_THAT(**drained, IsOk());
  EXPECT_THAT(transport->TakeCalls(),
              ElementsAre(FakeTransport::Call{"write", "pong\n", {}}));
  server_writer->Close();
  protocol->ConnectionLost(absl::OkStatus());
  EXPECT_TRUE(server_reader->AtEof());
}

TEST_F(StreamReaderProtocolTest, ServerDrainRaisesTheReadersException) {
  auto transport = std::make_shared<FakeTransport>();
  std::optional<StreamWriter> server_writer;
  auto protocol =
      StreamReaderProtocol::Create(reader_, [&](StreamReader, StreamWriter w) {
        server_writer.emplace(std::move(w));
      });
  ASSERT_THAT(protocol->ConnectionMade(transport), IsOk());
  ASSERT_TRUE(server_writer.has_value());
  transport->StartClosing();
  protocol->ConnectionLost(Reset());
  auto drained = Start(server_writer->AsyncDrain(asio::deferred));
  RunBriefly();
  ASSERT_TRUE(drained->has_value());
  EXPECT_EQ(**drained, Reset());
}

// 3.11.7's protocol keeps the writer it made (self._stream_writer) until
// connection_lost(): letting go of the callback's writer alone says nothing;
// connection_lost() drops the protocol's, and __del__ closes and warns. (The
// scenario Writer.Unclosed.ServerSideProtocolKeepsTheWriter.)
TEST_F(StreamReaderProtocolTest, ServerSideProtocolKeepsTheWriter) {
  WarningCollector collector;
  auto transport = std::make_shared<FakeTransport>();
  auto protocol = StreamReaderProtocol::Create(
      reader_, [](StreamReader, StreamWriter) {});  // drops the writer
  ASSERT_THAT(protocol->ConnectionMade(transport), IsOk());
  RunBriefly();
  EXPECT_THAT(collector.warnings(), IsEmpty());
  EXPECT_THAT(transport->CallNames(), IsEmpty());
  protocol->ConnectionLost(absl::OkStatus());
  EXPECT_THAT(transport->CallNames(), ElementsAre("close"));
  EXPECT_THAT(collector.warnings(),
              ElementsAre("unclosed <StreamWriter transport=<Transport> "
                          "reader=<StreamReader>>"));
}

// At the context's shutdown the protocol lets go of its writer last, as a
// writer on a closed loop: "loop is closed", and nothing is closed.
TEST_F(StreamReaderProtocolTest, ServerSideWriterReleasedAtContextShutdown) {
  WarningCollector collector;
  auto transport = std::make_shared<FakeTransport>();
  auto protocol =
      StreamReaderProtocol::Create(reader_, [](StreamReader, StreamWriter) {});
  ASSERT_THAT(protocol->ConnectionMade(transport), IsOk());
  std::weak_ptr<StreamReaderProtocol> watched = protocol;
  protocol.reset();
  ASSERT_FALSE(watched.expired()) << "the writer holds the protocol";
  watched.lock()->ContextShutdown();
  EXPECT_TRUE(watched.expired()) << "the protocol <-> writer cycle is broken";
  EXPECT_THAT(collector.warnings(), ElementsAre("loop is closed"));
  EXPECT_THAT(transport->CallNames(), IsEmpty());
}

// A pending drain holds the writer, as asyncio's drain task references it
// from its frame: letting go of the caller's writer warns only once the
// drain has completed. (The scenario Writer.Unclosed.
// PendingDrainKeepsTheWriter; its Cancel variants end it by cancelling.)
TEST_F(StreamReaderProtocolTest, PendingDrainKeepsTheWriter) {
  for (bool cancel : {false, true}) {
    SCOPED_TRACE(cancel ? "cancelled" : "resumed");
    WarningCollector collector;
    StreamReader reader(ctx_.get_executor());
    auto transport = std::make_shared<FakeTransport>();
    auto protocol = StreamReaderProtocol::Create(reader);
    ASSERT_THAT(protocol->ConnectionMade(transport), IsOk());
    std::optional<StreamWriter> writer;
    writer.emplace(transport, protocol, nullptr);
    ASSERT_THAT(protocol->PauseWriting(), IsOk());
    asio::cancellation_signal signal;
    auto drained = std::make_shared<std::optional<absl::Status>>();
    writer->AsyncDrain(asio::bind_cancellation_slot(
        signal.slot(), [drained](absl::Status status) { *drained = status; }));
    RunBriefly();
    writer.reset();
    RunBriefly();
    EXPECT_FALSE(drained->has_value());
    EXPECT_THAT(collector.warnings(), IsEmpty());
    EXPECT_THAT(transport->CallNames(), IsEmpty());
    if (cancel) {
      signal.emit(asio::cancellation_type::terminal);
    } else {
      ASSERT_THAT(protocol->ResumeWriting(), IsOk());
    }
    RunBriefly();
    ASSERT_TRUE(drained->has_value());
    if (cancel) {
      EXPECT_THAT(**drained, StatusIs(absl::StatusCode::kCancelled));
    } else {
      EXPECT_THAT(**drained, IsOk());
    }
    EXPECT_THAT(transport->CallNames(), ElementsAre("close"));
    EXPECT_THAT(collector.warnings(),
                ElementsAre("unclosed <StreamWriter transport=<Transport>>"));
  }
}

// Asio destroys the pending handlers of its I/O objects, uncalled, when their
// io_context goes; so do the writer's waiting operations, even when the
// protocol (here without a socket transport to tell it) outlives the
// context. Before internal/task_service.h this order was a
// heap-use-after-free under ASan: the waiting drain and wait_closed released
// their outstanding work on the freed scheduler.
TEST(StreamReaderProtocolLifetimeTest, ContextDestroyedBeforeTheProtocol) {
  auto ctx = std::make_unique<asio::io_context>();
  StreamReader reader(ctx->get_executor());
  auto transport = std::make_shared<FakeTransport>();
  auto protocol = StreamReaderProtocol::Create(reader);
  ASSERT_THAT(protocol->ConnectionMade(transport), IsOk());
  std::optional<StreamWriter> writer;
  writer.emplace(transport, protocol, &reader);
  ASSERT_THAT(protocol->PauseWriting(), IsOk());

  // Each handler owns a token: the token's expiry shows the handler was
  // destroyed, and `calls` that it was never called.
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watched = token;
  int calls = 0;
  writer->AsyncDrain(asio::deferred)(
      [token, &calls](absl::Status) { ++calls; });
  writer->AsyncWaitClosed(asio::deferred)(
      [token, &calls](absl::Status) { ++calls; });
  token.reset();
  ctx->run_for(std::chrono::milliseconds(1));
  ASSERT_EQ(protocol->drain_waiters(), 1u);

  ctx.reset();
  EXPECT_TRUE(watched.expired()) << "handlers kept past their io_context";
  // The futures outlive the context; finishing them later wakes nothing.
  transport->StartClosing();
  protocol->ConnectionLost(absl::OkStatus());
  writer.reset();
  protocol.reset();
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace streams
