#pragma once

#include "absl/status/status.h"
#include "kernels/cpu/kernel.h"

namespace kiln::kernels::cpu {

// The reference kernel of each op, defined in the file named after the op
// (elementwise.cc holds the elementwise ones) and listed in kernel_table.cc.
// Each follows the op's semantics in ir/ops.cc exactly.

absl::Status run_embedding(const KernelArgs& args);
absl::Status run_matmul(const KernelArgs& args);
absl::Status run_matmul_vector(const KernelArgs& args);
absl::Status run_add(const KernelArgs& args);
absl::Status run_mul(const KernelArgs& args);
absl::Status run_scale(const KernelArgs& args);
absl::Status run_silu(const KernelArgs& args);
absl::Status run_gelu(const KernelArgs& args);
absl::Status run_relu(const KernelArgs& args);
absl::Status run_cast(const KernelArgs& args);
absl::Status run_rmsnorm(const KernelArgs& args);
absl::Status run_rmsnorm_vector(const KernelArgs& args);  // rmsnorm_vector.cc
absl::Status run_layernorm(const KernelArgs& args);
absl::Status run_softmax(const KernelArgs& args);
absl::Status run_rope(const KernelArgs& args);
absl::Status run_attention(const KernelArgs& args);
absl::Status run_attention_vector(const KernelArgs& args);  // attention_vector.cc
absl::Status run_kv_write(const KernelArgs& args);
absl::Status run_transpose(const KernelArgs& args);
absl::Status run_concat(const KernelArgs& args);
absl::Status run_slice(const KernelArgs& args);
absl::Status run_argmax(const KernelArgs& args);
absl::Status run_top_k(const KernelArgs& args);

}  // namespace kiln::kernels::cpu
