#include "kernels/opencl/variant_rules.h"

namespace kiln::kernels::opencl {

// First match wins. The matrix products come first, each gemv row (decode:
// one row, every work-group reading only its outputs' weight rows) above
// its tiled row (many rows: blocks of outputs staged through local memory).
// Above each gemv row, its subgroup twin for devices whose capabilities
// report a subgroup size (cl_khr_subgroups or cl_intel_subgroups, probed by
// the plugin); every other reduction is a local-memory one, which runs on
// every OpenCL 1.2 device (NVIDIA's OpenCL offers no subgroup extension).
// Then one row per remaining op, naming the only kernel it has. No
// half-arithmetic variants: f16 is read with the core vload_half and
// computed in f32 everywhere.
//
// Fused ops absent on purpose: fused_ffn and matmul_rmsnorm need a whole
// product (the intermediate, the row to normalise) before their epilogue,
// so at decode one work-group would read a whole matrix (DESIGN.md,
// "Passes"). Without a row here their fusion rules do not fire for this
// backend, and the unfused ops run.
passes::VariantTable variant_table() {
  using passes::cols_at_least;
  using passes::decode;
  using passes::dim_at_most;
  using passes::target_has_subgroups;
  constexpr const char* kGemvSubgroupWhy = "decode with subgroups: each output's lanes summed by sub_group_reduce_add";
  // top_k: from this row length on, one work-group scanning the row K times
  // is slower than slices merged by the last work-group.
  constexpr int64_t kTopKSplitCols = 4096;
  constexpr const char* kTopKSplitWhy = "a long row: a work-group per 1024 logits, their candidates merged by the last";
  return {"opencl",
          {
              // y = x @ w, one row: one dot product per output, WG / 32 outputs per work-group,
              // each summed by a subgroup where the device has them, else in local memory.
              {.name = "opencl.matmul.gemv_subgroup", .pattern = "y:matmul",
               .when = {decode("y"), target_has_subgroups()}, .variant = "gemv_subgroup", .why = kGemvSubgroupWhy},
              {.name = "opencl.matmul.gemv", .pattern = "y:matmul", .when = {decode("y")}, .variant = "gemv",
               .why = "decode: a work-group per few outputs reads only their weight rows"},
              {.name = "opencl.matmul.tiled", .pattern = "y:matmul", .when = {}, .variant = "tiled",
               .why = "many rows: 16x16 output blocks reuse each loaded weight tile 16 times"},
              // y = act(x @ wg) * (x @ wu), one row.
              {.name = "opencl.fused_gate_up.gemv_subgroup", .pattern = "y:fused_gate_up",
               .when = {decode("y"), target_has_subgroups()}, .variant = "gemv_subgroup", .why = kGemvSubgroupWhy},
              {.name = "opencl.fused_gate_up.gemv", .pattern = "y:fused_gate_up", .when = {decode("y")},
               .variant = "gemv", .why = "decode: both dot products per output, the gate in the epilogue"},
              {.name = "opencl.fused_gate_up.tiled", .pattern = "y:fused_gate_up", .when = {}, .variant = "tiled",
               .why = "many rows: both products per output block"},
              // (q, k, v) = x @ (wq, wk, wv), one row.
              {.name = "opencl.matmul_qkv.gemv_subgroup", .pattern = "y:matmul_qkv",
               .when = {decode("y"), target_has_subgroups()}, .variant = "gemv_subgroup", .why = kGemvSubgroupWhy},
              {.name = "opencl.matmul_qkv.gemv", .pattern = "y:matmul_qkv", .when = {decode("y")},
               .variant = "gemv", .why = "decode: the three projections' outputs laid end to end in one dispatch"},
              {.name = "opencl.matmul_qkv.tiled", .pattern = "y:matmul_qkv", .when = {}, .variant = "tiled",
               .why = "many rows: output blocks over the three projections"},
              // The decode fusions' products (passes/fusion_rules.cc, table "decode"): gemv only. The
              // fusion rules create them for one row, and the gemv launches a work-group per row.
              {.name = "opencl.matmul_residual.gemv_subgroup", .pattern = "y:matmul_residual",
               .when = {target_has_subgroups()}, .variant = "gemv_subgroup", .why = kGemvSubgroupWhy},
              {.name = "opencl.matmul_residual.gemv", .pattern = "y:matmul_residual", .when = {}, .variant = "gemv",
               .why = "a work-group per few outputs, the residual added in the epilogue"},
              {.name = "opencl.rmsnorm_matmul.gemv_subgroup", .pattern = "y:rmsnorm_matmul",
               .when = {target_has_subgroups()}, .variant = "gemv_subgroup", .why = kGemvSubgroupWhy},
              {.name = "opencl.rmsnorm_matmul.gemv", .pattern = "y:rmsnorm_matmul", .when = {}, .variant = "gemv",
               .why = "a work-group per few outputs, x^2 summed beside each dot product for the norm"},
              {.name = "opencl.rmsnorm_gate_up.gemv_subgroup", .pattern = "y:rmsnorm_gate_up",
               .when = {target_has_subgroups()}, .variant = "gemv_subgroup", .why = kGemvSubgroupWhy},
              {.name = "opencl.rmsnorm_gate_up.gemv", .pattern = "y:rmsnorm_gate_up", .when = {}, .variant = "gemv",
               .why = "a work-group per few outputs: gate, up and x^2 in one pass over x"},
              {.name = "opencl.rmsnorm_qkv_rope.gemv_subgroup", .pattern = "y:rmsnorm_qkv_rope",
               .when = {target_has_subgroups()}, .variant = "gemv_subgroup", .why = kGemvSubgroupWhy},
              {.name = "opencl.rmsnorm_qkv_rope.gemv", .pattern = "y:rmsnorm_qkv_rope", .when = {}, .variant = "gemv",
               .why = "a work-group per few rope pairs of q, k and v, rotated and cached in the epilogue"},
              // attention(q[T, Hq, Dh], k, v), one query row (decode): a work-group per (kv head, 256
              // cache rows), the group's query heads sharing each K and V read, a block's partials
              // combined by the last; prefill's T x Hq work-groups fill the device already.
              {.name = "opencl.attention.decode", .pattern = "y:attention", .when = {dim_at_most("y", 0, 1)},
               .variant = "decode",
               .why = "one query row: a work-group per (kv head, 256 cache rows), combined by the last"},
              {.name = "opencl.attention", .pattern = "y:attention", .when = {}, .variant = "workgroup",
               .why = "a work-group per query row and head, online softmax over blocks of keys"},
              // top_k(logits, recent?) over a long row (a vocabulary): a
              // work-group per 1024 logits, the last one merging their candidates.
              {.name = "opencl.top_k.split", .pattern = "y:top_k(logits)",
               .when = {cols_at_least("logits", kTopKSplitCols)}, .variant = "split", .why = kTopKSplitWhy},
              {.name = "opencl.top_k.split.recent", .pattern = "y:top_k(logits, recent)",
               .when = {cols_at_least("logits", kTopKSplitCols)}, .variant = "split", .why = kTopKSplitWhy},
              {.name = "opencl.row_reductions",
               .pattern = "y:rmsnorm|layernorm|softmax|argmax|top_k|residual_rmsnorm|residual_layernorm", .when = {},
               .variant = "workgroup", .why = "a work-group per row (top_k: the last row), reduced in local memory"},
              {.name = "opencl.embedding", .pattern = "y:embedding|embedding_cast", .when = {}, .variant = "gather",
               .why = "a work-item per element, its row chosen by the token id"},
              {.name = "opencl.elementwise",
               .pattern = "y:add|mul|scale|silu|gelu|relu|cast|rope|kv_write|transpose|concat|slice", .when = {},
               .variant = "elementwise", .why = "a work-item per element (rope: per rotated pair)"},
          }};
}

}  // namespace kiln::kernels::opencl
