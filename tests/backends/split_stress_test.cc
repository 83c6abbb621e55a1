// The split kernels' "last workgroup combines" protocol, over and over: a
// row or a KV cache is split across workgroups, each writes its partial
// result to the dispatch's scratch and counts itself done on a counter
// there, and the last to count combines the partials and zeroes the
// counter for the next step (kernels/vulkan/top_k_split.comp,
// attention_split.comp, kernels/opencl/top_k_split.cl).
//
// Which workgroup combines depends on the order they finish in, so a fault
// may show only now and then: a missed fence, a counter not reset, or (seen
// on lavapipe) a combining workgroup that runs past the driver's loop
// budget only when it is one of the long ones. Each case is compiled afresh
// (a zero-filled counter) and run for several steps (the counter the last
// step's combiner reset), KILN_SPLIT_STRESS_REPEATS times (default 3).
// To hunt a race, run hundreds under CPU load (busy loops beside it), on
// lavapipe with LP_NUM_THREADS=4 too (every slice at once, so any of them
// may finish last). Every step is compared with numpy_reference.py, and the
// Vulkan validation layer is on, as in the conformance test.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/backends/conformance_harness.h"

namespace kiln::backends::testing {
namespace {

struct StressCase {
  std::string backend;
  std::string variant;  // forced for op_case.op
  OpCase op_case;
};

// gtest prints a case by its name, not its bytes.
void PrintTo(const StressCase& c, std::ostream* out) { *out << c.backend << "_" << c.op_case.name; }

std::vector<ir::SymbolValues> repeated(ir::SymbolValues step, int count) { return std::vector(count, step); }

std::vector<StressCase> stress_cases() {
  // k = the whole row, past a slice (1024 logits): three lists of 1024,
  // 1024 and 452 candidates merged into 2,500 outputs. Lavapipe cut this
  // merge short (loop budget) about 3% of runs under load, when a full
  // slice's workgroup merged rather than the short one's.
  const OpCase whole_row = {.name = "stress_top_k_whole_row_2500", .op = "top_k", .graph = R"(input %logits : f32[1, 2500]
input %recent : i32[31]
%ids, %values = top_k(%logits, %recent) {k = 2500, penalty = 2.0}
output %ids, %values)", .steps = repeated({}, 4), .input_range = 2.0, .quantum = 0.25, .special_every = 3,
                            .id_min = -1, .id_limit = 2500};
  // A vocabulary: 126 workgroups on one counter.
  const OpCase vocabulary = {.name = "stress_top_k_vocab_128256", .op = "top_k", .graph = R"(symbol T <= 1
input %logits : f32[T, 128256]
input %recent : i32[64]
%ids, %values = top_k(%logits, %recent) {k = 40, penalty = 1.5}
output %ids, %values)", .steps = repeated({{"T", 1}}, 4), .input_range = 10.0, .id_min = -1, .id_limit = 128256};
  // Seven full slices and a short one, k past a slice.
  const OpCase long_k = {.name = "stress_top_k_7300_k2000", .op = "top_k", .graph = R"(input %logits : f32[1, 7300]
%ids, %values = top_k(%logits) {k = 2000}
output %ids, %values)", .steps = repeated({}, 3), .input_range = 4.0, .quantum = 0.5};
  // Decode over a growing cache: 32 blocks of 32 rows per (row, kv head)
  // at the end, each (row, kv head) with its own counter.
  const OpCase attention = {.name = "stress_attention_decode_1024", .op = "attention", .graph = R"(symbol P <= 1023
symbol T <= 1
input %q : f32[T, 8, 16]
input %k : f32[T, 2, 16]
input %v : f32[T, 2, 16]
state %kc : f16[1024, 2, 16]
state %vc : f16[1024, 2, 16]
%kc2 = kv_write(%kc, %k)
%vc2 = kv_write(%vc, %v)
%o = attention(%q, %kc2, %vc2)
output %o)", .steps = {{{"P", 0}, {"T", 1}}, {{"P", 1}, {"T", 1}}, {{"P", 40}, {"T", 1}}, {{"P", 511}, {"T", 1}},
                       {{"P", 1000}, {"T", 1}}, {{"P", 1023}, {"T", 1}}},
                            .tolerance = {2e-5, 1e-5}, .input_range = 2.0};
  return {{"vulkan", "split", whole_row},   {"vulkan", "split", vocabulary}, {"vulkan", "split", long_k},
          {"vulkan", "split", attention},   {"opencl", "split", whole_row},  {"opencl", "split", vocabulary},
          {"opencl", "split", long_k}};
}

// Each result's mismatching elements: how many, the first and last few.
std::string describe(const Results& got, const Results& want) {
  std::string text;
  for (const auto& [name, expected] : want) {
    auto it = got.find(name);
    if (it == got.end() || it->second.elements() != expected.elements()) continue;
    std::vector<int64_t> wrong;
    for (int64_t i = 0; i < expected.elements(); ++i) {
      const double a = it->second.value(i), b = expected.value(i);
      if (!(a == b || (std::isnan(a) && std::isnan(b)))) wrong.push_back(i);
    }
    if (wrong.empty()) continue;
    absl::StrAppend(&text, "\n", name, ": ", wrong.size(), " of ", expected.elements(), " wrong:");
    for (size_t j = 0; j < wrong.size(); ++j) {
      if (j >= 6 && j + 6 < wrong.size()) continue;
      absl::StrAppend(&text, " [", wrong[j], "] ", it->second.value(wrong[j]), " (want ", expected.value(wrong[j]), ")");
    }
  }
  return text;
}

int repeats() {
  const char* text = std::getenv("KILN_SPLIT_STRESS_REPEATS");
  return text == nullptr ? 3 : std::max(1, std::atoi(text));
}

class SplitStressTest : public ::testing::TestWithParam<StressCase> {};

TEST_P(SplitStressTest, EveryRepeatMatchesNumPy) {
  const StressCase& c = GetParam();
  absl::StatusOr<Backend> backend = open_conformance_backend(c.backend);
  if (!backend.ok()) GTEST_SKIP() << "backend '" << c.backend << "' is not usable here: " << backend.status();
  absl::StatusOr<Results> want = reference_results(c.op_case);
  ASSERT_TRUE(want.ok()) << want.status();
  const int count = repeats();
  int failures = 0;
  for (int r = 0; r < count; ++r) {
    absl::StatusOr<BackendRun> run = run_on_backend(*backend, c.op_case, kConformancePipeline, {{c.op_case.op, c.variant}});
    ASSERT_TRUE(run.ok()) << "repeat " << r << ": " << run.status();
    if (r == 0) {
      ASSERT_EQ(run->program.dispatches.back().variant, c.variant);
    }
    if (absl::Status s = compare_results(run->results, *want, c.op_case.tolerance); !s.ok()) {
      if (++failures <= 5) ADD_FAILURE() << "repeat " << r << " of " << count << ": " << s << describe(run->results, *want);
    }
  }
  EXPECT_EQ(failures, 0) << failures << " of " << count << " repeats failed";
}

INSTANTIATE_TEST_SUITE_P(Split, SplitStressTest, ::testing::ValuesIn(stress_cases()),
                         [](const ::testing::TestParamInfo<StressCase>& info) {
                           return absl::StrCat(info.param.backend, "_", info.param.op_case.name);
                         });

}  // namespace
}  // namespace kiln::backends::testing
