// -----------------------------------------------------------------------------
// File: internal/byte_buffer.h
// -----------------------------------------------------------------------------
//
// The StreamReader's buffer: bytes appended at the back, consumed from the
// front in O(1) amortized time (like CPython's bytearray, which moves its start
// instead of its bytes). Consumed bytes stay in place until more bytes arrive
// while they outnumber the live ones; only then do the live bytes move to the
// front, once. So the total moved is at most the total consumed, and a reader
// that keeps up (each chunk read to its end before the next arrives, or with
// less than half of it left) moves little or nothing: an emptied buffer
// restarts at its front for free. `bytes_moved()` counts it, so tests can
// prove the bound without timing anything.

#ifndef STREAMS_INTERNAL_BYTE_BUFFER_H_
#define STREAMS_INTERNAL_BYTE_BUFFER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/base/attributes.h"
#include "absl/strings/string_view.h"

namespace streams::internal {

class ByteBuffer {
 public:
  size_t size() const { return data_.size() - start_; }
  bool empty() const { return size() == 0; }
  absl::string_view view() const {  // (not substr(): no range check)
    return absl::string_view(data_.data() + start_, data_.size() - start_);
  }

  void Append(absl::string_view bytes);

  // Removes and returns the first min(n, size()) bytes: one copy, into the
  // result (none when the whole buffer goes and nothing was consumed yet).
  // Inline, each branch returning a prvalue: the string is built where the
  // caller's result lives, without a move per level.
  std::string Take(size_t n) {
    n = std::min(n, size());
    if (n == data_.size()) return TakeAll();  // start_ == 0: no copy
    return TakeCopy(n);
  }

  // Removes the first min(n, size()) bytes.
  void Discard(size_t n);

  // Removes the first min(n, size()) bytes and leaves their storage as it
  // is until the next Append(), so a view of them stays valid until then
  // (zero-copy reads; Discard() may reset the storage).
  void DiscardKeepingStorage(size_t n) { start_ += std::min(n, size()); }

  void Clear() {
    data_.clear();
    start_ = 0;
  }

  // Offset of `needle` at or after `from`, or npos.
  size_t Find(absl::string_view needle, size_t from) const {
    if (needle.size() == 1) return FindByte(needle[0], from);
    return view().find(needle, from);
  }

  // Offset of `byte` at or after `from`, or npos: memchr, the fastest search
  // there is. Forced inline: it is readline's search, and a call around
  // memchr cost 35 instructions per line (callgrind).
  ABSL_ATTRIBUTE_ALWAYS_INLINE size_t FindByte(char byte, size_t from) const {
    const absl::string_view live = view();
    if (from >= live.size()) return absl::string_view::npos;
    const void* at = std::memchr(live.data() + from, byte, live.size() - from);
    return at == nullptr ? absl::string_view::npos
                         : static_cast<const char*>(at) - live.data();
  }

  // Bytes copied by compaction since construction.
  uint64_t bytes_moved() const { return bytes_moved_; }

 private:
  void Consume(size_t n) {
    start_ += n;
    if (start_ == data_.size()) Clear();
  }
  // Take() of everything, consumed nothing: the storage itself goes.
  std::string TakeAll();
  // Take() of n < data_.size() bytes (n <= size()).
  std::string TakeCopy(size_t n) {
    std::string taken(data_.data() + start_, n);
    Consume(n);
    return taken;
  }
  // Moves the live bytes to the front.
  void Compact();
  // Grows the storage for `extra` more bytes, keeping only the live bytes:
  // std::string's own growth would copy the consumed prefix too.
  void Regrow(size_t extra);

  std::string data_;
  size_t start_ = 0;  // data_[0, start_) is consumed
  uint64_t bytes_moved_ = 0;
};

}  // namespace streams::internal

#endif  // STREAMS_INTERNAL_BYTE_BUFFER_H_
