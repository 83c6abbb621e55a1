#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "backends/backend_client.h"
#include "gtest/gtest.h"

namespace kiln::backends::testing {

// Whether a test must fail, rather than skip, when backend `name` cannot be
// opened: when KILN_REQUIRE_BACKENDS names it, and always for cpu, which is
// built with the tests.
bool must_open(const std::string& name);

// Backend::open(name), after pointing KILN_PLUGIN_PATH at the build's
// plugins when the test runs outside ctest.
absl::StatusOr<Backend> open_backend(const std::string& name);

}  // namespace kiln::backends::testing

// Declares `Backend var` opened on backend `name`, or ends the test: a
// failure when the backend is required, a skip that says why otherwise.
#define KILN_OPEN_BACKEND_OR_SKIP(var, name)                                                        \
  absl::StatusOr<::kiln::backends::Backend> var##_or = ::kiln::backends::testing::open_backend(name); \
  if (!var##_or.ok()) {                                                                              \
    if (::kiln::backends::testing::must_open(name)) FAIL() << var##_or.status();                     \
    GTEST_SKIP() << "backend '" << (name) << "' is not usable here: " << var##_or.status();          \
  }                                                                                                  \
  ::kiln::backends::Backend& var = *var##_or
