#pragma once

#include <cstdint>
#include <span>

#include "backends/support/kernel_table.h"
#include "program/program.h"
#include "program/step.h"

namespace kiln::kernels::vulkan {

// What a kernel's grid reads of one dispatch. Grids are sized for every
// step slot at its bound; a kernel returns early past this step's extents
// (docs/vulkan.md, "Symbolic extents").
struct GridContext {
  const program::Dispatch& dispatch;
  const program::StepValues& bound;
  uint32_t wg_size;        // the pipeline's workgroup size (its wg_size constant)
  uint32_t subgroup_size;  // the device's subgroup size; 0 without subgroups
};

// Workgroups to launch; the plugin folds a count past the device's x limit
// into y, and kernels read their flat index through group_index().
using GridFn = uint64_t (*)(const GridContext& context);

struct Kernel {
  std::span<const uint32_t> spirv;  // validated SPIR-V, one entry point "main"
  GridFn grid;
  bool needs_subgroups = false;  // reads the device's subgroup_size
  // Bytes of scratch the kernel keeps between its workgroups and across
  // steps (pc.scratch), zero-filled once at compile; each dispatch gets its
  // own. Null: none.
  GridFn scratch = nullptr;
  bool needs_cooperative_matrix = false;  // GL_NV_cooperative_matrix, 16 x 16 x 16 f16 -> f32
};

using KernelRow = backends::support::KernelRow<Kernel>;

// Every Vulkan kernel, once, keyed by (op, variant): the file
// kernels/vulkan/{op}_{variant}.comp.
std::span<const KernelRow> kernel_table();

}  // namespace kiln::kernels::vulkan
