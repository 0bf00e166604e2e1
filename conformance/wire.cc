#include "conformance/wire.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace streams::conformance {
namespace {

// Payloads are read in pieces of at most this size, so a prefix that claims
// more than the input holds costs what the input holds.
constexpr size_t kReadChunk = size_t{1} << 20;

size_t ReadUpTo(ReadFunction read, char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    const size_t got = read(data + done, size - done);
    if (got == 0) break;
    done += got;
  }
  return done;
}

}  // namespace

absl::StatusOr<std::optional<std::string>> ReadFrame(ReadFunction read) {
  unsigned char prefix[4];
  const size_t got = ReadUpTo(read, reinterpret_cast<char*>(prefix), 4);
  if (got == 0) return std::nullopt;
  if (got < 4) {
    return absl::DataLossError(
        absl::StrCat("truncated length prefix (", got, " of 4 bytes)"));
  }
  const uint32_t length = prefix[0] | (prefix[1] << 8) | (prefix[2] << 16) |
                          (static_cast<uint32_t>(prefix[3]) << 24);
  if (length > kMaxFrameBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("frame of ", length, " bytes exceeds the limit of ",
                     kMaxFrameBytes, " bytes"));
  }
  std::string payload;
  while (payload.size() < length) {
    const size_t start = payload.size();
    const size_t want = std::min<size_t>(kReadChunk, length - start);
    payload.resize(start + want);
    const size_t read_now = ReadUpTo(read, payload.data() + start, want);
    payload.resize(start + read_now);
    if (read_now < want) {
      return absl::DataLossError(absl::StrCat(
          "truncated frame (", payload.size(), " of ", length, " bytes)"));
    }
  }
  return std::optional<std::string>(std::move(payload));
}

absl::StatusOr<std::optional<std::string>> ReadFrame(std::FILE* stream) {
  return ReadFrame([stream](char* data, size_t size) {
    return std::fread(data, 1, size, stream);
  });
}

absl::Status WriteFrame(std::FILE* stream, absl::string_view payload) {
  if (payload.size() > kMaxFrameBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("frame of ", payload.size(),
                     " bytes exceeds the limit of ", kMaxFrameBytes, " bytes"));
  }
  const uint32_t size = payload.size();
  const unsigned char prefix[4] = {static_cast<unsigned char>(size),
                                   static_cast<unsigned char>(size >> 8),
                                   static_cast<unsigned char>(size >> 16),
                                   static_cast<unsigned char>(size >> 24)};
  if (std::fwrite(prefix, 1, 4, stream) != 4 ||
      std::fwrite(payload.data(), 1, payload.size(), stream) !=
          payload.size() ||
      std::fflush(stream) != 0) {
    return absl::DataLossError("cannot write a frame");
  }
  return absl::OkStatus();
}

absl::StatusOr<Request> DecodeRequest(absl::string_view frame) {
  Request request;
  if (!request.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    return absl::DataLossError("cannot parse the request");
  }
  if (absl::Status checked = CheckPayloads(request.scenario()); !checked.ok()) {
    return absl::Status(checked.code(),
                        absl::StrCat("invalid request: ", checked.message()));
  }
  return request;
}

absl::Status CheckPayloads(const Scenario& scenario) {
  int64_t total = 0;
  for (int step = 0; step < scenario.steps_size(); ++step) {
    const Step& actions = scenario.steps(step);
    for (int action = 0; action < actions.actions_size(); ++action) {
      for (const Bytes* bytes : PayloadsOf(actions.actions(action))) {
        absl::StatusOr<int64_t> size = ExpandedSize(*bytes);
        if (!size.ok()) {
          return absl::Status(
              size.status().code(),
              absl::StrCat("step ", step + 1, ", action ", action + 1, ": ",
                           size.status().message()));
        }
        // Each size is at most kMaxPayloadBytes: the sum cannot overflow
        // before it passes the limit.
        total += *size;
        if (total > kMaxRequestPayloadBytes) {
          return absl::ResourceExhaustedError(
              absl::StrCat("step ", step + 1, ", action ", action + 1,
                           ": the request's payloads expand to more than ",
                           kMaxRequestPayloadBytes, " bytes in all"));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ExpandedSize(const Bytes& bytes) {
  if (bytes.size() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Bytes.size is negative: ", bytes.size()));
  }
  if (bytes.size() > 0 && bytes.pattern().empty()) {
    return absl::InvalidArgumentError(
        "Bytes.size is set but Bytes.pattern is empty");
  }
  // In uint64_t: size (< 2^63) plus a data field (< 2^32) cannot overflow.
  const uint64_t size =
      static_cast<uint64_t>(bytes.size()) + bytes.data().size();
  if (size > static_cast<uint64_t>(kMaxPayloadBytes)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "Bytes expands to ", size, " bytes, more than the limit of ",
        kMaxPayloadBytes, " for one Bytes"));
  }
  return static_cast<int64_t>(size);
}

absl::StatusOr<std::string> Expand(const Bytes& bytes) {
  absl::StatusOr<int64_t> size = ExpandedSize(bytes);
  if (!size.ok()) return size.status();
  std::string out;
  out.reserve(*size);
  const size_t head = bytes.size();
  while (out.size() < head) {
    out.append(bytes.pattern(), 0,
               std::min(bytes.pattern().size(), head - out.size()));
  }
  out.append(bytes.data());
  return out;
}

std::vector<const Bytes*> PayloadsOf(const Action& action) {
  std::vector<const Bytes*> payloads;
  switch (action.action_case()) {
    case Action::kFeedData:
      payloads.push_back(&action.feed_data());
      break;
    case Action::kDataReceived:
      payloads.push_back(&action.data_received());
      break;
    case Action::kWrite:
      payloads.push_back(&action.write());
      break;
    case Action::kWritelines:
      for (const Bytes& line : action.writelines().lines()) {
        payloads.push_back(&line);
      }
      break;
    case Action::kTask:
      for (const Await& entry : action.task().awaits()) {
        if (entry.kind_case() == Await::kFeedData) {
          payloads.push_back(&entry.feed_data());
        }
      }
      break;
    default:
      break;
  }
  return payloads;
}

}  // namespace streams::conformance
