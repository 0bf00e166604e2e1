// StreamReaders on a multi-threaded io_context: each reader lives on its own
// strand; a producer feeds it through that strand and a coroutine spawned on
// the same strand consumes it. Every line must arrive, in order, exactly once.
// Run it under --config=tsan too.

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/strand.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "streams/stream_reader.h"
#include "streams/testing/fake_transport.h"
#include "streams/testing/status_matchers.h"

namespace streams {
namespace {

namespace asio = ::boost::asio;

using ::streams::testing::FakeTransport;
using ::streams::testing::IsOk;

constexpr int kReaders = 8;
constexpr int kThreads = 4;
constexpr int kLinesPerReader = 5000;

std::string Line(int reader, int i) {
  return absl::StrCat("reader ", reader, " line ", i, " ",
                      std::string(i % 50, 'x'), "\n");
}

// What one consumer saw; written only on its reader's strand, read after
// every thread joined.
struct Consumer {
  std::vector<std::string> lines;
  absl::Status error;
  bool reached_eof = false;
};

TEST(StreamReaderThreadsTest, EightReadersOnStrandsLoseNothing) {
  asio::io_context ctx(kThreads);
  std::vector<asio::any_io_executor> strands;
  std::vector<std::unique_ptr<StreamReader>> readers;
  std::vector<Consumer> consumers(kReaders);
  for (int r = 0; r < kReaders; ++r) {
    strands.push_back(asio::make_strand(ctx));
    absl::StatusOr<StreamReader> reader =
        StreamReader::Create(strands.back(), /*limit=*/256);
    ASSERT_THAT(reader, IsOk());
    readers.push_back(std::make_unique<StreamReader>(*std::move(reader)));
    // A transport too, so that pause/resume run on the strand as well.
    ASSERT_THAT(readers.back()->SetTransport(std::make_shared<FakeTransport>()),
                IsOk());
  }

  for (int r = 0; r < kReaders; ++r) {
    asio::co_spawn(
        strands[r],
        [reader = readers[r].get(),
         consumer = &consumers[r]]() -> asio::awaitable<void> {
          while (true) {
            absl::StatusOr<std::string> line = co_await reader->AsyncReadLine();
            if (!line.ok()) {
              consumer->error = line.status();
              co_return;
            }
            if (line->empty()) {
              consumer->reached_eof = true;
              co_return;
            }
            consumer->lines.push_back(*std::move(line));
          }
        },
        asio::detached);
  }

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ctx] { ctx.run(); });
  }

  // The producer: lines in batches, some split in two posts, interleaved
  // across readers.
  std::thread producer([&] {
    constexpr int kBatch = 7;
    for (int i = 0; i < kLinesPerReader; i += kBatch) {
      for (int r = 0; r < kReaders; ++r) {
        std::string batch;
        for (int j = i; j < i + kBatch && j < kLinesPerReader; ++j) {
          batch += Line(r, j);
        }
        const size_t half = (i % 3 == 0) ? batch.size() / 2 : batch.size();
        StreamReader* reader = readers[r].get();
        asio::post(strands[r], [reader, head = batch.substr(0, half)] {
          EXPECT_THAT(reader->FeedData(head), IsOk());
        });
        if (half < batch.size()) {
          asio::post(strands[r], [reader, tail = batch.substr(half)] {
            EXPECT_THAT(reader->FeedData(tail), IsOk());
          });
        }
      }
    }
    for (int r = 0; r < kReaders; ++r) {
      StreamReader* reader = readers[r].get();
      asio::post(strands[r], [reader] { reader->FeedEof(); });
    }
  });

  producer.join();
  for (std::thread& thread : threads) thread.join();

  for (int r = 0; r < kReaders; ++r) {
    SCOPED_TRACE(absl::StrCat("reader ", r));
    const Consumer& consumer = consumers[r];
    EXPECT_THAT(consumer.error, IsOk());
    EXPECT_TRUE(consumer.reached_eof);
    ASSERT_EQ(consumer.lines.size(), static_cast<size_t>(kLinesPerReader));
    int wrong = 0;
    for (int i = 0; i < kLinesPerReader && wrong < 5; ++i) {
      if (consumer.lines[i] != Line(r, i)) {
        ++wrong;
        ADD_FAILURE() << "line " << i << " is " << consumer.lines[i];
      }
    }
    EXPECT_TRUE(readers[r]->AtEof());
    EXPECT_EQ(readers[r]->buffer(), "");
  }
}

TEST(StreamReaderThreadsTest, ReaderDestroyedOnItsStrandWhileAReadWaits) {
  // Each reader is created, read from and destroyed on its strand while
  // other threads run other strands: the pending handler is destroyed
  // uncalled, and nothing touches the reader afterwards.
  asio::io_context ctx(kThreads);
  std::atomic<int> called{0};
  std::atomic<int> destroyed{0};
  struct Handler {
    std::atomic<int>* called;
    std::shared_ptr<void> on_destroy;
    void operator()(absl::StatusOr<std::string>) const { ++*called; }
  };
  for (int r = 0; r < kReaders; ++r) {
    auto strand = asio::make_strand(ctx);
    asio::post(strand, [strand, &called, &destroyed] {
      auto reader = std::make_shared<StreamReader>(strand);
      std::shared_ptr<void> on_destroy(nullptr,
                                       [&destroyed](void*) { ++destroyed; });
      reader->AsyncReadLine(Handler{&called, std::move(on_destroy)});
      // Destroyed in a later step on the same strand, after the read waits.
      asio::post(strand, [strand, reader]() mutable {
        asio::post(strand,
                   [reader = std::move(reader)]() mutable { reader.reset(); });
      });
    });
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ctx] { ctx.run(); });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(called.load(), 0);
  EXPECT_EQ(destroyed.load(), kReaders);
}

}  // namespace
}  // namespace streams
