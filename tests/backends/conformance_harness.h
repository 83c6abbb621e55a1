#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/backend_client.h"
#include "ir/dtype.h"
#include "ir/shape.h"

namespace kiln::backends::testing {

// The passes a conformance graph goes through: no fusion, so each op of
// the graph is the kernel under test.
inline constexpr const char* kConformancePipeline = "infer-shapes,dce,plan-memory,schedule";

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

// One conformance case: the smallest graph in the text IR that exercises
// an op, and the step it runs.
struct OpCase {
  std::string name;  // a gtest name: matmul_transpose_b_f16_weights
  std::string graph;
  ir::SymbolValues step;
  Tolerance tolerance;
  double input_range = 1.0;  // floats are drawn uniformly from [-range, range)
  int32_t id_limit = 0;      // i32 values are drawn from [0, id_limit)
};

// Results by name: each graph output, and each state after the run as
// "state:<name>".
using Results = std::map<std::string, HostTensor>;

struct CaseRun {
  Results backend;
  Results reference;
};

// Draws the case's inputs, weights and initial states (the same values
// every time), runs the graph on `backend` after kConformancePipeline, and
// has numpy_reference.py compute the same from the same values, exchanged
// as .npy files in `work_dir`.
absl::StatusOr<CaseRun> run_case(const Backend& backend, const OpCase& op_case, const std::string& work_dir);

// "" when `got` matches `want` within `tolerance`, else a description of
// the worst element.
std::string compare(const HostTensor& got, const HostTensor& want, Tolerance tolerance);

}  // namespace kiln::backends::testing
