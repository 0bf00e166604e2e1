#include "streams/testing/fake_transport.h"

#include <utility>

#include "streams/errors.h"

namespace streams::testing {

FakeTransport::FakeTransport() : FakeTransport(Options()) {}

FakeTransport::FakeTransport(Options options, std::shared_ptr<CallLog> log)
    : options_(options),
      log_(log != nullptr ? std::move(log) : std::make_shared<CallLog>()) {}

absl::Status FakeTransport::PauseReading() {
  if (options_.cannot_pause) {
    return absl::UnimplementedError("this transport cannot pause reading");
  }
  Record("pause_reading");
  return absl::OkStatus();
}

absl::Status FakeTransport::Write(ByteView data) {
  if (eof_written_)
    return RuntimeError("Cannot call write() after write_eof()");
  Record("write", std::string(data));
  return absl::OkStatus();
}

absl::Status FakeTransport::WriteLines(const std::vector<std::string>& lines) {
  // asyncio's writelines() is write(b''.join(lines)): the same check.
  if (eof_written_)
    return RuntimeError("Cannot call write() after write_eof()");
  Record("writelines", "", lines);
  return absl::OkStatus();
}

void FakeTransport::Close() {
  closing_ = true;
  Record("close");
}

void FakeTransport::Abort() {
  closing_ = true;
  Record("abort");
}

std::any FakeTransport::GetExtraInfo(absl::string_view name) const {
  if (name == "sslcontext" && options_.ssl) return std::string("fake-ssl");
  return {};
}

std::vector<std::string> FakeTransport::CallNames() const {
  std::vector<std::string> names;
  for (const Call& call : calls()) names.push_back(call.name);
  return names;
}

}  // namespace streams::testing
