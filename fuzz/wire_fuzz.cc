// wire_fuzz: arbitrary bytes into the two parsers of the conformance suite's
// input, which must answer every input with a result or a clear error, never
// a crash, and never allocate much more than the input is long:
//
// - the C++ testee's request reader (conformance/wire.h, the very code
//   cpp_testee.cc runs): the bytes as a stream of length-prefixed frames,
//   each decoded as a Request and its payloads checked, and expanded when
//   small;
// - the scenario text-format parser (protobuf TextFormat of ScenarioFile, what
//   the corpus files are), then the same payload checks on every scenario.
//
// Invariants: ReadFrame ends with a frame, a clean end, or kDataLoss
// "truncated ..." / kResourceExhausted "frame of N bytes exceeds ..."; a
// decoded request's payloads fit the limits and expand to exactly their
// ExpandedSize(); every error has its documented code and message prefix; a
// text that fails to parse reports at least one error with a line and
// column. The libFuzzer run adds -malloc_limit_mb=256 -rss_limit_mb=512
// (tools/fuzz.sh): any single allocation over 256 MB is a crash.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "conformance/scenario.pb.h"
#include "conformance/wire.h"
#include "fuzz/fuzz_support.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace streams::fuzz {
namespace {

using ::streams::conformance::Action;
using ::streams::conformance::Bytes;
using ::streams::conformance::Request;
using ::streams::conformance::Scenario;
using ::streams::conformance::ScenarioFile;

// Payloads up to this size are expanded (beyond it only their size is
// checked: Expand() is the same code, and memset-ing 64 MiB per input would
// only slow the fuzzer down).
constexpr int64_t kExpandAtMost = int64_t{1} << 20;

void CheckPayloadError(const absl::Status& status) {
  FUZZ_CHECK(
      absl::IsInvalidArgument(status) || absl::IsResourceExhausted(status),
      "a payload error is kInvalidArgument or kResourceExhausted");
  FUZZ_CHECK(absl::StartsWith(status.message(), "step "),
             "a payload error says where it is");
}

// Checks and (when small) expands every payload of a scenario that
// CheckPayloads() accepted.
void CheckAcceptedPayloads(const Scenario& scenario) {
  int64_t total = 0;
  for (const auto& step : scenario.steps()) {
    for (const Action& action : step.actions()) {
      for (const Bytes* bytes : conformance::PayloadsOf(action)) {
        absl::StatusOr<int64_t> size = conformance::ExpandedSize(*bytes);
        FUZZ_CHECK(size.ok(), "an accepted payload has a size");
        FUZZ_CHECK(*size >= 0 && *size <= conformance::kMaxPayloadBytes,
                   "an accepted payload is within the limit of one Bytes");
        total += *size;
        if (*size <= kExpandAtMost) {
          absl::StatusOr<std::string> expanded = conformance::Expand(*bytes);
          FUZZ_CHECK(
              expanded.ok() && static_cast<int64_t>(expanded->size()) == *size,
              "a payload expands to its ExpandedSize()");
          FUZZ_CHECK(absl::EndsWith(*expanded, bytes->data()),
                     "an expanded payload ends with its data");
        }
      }
    }
  }
  FUZZ_CHECK(total <= conformance::kMaxRequestPayloadBytes,
             "an accepted request is within the limit of all payloads");
}

void FuzzFrames(absl::string_view input) {
  size_t position = 0;
  auto read = [&](char* data, size_t size) {
    const size_t n = std::min(size, input.size() - position);
    std::memcpy(data, input.data() + position, n);
    position += n;
    return n;
  };
  while (true) {
    const size_t start = position;
    absl::StatusOr<std::optional<std::string>> frame =
        conformance::ReadFrame(read);
    if (!frame.ok()) {
      const absl::Status& error = frame.status();
      FUZZ_CHECK((absl::IsDataLoss(error) &&
                  absl::StartsWith(error.message(), "truncated ")) ||
                     (absl::IsResourceExhausted(error) &&
                      absl::StartsWith(error.message(), "frame of ")),
                 "a wire error is a truncated or oversized frame");
      FUZZ_CHECK(!absl::IsDataLoss(error) || position == input.size(),
                 "a truncated frame is one the input ends in");
      return;
    }
    if (!frame->has_value()) {
      FUZZ_CHECK(start == input.size(), "a clean end is the end of input");
      return;
    }
    FUZZ_CHECK(position - start == 4 + (*frame)->size(),
               "a frame is its 4-byte prefix and its payload");
    absl::StatusOr<Request> request = conformance::DecodeRequest(**frame);
    if (!request.ok()) {
      const absl::Status& error = request.status();
      if (absl::IsDataLoss(error)) {
        FUZZ_CHECK(error.message() == "cannot parse the request",
                   "an unparseable request says so");
      } else {
        FUZZ_CHECK(absl::StartsWith(error.message(), "invalid request: "),
                   "an invalid request says so");
      }
      continue;
    }
    CheckAcceptedPayloads(request->scenario());
  }
}

// Collects the text parser's errors.
class Errors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    FUZZ_CHECK(!message.empty(), "a text-format error has a message");
    FUZZ_CHECK(line >= -1 && column >= -1, "an error has a position");
    ++count_;
  }
  void AddWarning(int, int, const std::string&) override {}
  int count() const { return count_; }

 private:
  int count_ = 0;
};

void FuzzText(absl::string_view input) {
  ScenarioFile file;
  Errors errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(input), &file)) {
    FUZZ_CHECK(errors.count() > 0, "a text that fails to parse says why");
    return;
  }
  for (const Scenario& scenario : file.scenario()) {
    absl::Status checked = conformance::CheckPayloads(scenario);
    if (checked.ok()) {
      CheckAcceptedPayloads(scenario);
    } else {
      CheckPayloadError(checked);
    }
  }
}

}  // namespace
}  // namespace streams::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  streams::fuzz::FuzzFrames(input);
  streams::fuzz::FuzzText(input);
  return 0;
}
