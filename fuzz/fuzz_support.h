// -----------------------------------------------------------------------------
// File: fuzz/fuzz_support.h
// -----------------------------------------------------------------------------
//
// What every fuzz target of this directory shares: `FuzzInput`, the fuzzer's
// bytes read one at a time (0 once they run out, so every input is a valid
// program), and `FUZZ_CHECK`, an invariant that aborts with a message when it
// fails. An abort is what both the libFuzzer build and the replay test report
// as a failure; a message on stderr says which invariant broke. With
// FUZZ_TRACE=1 in the environment, a target also prints what it does, step by
// step (`FuzzTrace()`), to read a crash input:
//
//   FUZZ_TRACE=1 bazel-bin/fuzz/reader_fuzz crash-1234
//
// Example:
//
//   FuzzInput input(data, size);
//   const int64_t limit = 1 + input.Byte() % 64;
//   ...
//   FUZZ_CHECK(buffered <= fed, "the buffer holds bytes nobody fed");

#ifndef FUZZ_FUZZ_SUPPORT_H_
#define FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"

namespace streams::fuzz {

// FuzzInput
//
// The fuzzer's bytes, consumed from the front. fuzz/reader_program.py reads
// reader_fuzz's inputs the same way, so it can turn them into scenarios.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return position_ >= size_; }

  // The next byte; 0 once the input is used up.
  uint8_t Byte() { return empty() ? 0 : data_[position_++]; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t position_ = 0;
};

// Whether FUZZ_TRACE is set (read once).
inline bool FuzzTracing() {
  static const bool tracing = std::getenv("FUZZ_TRACE") != nullptr;
  return tracing;
}

// Prints `line` on stderr when tracing.
inline void FuzzTrace(absl::string_view line) {
  if (FuzzTracing()) {
    std::fprintf(stderr, "  %.*s\n", static_cast<int>(line.size()),
                 line.data());
  }
}

// Prints the broken invariant and aborts (never returns).
[[noreturn]] inline void FuzzFail(const char* file, int line,
                                  const char* condition, const char* message) {
  std::fprintf(stderr, "%s:%d: invariant violated: %s\n  (%s)\n", file, line,
               message, condition);
  std::fflush(stderr);
  std::abort();
}

}  // namespace streams::fuzz

// FUZZ_CHECK()
//
// Aborts with `message` unless `condition` holds. Always on: fuzz targets are
// built without NDEBUG-style switches, and an invariant is the point.
#define FUZZ_CHECK(condition, message)                                    \
  do {                                                                    \
    if (!(condition)) {                                                   \
      ::streams::fuzz::FuzzFail(__FILE__, __LINE__, #condition, message); \
    }                                                                     \
  } while (false)

#endif  // FUZZ_FUZZ_SUPPORT_H_
