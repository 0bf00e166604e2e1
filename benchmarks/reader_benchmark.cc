// In-memory read benchmarks of streams::StreamReader, beside anchors that
// bound what the same work can cost. benchmarks/reader_benchmark.py runs the
// same cases on CPython 3.11.7's asyncio; benchmarks/run.sh runs both and
// writes the ratios to benchmarks/REPORT.md.
//
// Every case reports CPU time per operation as the counter `cpu/<op>` (in
// seconds: "52.3n" is 52.3 ns per line), items/s and bytes/s.
//
// Streaming cases: the data (64 MiB by default) is fed in 64 KiB chunks by a
// producer coroutine; after each chunk it yields to the io_context
// (`co_await asio::post(ex, asio::use_awaitable)`) until the consumer has
// taken every whole record fed so far. A reader that completes buffered
// reads inline needs one yield per chunk (as asyncio's `await
// asyncio.sleep(0)` does); one that posts every read step needs one per
// read. Either way the io_context runs with run() until both coroutines end,
// so the harness works whichever the library does.
//
// Benchmark names are <family>/<implementation>/<variant>, families matching
// reader_benchmark.py's cases, so run.sh can run one family of both
// languages at a time (--benchmark_filter=^lines100/).
//
// Sizes: --stream_kib (ReadLine, ReadExactly, ReadUntil data; 65536),
// --bulk_kib (Read(65536) data; 262144), --big_kib (comma-separated
// big-buffer sizes; 4096,8192,16384,32768). The smoke test passes tiny ones.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "benchmark/benchmark.h"
#include "boost/asio/buffer.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/deferred.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/read_until.hpp"
#include "boost/asio/this_coro.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "streams/errors.h"
#include "streams/stream_reader.h"

