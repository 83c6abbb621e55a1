#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/support/kernel_table.h"
#include "program/program.h"

namespace kiln::kernels::opencl {

// A dispatch's tensors at one step: every extent evaluated; and, for a gemv
// kernel, the team it was built with (OpenclKernel::team, chosen once at
// compile), 1 for the others.
struct StepShapes {
  const program::Dispatch& dispatch;
  std::span<const std::vector<int64_t>> inputs;
  std::span<const std::vector<int64_t>> outputs;
  int64_t team = 1;
};

// How many work-groups of |workgroup| work-items cover a dispatch at one
// step. Each kernel's comment says what one work-group (or work-item) does;
// its group count says the same from the host's side.
using GroupCount = int64_t (*)(const StepShapes& shapes, int64_t workgroup);

// Bytes of scratch a kernel keeps between its work-groups and across steps,
// for the dispatch's tensors at their bounds.
using ScratchBytes = int64_t (*)(const StepShapes& shapes);

// How many work-items share one output of a gemv kernel (prelude.cl's
// GEMV_LANES), from the dispatch's static shapes and the work-group size:
// called once at compile, the kernel is built with -D GEMV_LANES=<it> and
// every step's GroupCount divides by it (StepShapes::team).
using TeamSize = int64_t (*)(const program::Dispatch& dispatch, int64_t workgroup);

// The host's side of one kernel file `{op}_{variant}.cl`: its entry point is
// named after the file, and it is launched as a 1-D range of groups(...)
// work-groups of `workgroup` work-items (the device may lower it; WG tells
// the kernel).
struct OpenclKernel {
  GroupCount groups = nullptr;
  uint32_t workgroup = 256;  // a power of two
  bool fixed_workgroup = false;  // the kernel needs exactly `workgroup` (tiled: TILE * TILE)
  // The kernel's own scratch (SCRATCH in prelude.cl), zero-filled once at
  // compile; each dispatch gets its own. Null: none, and no scratch argument.
  ScratchBytes scratch = nullptr;
  // The kernel reduces across subgroups: built with the device's subgroup
  // OpenCL C, and refused at compile on a device that has none.
  bool subgroups = false;
  // gemv kernels: the team per output (GEMV_LANES). Null: not a gemv.
  TeamSize team = nullptr;
};

using KernelRow = backends::support::KernelRow<OpenclKernel>;

// Every (op, variant) the OpenCL plugin runs, each registered once.
std::span<const KernelRow> kernel_table();

// "{op}_{variant}": the kernel's file name and entry point.
std::string entry_point(const KernelRow& row);

// The OpenCL C a kernel is built from: the prelude, the elementwise rows
// (kernels/elementwise_ops.h) and the kernel's file, where each line
// `#include "<file>.cl"` stands for that embedded file (a variant sharing
// another's body: matmul_gemv_subgroup.cl includes matmul_gemv.cl). Empty
// when the file, or one it includes, is not embedded.
std::string kernel_source(std::string_view entry_point);

}  // namespace kiln::kernels::opencl
