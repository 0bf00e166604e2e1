// -----------------------------------------------------------------------------
// File: net/internal/shutdown_service.h
// -----------------------------------------------------------------------------
//
// An Asio service that tells the transports and servers of an execution
// context when it shuts down (when an io_context is destroyed), so they can
// break the reference cycles that only ConnectionLost() breaks otherwise
// (transport <-> protocol, protocol -> closed future -> waiting operation ->
// handler -> coroutine frame -> writer -> protocol, ...) and free their
// sockets while the context's services still exist. Asio's own I/O objects
// destroy their pending handlers, uncalled, at that point; so do ours. It is
// the same idea as internal/reader_service.h, for //streams/net.
//
// Private to //streams/net.

#ifndef STREAMS_NET_INTERNAL_SHUTDOWN_SERVICE_H_
#define STREAMS_NET_INTERNAL_SHUTDOWN_SERVICE_H_

#include <mutex>
#include <set>

#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/execution_context.hpp"

namespace streams::net::internal {

class ShutdownService;

// ShutdownListener
//
// A base class: registers with the ShutdownService of its executor's
// execution context for its whole life.
class ShutdownListener {
 public:
  explicit ShutdownListener(const boost::asio::any_io_executor& executor);
  ShutdownListener(const ShutdownListener&) = delete;
  ShutdownListener& operator=(const ShutdownListener&) = delete;

  // ShutdownListener::ContextShutdown()
  //
  // The execution context is shutting down: no handler will run again.
  // Called once, from the thread destroying the context, while its services
  // still exist. Drop every reference that keeps another object alive, free
  // what touches the context (sockets, timers, executors), call nothing.
  // The listener may be destroyed during the call unless it keeps itself
  // alive.
  virtual void ContextShutdown() = 0;

  // True once ContextShutdown() was called (or is running).
  bool context_shut_down() const { return service_ == nullptr; }

 protected:
  // Unregisters, unless the context already shut down.
  virtual ~ShutdownListener();

 private:
  friend class ShutdownService;
  ShutdownService* service_;  // null once the context shut down
};

class ShutdownService : public boost::asio::execution_context::service {
 public:
  using key_type = ShutdownService;
  static inline boost::asio::execution_context::id id;

  explicit ShutdownService(boost::asio::execution_context& context)
      : boost::asio::execution_context::service(context) {}

 private:
  friend class ShutdownListener;

  void Register(ShutdownListener* listener);
  void Unregister(ShutdownListener* listener);
  void shutdown() override;

  std::mutex mutex_;
  std::set<ShutdownListener*> listeners_;
};

}  // namespace streams::net::internal

#endif  // STREAMS_NET_INTERNAL_SHUTDOWN_SERVICE_H_
