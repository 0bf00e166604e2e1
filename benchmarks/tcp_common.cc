#include "benchmarks/tcp_common.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"

namespace benchmarks {
namespace {

// 99 printable bytes and "\n".
constexpr char kLineBytes[] =
    "0123456789012345678901234567890123456789"
    "0123456789012345678901234567890123456789"
    "0123456789012345678\n";
static_assert(sizeof(kLineBytes) - 1 == 100);

std::string Quote(absl::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace

const absl::string_view kLine(kLineBytes, sizeof(kLineBytes) - 1);

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  bool connections_given = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    const auto bad = [&] {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad argument '", arg,
          "'; usage: --role=server|client --case=pingpong|pingpong100|bulk|"
          "idle --port=N [--duration=S] [--count=N] [--bytes=N] "
          "[--connections=N] [--timeout=S] [--read_kib=N]"));
    };
    absl::string_view value;
    const auto flag = [&](absl::string_view name) {
      absl::string_view rest = arg;
      if (!absl::ConsumePrefix(&rest, name) ||
          !absl::ConsumePrefix(&rest, "=")) {
        return false;
      }
      value = rest;
      return true;
    };
    if (flag("--role")) {
      if (value == "server") {
        flags.role = Role::kServer;
      } else if (value == "client") {
        flags.role = Role::kClient;
      } else {
        return bad();
      }
    } else if (flag("--case")) {
      flags.case_name = std::string(value);
      if (value == "pingpong") {
        flags.bench_case = Case::kPingPong;
      } else if (value == "pingpong100") {
        flags.bench_case = Case::kPingPong100;
      } else if (value == "bulk") {
        flags.bench_case = Case::kBulk;
      } else if (value == "idle") {
        flags.bench_case = Case::kIdle;
      } else {
        return bad();
      }
    } else if (flag("--port")) {
      uint32_t port = 0;
      if (!absl::SimpleAtoi(value, &port) || port > 65535) return bad();
      flags.port = static_cast<uint16_t>(port);
    } else if (flag("--duration")) {
      if (!absl::SimpleAtod(value, &flags.duration_s) || flags.duration_s <= 0)
        return bad();
    } else if (flag("--count")) {
      if (!absl::SimpleAtoi(value, &flags.count) || flags.count <= 0)
        return bad();
    } else if (flag("--bytes")) {
      if (!absl::SimpleAtoi(value, &flags.bytes) || flags.bytes <= 0)
        return bad();
    } else if (flag("--connections")) {
      if (!absl::SimpleAtoi(value, &flags.connections) ||
          flags.connections <= 0)
        return bad();
      connections_given = true;
    } else if (flag("--read_kib")) {
      int64_t kib = 0;
      if (!absl::SimpleAtoi(value, &kib) || kib <= 0) return bad();
      flags.read_bytes = kib * 1024;
    } else if (flag("--timeout")) {
      if (!absl::SimpleAtod(value, &flags.timeout_s) || flags.timeout_s <= 0)
        return bad();
    } else {
      return bad();
    }
  }
  if (!connections_given) {
    switch (flags.bench_case) {
      case Case::kPingPong100:
        flags.connections = 100;
        break;
      case Case::kIdle:
        flags.connections = 1000;
        break;
      default:
        flags.connections = 1;
    }
  }
  return flags;
}

std::chrono::steady_clock::duration Seconds(double seconds) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec * 1e-6 +
         usage.ru_stime.tv_sec + usage.ru_stime.tv_usec * 1e-6;
}

double WallSeconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t MaxRssKib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // Linux: KiB.
}

namespace {

// A "Name:   123 kB" field of /proc/self/status; -1 if missing.
int64_t ProcStatusKib(absl::string_view name) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, name) && absl::ConsumePrefix(&rest, ":")) {
      rest = absl::StripAsciiWhitespace(rest);
      absl::ConsumeSuffix(&rest, "kB");
      int64_t kib = -1;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &kib)) return kib;
    }
  }
  return -1;
}

}  // namespace

int64_t VmHwmKib() { return ProcStatusKib("VmHWM"); }

int64_t VmRssKib() { return ProcStatusKib("VmRSS"); }

void RaiseNofileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

