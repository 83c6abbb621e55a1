#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "program/program.h"

namespace kiln::backends::opencl {

// How one dispatch's kernel is built: its build options (docs/opencl.md)
// and the step slots its four step arguments s0..s3 carry.
struct DispatchBuild {
  std::string options;
  std::vector<int32_t> step_slots;  // s<i> holds the value of slot step_slots[i]
};

// The options of dispatch |index|, launched with |workgroup| work-items per
// group and built as OpenCL C |cl_std| ("CL1.2"; a subgroup kernel: the
// device's subgroup version): the OpenCL C flags, then -D defines for the
// tensor counts, each tensor's dtype and extents, every constant
// (upper-cased name, value) and step parameter (upper-cased name, its step
// argument), and WG. Nothing in them depends on the op: the kernel reads
// what it needs. Fails, naming the dispatch, when it has more tensors or
// step slots than the argument list carries.
absl::StatusOr<DispatchBuild> dispatch_build(const program::Program& program, size_t index, uint32_t workgroup,
                                             std::string_view cl_std);

// The most inputs, outputs and step arguments a kernel takes (prelude.cl).
inline constexpr size_t kMaxInputs = 10;
inline constexpr size_t kMaxOutputs = 3;
inline constexpr size_t kStepArguments = 4;

}  // namespace kiln::backends::opencl
