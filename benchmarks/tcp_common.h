// -----------------------------------------------------------------------------
// File: benchmarks/tcp_common.h
// -----------------------------------------------------------------------------
//
// What the loopback TCP benchmark programs share (tcp_streams.cc, tcp_asio.cc;
// tcp_asyncio.py mirrors it): the command line, the cases, the process
// measurements, the one-line JSON results and the client's bookkeeping.
// Nothing here reads or writes a socket (setsockopt aside), so each program
// measures only its own I/O.
//
// Command line (every program):
//
//   --role=server|client --case=pingpong|pingpong100|bulk|idle --port=N
//   [--duration=SECONDS] [--count=N] [--bytes=N] [--connections=N]
//   [--timeout=SECONDS]
//
// Cases:
//   pingpong     1 connection: the client writes a 100-byte line, drains,
//                reads the echoed line; the server echoes each line.
//   pingpong100  the same on 100 concurrent connections (--connections).
//   bulk         the client writes --bytes (256 MiB) in 64 KiB writes, each
//                followed by a drain, then half-closes; the server reads
//                64 KiB at a time until EOF, then closes.
//   idle         the client opens 1,000 connections (--connections) and sends
//                nothing; once all are accepted the server reports its RSS
//                before and after, then exits.
//
// The client stops at --count round trips or after --duration seconds,
// whichever comes first; every wait is also bounded by --timeout. The server
// serves --connections connections (the case's default) and then prints its
// result: port 0 picks a free port, printed first as
// {"event": "listening", "port": N}.

#ifndef BENCHMARKS_TCP_COMMON_H_
#define BENCHMARKS_TCP_COMMON_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"

namespace benchmarks {

enum class Role { kServer, kClient };
enum class Case { kPingPong, kPingPong100, kBulk, kIdle };

struct Flags {
  Role role = Role::kServer;
  Case bench_case = Case::kPingPong;
  std::string case_name = "pingpong";
  uint16_t port = 0;
  double duration_s = 2.0;
  int64_t count = 10'000'000;
  int64_t bytes = 256LL * 1024 * 1024;
  int connections = 1;  // The case's default unless given.
  double timeout_s = 120.0;
  // Server: bytes asked of the socket per receive; 0: the implementation's
  // default (raw Asio here: the 64 KiB bulk chunk; //streams and asyncio:
  // asyncio's 256 KiB max_size).
  int64_t read_bytes = 0;
};

// ParseFlags()
//
// The flags above; kInvalidArgument naming the bad argument.
absl::StatusOr<Flags> ParseFlags(int argc, char** argv);

// The ping-pong payload: 99 bytes and "\n".
extern const absl::string_view kLine;
// Bytes per bulk write, and per server read.
inline constexpr size_t kBulkChunk = 64 * 1024;
// The servers' read limit (asyncio's default limit).
inline constexpr size_t kLimit = 64 * 1024;

// `seconds` as a steady_clock duration (for timers).
std::chrono::steady_clock::duration Seconds(double seconds);

// This process's user + system CPU seconds (getrusage RUSAGE_SELF).
double CpuSeconds();
// Seconds on a monotonic clock.
double WallSeconds();
// ru_maxrss, KiB. Not this program's own peak: Linux keeps, across execve(),
// the peak RSS of the process that forked it (a Python driver's ~16 MiB), so
// a small server reports its launcher's size. Printed for reference only.
int64_t MaxRssKib();
// This program's peak resident set size, KiB (VmHWM in /proc/self/status:
// the high-water mark of its own address space, which starts at exec).
int64_t VmHwmKib();
// Current resident set size, KiB (VmRSS in /proc/self/status); -1 if unknown.
int64_t VmRssKib();
// Raises RLIMIT_NOFILE's soft limit to the hard limit (1,000 connections
// need more descriptors than the usual 1,024).
void RaiseNofileLimit();
// Sets TCP_NODELAY on a socket descriptor (ping-pong sends small lines).
absl::Status SetNoDelay(int fd);

// A flat JSON object printed as one line on stdout, then flushed.
class JsonLine {
 public:
  JsonLine& Add(absl::string_view key, absl::string_view value);
  JsonLine& Add(absl::string_view key, const char* value) {
    return Add(key, absl::string_view(value));
  }
  JsonLine& Add(absl::string_view key, double value);
  JsonLine& Add(absl::string_view key, int64_t value);
  JsonLine& Add(absl::string_view key, int value) {
    return Add(key, static_cast<int64_t>(value));
  }
  void Print() const;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// The start of a result line: implementation, role, case.
JsonLine Result(absl::string_view implementation, const Flags& flags);

// Prints {"event": "listening", "port": N}.
void PrintListening(uint16_t port);

// Measures a server's CPU, wall time and work from its first connection to
// its last.
class ServerStats {
 public:
  explicit ServerStats(const Flags& flags) : flags_(flags) {}

