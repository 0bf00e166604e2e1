// -----------------------------------------------------------------------------
// File: internal/reader_service.h
// -----------------------------------------------------------------------------
//
// An Asio service that knows every live ReaderCore of its execution context,
// so that shutting the context down (destroying an io_context) destroys the
// readers' pending operations and their handlers, uncalled, as Asio's own I/O
// objects do, even when a reader outlives its io_context.

#ifndef STREAMS_INTERNAL_READER_SERVICE_H_
#define STREAMS_INTERNAL_READER_SERVICE_H_

#include <mutex>
#include <set>

#include "boost/asio/execution_context.hpp"

namespace streams::internal {

class ReaderCore;

class ReaderService : public boost::asio::execution_context::service {
 public:
  using key_type = ReaderService;
  static inline boost::asio::execution_context::id id;

  explicit ReaderService(boost::asio::execution_context& context)
      : boost::asio::execution_context::service(context) {}

  void Register(ReaderCore* core);
  void Unregister(ReaderCore* core);

 private:
  void shutdown() override;

  std::mutex mutex_;
  std::set<ReaderCore*> cores_;
};

}  // namespace streams::internal

#endif  // STREAMS_INTERNAL_READER_SERVICE_H_
