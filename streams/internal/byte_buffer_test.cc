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

// A reader that keeps up with its feeds (records that end where the chunks
// do, as in a request/response protocol) moves nothing: consumed bytes stay
// in place until the buffer empties, and an empty buffer restarts at its
// front.
TEST(ByteBufferTest, ReadingEachChunkToItsEndMovesNothing) {
  const std::string record = std::string(1023, 'r') + "\n";
  std::string chunk;
  for (int i = 0; i < 64; ++i) chunk += record;
  ByteBuffer buffer;
  for (int i = 0; i < 100; ++i) {
    buffer.Append(chunk);
    while (!buffer.empty()) ASSERT_EQ(buffer.Take(record.size()), record);
  }
  EXPECT_EQ(buffer.bytes_moved(), 0u);
}

// A partial record left at the end of a chunk is all that moves when the
// next chunk arrives.
TEST(ByteBufferTest, OnlyTheUnreadTailMovesWhenMoreArrives) {
  ByteBuffer buffer;
  buffer.Append(std::string(1000, 'a'));
  EXPECT_EQ(buffer.Take(990).size(), 990u);
  buffer.Append(std::string(1000, 'b'));
  EXPECT_EQ(buffer.bytes_moved(), 10u);
  EXPECT_EQ(buffer.Take(10), std::string(10, 'a'));
  EXPECT_EQ(buffer.size(), 1000u);
}

// Growing the storage keeps only the live bytes: a consumed prefix is
// neither copied by the growth nor kept.
TEST(ByteBufferTest, GrowingDropsTheConsumedPrefix) {
  ByteBuffer buffer;
  buffer.Append(std::string(1000, 'a'));
  EXPECT_EQ(buffer.Take(100).size(), 100u);  // 100 consumed, 900 live
  buffer.Append(std::string(100000, 'b'));   // must grow
  EXPECT_EQ(buffer.size(), 100900u);
  EXPECT_EQ(buffer.bytes_moved(), 0u);
  EXPECT_EQ(buffer.view().substr(0, 900), std::string(900, 'a'));
  EXPECT_EQ(buffer.Take(1000), std::string(900, 'a') + std::string(100, 'b'));
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