  // A connection was accepted; the first starts the clocks.
  void Accepted();
  // A connection ended; true when it was the last one expected.
  bool Finished();
  void Count(int64_t ops, int64_t bytes) {
    ops_ += ops;
    bytes_ += bytes;
  }
  int accepted() const { return accepted_; }
  bool all_accepted() const { return accepted_ >= flags_.connections; }

  // The result line: ops, bytes, cpu_s, wall_s, rt_per_s and cpu_us_per_rt
  // (bulk: mb_per_s, cpu_us_per_mb), peak_rss_kib, maxrss_kib.
  void Print(absl::string_view implementation) const;

 private:
  const Flags& flags_;
  int accepted_ = 0;
  int finished_ = 0;
  int64_t ops_ = 0;
  int64_t bytes_ = 0;
  double cpu_start_ = 0;
  double wall_start_ = 0;
  double cpu_end_ = 0;
  double wall_end_ = 0;
};

// The idle case's result line: RSS before and after the connections.
void PrintIdle(absl::string_view implementation, const Flags& flags,
               int64_t rss_before_kib, int64_t rss_after_kib, int accepted);

// Measures a client from its start (after connecting) to its end.
class ClientStats {
 public:
  explicit ClientStats(const Flags& flags) : flags_(flags) {}
  void Start();
  void Stop();
  // The result line: as ServerStats::Print()'s, with ok and error.
  void Print(absl::string_view implementation, int64_t ops, int64_t bytes,
             const absl::Status& status) const;

 private:
  const Flags& flags_;
  double cpu_start_ = 0;
  double wall_start_ = 0;
  double cpu_end_ = 0;
  double wall_end_ = 0;
};

// What a client's connections share, on one single-threaded io_context.
struct ClientState {
  ClientState(const Flags& flags, boost::asio::io_context& context)
      : flags(flags), stats(flags), context(context), stop_timer(context) {}

  // Records the first error and stops every connection's loop.
  void Fail(absl::Status error);
  // Once `connections` are open: starts the clocks, and sets `stop` after
  // --duration (idle connections wait on the server only: then it ends
  // the run).
  void Start(int connections);
  // A connection is done; the last one stops the clocks and the io_context.
  void ConnectionDone();

  const Flags& flags;
  ClientStats stats;
  boost::asio::io_context& context;
  boost::asio::steady_timer stop_timer;
  bool stop = false;
  int running = 0;
  int64_t ops = 0;
  int64_t bytes = 0;
  absl::Status status;
};

// RunClient()
//
// Runs `connect` (open --connections connections, call state->Start(), spawn
// one coroutine per connection, each ending with state->ConnectionDone()) on
// a fresh io_context, bounded by --timeout; prints the client's result line.
// Returns the exit code.
int RunClient(
    absl::string_view implementation, const Flags& flags,
    std::function<boost::asio::awaitable<void>(ClientState*)> connect);

}  // namespace benchmarks

#endif  // BENCHMARKS_TCP_COMMON_H_
