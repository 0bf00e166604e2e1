#include "streams/internal/byte_buffer.h"

#include <algorithm>
#include <utility>

namespace streams::internal {

std::string ByteBuffer::TakeAll() {
  std::string all = std::move(data_);
  Clear();
  return all;
}

void ByteBuffer::Discard(size_t n) { Consume(std::min(n, size())); }

void ByteBuffer::Append(absl::string_view bytes) {
  if (start_ != 0) {
    if (start_ >= size()) {
      Compact();
    } else if (data_.size() + bytes.size() > data_.capacity()) {
      Regrow(bytes.size());
    }
  }
  data_.append(bytes.data(), bytes.size());
}

void ByteBuffer::Regrow(size_t extra) {
  std::string grown;
  grown.reserve(std::max(2 * data_.capacity(), size() + extra));
  grown.append(data_, start_, std::string::npos);
  data_.swap(grown);
  start_ = 0;
}

void ByteBuffer::Compact() {
  bytes_moved_ += size();
  data_.erase(0, start_);
  start_ = 0;
}

}  // namespace streams::internal
