// The cpu backend's kernel-variant table (passes/variant_rules.h). It is
// compiled into the compiler (kiln_passes), which reads it to fill each
// dispatch's variant; the cpu plugin runs the kernel its own kernel table
// (kernel_table.cc) registers for that (op, variant).

#include "passes/variant_rules.h"

namespace kiln::passes {

// Every op and fused op has one plain reference kernel, the catch-all
// last. A faster kernel is a row above it, keyed on the node's shape and
// dtypes; the reference stays selectable by name (--force-variant).
VariantTable cpu_variant_table() {
  return {"cpu",
          {
              // matmul(a: f32, w: 2-D) -> f32: the SIMD gemv / blocked matmul.
              {.name = "cpu.matmul.vector", .pattern = "y:matmul(a, w)",
               .when = {matrices({"w"}), dtype_is("a", ir::DType::f32), dtype_is("y", ir::DType::f32)},
               .variant = "vector", .why = "SIMD gemv for one row, a blocked matmul for more; weights read in place"},
              {.name = "cpu.matmul.vector.bias", .pattern = "y:matmul(a, w, bias)",
               .when = {matrices({"w"}), dtype_is("a", ir::DType::f32), dtype_is("y", ir::DType::f32),
                        dtype_is("bias", ir::DType::f32)},
               .variant = "vector", .why = "as above, the f32 bias added in the kernel"},
              // Fused ops over 2-D weights (the fusion rules' matrices()
              // condition): their projections through the same kernels.
              {.name = "cpu.fused.vector", .pattern = "y:fused_ffn|fused_gate_up|matmul_rmsnorm|matmul_qkv",
               .when = {}, .variant = "vector",
               .why = "the fused kernel's projections through the SIMD gemv / blocked matmul"},
              // Row kernels of f32 activations. A cache or gain of f32, f16
              // or bf16 is widened as it is loaded.
              {.name = "cpu.attention.vector", .pattern = "y:attention(q, k, v)",
               .when = {dtype_is("q", ir::DType::f32), dtype_is("y", ir::DType::f32), same_dtype({"k", "v"})},
               .variant = "vector", .why = "SIMD scores and an online softmax in f32, the cache read in place"},
              {.name = "cpu.rmsnorm.vector", .pattern = "y:rmsnorm(x, g)",
               .when = {dtype_is("x", ir::DType::f32), dtype_is("y", ir::DType::f32)},
               .variant = "vector", .why = "SIMD sum of squares and scaling in f32"},
              {.name = "cpu.residual_rmsnorm.vector", .pattern = "y:residual_rmsnorm(a, b, g)",
               .when = {dtype_is("a", ir::DType::f32), dtype_is("b", ir::DType::f32)},
               .variant = "vector", .why = "the residual add, sum of squares and scaling in one SIMD pass each"},
              {.name = "cpu.reference", .pattern = "y:*", .when = {}, .variant = "reference",
               .why = "the cpu plugin runs one plain reference kernel per op"},
          }};
}

}  // namespace kiln::passes