namespace {

namespace asio = ::boost::asio;
using streams::StreamReader;

constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * kKiB;
// What the producer feeds at a time: asyncio's transports deliver about this
// much per recv() on a busy connection, and so does //streams/net.
constexpr int64_t kChunk = 64 * kKiB;
constexpr int64_t kRecordSize = 1024;
constexpr char kRecordSeparator[] = "\r\n\r\n";
// A consumer that has not caught up after this many yields is stuck: fail
// the case rather than loop forever.
constexpr int64_t kMaxYieldsPerChunk = 10'000'000;

struct Sizes {
  int64_t stream_bytes = 64 * kMiB;
  int64_t bulk_bytes = 256 * kMiB;
  std::vector<int64_t> big_bytes = {4 * kMiB, 8 * kMiB, 16 * kMiB, 32 * kMiB};
};

// ---------------------------------------------------------------------------
// Data, built once per process (outside the timed loops).
// ---------------------------------------------------------------------------

// `total / line_size` lines of `line_size` bytes, each ending in "\n".
const std::string& LineData(int64_t line_size, int64_t total) {
  static auto* cache = new std::map<std::pair<int64_t, int64_t>, std::string>;
  std::string& data = (*cache)[{line_size, total}];
  if (data.empty()) {
    const int64_t lines = total / line_size;
    data.reserve(lines * line_size);
    for (int64_t i = 0; i < lines; ++i) {
      for (int64_t j = 0; j + 1 < line_size; ++j) {
        data.push_back(static_cast<char>('a' + (i + j) % 26));
      }
      data.push_back('\n');
    }
  }
  return data;
}

// 1 KiB HTTP-like header blocks, each ending in "\r\n\r\n" (with "\r\n"s
// inside, so a separator search meets partial matches).
const std::string& RecordData(int64_t total) {
  static auto* cache = new std::map<int64_t, std::string>;
  std::string& data = (*cache)[total];
  if (data.empty()) {
    std::string record =
        "GET /index.html HTTP/1.1\r\nHost: example.org\r\n"
        "Accept: */*\r\nX-Padding: ";
    const size_t tail = std::strlen(kRecordSeparator);
    record.append(kRecordSize - record.size() - tail, 'p');
    record.append(kRecordSeparator);
    const int64_t records = total / kRecordSize;
    data.reserve(records * kRecordSize);
    for (int64_t i = 0; i < records; ++i) data.append(record);
  }
  return data;
}

// Bytes without structure, for Read(n).
const std::string& BulkData(int64_t total) {
  static auto* cache = new std::map<int64_t, std::string>;
  std::string& data = (*cache)[total];
  if (data.empty()) {
    data.resize(total);
    for (int64_t i = 0; i < total; ++i) data[i] = static_cast<char>(i * 131);
  }
  return data;
}

// CPU time per operation (seconds; Google Benchmark divides by CPU time),
// items/s and bytes/s.
void ReportPerOp(benchmark::State& state, absl::string_view unit, int64_t ops,
                 int64_t bytes) {
  state.SetItemsProcessed(ops);
  state.SetBytesProcessed(bytes);
  state.counters[absl::StrCat("cpu/", unit)] = benchmark::Counter(
      static_cast<double>(ops),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// ---------------------------------------------------------------------------
// The library: producer and consumers.
// ---------------------------------------------------------------------------

// kView: the zero-copy readline, TryReadLineView() then AsyncReadLineView()
// when it must wait (ReadLineOp only).
enum class Way { kDeferred, kUseAwaitable, kCallback, kView };

// Shared by the producer and the consumer of one run.
struct Progress {
  int64_t fed = 0;
  int64_t consumed = 0;
  int64_t ops = 0;
  bool done = false;
  absl::Status error;
};

// Counts one read's result; false when the consumer should stop (EOF or an
// error). ReadExactly at EOF fails with IncompleteReadError and no partial
// bytes: that is the end of the data, not an error.
bool Take(const absl::StatusOr<std::string>& result, Progress& progress) {
  if (!result.ok()) {
    const std::optional<streams::IncompleteRead> incomplete =
        streams::GetIncompleteRead(result.status());
    if (!incomplete.has_value() || !incomplete->partial.empty()) {
      progress.error = result.status();
    }
    return false;
  }
  if (result->empty()) return false;  // EOF
  benchmark::DoNotOptimize(result->data());
  progress.consumed += static_cast<int64_t>(result->size());
  ++progress.ops;
  return true;
}

// Feeds `data` in kChunk pieces; after each, yields until fewer than
// `record` bytes are left unread (i.e. the consumer took every whole record
// and waits for more), then feeds EOF.
asio::awaitable<void> Produce(StreamReader& reader, absl::string_view data,
                              int64_t record, Progress& progress) {
  auto executor = co_await asio::this_coro::executor;
  for (size_t offset = 0; offset < data.size() && !progress.done;
       offset += kChunk) {
    const absl::string_view chunk = data.substr(offset, kChunk);
    if (absl::Status fed = reader.FeedData(chunk); !fed.ok()) {
      progress.error = fed;
      break;
    }
    progress.fed += static_cast<int64_t>(chunk.size());
    int64_t yields = 0;
    do {
      co_await asio::post(executor, asio::use_awaitable);
    } while (progress.fed - progress.consumed >= record && !progress.done &&
             ++yields < kMaxYieldsPerChunk);
    if (yields >= kMaxYieldsPerChunk) {
      progress.error = absl::InternalError("the consumer stopped reading");
      break;
    }
  }
  reader.FeedEof();
}

// The consumer as a coroutine. `Op` starts one read: op(reader) with the
// default token, op(reader, token) with another.
template <typename Op>
asio::awaitable<void> ConsumeDefaultToken(StreamReader& reader, Op op,
                                          Progress& progress) {
  while (true) {
    // A named result, not `while (Take(co_await op(reader), ...))`: g++ 12
    // miscompiles a co_await of a temporary in a loop condition (it crashed).
    absl::StatusOr<std::string> result = co_await op(reader);
    if (!Take(result, progress)) break;
  }
  progress.done = true;
}

// The zero-copy readline: each line a view into the reader's buffer.
asio::awaitable<void> ConsumeView(StreamReader& reader, Progress& progress) {
  while (true) {
    // The buffered answer without a coroutine frame; wait only when needed.
    std::optional<absl::StatusOr<absl::string_view>> now =
        reader.TryReadLineView();
    absl::StatusOr<absl::string_view> line = absl::string_view();
    if (now.has_value()) {
      line = *std::move(now);
    } else {
      line = co_await reader.AsyncReadLineView();
    }
    if (!line.ok()) {
      progress.error = line.status();
      break;
    }
    if (line->empty()) break;  // EOF
    benchmark::DoNotOptimize(line->data());
    progress.consumed += static_cast<int64_t>(line->size());
    ++progress.ops;
  }
  progress.done = true;
}

template <typename Op>
asio::awaitable<void> ConsumeUseAwaitable(StreamReader& reader, Op op,
                                          Progress& progress) {
  while (true) {
    absl::StatusOr<std::string> result =
        co_await op(reader, asio::use_awaitable);
    if (!Take(result, progress)) break;
  }
  progress.done = true;
}

// The consumer as callbacks: each read's handler starts the next read. A
// handler called inside its own initiation (a library that completes
// buffered reads inline) would recurse once per read; the trampoline turns
// that into a loop.
template <typename Op>
class CallbackConsumer {
 public:
  CallbackConsumer(StreamReader& reader, Op op, Progress& progress)
      : reader_(reader), op_(std::move(op)), progress_(progress) {}

  void Start() {
    if (starting_) {  // Called from a handler run inside op_(): loop instead.
      again_ = true;
      return;
    }
    starting_ = true;
    do {
      again_ = false;
      op_(reader_, [this](absl::StatusOr<std::string> result) {
        if (Take(result, progress_)) {
          Start();
        } else {
          progress_.done = true;
        }
      });
    } while (again_);
    starting_ = false;
  }

 private:
  StreamReader& reader_;
  Op op_;
  Progress& progress_;
  bool starting_ = false;
  bool again_ = false;
};

struct ReadLineOp {
  auto operator()(StreamReader& reader) const { return reader.AsyncReadLine(); }
  template <typename Token>
  auto operator()(StreamReader& reader, Token&& token) const {
    return reader.AsyncReadLine(std::forward<Token>(token));
  }
};

struct ReadExactlyOp {
  int64_t n;
  auto operator()(StreamReader& reader) const {
    return reader.AsyncReadExactly(n);
  }
  template <typename Token>
  auto operator()(StreamReader& reader, Token&& token) const {
    return reader.AsyncReadExactly(n, std::forward<Token>(token));
  }
};

struct ReadOp {
  int64_t n;
  auto operator()(StreamReader& reader) const { return reader.AsyncRead(n); }
  template <typename Token>
  auto operator()(StreamReader& reader, Token&& token) const {
    return reader.AsyncRead(n, std::forward<Token>(token));
  }
};

struct ReadUntilOp {
  auto operator()(StreamReader& reader) const {
    return reader.AsyncReadUntil(kRecordSeparator);
  }
  template <typename Token>
  auto operator()(StreamReader& reader, Token&& token) const {
    return reader.AsyncReadUntil(kRecordSeparator, std::forward<Token>(token));
  }
};

// One streaming case: `data` through a fresh reader per iteration.
template <typename Op>
void StreamCase(benchmark::State& state, const std::string& data, Op op,
                Way way, int64_t record, absl::string_view unit) {
  int64_t ops = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    asio::io_context context(1);
    StreamReader reader(context.get_executor());
    Progress progress;
    // The consumer starts first, so the first chunk finds it waiting.
    std::optional<CallbackConsumer<Op>> callbacks;
    switch (way) {
      case Way::kDeferred:
        asio::co_spawn(context, ConsumeDefaultToken(reader, op, progress),
                       asio::detached);
        break;
      case Way::kUseAwaitable:
        asio::co_spawn(context, ConsumeUseAwaitable(reader, op, progress),
                       asio::detached);
        break;
      case Way::kCallback:
        callbacks.emplace(reader, op, progress);
        callbacks->Start();
        break;
      case Way::kView:
        asio::co_spawn(context, ConsumeView(reader, progress), asio::detached);
        break;
    }
    asio::co_spawn(context, Produce(reader, data, record, progress),
                   asio::detached);
    context.run();
    if (!progress.error.ok() || !progress.done ||
        progress.consumed != static_cast<int64_t>(data.size())) {
      state.SkipWithError(absl::StrCat("consumed ", progress.consumed, " of ",
                                       data.size(), ": ",
                                       progress.error.ToString())
                              .c_str());
      return;
    }
    ops += progress.ops;
    bytes += progress.consumed;
  }
  ReportPerOp(state, unit, ops, bytes);
}

// The whole buffer fed at once, then ReadLine to EOF: the cost per line must
// not grow with what is buffered behind it. Only the reads are timed:
// FeedData's copy, and the kernel faulting in a fresh 32 MiB mapping for it
// (glibc mmaps blocks that large anew each time, but reuses 4 MiB ones), are
// the same per byte whatever the read path does, and would blur the slope.
void BigBufferCase(benchmark::State& state, const std::string& data) {
  int64_t ops = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto context = std::make_unique<asio::io_context>(1);
    auto reader = std::make_unique<StreamReader>(context->get_executor());
    Progress progress;
    if (absl::Status fed = reader->FeedData(data); !fed.ok()) {
      state.SkipWithError(fed.ToString().c_str());
      return;
    }
    reader->FeedEof();
    asio::co_spawn(*context,
                   ConsumeDefaultToken(*reader, ReadLineOp{}, progress),
                   asio::detached);
    state.ResumeTiming();
    context->run();
    state.PauseTiming();
    reader.reset();  // Unmapping the buffer is not a read either.
    context.reset();
    state.ResumeTiming();
    if (!progress.error.ok() ||
        progress.consumed != static_cast<int64_t>(data.size())) {
      state.SkipWithError(progress.error.ToString().c_str());
      return;
    }
    ops += progress.ops;
    bytes += progress.consumed;
  }
  ReportPerOp(state, "line", ops, bytes);
}

// ---------------------------------------------------------------------------
// Anchors.
// ---------------------------------------------------------------------------

// memchr for each "\n", each line copied into a fresh std::string (what a
// read returning a new string must at least do), or into one reused string
// (the physical limit: no allocation).
template <bool kFresh>
void MemchrLines(benchmark::State& state, const std::string& data) {
  int64_t ops = 0;
  std::string reused;
  for (auto _ : state) {
    const char* p = data.data();
    const char* const end = p + data.size();
    while (p < end) {
      const void* newline = std::memchr(p, '\n', end - p);
      const char* next =
          newline == nullptr ? end : static_cast<const char*>(newline) + 1;
      if constexpr (kFresh) {
        std::string line(p, next);
        benchmark::DoNotOptimize(line.data());
      } else {
        reused.assign(p, next);
        benchmark::DoNotOptimize(reused.data());
      }
      p = next;
      ++ops;
    }
  }
  ReportPerOp(state, "line", ops,
              static_cast<int64_t>(state.iterations() * data.size()));
}

// The fresh-string splitter, each line returned by a nested
// `asio::awaitable<absl::StatusOr<std::string>>` that does not suspend,
// co_awaited from a coroutine: the least an awaited copying read costs in
// Asio 1.81 (its coroutine frame, pumped twice, and the result moved through
// it), shown to tell Asio's share of ReadLine's cost from ours.
asio::awaitable<absl::StatusOr<std::string>> NextLine(const char*& p,
                                                      const char* end) {
  const void* newline = std::memchr(p, '\n', end - p);
  const char* const start = p;
  p = newline == nullptr ? end : static_cast<const char*>(newline) + 1;
  co_return std::string(start, p);
}

void AwaitedMemchrLines(benchmark::State& state, const std::string& data) {
  int64_t ops = 0;
  for (auto _ : state) {
    asio::io_context context;
    asio::co_spawn(
        context,
        [&]() -> asio::awaitable<void> {
          const char* p = data.data();
          const char* const end = p + data.size();
          while (p < end) {
            absl::StatusOr<std::string> line = co_await NextLine(p, end);
            benchmark::DoNotOptimize(line->data());
            ++ops;
          }
        },
        asio::detached);
    context.run();
  }
  ReportPerOp(state, "line", ops,
              static_cast<int64_t>(state.iterations() * data.size()));
}

// memcpy in 64 KiB pieces into one buffer: Read(65536)'s physical limit.
void Memcpy64KiB(benchmark::State& state, const std::string& data) {
  int64_t ops = 0;
  auto destination = std::make_unique<char[]>(kChunk);
  for (auto _ : state) {
    for (size_t offset = 0; offset < data.size(); offset += kChunk) {
      const size_t n = std::min<size_t>(kChunk, data.size() - offset);
      std::memcpy(destination.get(), data.data() + offset, n);
      benchmark::DoNotOptimize(destination.get());
      benchmark::ClobberMemory();
      ++ops;
    }
  }
  ReportPerOp(state, "read", ops,
              static_cast<int64_t>(state.iterations() * data.size()));
}

// A minimal synchronous reader: one std::string and a read offset; consumed
// bytes are dropped only when they are at least half the buffer, so each
// byte moves at most about once.
class OffsetReader {
 public:
  void Feed(absl::string_view data) {
    if (offset_ == buffer_.size()) {
      buffer_.clear();
      offset_ = 0;
    } else if (offset_ >= buffer_.size() / 2) {
      buffer_.erase(0, offset_);
      offset_ = 0;
    }
    buffer_.append(data.data(), data.size());
  }

