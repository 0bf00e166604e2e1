// -----------------------------------------------------------------------------
// File: testing/run_briefly.h
// -----------------------------------------------------------------------------
//
// Driving an io_context the way asyncio's tests drive their loop:
// `RunBriefly()` is test_utils.run_briefly() (run every ready handler until
// the context is idle: a waiting read keeps work on the context, so run()
// would block), and `Task<T>` is an asyncio Task for one operation.

#ifndef STREAMS_TESTING_RUN_BRIEFLY_H_
#define STREAMS_TESTING_RUN_BRIEFLY_H_

#include <memory>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"

namespace streams::testing {

inline void RunBriefly(boost::asio::io_context& context) {
  context.restart();
  context.poll();
}

// Started by the constructor from a deferred operation (e.g.
// `reader.AsyncReadLine()`), done once its handler ran.
template <typename T = std::string>
class Task {
 public:
  template <typename DeferredOp>
  explicit Task(DeferredOp op) {
    std::move(op)([result = result_](absl::StatusOr<T> value) {
      *result = std::move(value);
    });
  }

  bool done() const { return result_->has_value(); }
  // Precondition: done().
  const absl::StatusOr<T>& result() const { return **result_; }

 private:
  std::shared_ptr<std::optional<absl::StatusOr<T>>> result_ =
      std::make_shared<std::optional<absl::StatusOr<T>>>();
};

}  // namespace streams::testing

#endif  // STREAMS_TESTING_RUN_BRIEFLY_H_
