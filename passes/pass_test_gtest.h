#pragma once

#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "passes/pass_test.h"

namespace kiln::passes {

// gtest form of run_pass_case: fails with the case's message (which
// expectation, and the output graph).
inline testing::AssertionResult pass_case_holds(std::string_view case_text, const Target& target = {}) {
  absl::Status status = run_pass_case(case_text, target);
  if (status.ok()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << std::string(status.message());
}

}  // namespace kiln::passes

// EXPECT_PASS_CASE(R"(# run: dce ...)") and ASSERT_PASS_CASE(...): one line
// per text-IR pass test; an optional second argument is the Target.
#define EXPECT_PASS_CASE(...) EXPECT_TRUE(::kiln::passes::pass_case_holds(__VA_ARGS__))
#define ASSERT_PASS_CASE(...) ASSERT_TRUE(::kiln::passes::pass_case_holds(__VA_ARGS__))
