// -----------------------------------------------------------------------------
// File: conformance/wire.h
// -----------------------------------------------------------------------------
//
// The C++ testee's input, decoded without trusting it: length-prefixed frames
// on a byte stream (the wire protocol at the bottom of scenario.proto), each a
// serialized `Request`, and the `Bytes` payloads a request's actions carry.
// conformance/wire.py and conformance/payload.py are the same code in Python,
// with the same limits and the same messages, so both testees refuse the same
// input in the same words.
//
// Three limits keep a small input from costing a large amount of memory:
//
//   kMaxFrameBytes           one frame (a request or a response)
//   kMaxPayloadBytes         one `Bytes`, expanded (pattern * size + data)
//   kMaxRequestPayloadBytes  all the `Bytes` of one request, expanded
//
// Example (the testee's loop):
//
//   while (true) {
//     absl::StatusOr<std::optional<std::string>> frame = ReadFrame(stdin);
//     if (!frame.ok()) return Fail(frame.status());  // truncated, too long
//     if (!frame->has_value()) return 0;              // clean EOF
//     absl::StatusOr<Request> request = DecodeRequest(**frame);
//     ...
//   }

#ifndef CONFORMANCE_WIRE_H_
#define CONFORMANCE_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "conformance/scenario.pb.h"

namespace streams::conformance {

// The largest frame either side sends or accepts. The largest scenario of the
// corpus is a few KiB; 64 MiB leaves room for recorded 64 KiB payloads while a
// forged length prefix (ff ff ff ff) cannot make a testee allocate 4 GiB.
inline constexpr uint32_t kMaxFrameBytes = uint32_t{64} << 20;

// The most bytes one `Bytes` message may expand to (size + len(data)): a
// 30-byte request could otherwise ask for gigabytes.
inline constexpr int64_t kMaxPayloadBytes = int64_t{64} << 20;

// The most bytes all the `Bytes` of one request may expand to, in all.
inline constexpr int64_t kMaxRequestPayloadBytes = int64_t{256} << 20;

// Reads up to `size` bytes into `data` and returns how many it read; fewer
// than `size` only at the end of the input.
using ReadFunction = absl::FunctionRef<size_t(char* data, size_t size)>;

// ReadFrame()
//
// Reads one frame: its payload, or nullopt at a clean end of input (before
// the first byte of a length prefix). Errors: kDataLoss "truncated length
// prefix (2 of 4 bytes)" / "truncated frame (3 of 5 bytes)" when the input
// ends inside a frame; kResourceExhausted "frame of N bytes exceeds the limit
// of 67108864 bytes" (nothing of the payload is read). Memory grows with the
// bytes actually read, never with what the prefix claims.
absl::StatusOr<std::optional<std::string>> ReadFrame(ReadFunction read);
absl::StatusOr<std::optional<std::string>> ReadFrame(std::FILE* stream);

// WriteFrame()
//
// Writes the length prefix and `payload`, then flushes. kResourceExhausted
// (and nothing written) above kMaxFrameBytes; kDataLoss if the write fails.
absl::Status WriteFrame(std::FILE* stream, absl::string_view payload);

// DecodeRequest()
//
// Parses a frame into a Request and checks its payloads (CheckPayloads()).
// Errors: kDataLoss "cannot parse the request"; CheckPayloads()'s error,
// prefixed with "invalid request: ".
absl::StatusOr<Request> DecodeRequest(absl::string_view frame);

// CheckPayloads()
//
// Checks every `Bytes` the scenario's actions carry (PayloadsOf()), in order:
// ExpandedSize() of each, and their sum against kMaxRequestPayloadBytes.
// The first failure names where it is: "step 2, action 1: Bytes.size is
// negative: -1"; kInvalidArgument or kResourceExhausted.
absl::Status CheckPayloads(const Scenario& scenario);

// ExpandedSize()
//
// How many bytes `bytes` stands for: size + len(data). Errors:
// kInvalidArgument "Bytes.size is negative: -1" / "Bytes.size is set but
// Bytes.pattern is empty"; kResourceExhausted "Bytes expands to N bytes, more
// than the limit of 67108864 for one Bytes".
absl::StatusOr<int64_t> ExpandedSize(const Bytes& bytes);

// Expand()
//
// The bytes `bytes` stands for: `pattern` repeated and cut to `size`, then
// `data`; ExpandedSize()'s errors.
absl::StatusOr<std::string> Expand(const Bytes& bytes);

// PayloadsOf()
//
// The `Bytes` messages an action carries: feed_data, data_received, write,
// the lines of writelines, and the feed_data entries of a task.
std::vector<const Bytes*> PayloadsOf(const Action& action);

}  // namespace streams::conformance

#endif  // CONFORMANCE_WIRE_H_
