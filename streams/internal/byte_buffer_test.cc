#include "streams/internal/byte_buffer.h"

#include <string>

#include "gtest/gtest.h"

namespace streams::internal {
namespace {

TEST(ByteBufferTest, TakeReturnsBytesInOrder) {
  ByteBuffer buffer;
  buffer.Append("hello ");
  buffer.Append("world");
  EXPECT_EQ(buffer.Take(3), "hel");
  EXPECT_EQ(buffer.view(), "lo world");
  EXPECT_EQ(buffer.Take(100), "lo world");
  EXPECT_TRUE(buffer.empty());
}

TEST(ByteBufferTest, DiscardAndFindWorkOnLiveBytesOnly) {
  ByteBuffer buffer;
  buffer.Append("a\nbb\nccc\n");
  buffer.Discard(2);
  EXPECT_EQ(buffer.Find("\n", 0), 2u);
  EXPECT_EQ(buffer.Find("\n", 3), 6u);
  EXPECT_EQ(buffer.Find("x", 0), absl::string_view::npos);
  EXPECT_EQ(buffer.Find("\n", 100), absl::string_view::npos);
}

TEST(ByteBufferTest, TakingEverythingCopiesNothing) {
  ByteBuffer buffer;
  buffer.Append(std::string(1 << 20, 'x'));
  EXPECT_EQ(buffer.Take(1 << 20).size(), 1u << 20);
  EXPECT_EQ(buffer.bytes_moved(), 0u);
}

// Consuming from the front is O(1) amortized: compaction moves at most as
// many bytes as were consumed, however the buffer is read.
TEST(ByteBufferTest, ConsumingLineByLineMovesAtMostTheBytesConsumed) {
  constexpr size_t kSize = 32 << 20;
  const std::string line = std::string(99, 'x') + "\n";
  ByteBuffer buffer;
  while (buffer.size() < kSize) buffer.Append(line);
  const size_t fed = buffer.size();
  size_t consumed = 0;
  while (!buffer.empty()) {
    const size_t end = buffer.Find("\n", 0);
    ASSERT_NE(end, absl::string_view::npos);
    consumed += buffer.Take(end + 1).size();
  }
  EXPECT_EQ(consumed, fed);
  EXPECT_LE(buffer.bytes_moved(), fed);
}

TEST(ByteBufferTest, InterleavedAppendsAndTakesStayBounded) {
  ByteBuffer buffer;
  uint64_t appended = 0;
  for (int i = 0; i < 100000; ++i) {
    buffer.Append("0123456789");
    appended += 10;
    buffer.Take(7);
  }
  EXPECT_EQ(buffer.size(), 300000u);
  EXPECT_LE(buffer.bytes_moved(), appended);
}

}  // namespace
}  // namespace streams::internal