  std::optional<std::string> ReadUntil(absl::string_view separator) {
    const size_t found = absl::string_view(buffer_).find(separator, offset_);
    if (found == absl::string_view::npos) return std::nullopt;
    return Take(found + separator.size() - offset_);
  }

  std::optional<std::string> ReadExactly(size_t n) {
    if (buffer_.size() - offset_ < n) return std::nullopt;
    return Take(n);
  }

 private:
  std::string Take(size_t n) {
    std::string out(buffer_, offset_, n);
    offset_ += n;
    return out;
  }

  std::string buffer_;
  size_t offset_ = 0;
};

// The offset reader over the same 64 KiB chunks as the library cases.
template <typename Read>
void OffsetReaderCase(benchmark::State& state, const std::string& data,
                      Read read, absl::string_view unit) {
  int64_t ops = 0;
  for (auto _ : state) {
    OffsetReader reader;
    for (size_t offset = 0; offset < data.size(); offset += kChunk) {
      reader.Feed(absl::string_view(data).substr(offset, kChunk));
      while (std::optional<std::string> record = read(reader)) {
        benchmark::DoNotOptimize(record->data());
        ++ops;
      }
    }
  }
  ReportPerOp(state, unit, ops,
              static_cast<int64_t>(state.iterations() * data.size()));
}

// An in-memory SyncReadStream delivering at most 64 KiB per read_some, as a
// socket would.
class MemoryStream {
 public:
  explicit MemoryStream(absl::string_view data) : data_(data) {}

