#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <vulkan/vulkan.h>

#include "absl/status/statusor.h"
#include "backends/vulkan/spirv_reflect.h"
#include "program/program.h"

namespace kiln::backends::vulkan {

// What the device contributes to a kernel's constants.
struct DeviceConstants {
  uint32_t subgroup_size = 0;        // 0: no subgroup arithmetic
  bool cooperative_matrix = false;   // VK_NV_cooperative_matrix enabled, 16 x 16 x 16 f16 -> f32
};

// The values of one pipeline's specialisation constants: entry i gives
// shader constant i its 4 bytes at data[i].
struct Specialization {
  std::vector<VkSpecializationMapEntry> entries;
  std::vector<uint32_t> data;
  uint32_t wg_size = 0;  // the workgroup size in effect
};

// Gives each constant |shader| declares its value for dispatch |index| of
// |program|, by name (docs/vulkan.md, "Constants"):
//   - a Program constant of that name (attributes and derived parameters);
//   - "<param>_slot": the step slot of step parameter <param>, -1 when
//     <param> is a static constant;
//   - "in<i>_<what>" / "out<j>_<what>" from operand i's (output j's)
//     TensorRef: dtype, rank, cols (last dim), rows (the leading dims'
//     product), d<k> (dim k), r<k> (dim k from the end, r1 the last);
//     an extent's "_slot" twin names the step slot it multiplies;
//   - a step parameter <param> whose "<param>_slot" the shader declares
//     too (an EXTENT): 1, its factor;
//   - "<list><k>" past the end of a list the dispatch has entry 0 of
//     (transpose's perm<k> past its rank, concat's width<i> past its
//     inputs): the shader's default;
//   - num_inputs, slot_P and subgroup_size from the dispatch, the Program
//     and the device;
//   - names starting "wg_" keep the shader's default (the kernel's own
//     workgroup shape).
// Any other name is an error naming the kernel, the dispatch and the
// constant, so a renamed Program constant never silently takes a default.
absl::StatusOr<Specialization> specialise(const std::vector<SpecConstant>& shader, const program::Program& program,
                                          size_t index, const DeviceConstants& device);

}  // namespace kiln::backends::vulkan
