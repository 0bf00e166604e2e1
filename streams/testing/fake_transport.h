// -----------------------------------------------------------------------------
// File: testing/fake_transport.h
// -----------------------------------------------------------------------------
//
// `streams::testing::FakeTransport` records every call made on it, in order,
// for unit tests and the conformance testee (asyncio's tests use a mock the
// same way). It never calls back into a protocol: tests drive the protocol's
// events themselves.

#ifndef STREAMS_TESTING_FAKE_TRANSPORT_H_
#define STREAMS_TESTING_FAKE_TRANSPORT_H_

#include <any>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "streams/transport.h"

namespace streams::testing {

class FakeTransport : public Transport {
 public:
  struct Options {
    bool cannot_pause = false;      // PauseReading() returns kUnimplemented
    bool ssl = false;               // GetExtraInfo("sslcontext") has a value
    bool cannot_write_eof = false;  // CanWriteEof() is false
  };

  // One recorded call. `data` holds the bytes of "write"; `lines` those of
  // "writelines".
  struct Call {
    std::string name;  // "pause_reading", "resume_reading", "write",
                       // "writelines", "write_eof", "close", "abort"
    std::string data;
    std::vector<std::string> lines;

    friend bool operator==(const Call&, const Call&) = default;
  };

  // Where calls are recorded; several transports may share one, to keep the
  // order of their calls.
  class CallLog {
   public:
    void Add(Call call) { calls_.push_back(std::move(call)); }
    // The calls since the last Take(), oldest first.
    std::vector<Call> Take() { return std::exchange(calls_, {}); }
    const std::vector<Call>& calls() const { return calls_; }

   private:
    std::vector<Call> calls_;
  };

  FakeTransport();
  explicit FakeTransport(Options options,
                         std::shared_ptr<CallLog> log = nullptr);

  absl::Status PauseReading() override;
  void ResumeReading() override { Record("resume_reading"); }
  // After WriteEof(), Write() and WriteLines() record nothing and return
  // RuntimeError "Cannot call write() after write_eof()", as asyncio's
  // socket transport raises it (so does the reference testee's fake).
  [[nodiscard]] absl::Status Write(ByteView data) override;
  [[nodiscard]] absl::Status WriteLines(
      const std::vector<std::string>& lines) override;
  [[nodiscard]] absl::Status WriteEof() override {
    eof_written_ = true;
    Record("write_eof");
    return absl::OkStatus();
  }
  bool CanWriteEof() const override { return !options_.cannot_write_eof; }
  void Close() override;
  void Abort() override;
  bool IsClosing() const override { return closing_; }
  std::any GetExtraInfo(absl::string_view name) const override;

  // The transport starts closing on its own (not through Close()).
  void StartClosing() { closing_ = true; }

  // The calls since the last TakeCalls(), oldest first.
  std::vector<Call> TakeCalls() { return log_->Take(); }
  const std::vector<Call>& calls() const { return log_->calls(); }
  // The call names only, for terse assertions.
  std::vector<std::string> CallNames() const;

 private:
  void Record(std::string name, std::string data = "",
              std::vector<std::string> lines = {}) {
    log_->Add(Call{std::move(name), std::move(data), std::move(lines)});
  }

  Options options_;
  std::shared_ptr<CallLog> log_;
  bool closing_ = false;
  bool eof_written_ = false;
};

}  // namespace streams::testing

#endif  // STREAMS_TESTING_FAKE_TRANSPORT_H_
