// -----------------------------------------------------------------------------
// File: byte_view.h
// -----------------------------------------------------------------------------
//
// ByteView: the parameter type wherever bytes go into //streams
// (StreamReader::FeedData(), StreamWriter::Write(), Transport::Write(),
// Protocol::DataReceived(), readuntil's separator). It borrows the bytes for
// the call, like a string_view, and converts implicitly from everything a
// caller holds bytes in:
//
//   std::string_view  absl::string_view  std::string  "literals"  char*
//
// Why a type of our own: Debian's Abseil (20220623, ABSL_OPTION_USE_STD_
// STRING_VIEW 0) has its own absl::string_view, which does not convert from
// std::string_view, so an absl::string_view parameter refuses a
// std::string_view argument. Two overloads (std:: and absl::) would be
// ambiguous for a string literal with Debian's Abseil and a redefinition with
// an upstream Abseil where the two types are the same. One constructor
// template, constrained on what converts to either view, has neither problem.
//
// A ByteView never owns: an operation that must keep the bytes past the call
// (a waiting readuntil's separator, a transport's write buffer) copies them.

#ifndef STREAMS_BYTE_VIEW_H_
#define STREAMS_BYTE_VIEW_H_

#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace streams {

// Anything a ByteView is made from: it converts to std::string_view or to
// absl::string_view (std::string, both views, character arrays and pointers).
template <typename T>
concept ByteSource = std::convertible_to<const T&, std::string_view> ||
    std::convertible_to<const T&, absl::string_view>;

class ByteView {
 public:
  constexpr ByteView() = default;

  template <ByteSource T>
  constexpr ByteView(const T& bytes) {  // NOLINT: implicit, as a string_view
    if constexpr (std::convertible_to<const T&, std::string_view>) {
      const std::string_view view = bytes;
      data_ = view.data();
      size_ = view.size();
    } else {
      const absl::string_view view = bytes;
      data_ = view.data();
      size_ = view.size();
    }
  }

  constexpr ByteView(const char* data, size_t size)
      : data_(data), size_(size) {}

  constexpr const char* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr const char* begin() const { return data_; }
  constexpr const char* end() const { return data_ + size_; }

  // The bytes as either view, for code below the API (which speaks
  // absl::string_view), and as an owned copy. The absl:: conversion is a
  // template so that it vanishes where absl::string_view is std::string_view.
  constexpr operator std::string_view() const {  // NOLINT: implicit by design
    return {data_, size_};
  }
  template <typename View>
  requires(std::same_as<View, absl::string_view> &&
           !std::same_as<absl::string_view, std::string_view>) constexpr
  operator View() const {  // NOLINT: implicit by design
    return View(data_, size_);
  }
  std::string ToString() const { return std::string(data_, size_); }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace streams

#endif  // STREAMS_BYTE_VIEW_H_
