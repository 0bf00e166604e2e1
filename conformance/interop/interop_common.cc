#include "conformance/interop/interop_common.h"

#include <openssl/evp.h>
#include <sys/resource.h>

#include <cstdlib>
#include <iostream>
#include <random>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "streams/errors.h"
#include "streams/net/tls.h"

namespace streams::interop {

namespace {

const std::map<std::string, std::chrono::seconds>& Bounds() {
  using std::chrono::seconds;
  static const auto* bounds = new std::map<std::string, seconds>{
      {"echo_lines", seconds(30)},
      {"large_payload", seconds(60)},
      {"half_close", seconds(30)},
      {"limit_overrun", seconds(30)},
      {"client_abort", seconds(30)},
      {"server_close_during_drain", seconds(30)},
      {"write_after_eof", seconds(30)},
      {"start_tls_upgrade", seconds(30)},
      {"many_connections", seconds(60)},
      {"burst_connect", seconds(60)},
  };
  return *bounds;
}

[[noreturn]] void Usage(absl::string_view usage, absl::string_view problem) {
  std::cerr << problem << "\n" << usage << "\n";
  std::exit(2);
}

}  // namespace

Flags ParseFlags(int argc, char** argv, absl::string_view usage) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    const size_t equals = arg.find('=');
    if (arg.substr(0, 2) != "--" || equals == absl::string_view::npos) {
      Usage(usage, absl::StrCat("bad argument: ", arg));
    }
    const absl::string_view name = arg.substr(2, equals - 2);
    const std::string value(arg.substr(equals + 1));
    if (name == "test_case") {
      flags.test_case = value;
    } else if (name == "transport") {
      flags.transport = value;
    } else if (name == "host") {
      flags.host = value;
    } else if (name == "port") {
      uint32_t port = 0;
      if (!absl::SimpleAtoi(value, &port) || port > 65535) {
        Usage(usage, absl::StrCat("bad --port: ", value));
      }
      flags.port = static_cast<uint16_t>(port);
    } else if (name == "path") {
      flags.path = value;
    } else if (name == "tls_dir") {
      flags.tls_dir = value;
    } else {
      Usage(usage, absl::StrCat("unknown flag --", name));
    }
  }
  if (!Bounds().contains(flags.test_case)) {
    Usage(usage, absl::StrCat("unknown --test_case=", flags.test_case));
  }
  if (flags.transport != "tcp" && flags.transport != "unix" &&
      flags.transport != "tls") {
    Usage(usage, absl::StrCat("--transport must be tcp, unix or tls, not '",
                              flags.transport, "'"));
  }
  if (flags.unix_socket() && flags.path.empty()) {
    Usage(usage, "--transport=unix needs --path");
  }
  return flags;
}

std::chrono::seconds CaseBound(absl::string_view test_case) {
  return Bounds().at(std::string(test_case));
}

Failure::Failure(std::string key, std::string detail)
    : key_(std::move(key)),
      detail_(std::move(detail)),
      message_(absl::StrCat(key_, ": ", detail_)) {}

void Check(bool condition, absl::string_view what, const std::string& detail) {
  if (!condition) throw Failure(absl::StrCat("assert:", what), detail);
}

void At(absl::string_view place, const absl::Status& status) {
  if (status.ok()) return;
  throw Failure(absl::StrCat(place, ":", PythonTypeName(status)),
                PythonString(status));
}

void ExpectWriteAfterEof(absl::string_view place, const absl::Status& status) {
  Check(status.code() == absl::StatusCode::kFailedPrecondition &&
            GetErrorKind(status) == ErrorKind::kRuntimeError &&
            status.message() == kWriteAfterEof,
        place,
        absl::StrCat("returned ", PythonString(status),
                     ", expected RuntimeError: ", kWriteAfterEof));
}

Failure AsFailure(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const Failure& failure) {
    return failure;
  } catch (const std::exception& e) {
    return Failure("unknown:Exception", e.what());
  } catch (...) {
    return Failure("unknown:Exception", "a non-standard exception");
  }
}

