#include <array>

#include "kernels/cpu/kernel.h"
#include "kernels/cpu/fused_kernels.h"
#include "kernels/cpu/op_kernels.h"

namespace kiln::kernels::cpu {
namespace {

// One row per op the cpu plugin runs, keyed by Dispatch::kernel. A new op
// (primitive or fused) adds its kernel's declaration to op_kernels.h and one
// row here. Views (reshape) have no row: the scheduler emits no dispatch
// for them.
constexpr auto kKernels = std::to_array<KernelEntry>({
    {"embedding", run_embedding},
    {"matmul", run_matmul},
    {"add", run_add},
    {"mul", run_mul},
    {"scale", run_scale},
    {"silu", run_silu},
    {"gelu", run_gelu},
    {"relu", run_relu},
    {"cast", run_cast},
    {"rmsnorm", run_rmsnorm},
    {"layernorm", run_layernorm},
    {"softmax", run_softmax},
    {"rope", run_rope},
    {"attention", run_attention},
    {"kv_write", run_kv_write},
    {"transpose", run_transpose},
    {"concat", run_concat},
    {"slice", run_slice},
    {"argmax", run_argmax},
    {"fused_ffn", run_fused_ffn},
    {"fused_gate_up", run_fused_gate_up},
    {"matmul_rmsnorm", run_matmul_rmsnorm},
    {"residual_rmsnorm", run_residual_rmsnorm},
    {"residual_layernorm", run_residual_layernorm},
    {"matmul_qkv", run_matmul_qkv},
});

}  // namespace

std::span<const KernelEntry> kernel_table() { return kKernels; }

const KernelEntry* find_kernel(std::string_view kernel) {
  for (const KernelEntry& entry : kKernels) {
    if (entry.kernel == kernel) return &entry;
  }
  return nullptr;
}

}  // namespace kiln::kernels::cpu