  template <typename MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers,
                   boost::system::error_code& error) {
    if (data_.empty()) {
      error = asio::error::eof;
      return 0;
    }
    error = {};
    const size_t n = asio::buffer_copy(
        buffers,
        asio::buffer(data_.data(), std::min<size_t>(kChunk, data_.size())));
    data_.remove_prefix(n);
    return n;
  }

  template <typename MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code error;
    const size_t n = read_some(buffers, error);
    if (error) throw boost::system::system_error(error);
    return n;
  }

 private:
  absl::string_view data_;
};

// asio::read_until over a dynamic_buffer bounded at 64 KiB (the reader's
// limit), each result copied into a fresh string, then consumed: how plain
// Asio code reads delimited records.
template <typename Delimiter>
void AsioReadUntil(benchmark::State& state, const std::string& data,
                   Delimiter delimiter, absl::string_view unit) {
  int64_t ops = 0;
  for (auto _ : state) {
    MemoryStream stream(data);
    std::string storage;
    auto buffer = asio::dynamic_buffer(storage, kChunk);
    while (true) {
      boost::system::error_code error;
      const size_t n = asio::read_until(stream, buffer, delimiter, error);
      if (error) break;
      std::string record(storage.data(), n);
      benchmark::DoNotOptimize(record.data());
      buffer.consume(n);
      ++ops;
    }
  }
  ReportPerOp(state, unit, ops,
              static_cast<int64_t>(state.iterations() * data.size()));
}

