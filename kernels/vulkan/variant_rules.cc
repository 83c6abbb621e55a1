#include "kernels/vulkan/variant_rules.h"

#include <utility>

namespace kiln::kernels::vulkan {
namespace {

using passes::cols_at_least;
using passes::decode;
using passes::dim_at_most;
using passes::target_has_subgroups;
using passes::VariantRule;

// The schedules of a matrix product, most specific first: one row
// (decode) splits each output column's dot product across a workgroup,
// reduced through subgroupAdd where the device has subgroup arithmetic of
// one fixed size, else through a shared-memory tree; more rows use 16 x 16
// shared-memory tiles. The cooperative-matrix kernel
// (coopmat) is not chosen here: it multiplies the activations in f16 too,
// which moves a small model's logits by ~1e-3, so it is opt-in
// (--force-variant matmul=coopmat) until a variant keeps f32 activations.
// Weight dtypes (f32, f16, bf16) are not variants: each operand's dtype is
// a specialisation constant, so the driver folds the load for it
// (docs/vulkan.md, "Constants").
void add_products(std::vector<VariantRule>& rules, const std::string& op) {
  const std::string pattern = "y:" + op;
  rules.push_back({.name = "vulkan." + op + ".gemv_subgroup", .pattern = pattern,
                   .when = {decode("y"), target_has_subgroups()}, .variant = "gemv_subgroup",
                   .why = "one row: a workgroup per 2 output columns, reduced with subgroupAdd"});
  rules.push_back({.name = "vulkan." + op + ".gemv", .pattern = pattern, .when = {decode("y")}, .variant = "gemv",
                   .why = "one row without subgroups: a workgroup per 2 output columns, a shared-memory tree"});
  rules.push_back({.name = "vulkan." + op + ".tiled", .pattern = pattern, .when = {}, .variant = "tiled",
                   .why = "many rows: 16 x 16 output tiles staged through shared memory"});
}

// top_k: from this row length on, one workgroup scanning the row k times
// is slower than slices merged by the last workgroup.
constexpr int64_t kTopKSplitCols = 4096;

// The decode fusions' products (passes/fusion_rules.cc, table "decode"):
// the matrix-vector schedule only. It loops over rows, so it is right for
// any row count; the rules create these ops for one row only.
void add_row_products(std::vector<VariantRule>& rules, const std::string& op) {
  const std::string pattern = "y:" + op;
  rules.push_back({.name = "vulkan." + op + ".gemv_subgroup", .pattern = pattern, .when = {target_has_subgroups()},
                   .variant = "gemv_subgroup", .why = "a workgroup per 2 output columns (a rope pair), reduced with subgroupAdd"});
  rules.push_back({.name = "vulkan." + op + ".gemv", .pattern = pattern, .when = {}, .variant = "gemv",
                   .why = "without subgroups: a workgroup per 2 output columns (a rope pair)"});
}

}  // namespace

passes::VariantTable variant_table() {
  passes::VariantTable table{"vulkan", {}};
  for (const std::string op : {"matmul", "fused_gate_up", "matmul_qkv"}) add_products(table.rules, op);
  for (const std::string op : {"matmul_residual", "rmsnorm_matmul", "rmsnorm_gate_up", "rmsnorm_qkv_rope"}) {
    add_row_products(table.rules, op);
  }
  // Every other op with a kernel has one, listed by name: a fusion fires
  // only where its fused op is listed (passes::has_kernel). fused_ffn and
  // matmul_rmsnorm are not: both need a whole matrix (or a whole output
  // row) in one workgroup at decode, which would leave all but one compute
  // unit idle, so this backend keeps them unfused.
  // attention(q[T, Hq, Dh], k, v): decode splits the cache's rows across
  // workgroups (flash-decoding); prefill's T x Hq workgroups fill the device
  // already, and the split's scratch grows with T. With subgroups, the
  // decode kernel's short chain (a subgroup reduction where split has a
  // barrier per tree level; no combine pass within one block of rows); without, the
  // split kernel's shared-memory trees.
  table.rules.push_back({.name = "vulkan.attention.decode", .pattern = "y:attention",
                         .when = {dim_at_most("y", 0, 1), target_has_subgroups()}, .variant = "decode",
                         .why = "one query row: a workgroup per (kv head, 128 cache rows), reduced by subgroups"});
  table.rules.push_back({.name = "vulkan.attention.split", .pattern = "y:attention", .when = {dim_at_most("y", 0, 1)},
                         .variant = "split",
                         .why = "one query row: a workgroup per (kv head, 32 cache rows), combined by the last"});
  // top_k(logits, recent?) reads one row: a long one (a vocabulary) is
  // split into slices of 1024 logits, a workgroup each, whose candidates
  // the last workgroup merges; a short one keeps the one-workgroup kernel.
  for (const auto& [name, pattern] : {std::pair{"vulkan.top_k.split", "y:top_k(logits)"},
                                      std::pair{"vulkan.top_k.split.recent", "y:top_k(logits, recent)"}}) {
    table.rules.push_back({.name = name, .pattern = pattern,
                           .when = {cols_at_least("logits", kTopKSplitCols)},
                           .variant = "split",
                           .why = "a long row: a workgroup per 1024 logits, their candidates merged by the last"});
  }
  for (const std::string op : {"add", "argmax", "attention", "cast", "concat", "embedding", "embedding_cast", "gelu",
                               "kv_write", "layernorm", "mul", "relu", "residual_layernorm", "residual_rmsnorm",
                               "rmsnorm", "rope", "scale", "silu", "slice", "softmax", "top_k", "transpose"}) {
    table.rules.push_back({.name = "vulkan." + op + ".reference", .pattern = "y:" + op, .when = {},
                           .variant = "reference", .why = "the op's one Vulkan kernel"});
  }
  return table;
}

}  // namespace kiln::kernels::vulkan
