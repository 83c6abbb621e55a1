#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "program/program.h"
#include "program/step.h"

namespace kiln::backends::opencl_testing {

// The OpenCL plugin, loaded straight from the build tree (KILN_OPENCL_PLUGIN)
// through its C ABI, with no registry in between.
const kiln_backend_api* plugin_api();

// Why the plugin cannot run here (no library, no platform), or "" when it can.
std::string unavailable_reason();

// The program cache the tests share, under the build tree, so each (kernel,
// options) is compiled once per build directory, not once per test run.
std::string test_cache_dir();

// A hand-built Program: tensors placed in the arena, the state or one weight
// chunk at aligned offsets planned for the slots' bounds, then dispatches
// over them.
class ProgramBuilder {
 public:
  ProgramBuilder();

  // A given slot ("T", "P") with its bound; returns its index.
  int32_t slot(const std::string& name, int64_t bound);
  // A derived slot: the sum of given slots ("P+T").
  int32_t derived_slot(const std::string& name, const std::vector<std::string>& terms);
  program::Dim dim(int64_t value) const { return program::Dim::fixed(value); }
  program::Dim dim(const std::string& slot) const;

  program::TensorRef arena(program::DType dtype, program::Shape shape);
  program::TensorRef state(const std::string& name, program::DType dtype, program::Shape shape);
  program::TensorRef weight(const std::string& name, program::DType dtype, std::vector<int64_t> shape);
  void input(const std::string& name, const program::TensorRef& ref);
  void output(const std::string& name, const program::TensorRef& ref);

  // A dispatch; |step_params| maps a parameter to a slot name.
  void dispatch(const std::string& kernel, const std::string& variant, std::vector<program::Constant> constants,
                std::vector<program::TensorRef> inputs, std::vector<program::TensorRef> outputs,
                std::map<std::string, std::string> step_params = {});

  program::Program& program() { return program_; }
  const program::Program& program() const { return program_; }
  std::string json() const;

 private:
  int64_t place(int64_t& end, const program::TensorRef& ref) const;

  program::Program program_;
};

program::Constant int_constant(const std::string& name, int64_t value);
program::Constant bool_constant(const std::string& name, bool value);
program::Constant real_constant(const std::string& name, double value);

// Deterministic values in [-range, range).
std::vector<float> random_floats(size_t count, uint32_t seed, float range = 1.0f);
std::vector<uint8_t> encode(program::DType dtype, const std::vector<float>& values);
std::vector<float> decode(program::DType dtype, const std::vector<uint8_t>& bytes);
// Values as the dtype stores them (f16 and bf16 rounded).
std::vector<float> rounded(program::DType dtype, const std::vector<float>& values);

// One device with the test cache, and a Program compiled, given weights and
// state, bound and run.
class OpenclRun {
 public:
  explicit OpenclRun(int32_t profile = 0, std::string cache_dir = test_cache_dir());
  ~OpenclRun();
  OpenclRun(const OpenclRun&) = delete;
  OpenclRun& operator=(const OpenclRun&) = delete;

  // Compiles the builder's Program and binds weights (from |weights|, by
  // weight index) and state.
  absl::Status compile(const ProgramBuilder& builder, const std::vector<std::vector<uint8_t>>& weights = {});
  // One step: given slot values, each input's bytes (by input index), every
  // output read whole at this step.
  absl::StatusOr<std::vector<std::vector<uint8_t>>> run(const std::vector<int64_t>& values,
                                                       const std::vector<std::vector<uint8_t>>& inputs);
  absl::StatusOr<std::vector<uint8_t>> read_state(uint64_t offset, uint64_t bytes);
  kiln_counters counters() const;

  const kiln_backend_api& api() const { return *api_; }
  kiln_device* device() const { return device_; }
  kiln_executable* executable() const { return executable_; }

 private:
  const kiln_backend_api* api_;
  kiln_device* device_ = nullptr;
  kiln_executable* executable_ = nullptr;
  kiln_weights* weights_ = nullptr;
  kiln_state* state_ = nullptr;
  program::Program program_;
};

// The status an ABI call returned.
absl::Status status_of(int32_t code, const kiln_error& error);

}  // namespace kiln::backends::opencl_testing

// Ends the test with a skip when the plugin cannot run here, unless
// KILN_REQUIRE_BACKENDS names opencl (then it fails).
#define KILN_REQUIRE_OPENCL()                                                                  \
  do {                                                                                         \
    const std::string reason = ::kiln::backends::opencl_testing::unavailable_reason();         \
    if (!reason.empty()) {                                                                     \
      const char* required = std::getenv("KILN_REQUIRE_BACKENDS");                             \
      if (required != nullptr && std::string(required).find("opencl") != std::string::npos) {  \
        FAIL() << reason;                                                                      \
      }                                                                                        \
      GTEST_SKIP() << reason;                                                                  \
    }                                                                                          \
  } while (0)
