// streams::kVersion must equal the top-level VERSION file: release.sh names
// archives after VERSION, while users' code sees kVersion.

#include "streams/version.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "gtest/gtest.h"

namespace streams {
namespace {

TEST(VersionTest, MatchesVersionFile) {
  // Bazel runs tests from the runfiles root; CTest from the source root.
  std::ifstream file("VERSION");
  ASSERT_TRUE(file.is_open()) << "VERSION not found in the working directory";
  std::stringstream contents;
  contents << file.rdbuf();
  EXPECT_EQ(kVersion, absl::StripAsciiWhitespace(contents.str()));
}

}  // namespace
}  // namespace streams
