// -----------------------------------------------------------------------------
// File: conformance/interop/interop_common.h
// -----------------------------------------------------------------------------
//
// What interop_client.cc and interop_server.cc share: flags, the cases'
// bounds and data, SHA-256, TLS contexts, and how a failure is named
// ("<place>:<ErrorClass>", or "assert:<what>"). The Python programs share
// the same through interop_common.py; conformance/INTEROP.md is the spec.

#ifndef CONFORMANCE_INTEROP_INTEROP_COMMON_H_
#define CONFORMANCE_INTEROP_INTEROP_COMMON_H_

#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "boost/asio/ssl/context.hpp"

namespace streams::interop {

// The command line: --test_case, --transport, --host, --port, --path,
// --tls_dir (INTEROP.md, "Programs").
struct Flags {
  std::string test_case;
  std::string transport;  // "tcp", "unix" or "tls"
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string path;
  std::string tls_dir = "testdata/tls";

  bool tls() const { return transport == "tls"; }
  bool unix_socket() const { return transport == "unix"; }
};

// Parses argv; on a bad command line prints why and exits 2.
Flags ParseFlags(int argc, char** argv, absl::string_view usage);

// The case's time bound (INTEROP.md); every case name is known.
std::chrono::seconds CaseBound(absl::string_view test_case);

// How long a server waits for its connections after SIGTERM.
inline constexpr std::chrono::seconds kShutdownGrace{10};

// A failure: an error at a place ("drain:ConnectionResetError") or a failed
// assert ("assert:echo"), with what happened.
class Failure : public std::exception {
 public:
  Failure(std::string key, std::string detail);
  const std::string& key() const { return key_; }
  const std::string& detail() const { return detail_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string key_;
  std::string detail_;
  std::string message_;
};

// Throws Failure("assert:<what>", detail) unless `condition`.
void Check(bool condition, absl::string_view what, const std::string& detail);

// Throws Failure("<place>:<PythonTypeName>") for an error status.
void At(absl::string_view place, const absl::Status& status);
template <typename T>
T At(absl::string_view place, absl::StatusOr<T> result) {
  At(place, result.status());
  return *std::move(result);
}

// `status` must be the RuntimeError asyncio raises for a write after
// write_eof(); throws Failure("assert:<place>") otherwise.
void ExpectWriteAfterEof(absl::string_view place, const absl::Status& status);

// The Failure an exception stands for (a Failure, or "unknown:<what()>").
Failure AsFailure(std::exception_ptr error);

// Python's repr() of bytes, shortened, for failure details.
std::string Repr(absl::string_view bytes, size_t most = 40);

// RLIMIT_NOFILE's soft limit up to its hard limit.
void RaiseFileLimit();

// -- TLS (testdata/tls) ----------------------------------------------------

boost::asio::ssl::context ServerTlsContext(const Flags& flags);
boost::asio::ssl::context ClientTlsContext(const Flags& flags);

// -- SHA-256 (OpenSSL) -------------------------------------------------------

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(absl::string_view data);
  std::string HexDigest();  // once

 private:
  void* context_;  // EVP_MD_CTX
};

std::string Sha256Hex(absl::string_view data);

// -- The cases' data (the same as interop_common.py) -----------------------

inline constexpr int kEchoLines = 1000;
std::string EchoLine(int i);

inline constexpr size_t kPayloadChunk = 256 * 1024;
inline constexpr int kPayloadChunks = 256;  // 64 MiB
// A random block of kPayloadChunk bytes; chunk k is k (8 bytes big-endian)
// then block[8:].
std::string RandomBlock();
void SetChunkNumber(std::string& chunk, uint64_t k);

std::vector<std::string> HalfCloseChunks();
std::string HalfCloseAnswer(absl::string_view request);

inline constexpr int64_t kLimit = 1024;
inline constexpr absl::string_view kLimitFound =
    "Separator is found, but chunk is longer than limit";
inline constexpr absl::string_view kLimitNotFound =
    "Separator is not found, and chunk exceed the limit";
std::string LimitReport(absl::string_view line);
struct LimitStep {
  std::vector<std::string> pieces;
  std::string report;
};
std::vector<LimitStep> LimitSteps();

inline constexpr int kAbortLines = 100;
inline constexpr size_t kAbortFiller = 1 << 20;
inline constexpr size_t kStallChunk = 1 << 20;
inline constexpr int kStallChunks = 64;  // more than loopback's buffers hold
inline constexpr std::chrono::milliseconds kStallSleep{500};
inline constexpr int kUpgradeLines = 10;
inline constexpr int kManyConnections = 200;
inline constexpr int kManyLines = 10;
inline constexpr int kBurstConnections = 1000;

inline constexpr absl::string_view kWriteAfterEof =
    "Cannot call write() after write_eof()";

}  // namespace streams::interop

#endif  // CONFORMANCE_INTEROP_INTEROP_COMMON_H_
