#include "streams/stream_reader.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "streams/errors.h"

namespace streams {

StreamReader::StreamReader(const executor_type& executor)
    : core_(std::make_shared<internal::ReaderCore>(executor, kDefaultLimit)) {}

absl::StatusOr<StreamReader> StreamReader::Create(const executor_type& executor,
                                                  int64_t limit) {
  if (limit <= 0) return ValueError("Limit cannot be <= 0");
  return StreamReader(std::make_shared<internal::ReaderCore>(executor, limit));
}

absl::StatusOr<StreamReader> StreamReader::Create(
    const executor_type& executor, const ReaderOptions& options) {
  if (options.limit <= 0) return ValueError("Limit cannot be <= 0");
  internal::ReaderModes modes;
  modes.overlong = static_cast<internal::OverlongMode>(options.overlong_line);
  modes.cancel_safe_read_all = options.cancel_safe_read_all;
  return StreamReader(
      std::make_shared<internal::ReaderCore>(executor, options.limit, modes));
}

std::string StreamReader::DebugString() const {
  // asyncio's StreamReader.__repr__, field for field.
  std::vector<std::string> info = {"StreamReader"};
  if (buffer_size() > 0) info.push_back(absl::StrCat(buffer_size(), " bytes"));
  if (core_->eof()) info.push_back("eof");
  if (limit() != kDefaultLimit) info.push_back(absl::StrCat("limit=", limit()));
  if (core_->has_waiter()) info.push_back("waiter=<pending read>");
  if (!exception().ok()) {
    info.push_back(absl::StrCat("exception=", PythonTypeName(exception()), "(",
                                exception().message().empty() ? "" : "'",
                                exception().message(),
                                exception().message().empty() ? "" : "'", ")"));
  }
  if (core_->has_transport()) info.push_back("transport=<Transport>");
  if (transport_paused()) info.push_back("paused");
  return absl::StrCat("<", absl::StrJoin(info, " "), ">");
}

}  // namespace streams
