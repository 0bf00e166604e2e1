#include "streams/internal/reader_service.h"

#include "streams/internal/reader_core.h"

namespace streams::internal {

void ReaderService::Register(ReaderCore* core) {
  std::lock_guard<std::mutex> lock(mutex_);
  cores_.insert(core);
}

void ReaderService::Unregister(ReaderCore* core) {
  std::lock_guard<std::mutex> lock(mutex_);
  cores_.erase(core);
}

void ReaderService::shutdown() {
  // One at a time, not over a copy of the set: dropping a core's operations
  // destroys their handlers, and a coroutine frame among them may own the
  // last handle on another reader, which then unregisters itself here
  // instead of being visited after it was freed.
  while (true) {
    ReaderCore* core = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cores_.empty()) return;
      core = *cores_.begin();
      cores_.erase(cores_.begin());
    }
    core->Shutdown();
  }
}

}  // namespace streams::internal
