// -----------------------------------------------------------------------------
// File: testing/status_matchers.h
// -----------------------------------------------------------------------------
//
// A tiny set of gMock matchers for `absl::Status` and `absl::StatusOr<T>`
// (Abseil 20220623 ships none), plus one for the asyncio kind a status
// carries (errors.h).
//
// Example:
//
//   EXPECT_THAT(reader.FeedData("x"),
//               StatusIs(absl::StatusCode::kFailedPrecondition,
//                        "feed_data after feed_eof"));
//   EXPECT_THAT(line, IsOkAndHolds("line1\n"));
//   EXPECT_THAT(line.status(), ErrorKindIs(ErrorKind::kValueError));
//
// Each matcher accepts an `absl::Status` or any `absl::StatusOr<T>`.

#ifndef STREAMS_TESTING_STATUS_MATCHERS_H_
#define STREAMS_TESTING_STATUS_MATCHERS_H_

#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "streams/errors.h"

namespace streams::testing {
namespace internal_status {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}

template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// StatusIs(code) and StatusIs(code, message).
class StatusIsMatcher {
 public:
  StatusIsMatcher(absl::StatusCode code, std::optional<std::string> message)
      : code_(code), message_(std::move(message)) {}

  template <typename T>
  bool MatchAndExplain(const T& value,
                       ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(value);
    *listener << "whose status is " << status;
    if (status.code() != code_) return false;
    return !message_.has_value() || status.message() == *message_;
  }

  void DescribeTo(std::ostream* os) const {
    *os << "has status code " << absl::StatusCodeToString(code_);
    if (message_) *os << " and message \"" << *message_ << "\"";
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not have status code " << absl::StatusCodeToString(code_);
    if (message_) *os << " or message \"" << *message_ << "\"";
  }

 private:
  absl::StatusCode code_;
  std::optional<std::string> message_;
};

// ErrorKindIs(kind).
class ErrorKindIsMatcher {
 public:
  explicit ErrorKindIsMatcher(ErrorKind kind) : kind_(kind) {}

  template <typename T>
  bool MatchAndExplain(const T& value,
                       ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(value);
    std::optional<ErrorKind> kind = GetErrorKind(status);
    *listener << "whose status is " << status << " (kind "
              << (kind ? PythonName(*kind) : "none") << ")";
    return kind == kind_;
  }

  void DescribeTo(std::ostream* os) const {
    *os << "carries the asyncio kind " << PythonName(kind_);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not carry the asyncio kind " << PythonName(kind_);
  }

 private:
  ErrorKind kind_;
};

// IsOkAndHolds(matcher), for one StatusOr<T>.
template <typename StatusOrType, typename InnerMatcher>
class IsOkAndHoldsMatcherImpl
    : public ::testing::MatcherInterface<const StatusOrType&> {
 public:
  using Value = typename std::remove_cv_t<
      std::remove_reference_t<StatusOrType>>::value_type;

  explicit IsOkAndHoldsMatcherImpl(const InnerMatcher& inner)
      : inner_(::testing::SafeMatcherCast<const Value&>(inner)) {}

  void DescribeTo(std::ostream* os) const override {
    *os << "is OK and holds a value that ";
    inner_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is not OK or holds a value that ";
    inner_.DescribeNegationTo(os);
  }

  bool MatchAndExplain(
      const StatusOrType& value,
      ::testing::MatchResultListener* listener) const override {
    if (!value.ok()) {
      *listener << "which has status " << value.status();
      return false;
    }
    ::testing::StringMatchResultListener inner_listener;
    const bool matches = inner_.MatchAndExplain(*value, &inner_listener);
    *listener << "which holds " << ::testing::PrintToString(*value);
    if (!inner_listener.str().empty())
      *listener << ", " << inner_listener.str();
    return matches;
  }

 private:
  ::testing::Matcher<const Value&> inner_;
};

template <typename InnerMatcher>
class IsOkAndHoldsMatcher {
 public:
  explicit IsOkAndHoldsMatcher(InnerMatcher inner) : inner_(std::move(inner)) {}

  template <typename StatusOrType>
  operator ::testing::Matcher<StatusOrType>() const {  // NOLINT
    return ::testing::Matcher<StatusOrType>(
        new IsOkAndHoldsMatcherImpl<const StatusOrType&, InnerMatcher>(inner_));
  }

 private:
  InnerMatcher inner_;
};

}  // namespace internal_status

// StatusIs()
//
// Matches a status (or StatusOr) with `code`, and `message` verbatim when
// given.
inline ::testing::PolymorphicMatcher<internal_status::StatusIsMatcher> StatusIs(
    absl::StatusCode code) {
  return ::testing::MakePolymorphicMatcher(
      internal_status::StatusIsMatcher(code, std::nullopt));
}
inline ::testing::PolymorphicMatcher<internal_status::StatusIsMatcher> StatusIs(
    absl::StatusCode code, std::string message) {
  return ::testing::MakePolymorphicMatcher(
      internal_status::StatusIsMatcher(code, std::move(message)));
}

// IsOk()
//
// Matches an OK status (or StatusOr).
inline ::testing::PolymorphicMatcher<internal_status::StatusIsMatcher> IsOk() {
  return StatusIs(absl::StatusCode::kOk);
}

// IsOkAndHolds()
//
// Matches an OK StatusOr<T> whose value matches `inner`.
template <typename InnerMatcher>
internal_status::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>> IsOkAndHolds(
    InnerMatcher&& inner) {
  return internal_status::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>>(
      std::forward<InnerMatcher>(inner));
}

// ErrorKindIs()
//
// Matches a status (or StatusOr) carrying the asyncio kind `kind`.
inline ::testing::PolymorphicMatcher<internal_status::ErrorKindIsMatcher>
ErrorKindIs(ErrorKind kind) {
  return ::testing::MakePolymorphicMatcher(
      internal_status::ErrorKindIsMatcher(kind));
}

}  // namespace streams::testing

#endif  // STREAMS_TESTING_STATUS_MATCHERS_H_
