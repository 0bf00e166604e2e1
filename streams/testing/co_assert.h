// -----------------------------------------------------------------------------
// File: testing/co_assert.h
// -----------------------------------------------------------------------------
//
// Fatal assertions for test coroutines. GoogleTest's `ASSERT_*` macros end
// the test function with `return`, which a coroutine cannot use; these are
// the same assertions ending with `co_return` instead (the pattern of folly's
// coro/GtestHelpers.h). They fit coroutines returning `awaitable<void>`, and
// stream a message as `ASSERT_*` does.
//
// Example:
//
//   absl::StatusOr<Connection> connection =
//       co_await AsyncOpenConnection(executor, "127.0.0.1", port);
//   CO_ASSERT_OK(connection);  // prints the status when it is not OK
//   CO_ASSERT_THAT(co_await connection->reader.AsyncReadLine(),
//                  IsOkAndHolds("hello\n"));
//
// Like `ASSERT_*`, a failed assertion leaves the coroutine at once: when
// something still has to be closed for the test to end (a server), check
// with `EXPECT_THAT(..., IsOk())` and an `if` instead.

#ifndef STREAMS_TESTING_CO_ASSERT_H_
#define STREAMS_TESTING_CO_ASSERT_H_

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/testing/status_matchers.h"

// GoogleTest's GTEST_FATAL_FAILURE_ with co_return: the failure is reported
// (a void expression) and the coroutine returns.
#define STREAMS_CO_FATAL_FAILURE_(message) \
  co_return GTEST_MESSAGE_(message, ::testing::TestPartResult::kFatalFailure)

// CO_ASSERT_TRUE(condition): ASSERT_TRUE for coroutines.
#define CO_ASSERT_TRUE(condition)                         \
  GTEST_TEST_BOOLEAN_(condition, #condition, false, true, \
                      STREAMS_CO_FATAL_FAILURE_)

// CO_ASSERT_THAT(value, matcher): ASSERT_THAT for coroutines.
#define CO_ASSERT_THAT(value, matcher)                                        \
  GTEST_PRED_FORMAT1_(                                                        \
      ::testing::internal::MakePredicateFormatterFromMatcher(matcher), value, \
      STREAMS_CO_FATAL_FAILURE_)

// CO_ASSERT_OK(status_or_statusor): the value is OK (IsOk()).
#define CO_ASSERT_OK(value) CO_ASSERT_THAT(value, ::streams::testing::IsOk())

#endif  // STREAMS_TESTING_CO_ASSERT_H_
