// -----------------------------------------------------------------------------
// File: net/testing/process_stats.h
// -----------------------------------------------------------------------------
//
// Figures about this process for the hostile-peer tests and the soak: its
// resident memory (/proc/self/status), the heap it has in use (glibc's
// mallinfo2(), or ASan's allocator), its open file descriptors
// (/proc/self/fd), and raising its descriptor limit. Linux only.

#ifndef STREAMS_NET_TESTING_PROCESS_STATS_H_
#define STREAMS_NET_TESTING_PROCESS_STATS_H_

#include <dirent.h>
#include <malloc.h>
#include <sys/resource.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#if defined(__SANITIZE_ADDRESS__)
// ASan's allocator interface (sanitizer/allocator_interface.h, which g++
// does not ship).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace streams::testing {

// Bytes of heap in use now: what malloc has handed out and not had back
// (asyncio has no counterpart; a C++ server's memory per connection).
inline int64_t HeapInUseBytes() {
#if defined(__SANITIZE_ADDRESS__)
  return static_cast<int64_t>(__sanitizer_get_current_allocated_bytes());
#else
  const struct mallinfo2 info = mallinfo2();
  return static_cast<int64_t>(info.uordblks + info.hblkhd);
#endif
}

// The "<field>:" line of /proc/self/status in KiB ("VmRSS", "VmHWM"); -1
// when absent.
inline int64_t ProcStatusKb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const std::string prefix = field + ":";
  while (std::getline(status, line)) {
    if (line.compare(0, prefix.size(), prefix) == 0) {
      return std::stoll(line.substr(prefix.size()));
    }
  }
  return -1;
}

inline int64_t ResidentKb() { return ProcStatusKb("VmRSS"); }
inline int64_t PeakResidentKb() { return ProcStatusKb("VmHWM"); }

// Resets the peak (VmHWM) to the current resident size, so that a later
// PeakResidentKb() measures what happened in between. False when the kernel
// does not allow it (before Linux 4.0).
inline bool ResetPeakResident() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
  clear_refs.flush();
  return clear_refs.good();
}

// User + system CPU time of this process so far, in seconds: on a shared
// machine, a fairer figure than wall time.
inline double CpuSeconds() {
  rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0) return -1;
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// Open file descriptors (the entries of /proc/self/fd, less the one that
// reading the directory itself uses).
inline int CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;
}

// Raises the soft RLIMIT_NOFILE to `wanted` (at most the hard limit); true
// when the soft limit is now at least `wanted`.
inline bool RaiseFdLimit(rlim_t wanted) {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_cur >= wanted) return true;
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY || limit.rlim_max > wanted
                       ? wanted
                       : limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  return limit.rlim_cur >= wanted;
}

}  // namespace streams::testing

#endif  // STREAMS_NET_TESTING_PROCESS_STATS_H_
