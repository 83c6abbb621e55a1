#pragma once

// The conformance harness, written once for every backend (STYLE.md §6):
// a case is the smallest graph in the text IR that exercises an op, run on a
// backend through the passes and the plugin ABI and compared with the NumPy
// reference (numpy_reference.py) or, for fusion, with the unfused graph on
// the cpu plugin. Backends and what each does not support yet live in
// conformance_backends.cc.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/backend_client.h"
#include "ir/dtype.h"
#include "ir/shape.h"
#include "program/program.h"

namespace kiln::backends::testing {

// The passes a conformance graph goes through: no fusion, so each op of the
// graph (fused ops are written in the graph) is the kernel under test.
inline constexpr const char* kConformancePipeline = "infer-shapes,dce,plan-memory,schedule,select-variants";
// The same with the target's fusion rules, for the equivalence cases.
inline constexpr const char* kFusedPipeline = "infer-shapes,fuse,dce,plan-memory,schedule,select-variants";

// One tensor's bytes in its dtype, row-major.
struct HostTensor {
  ir::DType dtype = ir::DType::f32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  int64_t elements() const;
  double value(int64_t i) const;
};

// A result passes where |got - want| <= atol + rtol * |want| everywhere.
struct Tolerance {
  double atol = 0.0;
  double rtol = 0.0;
};

// One conformance case. Values are drawn from the case's name, so every
// backend and every variant sees the same ones; the state starts zeroed.
struct OpCase {
  std::string name = {};  // a gtest name: matmul_decode_f16_weights
  std::string op = {};    // the op under test, whose variants `force` names
  std::string graph = {};  // text IR, or "file:PATH" for a .kir file
  // Run in order on one state, each from its own inputs: a first step can
  // fill the KV cache that a later one (P > 0) reads.
  std::vector<ir::SymbolValues> steps = {{}};
  Tolerance tolerance = {};
  // Variants of `op` to force, each on the backends that register it
  // (BackendUnderTest::variants), besides the variant table's own choice.
  std::vector<std::string> force = {};
  double input_range = 1.0;  // floats are drawn uniformly from [-range, range)
  double quantum = 0.0;      // > 0: floats are rounded to multiples of it, so values tie
  // > 0: every special_every-th float (from element 0) is NaN, +inf, -inf in
  // turn instead; results equal to the reference's NaN or inf match exactly.
  int64_t special_every = 0;
  int32_t id_min = 0;        // i32 values are drawn from [id_min, id_limit)
  int32_t id_limit = 0;
  // A fusion case (a fused_kernels list not empty) is compiled with
  // kFusedPipeline on the backend and compared with the unfused graph on the
  // cpu plugin; the fused Program must dispatch each kernel of the list for
  // its target that the backend's variant table has: fused_kernels on every
  // target, gpu_fused_kernels where the target runs workgroups (the decode
  // table's rules), cpu_fused_kernels where it does not.
  std::vector<std::string> fused_kernels = {};
  std::vector<std::string> gpu_fused_kernels = {};
  std::vector<std::string> cpu_fused_kernels = {};

  bool is_fusion() const {
    return !fused_kernels.empty() || !gpu_fused_kernels.empty() || !cpu_fused_kernels.empty();
  }
};

// Results by name: "<step>:<output>" for each graph output of each step,
// and "state:<name>" for each state after the last step.
using Results = std::map<std::string, HostTensor>;

struct BackendRun {
  program::Program program;
  Results results;
};

// A case the backend does not pass yet: `what` is a case name, an op (every
// case of that op) or either followed by "@variant" (only that forced
// variant).
struct Unsupported {
  std::string what;
  std::string why;
};

// A kernel variant, and what a device needs to run it: "" (any device),
// "subgroups" or "cooperative_matrix" (kiln_capabilities). Forced on a
// device without it, the test is skipped, saying so.
struct Variant {
  std::string name;
  std::string needs = {};
};

// One backend under test: one line of the table in conformance_backends.cc.
struct BackendUnderTest {
  std::string name;  // the plugin
  // op -> the variants its kernel table registers, for the ops that have
  // more than one: each is forced by name on every case that lists it.
  std::map<std::string, std::vector<Variant>> variants;
  std::vector<Unsupported> unsupported;

  // Why (test `op_case`, forced `variant` or "") is listed, or null.
  const Unsupported* find_unsupported(const OpCase& op_case, const std::string& variant) const;
};

const std::vector<BackendUnderTest>& backends_under_test();

// Backend::open(name) with the harness's options: the plugins found in the
// build tree, a program/pipeline cache under it (so PoCL and lavapipe build
// each kernel once per build directory), the Vulkan validation layer on
// (a validation message fails the entry that caused it). Opened once per
// process.
absl::StatusOr<Backend> open_conformance_backend(const std::string& name);

// The case's graph on `backend` after `pipeline`, with `force_variants`
// (op -> variant) given to select-variants.
absl::StatusOr<BackendRun> run_on_backend(const Backend& backend, const OpCase& op_case, const char* pipeline,
                                          const std::map<std::string, std::string>& force_variants = {});

// What numpy_reference.py computes for the case from the same values;
// computed once per case and process.
absl::StatusOr<Results> reference_results(const OpCase& op_case);

// The unfused graph on the cpu plugin; computed once per case and process.
absl::StatusOr<Results> cpu_unfused_results(const OpCase& op_case);

// One test: a case on a backend, with the variant table's choice (variant
// "") or with `variant` forced for the case's op.
struct ConformanceParam {
  const BackendUnderTest* backend = nullptr;
  const OpCase* op_case = nullptr;
  std::string variant;
};

// Every backend of the table × every case × (the table's choice, and each
// variant the case lists that the backend registers for its op).
std::vector<ConformanceParam> conformance_params(const std::vector<OpCase>& cases);
// "vulkan_matmul_decode" or "vulkan_matmul_decode_forced_gemv".
std::string param_name(const ConformanceParam& param);

// Runs one test in gtest: skips when the backend cannot be opened here
// (fails when it must be: backend_test_support.h), fails on a mismatch;
// a case the backend lists as unsupported is skipped while it fails and
// fails once it passes.
void run_conformance(const ConformanceParam& param);

// "" when `got` matches `want` within `tolerance` (an element equal to the
// reference's, NaN to NaN and inf to inf included, always matches), else a
// description of the worst element.
std::string compare(const HostTensor& got, const HostTensor& want, Tolerance tolerance);

// OK when every result of `want` is in `got` and matches within
// `tolerance`; else every mismatch, one per line.
absl::Status compare_results(const Results& got, const Results& want, Tolerance tolerance);

}  // namespace kiln::backends::testing
