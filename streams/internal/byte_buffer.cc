#include "streams/internal/byte_buffer.h"

#include <algorithm>
#include <utility>

namespace streams::internal {

std::string ByteBuffer::Take(size_t n) {
  n = std::min(n, size());
  if (n == data_.size()) {  // start_ == 0 and everything goes: no copy.
    std::string all = std::move(data_);
    Clear();
    return all;
  }
  std::string taken(data_, start_, n);
  Consume(n);
  return taken;
}

void ByteBuffer::Discard(size_t n) { Consume(std::min(n, size())); }

void ByteBuffer::Consume(size_t n) {
  start_ += n;
  if (start_ == data_.size()) Clear();
}

void ByteBuffer::Compact() {
  bytes_moved_ += size();
  data_.erase(0, start_);
  start_ = 0;
}

}  // namespace streams::internal
