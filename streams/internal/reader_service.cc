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
  std::set<ReaderCore*> cores;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cores.swap(cores_);
  }
  for (ReaderCore* core : cores) core->Shutdown();
}

}  // namespace streams::internal
