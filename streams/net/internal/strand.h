// -----------------------------------------------------------------------------
// File: net/internal/strand.h
// -----------------------------------------------------------------------------
//
// The strand each connection (and each server) runs on. Private to
// //streams/net.
//
// `asio::make_strand(any_io_executor)` over an executor that is itself a
// strand, or a type-erased io_context executor, stacks the layers: every
// post then goes through two strands and three type-erased executors
// (callgrind: most of a loopback round trip's instructions). MakeStrand()
// strands the innermost executor instead: a new strand directly over the
// io_context's executor when that is what is underneath.
//
// An io_context constructed with concurrency hint 1 (`io_context ctx(1)`)
// promises to be run by one thread (Asio's scheduler itself then assumes
// it: `one_thread_`). Its handlers never run concurrently, so a strand would
// only cost (callgrind, loopback ping-pong: about 700 of a round trip's
// 7,400 instructions on each side, plus two mutex round trips): connections
// on such a context use its executor directly.

#ifndef STREAMS_NET_INTERNAL_STRAND_H_
#define STREAMS_NET_INTERNAL_STRAND_H_

#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/detail/scheduler.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/strand.hpp"

namespace streams::internal {

// Whether `io` runs one thread by its constructor's promise (concurrency
// hint 1). Boost 1.81 exposes the hint only on its scheduler, the
// io_context's implementation service.
inline bool RunsOneThread(boost::asio::io_context& io) {
  return boost::asio::use_service<boost::asio::detail::scheduler>(io)
             .concurrency_hint() == 1;
}

inline boost::asio::any_io_executor MakeStrand(
    const boost::asio::any_io_executor& executor) {
  namespace asio = ::boost::asio;
  using IoExecutor = asio::io_context::executor_type;
  if (const auto* strand =
          executor.target<asio::strand<asio::any_io_executor>>()) {
    return MakeStrand(strand->get_inner_executor());
  }
  if (const auto* strand = executor.target<asio::strand<IoExecutor>>()) {
    return asio::make_strand(strand->get_inner_executor());
  }
  if (const auto* io = executor.target<IoExecutor>()) {
    if (RunsOneThread(io->context())) return *io;
    return asio::make_strand(*io);
  }
  return asio::make_strand(executor);
}

}  // namespace streams::internal

#endif  // STREAMS_NET_INTERNAL_STRAND_H_