std::string Repr(absl::string_view bytes, size_t most) {
  std::string out = "b'";
  for (char c : bytes.substr(0, most)) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\'' || c == '\\') {
      absl::StrAppend(&out, "\\", std::string(1, c));
    } else if (c < 0x20 || c > 0x7e) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  out += "'";
  if (bytes.size() > most) absl::StrAppend(&out, "... (", bytes.size(), ")");
  return out;
}

void RaiseFileLimit() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

boost::asio::ssl::context ServerTlsContext(const Flags& flags) {
  boost::asio::ssl::context context(boost::asio::ssl::context::tls_server);
  context.use_certificate_chain_file(flags.tls_dir + "/server.pem");
  context.use_private_key_file(flags.tls_dir + "/server.key",
                               boost::asio::ssl::context::pem);
  return context;
}

boost::asio::ssl::context ClientTlsContext(const Flags& flags) {
  boost::asio::ssl::context context = net::MakeClientTlsContext();
  context.load_verify_file(flags.tls_dir + "/ca.pem");
  return context;
}

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(context_), EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(context_)); }

void Sha256::Update(absl::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(context_), data.data(),
                   data.size());
}

std::string Sha256::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(context_), digest, &size);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    absl::StrAppendFormat(&hex, "%02x", digest[i]);
  }
  return hex;
}

std::string Sha256Hex(absl::string_view data) {
  Sha256 sha;
  sha.Update(data);
  return sha.HexDigest();
}

std::string EchoLine(int i) {
  const size_t size = i % 100 == 99 ? 60000 : (i * 7919) % 4096;
  std::string line = absl::StrFormat("%04d:", i);
  line.reserve(line.size() + size + 1);
  for (size_t j = 0; j < size; ++j) {
    line.push_back(static_cast<char>('a' + (i + j) % 26));
  }
  line.push_back('\n');
  return line;
}

std::string RandomBlock() {
  std::random_device seed;
  std::mt19937_64 random(seed());
  std::string block(kPayloadChunk, '\0');
  for (size_t i = 0; i + 8 <= block.size(); i += 8) {
    const uint64_t value = random();
    for (int b = 0; b < 8; ++b)
      block[i + b] = static_cast<char>(value >> (8 * b));
  }
  return block;
}

void SetChunkNumber(std::string& chunk, uint64_t k) {
  for (int b = 0; b < 8; ++b) {
    chunk[b] = static_cast<char>(k >> (8 * (7 - b)));
  }
}

std::vector<std::string> HalfCloseChunks() {
  std::vector<std::string> chunks;
  for (int k = 0; k < 16; ++k) chunks.emplace_back(65536, char(0x41 + k));
  return chunks;
}

std::string HalfCloseAnswer(absl::string_view request) {
  return absl::StrCat("received ", request.size(), " sha256 ",
                      Sha256Hex(request), "\n");
}

std::string LimitReport(absl::string_view line) {
  return absl::StrCat("line ", line.size(), " ", Sha256Hex(line).substr(0, 16),
                      "\n");
}

std::vector<LimitStep> LimitSteps() {
  const std::string error = "error ValueError\n";
  const std::string long_line = std::string(102400, 'c') + "\n";
  std::vector<std::string> long_pieces;
  for (size_t i = 0; i < long_line.size(); i += 1024) {
    long_pieces.push_back(long_line.substr(i, 1024));
  }
  std::vector<LimitStep> steps = {
      {{"hello\n"}, ""},
      {{std::string(kLimit, 'a') + "\n"}, ""},
      {{std::string(kLimit + 1, 'b') + "\n"}, error},
      {{"after-3\n"}, ""},
      {long_pieces, error},
      {{"after-5\n"}, ""},
      {{std::string(5000, 'd') + "\n"}, error},
      {{"after-7\n"}, ""},
  };
  for (LimitStep& step : steps) {
    if (step.report.empty()) {
      std::string line;
      for (const std::string& piece : step.pieces) line += piece;
      step.report = LimitReport(line);
    }
  }
  return steps;
}

}  // namespace streams::interop
