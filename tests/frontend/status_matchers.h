#pragma once

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace kiln::testing {

inline const absl::Status& status_of(const absl::Status& status) { return status; }

template <typename T>
const absl::Status& status_of(const absl::StatusOr<T>& result) {
  return result.status();
}

// Matches an absl::Status or absl::StatusOr<T> that succeeded.
MATCHER(IsOk, "is OK") {
  const absl::Status& status = status_of(arg);
  *result_listener << "status is " << status;
  return status.ok();
}

// Matches an absl::Status or absl::StatusOr<T> that failed with `code` and a
// message matching `message_matcher`.
MATCHER_P2(StatusIs, code, message_matcher,
           "fails with " + absl::StatusCodeToString(code) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  const absl::Status& status = status_of(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::Matches(message_matcher)(std::string(status.message()));
}

}  // namespace kiln::testing
