#include <array>

#include "kernels/cpu/fused_kernels.h"
#include "kernels/cpu/kernel.h"
#include "kernels/cpu/op_kernels.h"

namespace kiln::kernels::cpu {
namespace {

using Row = backends::support::KernelRow<KernelFn>;

// One row per (op, variant) the cpu plugin runs; the compiler picks the
// variant from kernels/cpu/variant_rules.cc. A new kernel is its function
// (op_kernels.h, fused_kernels.h) and one row here. Views (reshape) have
// no row: the scheduler emits no dispatch for them.
constexpr auto kKernels = std::to_array<Row>({
    {"embedding", "reference", run_embedding},
    {"matmul", "reference", run_matmul},
    {"matmul", "vector", run_matmul_vector},
    {"add", "reference", run_add},
    {"mul", "reference", run_mul},
    {"scale", "reference", run_scale},
    {"silu", "reference", run_silu},
    {"gelu", "reference", run_gelu},
    {"relu", "reference", run_relu},
    {"cast", "reference", run_cast},
    {"rmsnorm", "reference", run_rmsnorm},
    {"rmsnorm", "vector", run_rmsnorm_vector},
    {"layernorm", "reference", run_layernorm},
    {"softmax", "reference", run_softmax},
    {"rope", "reference", run_rope},
    {"attention", "reference", run_attention},
    {"attention", "vector", run_attention_vector},
    {"kv_write", "reference", run_kv_write},
    {"transpose", "reference", run_transpose},
    {"concat", "reference", run_concat},
    {"slice", "reference", run_slice},
    {"argmax", "reference", run_argmax},
    {"top_k", "reference", run_top_k},
    {"fused_ffn", "reference", run_fused_ffn},
    {"fused_ffn", "vector", run_fused_ffn_vector},
    {"fused_gate_up", "reference", run_fused_gate_up},
    {"fused_gate_up", "vector", run_fused_gate_up_vector},
    {"matmul_rmsnorm", "reference", run_matmul_rmsnorm},
    {"matmul_rmsnorm", "vector", run_matmul_rmsnorm_vector},
    {"residual_rmsnorm", "reference", run_residual_rmsnorm},
    {"residual_rmsnorm", "vector", run_residual_rmsnorm_vector},
    {"residual_layernorm", "reference", run_residual_layernorm},
    {"matmul_qkv", "reference", run_matmul_qkv},
    {"matmul_qkv", "vector", run_matmul_qkv_vector},
    {"embedding_cast", "reference", run_embedding_cast},
    {"matmul_residual", "reference", run_matmul_residual},
    {"rmsnorm_matmul", "reference", run_rmsnorm_matmul},
    {"rmsnorm_gate_up", "reference", run_rmsnorm_gate_up},
    {"rmsnorm_qkv_rope", "reference", run_rmsnorm_qkv_rope},
});

}  // namespace

std::span<const backends::support::KernelRow<KernelFn>> kernel_table() { return kKernels; }

}  // namespace kiln::kernels::cpu
