#include "streams/net/internal/write_buffer.h"

#include <string>

namespace streams::net::internal {

bool WriteBuffer::BeginWrite() {
  if (writing_ || pending_.empty()) return false;
  inflight_.swap(pending_);
  pending_.clear();
  offset_ = 0;
  writing_ = true;
  return true;
}

bool WriteBuffer::Sent(size_t n) {
  offset_ += n;
  if (offset_ < inflight_.size()) return false;
  inflight_.clear();
  offset_ = 0;
  writing_ = false;
  return true;
}

void WriteBuffer::Fail() {
  writing_ = false;
  inflight_.clear();
  offset_ = 0;
  pending_.clear();
}

void WriteBuffer::Release() {
  Fail();
  std::string().swap(pending_);
  std::string().swap(inflight_);
}

bool WriteBuffer::PauseNow(size_t high) {
  if (protocol_paused_ || size() <= high) return false;
  protocol_paused_ = true;
  return true;
}

bool WriteBuffer::ResumeNow(size_t low) {
  if (!protocol_paused_ || size() > low) return false;
  protocol_paused_ = false;
  return true;
}

}  // namespace streams::net::internal