absl::Status SetNoDelay(int fd) {
  const int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    return absl::InternalError(
        absl::StrCat("setsockopt(TCP_NODELAY): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

JsonLine& JsonLine::Add(absl::string_view key, absl::string_view value) {
  fields_.emplace_back(std::string(key), Quote(value));
  return *this;
}

JsonLine& JsonLine::Add(absl::string_view key, double value) {
  fields_.emplace_back(std::string(key), absl::StrFormat("%.9g", value));
  return *this;
}

JsonLine& JsonLine::Add(absl::string_view key, int64_t value) {
  fields_.emplace_back(std::string(key), absl::StrCat(value));
  return *this;
}

void JsonLine::Print() const {
  const std::string line =
      absl::StrCat("{",
                   absl::StrJoin(fields_, ", ",
                                 [](std::string* out, const auto& field) {
                                   absl::StrAppend(out, Quote(field.first),
                                                   ": ", field.second);
                                 }),
                   "}\n");
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

namespace {

// Work, time and what they make per operation: a round trip (ping-pong) or
// a MB of 10^6 bytes (bulk).
JsonLine& AddWork(JsonLine& line, const Flags& flags, int64_t ops,
                  int64_t bytes, double cpu_s, double wall_s) {
  line.Add("ops", ops)
      .Add("bytes", bytes)
      .Add("cpu_s", cpu_s)
      .Add("wall_s", wall_s);
  const bool bulk = flags.bench_case == Case::kBulk;
  const double units = bulk ? bytes / 1e6 : static_cast<double>(ops);
  if (units > 0 && wall_s > 0) {
    line.Add(bulk ? "mb_per_s" : "rt_per_s", units / wall_s)
        .Add(bulk ? "cpu_us_per_mb" : "cpu_us_per_rt", cpu_s / units * 1e6);
  }
  return line;
}

}  // namespace

JsonLine Result(absl::string_view implementation, const Flags& flags) {
  JsonLine line;
  line.Add("impl", implementation)
      .Add("role", flags.role == Role::kServer ? "server" : "client")
      .Add("case", flags.case_name)
      .Add("connections", flags.connections);
  return line;
}

void PrintListening(uint16_t port) {
  JsonLine().Add("event", "listening").Add("port", int64_t{port}).Print();
}

void ServerStats::Accepted() {
  if (accepted_++ == 0) {
    cpu_start_ = CpuSeconds();
    wall_start_ = WallSeconds();
  }
}

bool ServerStats::Finished() {
  if (++finished_ < flags_.connections) return false;
  cpu_end_ = CpuSeconds();
  wall_end_ = WallSeconds();
  return true;
}

void ServerStats::Print(absl::string_view implementation) const {
  JsonLine line = Result(implementation, flags_);
  AddWork(line, flags_, ops_, bytes_, cpu_end_ - cpu_start_,
          wall_end_ - wall_start_)
      .Add("peak_rss_kib", VmHwmKib())
      .Add("maxrss_kib", MaxRssKib())
      .Add("ok", int64_t{1})
      .Print();
}

void PrintIdle(absl::string_view implementation, const Flags& flags,
               int64_t rss_before_kib, int64_t rss_after_kib, int accepted) {
  Result(implementation, flags)
      .Add("accepted", accepted)
      .Add("rss_before_kib", rss_before_kib)
      .Add("rss_after_kib", rss_after_kib)
      .Add("peak_rss_kib", VmHwmKib())
      .Add("maxrss_kib", MaxRssKib())
      .Add("ok", int64_t{accepted == flags.connections ? 1 : 0})
      .Print();
}

void ClientStats::Start() {
  cpu_start_ = CpuSeconds();
  wall_start_ = WallSeconds();
}

void ClientStats::Stop() {
  cpu_end_ = CpuSeconds();
  wall_end_ = WallSeconds();
}

void ClientStats::Print(absl::string_view implementation, int64_t ops,
                        int64_t bytes, const absl::Status& status) const {
  JsonLine line = Result(implementation, flags_);
  AddWork(line, flags_, ops, bytes, cpu_end_ - cpu_start_,
          wall_end_ - wall_start_)
      .Add("peak_rss_kib", VmHwmKib())
      .Add("maxrss_kib", MaxRssKib())
      .Add("ok", int64_t{status.ok() ? 1 : 0})
      .Add("error", status.ok() ? "" : status.ToString())
      .Print();
}

void ClientState::Fail(absl::Status error) {
  if (status.ok()) status = std::move(error);
  stop = true;
}

void ClientState::Start(int connections) {
  running = connections;
  stats.Start();
  stop_timer.expires_after(Seconds(flags.duration_s));
  stop_timer.async_wait([this](boost::system::error_code error) {
    if (error) return;
    stop = true;
    if (flags.bench_case == Case::kIdle) {
      stats.Stop();
      context.stop();
    }
  });
}

void ClientState::ConnectionDone() {
  if (--running > 0) return;
  stats.Stop();
  context.stop();
}

int RunClient(
    absl::string_view implementation, const Flags& flags,
    std::function<boost::asio::awaitable<void>(ClientState*)> connect) {
  boost::asio::io_context context(1);
  ClientState state(flags, context);
  boost::asio::steady_timer deadline(context, Seconds(flags.timeout_s));
  deadline.async_wait([&state](boost::system::error_code error) {
    if (error) return;
    state.Fail(absl::DeadlineExceededError("client timed out"));
    state.stats.Stop();
    state.context.stop();
  });
  boost::asio::co_spawn(context, connect(&state), boost::asio::detached);
  context.run();
  state.stats.Print(implementation, state.ops, state.bytes, state.status);
  return state.status.ok() ? 0 : 1;
}

}  // namespace benchmarks
