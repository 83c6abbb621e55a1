#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "program/program.h"

namespace kiln::backends::support {

// One row of a backend's kernel registry: the kernel that runs (op,
// variant). A backend keeps one table of these in kernels/<backend>/, and
// its plugin refuses a Program that names a pair the table lacks. `Kernel`
// is whatever the backend runs: a function, embedded SPIR-V, OpenCL C.
template <typename Kernel>
struct KernelRow {
  std::string_view op;
  std::string_view variant;
  Kernel kernel;
};

template <typename Kernel>
const KernelRow<Kernel>* find_kernel(std::span<const KernelRow<Kernel>> table, std::string_view op,
                                     std::string_view variant) {
  for (const KernelRow<Kernel>& row : table) {
    if (row.op == op && row.variant == variant) return &row;
  }
  return nullptr;
}

// The rope pairs of an rmsnorm_qkv_rope dispatch, which both GPU plugins'
// gemv kernels compute one per team (kernels/vulkan/matmul.glsl's
// pair_column): every head of q, k and v (head_dim each) cut into
// rotary_dim / 2 rotated pairs and the passed-through rest two by two.
int64_t rope_pair_count(const program::Dispatch& dispatch);

// "dispatches[3] (%h = matmul.gemv)", for messages.
std::string dispatch_label(const program::Program& program, size_t index);

// Unimplemented, naming the dispatch, the backend, the kernel and the
// variant: "dispatches[3] (%h = matmul.tiled): the opencl backend has no
// kernel 'matmul' with variant 'tiled'".
absl::Status missing_kernel(const program::Program& program, size_t index, std::string_view backend);

}  // namespace kiln::backends::support
