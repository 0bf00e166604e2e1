// -----------------------------------------------------------------------------
// File: testing/warnings.h
// -----------------------------------------------------------------------------
//
// `WarningCollector` collects what StreamWriter reports (asyncio's
// ResourceWarnings: "unclosed <StreamWriter ...>", "loop is closed") while
// it lives, through StreamWriter::SetWarningHandler(), which is
// process-wide. Its destructor puts back a handler that prints to stderr
// (the default), or one that fails the test (`Afterwards::kFail`) for tests
// where a warning must not come later.
//
// Example:
//
//   WarningCollector collector;
//   { StreamWriter doomed = std::move(writer); }
//   EXPECT_THAT(collector.warnings(), ElementsAre(StartsWith("unclosed")));

#ifndef STREAMS_TESTING_WARNINGS_H_
#define STREAMS_TESTING_WARNINGS_H_

#include <stdio.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "streams/stream_writer.h"

namespace streams::testing {

class WarningCollector {
 public:
  enum class Afterwards { kPrint, kFail };

  explicit WarningCollector(Afterwards afterwards = Afterwards::kPrint)
      : afterwards_(afterwards) {
    StreamWriter::SetWarningHandler(
        [warnings = warnings_](absl::string_view message) {
          warnings->emplace_back(message);
        });
  }
  ~WarningCollector() {
    if (afterwards_ == Afterwards::kFail) {
      StreamWriter::SetWarningHandler([](absl::string_view message) {
        ADD_FAILURE() << "warning after the test: " << message;
      });
      return;
    }
    StreamWriter::SetWarningHandler([](absl::string_view message) {
      fprintf(stderr, "%.*s\n", static_cast<int>(message.size()),
              message.data());
    });
  }
  WarningCollector(const WarningCollector&) = delete;
  WarningCollector& operator=(const WarningCollector&) = delete;

  const std::vector<std::string>& warnings() const { return *warnings_; }

 private:
  Afterwards afterwards_;
  // Shared with the handler, which StreamWriter may keep (it is replaced,
  // not destroyed, by the next SetWarningHandler()).
  std::shared_ptr<std::vector<std::string>> warnings_ =
      std::make_shared<std::vector<std::string>>();
};

}  // namespace streams::testing

#endif  // STREAMS_TESTING_WARNINGS_H_
