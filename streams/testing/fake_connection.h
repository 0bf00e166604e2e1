// -----------------------------------------------------------------------------
// File: testing/fake_connection.h
// -----------------------------------------------------------------------------
//
// A client-side connection over a `FakeTransport`, wired the way
// AsyncOpenConnection() wires a socket: a StreamReaderProtocol for the
// reader, connected to the transport (connection_made), and a StreamWriter
// writing through both. For tests of the protocol and the writer without
// sockets.
//
// Example:
//
//   asio::io_context ctx;
//   StreamReader reader(ctx.get_executor());
//   FakeConnection connection(reader);
//   EXPECT_THAT(connection.writer->Write("data"), IsOk());
//   connection.Lose(absl::OkStatus());  // the peer closed: EOF
//
// The reader must outlive the connection.

#ifndef STREAMS_TESTING_FAKE_CONNECTION_H_
#define STREAMS_TESTING_FAKE_CONNECTION_H_

#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/stream_reader.h"
#include "streams/stream_reader_protocol.h"
#include "streams/stream_writer.h"
#include "streams/testing/fake_transport.h"
#include "streams/testing/status_matchers.h"

namespace streams::testing {

struct FakeConnection {
  explicit FakeConnection(StreamReader& reader,
                          FakeTransport::Options options = {})
      : transport(std::make_shared<FakeTransport>(options)),
        protocol(StreamReaderProtocol::Create(reader)) {
    EXPECT_THAT(protocol->ConnectionMade(transport), IsOk());
    writer.emplace(transport, protocol, &reader);
  }

  // The transport is closing when the writer goes: no "unclosed
  // <StreamWriter ...>" warning from a test that did not close it.
  ~FakeConnection() { transport->StartClosing(); }

  FakeConnection(const FakeConnection&) = delete;
  FakeConnection& operator=(const FakeConnection&) = delete;

  // The transport closes (as after Close() or a reset), then the protocol's
  // connection_lost(exception) follows.
  void Lose(absl::Status exception) {
    transport->StartClosing();
    protocol->ConnectionLost(std::move(exception));
  }

  std::shared_ptr<FakeTransport> transport;
  std::shared_ptr<StreamReaderProtocol> protocol;
  std::optional<StreamWriter> writer;
};

}  // namespace streams::testing

#endif  // STREAMS_TESTING_FAKE_CONNECTION_H_
