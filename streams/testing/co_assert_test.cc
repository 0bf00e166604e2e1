// CO_ASSERT_*: a failed assertion is a fatal failure that leaves the
// coroutine; a passing one goes on.

#include "streams/testing/co_assert.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "streams/testing/status_matchers.h"

namespace streams::testing {
namespace {

namespace asio = ::boost::asio;

// Where the coroutine got to (EXPECT_FATAL_FAILURE's statement cannot see
// locals).
int reached = 0;

asio::awaitable<void> CheckAll(absl::StatusOr<int> value, bool condition) {
  reached = 1;
  CO_ASSERT_OK(value) << "the value";
  reached = 2;
  CO_ASSERT_THAT(value, IsOkAndHolds(7));
  reached = 3;
  CO_ASSERT_TRUE(condition);
  reached = 4;
}

void RunCheckAll(absl::StatusOr<int> value, bool condition) {
  asio::io_context context;
  asio::co_spawn(context, CheckAll(std::move(value), condition),
                 asio::detached);
  context.run();
}

TEST(CoAssertTest, PassingAssertionsGoOn) {
  reached = 0;
  RunCheckAll(7, true);
  EXPECT_EQ(reached, 4);
}

TEST(CoAssertTest, FailedOkReportsTheStatusAndReturns) {
  reached = 0;
  EXPECT_FATAL_FAILURE(RunCheckAll(absl::NotFoundError("gone"), true),
                       "whose status is NOT_FOUND: gone");
  EXPECT_EQ(reached, 1);
  EXPECT_FATAL_FAILURE(RunCheckAll(absl::NotFoundError("gone"), true),
                       "the value");
}

TEST(CoAssertTest, FailedThatReturns) {
  reached = 0;
  EXPECT_FATAL_FAILURE(RunCheckAll(8, true), "which holds 8");
  EXPECT_EQ(reached, 2);
}

TEST(CoAssertTest, FailedTrueReturns) {
  reached = 0;
  EXPECT_FATAL_FAILURE(RunCheckAll(7, false), "condition");
  EXPECT_EQ(reached, 3);
}

}  // namespace
}  // namespace streams::testing
