#include "streams/net/internal/shutdown_service.h"

#include "boost/asio/execution/context.hpp"
#include "boost/asio/query.hpp"

namespace streams::net::internal {

ShutdownListener::ShutdownListener(const boost::asio::any_io_executor& executor)
    : service_(&boost::asio::use_service<ShutdownService>(
          boost::asio::query(executor, boost::asio::execution::context))) {
  service_->Register(this);
}

ShutdownListener::~ShutdownListener() {
  if (service_ != nullptr) service_->Unregister(this);
}

void ShutdownService::Register(ShutdownListener* listener) {
  std::lock_guard<std::mutex> lock(mutex_);
  listeners_.insert(listener);
}

void ShutdownService::Unregister(ShutdownListener* listener) {
  std::lock_guard<std::mutex> lock(mutex_);
  listeners_.erase(listener);
}

void ShutdownService::shutdown() {
  // One at a time, not over a copy of the set: a listener's ContextShutdown()
  // can destroy other listeners (a coroutine frame it frees may own the last
  // handle on another connection), and those unregister themselves first.
  while (true) {
    ShutdownListener* listener = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (listeners_.empty()) return;
      listener = *listeners_.begin();
      listeners_.erase(listeners_.begin());
      listener->service_ = nullptr;
    }
    listener->ContextShutdown();
  }
}

}  // namespace streams::net::internal