// ---------------------------------------------------------------------------
// Registration.
// ---------------------------------------------------------------------------

// Each case builds its data (cached per process) before its timed loop, so
// a filtered run builds only what it needs.
template <typename Fn>
void Register(const std::string& name, Fn fn) {
  benchmark::RegisterBenchmark(name.c_str(), fn)->Unit(benchmark::kMillisecond);
}

template <typename Data, typename Op>
void RegisterThreeWays(const std::string& family, Data data, Op op,
                       int64_t record, const std::string& unit) {
  const std::pair<Way, const char*> ways[] = {
      {Way::kDeferred, "deferred"},
      {Way::kUseAwaitable, "use_awaitable"},
      {Way::kCallback, "callback"}};
  for (const auto& [way, name] : ways) {
    Register(absl::StrCat(family, "/streams/", name),
             [data, op, way = way, record, unit](benchmark::State& state) {
               StreamCase(state, data(), op, way, record, unit);
             });
  }
}

void RegisterAll(const Sizes& sizes) {
  const int64_t stream = sizes.stream_bytes;
  for (const int64_t line_size : {100, 10}) {
    const std::string family = absl::StrCat("lines", line_size);
    auto data = [line_size, stream]() -> const std::string& {
      return LineData(line_size, stream);
    };
    RegisterThreeWays(family, data, ReadLineOp{}, line_size, "line");
    Register(family + "/streams/view", [data,
                                        line_size](benchmark::State& state) {
      StreamCase(state, data(), ReadLineOp{}, Way::kView, line_size, "line");
    });
    Register(
        family + "/anchor/memchr_fresh_string",
        [data](benchmark::State& state) { MemchrLines<true>(state, data()); });
    Register(
        family + "/anchor/memchr_reused_string",
        [data](benchmark::State& state) { MemchrLines<false>(state, data()); });
    Register(
        family + "/anchor/awaited_memchr_fresh_string",
        [data](benchmark::State& state) { AwaitedMemchrLines(state, data()); });
    Register(family + "/anchor/asio_read_until",
             [data](benchmark::State& state) {
               AsioReadUntil(state, data(), '\n', "line");
             });
  }

  auto lines100 = [stream]() -> const std::string& {
    return LineData(100, stream);
  };
  RegisterThreeWays("exactly100", lines100, ReadExactlyOp{100}, 100, "read");
  Register("exactly100/anchor/offset_reader", [lines100](
                                                  benchmark::State& state) {
    OffsetReaderCase(
        state, lines100(),
        [](OffsetReader& reader) { return reader.ReadExactly(100); }, "read");
  });

  const int64_t bulk = sizes.bulk_bytes;
  Register("read65536/streams/deferred", [bulk](benchmark::State& state) {
    StreamCase(state, BulkData(bulk), ReadOp{65536}, Way::kDeferred, 1, "read");
  });
  Register("read65536/anchor/memcpy_64KiB", [bulk](benchmark::State& state) {
    Memcpy64KiB(state, BulkData(bulk));
  });

  Register("readuntil1k/streams/deferred", [stream](benchmark::State& state) {
    StreamCase(state, RecordData(stream), ReadUntilOp{}, Way::kDeferred,
               kRecordSize, "record");
  });
  Register("readuntil1k/anchor/offset_reader", [stream](
                                                   benchmark::State& state) {
    OffsetReaderCase(
        state, RecordData(stream),
        [](OffsetReader& reader) { return reader.ReadUntil(kRecordSeparator); },
        "record");
  });
  Register("readuntil1k/anchor/asio_read_until",
           [stream](benchmark::State& state) {
             AsioReadUntil(state, RecordData(stream),
                           std::string(kRecordSeparator), "record");
           });

  for (const int64_t size : sizes.big_bytes) {
    Register(absl::StrCat("bigbuffer/streams/", size / kKiB, "KiB"),
             [size](benchmark::State& state) {
               BigBufferCase(state, LineData(100, size));
             });
  }
}

