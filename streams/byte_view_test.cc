// ByteView: every way a caller holds bytes goes in wherever bytes go in
// (FeedData, Write, WriteLines, readuntil's separator, DataReceived), and
// the bytes arrive unchanged.

#include "streams/byte_view.h"

#include <array>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "boost/asio/deferred.hpp"
#include "boost/asio/io_context.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/stream_reader.h"
#include "streams/stream_reader_protocol.h"
#include "streams/stream_writer.h"
#include "streams/testing/fake_connection.h"
#include "streams/testing/fake_transport.h"
#include "streams/testing/run_briefly.h"
#include "streams/testing/status_matchers.h"

namespace streams {
namespace {

namespace asio = ::boost::asio;

using ::streams::testing::FakeConnection;
using ::streams::testing::FakeTransport;
using ::streams::testing::IsOk;
using ::streams::testing::IsOkAndHolds;
using ::testing::ElementsAre;

// What converts, and what does not (a number is not bytes).
static_assert(std::is_convertible_v<std::string_view, ByteView>);
static_assert(std::is_convertible_v<absl::string_view, ByteView>);
static_assert(std::is_convertible_v<const std::string&, ByteView>);
static_assert(std::is_convertible_v<const char (&)[4], ByteView>);
static_assert(std::is_convertible_v<const char*, ByteView>);
static_assert(!std::is_convertible_v<int, ByteView>);
static_assert(std::is_convertible_v<ByteView, std::string_view>);
static_assert(std::is_convertible_v<ByteView, absl::string_view>);

TEST(ByteViewTest, BorrowsTheBytesOfEachSource) {
  const std::string owned = "owned";
  const char array[] = {'a', '\0', 'b'};
  EXPECT_EQ(std::string_view(ByteView(owned)), "owned");
  EXPECT_EQ(ByteView(owned).data(), owned.data());  // no copy
  EXPECT_EQ(std::string_view(ByteView(std::string_view("std"))), "std");
  EXPECT_EQ(std::string_view(ByteView(absl::string_view("absl"))), "absl");
  EXPECT_EQ(std::string_view(ByteView("literal")), "literal");
  // Embedded NULs survive when the size is given.
  EXPECT_EQ(ByteView(array, sizeof(array)).ToString(),
            std::string(array, sizeof(array)));
  EXPECT_TRUE(ByteView().empty());
}

class ByteViewApiTest : public ::testing::Test {
 protected:
  StreamReader MakeReader() {
    absl::StatusOr<StreamReader> reader =
        StreamReader::Create(ctx_.get_executor());
    EXPECT_THAT(reader, IsOk());
    return *std::move(reader);
  }

  // Reads one record through `separator`, by callback (run to completion).
  absl::StatusOr<std::string> ReadUntil(StreamReader& reader,
                                        ByteView separator) {
    absl::StatusOr<std::string> out = absl::UnknownError("not run");
    reader.AsyncReadUntil(separator,
                          [&](absl::StatusOr<std::string> r) { out = r; });
    testing::RunBriefly(ctx_);
    return out;
  }

  asio::io_context ctx_;
};

TEST_F(ByteViewApiTest, FeedDataTakesEveryKindOfView) {
  StreamReader reader = MakeReader();
  const std::string owned = "3";
  EXPECT_THAT(reader.FeedData(std::string_view("1")), IsOk());
  EXPECT_THAT(reader.FeedData(absl::string_view("2")), IsOk());
  EXPECT_THAT(reader.FeedData(owned), IsOk());
  EXPECT_THAT(reader.FeedData("4"), IsOk());
  EXPECT_EQ(reader.buffer(), "1234");
}

TEST_F(ByteViewApiTest, ReadUntilTakesAStdStringViewSeparator) {
  StreamReader reader = MakeReader();
  ASSERT_THAT(reader.FeedData("a\r\nb||c"), IsOk());
  const std::string_view crlf = "\r\n";
  EXPECT_THAT(ReadUntil(reader, crlf), IsOkAndHolds("a\r\n"));
  EXPECT_THAT(ReadUntil(reader, absl::string_view("||")), IsOkAndHolds("b||"));
}

TEST_F(ByteViewApiTest, WaitingReadUntilOwnsItsSeparator) {
  // The caller's separator is gone before the data arrives: the waiting
  // operation kept its own copy.
  StreamReader reader = MakeReader();
  absl::StatusOr<std::string> out = absl::UnknownError("not run");
  {
    std::string separator = "END";
    reader.AsyncReadUntil(std::string_view(separator),
                          [&](absl::StatusOr<std::string> r) { out = r; });
    separator.assign("XXX");
  }
  testing::RunBriefly(ctx_);
  ASSERT_THAT(reader.FeedData("dataEND"), IsOk());
  testing::RunBriefly(ctx_);
  EXPECT_THAT(out, IsOkAndHolds("dataEND"));
}

TEST_F(ByteViewApiTest, DeferredReadUntilOwnsItsSeparator) {
  StreamReader reader = MakeReader();
  auto deferred = [&] {
    std::string separator = "|";
    return reader.AsyncReadUntil(std::string_view(separator), asio::deferred);
  }();
  ASSERT_THAT(reader.FeedData("x|"), IsOk());
  absl::StatusOr<std::string> out = absl::UnknownError("not run");
  std::move(deferred)([&](absl::StatusOr<std::string> r) { out = r; });
  testing::RunBriefly(ctx_);
  EXPECT_THAT(out, IsOkAndHolds("x|"));
}

TEST_F(ByteViewApiTest, WriteAndWriteLinesTakeEveryKindOfView) {
  StreamReader reader = MakeReader();
  FakeConnection connection(reader);
  StreamWriter& writer = *connection.writer;
  EXPECT_THAT(writer.Write(std::string_view("a")), IsOk());
  EXPECT_THAT(writer.Write(absl::string_view("b")), IsOk());
  EXPECT_THAT(writer.Write(std::string("c")), IsOk());
  const std::vector<std::string_view> views = {"d", "e"};
  EXPECT_THAT(writer.WriteLines(views), IsOk());
  const std::array<absl::string_view, 2> absl_views = {"f", "g"};
  EXPECT_THAT(writer.WriteLines(absl_views), IsOk());
  EXPECT_THAT(writer.WriteLines({"h", "i"}), IsOk());
  using Call = FakeTransport::Call;
  EXPECT_THAT(
      connection.transport->calls(),
      ElementsAre(Call{"write", "a", {}}, Call{"write", "b", {}},
                  Call{"write", "c", {}}, Call{"writelines", "", {"d", "e"}},
                  Call{"writelines", "", {"f", "g"}},
                  Call{"writelines", "", {"h", "i"}}));
}

TEST_F(ByteViewApiTest, DataReceivedTakesAStdStringView) {
  StreamReader reader = MakeReader();
  FakeConnection connection(reader);
  EXPECT_THAT(connection.protocol->DataReceived(std::string_view("in")),
              IsOk());
  EXPECT_EQ(reader.buffer(), "in");
}

}  // namespace
}  // namespace streams
