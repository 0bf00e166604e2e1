// -----------------------------------------------------------------------------
// File: version.h
// -----------------------------------------------------------------------------
//
// The release of asyncio_streams this header belongs to, as in the top-level
// VERSION file (streams:version_test keeps the two equal, so a release archive
// and the code inside it cannot disagree). MODULE.bazel and CMakeLists.txt
// carry the same version.
//
// Example:
//
//   std::cout << "asyncio_streams " << streams::kVersion << "\n";

#ifndef STREAMS_VERSION_H_
#define STREAMS_VERSION_H_

#include "absl/strings/string_view.h"

namespace streams {

// kVersion
//
// "MAJOR.MINOR.PATCH" (semantic versioning), with no suffix or newline.
inline constexpr absl::string_view kVersion = "0.2.0";

}  // namespace streams

#endif  // STREAMS_VERSION_H_