bool ParseKiB(absl::string_view text, int64_t& bytes) {
  int64_t kib = 0;
  if (!absl::SimpleAtoi(text, &kib) || kib <= 0) return false;
  bytes = kib * kKiB;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);  // Takes out the --benchmark_* flags.
  Sizes sizes;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    bool ok = false;
    if (absl::ConsumePrefix(&arg, "--stream_kib=")) {
      ok = ParseKiB(arg, sizes.stream_bytes);
    } else if (absl::ConsumePrefix(&arg, "--bulk_kib=")) {
      ok = ParseKiB(arg, sizes.bulk_bytes);
    } else if (absl::ConsumePrefix(&arg, "--big_kib=")) {
      sizes.big_bytes.clear();
      ok = true;
      for (absl::string_view item : absl::StrSplit(arg, ',')) {
        int64_t bytes = 0;
        ok = ok && ParseKiB(item, bytes);
        sizes.big_bytes.push_back(bytes);
      }
    }
    if (!ok) {
      std::fprintf(stderr,
                   "%s: unknown or bad argument '%s'; flags: --stream_kib=N "
                   "--bulk_kib=N --big_kib=N,N,... and --benchmark_*\n",
                   argv[0], argv[i]);
      return 2;
    }
  }
  RegisterAll(sizes);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
