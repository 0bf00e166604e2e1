#include "streams/stream_writer.h"

#include <iostream>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "streams/internal/drain_operation.h"

namespace streams {
namespace {

using WarningHandler = absl::AnyInvocable<void(absl::string_view) const>;

std::mutex warning_mutex;

WarningHandler& Warning() {
  static WarningHandler* handler = new WarningHandler(
      [](absl::string_view message) { std::cerr << message << "\n"; });
  return *handler;
}

}  // namespace

StreamWriter::StreamWriter(std::shared_ptr<Transport> transport,
                           std::shared_ptr<StreamReaderProtocol> protocol,
                           const StreamReader* reader)
    : StreamWriter(std::move(transport), std::move(protocol),
                   reader != nullptr ? reader->core_ : nullptr) {}

StreamWriter::StreamWriter(std::shared_ptr<Transport> transport,
                           std::shared_ptr<StreamReaderProtocol> protocol,
                           std::shared_ptr<internal::ReaderCore> reader)
    : transport_(std::move(transport)),
      protocol_(std::move(protocol)),
      reader_(std::move(reader)) {}

StreamWriter& StreamWriter::operator=(StreamWriter&& other) noexcept {
  if (this != &other) {
    CloseIfUnclosed();
    transport_ = std::move(other.transport_);
    protocol_ = std::move(other.protocol_);
    reader_ = std::move(other.reader_);
  }
  return *this;
}

StreamWriter::~StreamWriter() { CloseIfUnclosed(); }

void StreamWriter::CloseIfUnclosed() {
  if (transport_ == nullptr || transport_->IsClosing()) return;
  // asyncio's __del__: close, then warn.
  std::string message = absl::StrCat("unclosed ", DebugString());
  transport_->Close();
  std::lock_guard<std::mutex> lock(warning_mutex);
  Warning()(message);
}

void StreamWriter::SetWarningHandler(WarningHandler handler) {
  std::lock_guard<std::mutex> lock(warning_mutex);
  Warning() = std::move(handler);
}

std::string StreamWriter::DebugString() const {
  std::string info = "<StreamWriter transport=<Transport>";
  if (reader_ != nullptr) absl::StrAppend(&info, " reader=<StreamReader>");
  return absl::StrCat(info, ">");
}

void StreamWriter::StartDrain(internal::StatusOperation::Handler handler) {
  auto op = std::make_shared<internal::DrainOperation>(
      protocol_->get_executor(), std::move(handler), protocol_->drain_state(),
      reader_, transport_);
  op->Start();
}

void StreamWriter::StartWaitClosed(internal::StatusOperation::Handler handler) {
  auto op = std::make_shared<internal::AwaitOperation>(
      protocol_->get_executor(), std::move(handler), protocol_->closed_);
  op->Start();
}

}  // namespace streams
