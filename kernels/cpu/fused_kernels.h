#pragma once

#include "absl/status/status.h"
#include "kernels/cpu/kernel.h"

namespace kiln::kernels::cpu {

// The reference kernel of each fused op (ir/fused_ops.cc gives their
// semantics), listed in kernel_table.cc. Each computes what the primitive
// graph it replaces computes: intermediates are kept in f32, as the unfused
// graph of f32 values stores them, and reductions run in f64, as the
// primitive kernels' do.

absl::Status run_fused_ffn(const KernelArgs& args);       // fused_ffn.cc
absl::Status run_fused_gate_up(const KernelArgs& args);   // fused_ffn.cc
absl::Status run_matmul_rmsnorm(const KernelArgs& args);  // fused_norm.cc
absl::Status run_residual_rmsnorm(const KernelArgs& args);
absl::Status run_residual_layernorm(const KernelArgs& args);
absl::Status run_matmul_qkv(const KernelArgs& args);      // fused_matmul_qkv.cc
absl::Status run_embedding_cast(const KernelArgs& args);   // fused_embedding.cc
absl::Status run_matmul_residual(const KernelArgs& args);  // fused_decode.cc
absl::Status run_rmsnorm_matmul(const KernelArgs& args);
absl::Status run_rmsnorm_gate_up(const KernelArgs& args);
absl::Status run_rmsnorm_qkv_rope(const KernelArgs& args);
// The "vector" variants (fused_vector.cc): the same results in f32, through
// project_simd and the SIMD row kernels.
absl::Status run_fused_ffn_vector(const KernelArgs& args);
absl::Status run_fused_gate_up_vector(const KernelArgs& args);
absl::Status run_matmul_rmsnorm_vector(const KernelArgs& args);
absl::Status run_matmul_qkv_vector(const KernelArgs& args);
// residual_rmsnorm through the SIMD row kernel (rmsnorm_vector.cc).
absl::Status run_residual_rmsnorm_vector(const KernelArgs& args);

}  // namespace kiln::kernels::cpu
