#include "streams/net/internal/write_buffer.h"

#include "gtest/gtest.h"

namespace streams::net::internal {
namespace {

TEST(WriteBufferTest, HandsTheBufferedBytesToOneWriteAtATime) {
  WriteBuffer buffer;
  EXPECT_TRUE(buffer.empty());
  EXPECT_FALSE(buffer.BeginWrite());  // nothing buffered

  buffer.Append("hello ");
  buffer.Append("world");
  EXPECT_FALSE(buffer.empty());
  EXPECT_EQ(buffer.size(), 11u);
  ASSERT_TRUE(buffer.BeginWrite());
  EXPECT_TRUE(buffer.writing());
  EXPECT_EQ(buffer.unsent(), "hello world");

  // Written while the write is in flight: waits for the next one.
  buffer.Append("!");
  EXPECT_FALSE(buffer.BeginWrite());
  EXPECT_EQ(buffer.size(), 12u);

  EXPECT_FALSE(buffer.Sent(6));  // a partial write
  EXPECT_EQ(buffer.unsent(), "world");
  EXPECT_EQ(buffer.size(), 6u);
  EXPECT_TRUE(buffer.Sent(5));
  EXPECT_FALSE(buffer.writing());
  EXPECT_FALSE(buffer.empty());  // "!" is still buffered

  ASSERT_TRUE(buffer.BeginWrite());
  EXPECT_EQ(buffer.unsent(), "!");
  EXPECT_TRUE(buffer.Sent(1));
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.size(), 0u);
}

TEST(WriteBufferTest, FailDropsEverything) {
  WriteBuffer buffer;
  buffer.Append("in flight");
  ASSERT_TRUE(buffer.BeginWrite());
  buffer.Append("pending");
  buffer.Fail();
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.size(), 0u);
}

TEST(WriteBufferTest, DropPendingKeepsTheWriteInFlight) {
  WriteBuffer buffer;
  buffer.Append("in flight");
  ASSERT_TRUE(buffer.BeginWrite());
  buffer.Append("pending");
  buffer.DropPending();
  EXPECT_EQ(buffer.size(), 9u);
  EXPECT_TRUE(buffer.Sent(9));
  EXPECT_TRUE(buffer.empty());
}

// asyncio: pause above the high-water mark, once; resume at or below the
// low-water mark, once.
TEST(WriteBufferTest, WaterMarksPauseAndResumeOnce) {
  WriteBuffer buffer;
  buffer.Append("12345");
  EXPECT_FALSE(buffer.PauseNow(5));  // at the mark: not above it
  buffer.Append("6");
  EXPECT_TRUE(buffer.PauseNow(5));
  EXPECT_FALSE(buffer.PauseNow(5));  // already paused
  EXPECT_FALSE(buffer.ResumeNow(2));
  ASSERT_TRUE(buffer.BeginWrite());
  buffer.Sent(4);  // 2 left
  EXPECT_TRUE(buffer.ResumeNow(2));
  EXPECT_FALSE(buffer.ResumeNow(2));  // already resumed
}

}  // namespace
}  // namespace streams::net::internal
