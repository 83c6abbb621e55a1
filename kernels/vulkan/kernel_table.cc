#include "kernels/vulkan/kernel_table.h"

#include <algorithm>

#include "kernels/vulkan/shapes.h"
#include "kernels/vulkan/spirv_blobs.h"

namespace kiln::kernels::vulkan {
namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

int64_t elements(const program::TensorRef& ref, const program::StepValues& bound) {
  return program::element_count(ref.shape, bound);
}

// The last dim; 1 for a scalar.
int64_t cols(const program::TensorRef& ref, const program::StepValues& bound) {
  return ref.shape.empty() ? 1 : program::extent(ref.shape.back(), bound);
}

// Output columns of a matrix product: summed over its outputs (q, k and v of
// matmul_qkv lie side by side in one grid).
uint64_t product_columns(const GridContext& c) {
  uint64_t columns = 0;
  for (const program::TensorRef& out : c.dispatch.outputs) columns += cols(out, c.bound);
  return columns;
}

// One invocation per element of output 0 (elementwise ops, embedding,
// slice, rope: a rope invocation handles one pair or one passed-through
// feature, so this over-covers and the tail returns).
uint64_t per_output_element(const GridContext& c) {
  return ceil_div(elements(c.dispatch.outputs[0], c.bound), c.wg_size);
}

// One invocation per element of input 1 (kv_write: the rows written).
uint64_t per_input1_element(const GridContext& c) {
  return ceil_div(elements(c.dispatch.inputs[1], c.bound), c.wg_size);
}

// cast: KILN_VULKAN_CAST_ELEMENTS elements per invocation.
uint64_t cast_blocks(const GridContext& c) {
  return ceil_div(elements(c.dispatch.outputs[0], c.bound), uint64_t{c.wg_size} * KILN_VULKAN_CAST_ELEMENTS);
}

// One workgroup per row of input 0 (norms, softmax, argmax; attention: per
// (token, query head)).
uint64_t per_input_row(const GridContext& c) {
  const program::TensorRef& x = c.dispatch.inputs[0];
  const int64_t n = cols(x, c.bound);
  return n == 0 ? 0 : elements(x, c.bound) / n;
}

// One workgroup in all (the sampling op).
uint64_t one_workgroup(const GridContext&) { return 1; }

// gemv: KILN_VULKAN_GEMV_COLUMNS columns per workgroup (with or without
// subgroups: they differ in how a workgroup reduces).
uint64_t gemv_columns(const GridContext& c) { return ceil_div(product_columns(c), KILN_VULKAN_GEMV_COLUMNS); }

// rmsnorm_qkv_rope's gemv computes rope pairs, not lone columns
// (backends::support::rope_pair_count).
uint64_t gemv_pairs(const GridContext& c) {
  return ceil_div(backends::support::rope_pair_count(c.dispatch), KILN_VULKAN_GEMV_COLUMNS / 2);
}

// attention split and decode: one workgroup per (row of q, kv head, block
// of `keys` cache rows: KILN_VULKAN_ATTENTION_KEYS for split,
// KILN_VULKAN_ATTENTION_DECODE_KEYS for decode); blocks past this step's KV
// length return at once.
template <int64_t keys>
uint64_t attention_blocks(const GridContext& c) {
  const program::Dispatch& d = c.dispatch;
  const int64_t rows = program::extent(d.inputs[0].shape[0], c.bound);
  const int64_t kv_heads = program::extent(d.inputs[1].shape[1], c.bound);
  const int64_t capacity = program::extent(d.inputs[1].shape[0], c.bound);
  return rows * kv_heads * ceil_div(capacity, keys);
}

// Their scratch, per (row, kv head): a counter padded to 16 bytes, then per
// (block, query head of the group) the block's max, sum and Dh partial
// sums, all 4-byte words (attention_split.comp, attention_decode.comp).
template <int64_t keys>
uint64_t attention_scratch(const GridContext& c) {
  const program::Dispatch& d = c.dispatch;
  const auto dim = [&](const program::TensorRef& ref, size_t i) { return program::extent(ref.shape[i], c.bound); };
  const int64_t group = dim(d.inputs[0], 1) / dim(d.inputs[1], 1);
  const uint64_t blocks = ceil_div(dim(d.inputs[1], 0), keys);
  const uint64_t record = 4 + blocks * group * (dim(d.inputs[0], 2) + 2);
  return 4 * record * dim(d.inputs[0], 0) * dim(d.inputs[1], 1);
}

// top_k split: one workgroup per KILN_VULKAN_TOP_K_SLICE logits of the row.
uint64_t top_k_slices(const GridContext& c) {
  return ceil_div(cols(c.dispatch.inputs[0], c.bound), KILN_VULKAN_TOP_K_SLICE);
}

// A counter padded to 16 bytes, then per slice min(k, slice) (value, id)
// pairs of 4-byte words (top_k_split.comp).
uint64_t top_k_scratch(const GridContext& c) {
  const uint64_t k = cols(c.dispatch.outputs[0], c.bound);
  return 16 + top_k_slices(c) * std::min<uint64_t>(k, KILN_VULKAN_TOP_K_SLICE) * 8;
}

// coopmat: 128 x 128 output tiles (matmul_coopmat.comp).
uint64_t coopmat_tiles(const GridContext& c) {
  const program::TensorRef& out = c.dispatch.outputs[0];
  const int64_t n = cols(out, c.bound);
  const uint64_t rows = n == 0 ? 0 : elements(out, c.bound) / n;
  return ceil_div(rows, 128) * ceil_div(product_columns(c), 128);
}

// tiled: 16 x 16 output tiles.
uint64_t tiles(const GridContext& c) {
  const program::TensorRef& out = c.dispatch.outputs[0];
  const int64_t n = cols(out, c.bound);
  const uint64_t rows = n == 0 ? 0 : elements(out, c.bound) / n;
  return ceil_div(rows, 16) * ceil_div(product_columns(c), 16);
}

}  // namespace

std::span<const KernelRow> kernel_table() {
  namespace s = spirv;
  static const KernelRow kTable[] = {
      {"add", "reference", {s::add_reference, per_output_element}},
      {"argmax", "reference", {s::argmax_reference, per_input_row}},
      {"attention", "decode",
       {s::attention_decode, attention_blocks<KILN_VULKAN_ATTENTION_DECODE_KEYS>, true,
        attention_scratch<KILN_VULKAN_ATTENTION_DECODE_KEYS>}},
      {"attention", "reference", {s::attention_reference, per_input_row}},
      {"attention", "split",
       {s::attention_split, attention_blocks<KILN_VULKAN_ATTENTION_KEYS>, false,
        attention_scratch<KILN_VULKAN_ATTENTION_KEYS>}},
      {"cast", "reference", {s::cast_reference, cast_blocks}},
      {"concat", "reference", {s::concat_reference, per_output_element}},
      {"embedding", "reference", {s::embedding_reference, per_output_element}},
      {"embedding_cast", "reference", {s::embedding_cast_reference, per_output_element}},
      {"fused_gate_up", "gemv", {s::fused_gate_up_gemv, gemv_columns}},
      {"fused_gate_up", "gemv_subgroup", {s::fused_gate_up_gemv_subgroup, gemv_columns, true}},
      {"fused_gate_up", "tiled", {s::fused_gate_up_tiled, tiles}},
      {"gelu", "reference", {s::gelu_reference, per_output_element}},
      {"kv_write", "reference", {s::kv_write_reference, per_input1_element}},
      {"layernorm", "reference", {s::layernorm_reference, per_input_row}},
      {"matmul", "coopmat", {s::matmul_coopmat, coopmat_tiles, true, nullptr, true}},
      {"matmul", "gemv", {s::matmul_gemv, gemv_columns}},
      {"matmul", "gemv_subgroup", {s::matmul_gemv_subgroup, gemv_columns, true}},
      {"matmul", "tiled", {s::matmul_tiled, tiles}},
      {"matmul_qkv", "gemv", {s::matmul_qkv_gemv, gemv_columns}},
      {"matmul_qkv", "gemv_subgroup", {s::matmul_qkv_gemv_subgroup, gemv_columns, true}},
      {"matmul_qkv", "tiled", {s::matmul_qkv_tiled, tiles}},
      {"matmul_residual", "gemv", {s::matmul_residual_gemv, gemv_columns}},
      {"matmul_residual", "gemv_subgroup", {s::matmul_residual_gemv_subgroup, gemv_columns, true}},
      {"mul", "reference", {s::mul_reference, per_output_element}},
      {"relu", "reference", {s::relu_reference, per_output_element}},
      {"residual_layernorm", "reference", {s::residual_layernorm_reference, per_input_row}},
      {"residual_rmsnorm", "reference", {s::residual_rmsnorm_reference, per_input_row}},
      {"rmsnorm", "reference", {s::rmsnorm_reference, per_input_row}},
      {"rmsnorm_gate_up", "gemv", {s::rmsnorm_gate_up_gemv, gemv_columns}},
      {"rmsnorm_gate_up", "gemv_subgroup", {s::rmsnorm_gate_up_gemv_subgroup, gemv_columns, true}},
      {"rmsnorm_matmul", "gemv", {s::rmsnorm_matmul_gemv, gemv_columns}},
      {"rmsnorm_matmul", "gemv_subgroup", {s::rmsnorm_matmul_gemv_subgroup, gemv_columns, true}},
      {"rmsnorm_qkv_rope", "gemv", {s::rmsnorm_qkv_rope_gemv, gemv_pairs}},
      {"rmsnorm_qkv_rope", "gemv_subgroup", {s::rmsnorm_qkv_rope_gemv_subgroup, gemv_pairs, true}},
      {"rope", "reference", {s::rope_reference, per_output_element}},
      {"scale", "reference", {s::scale_reference, per_output_element}},
      {"silu", "reference", {s::silu_reference, per_output_element}},
      {"slice", "reference", {s::slice_reference, per_output_element}},
      {"softmax", "reference", {s::softmax_reference, per_input_row}},
      {"top_k", "reference", {s::top_k_reference, one_workgroup}},
      {"top_k", "split", {s::top_k_split, top_k_slices, false, top_k_scratch}},
      {"transpose", "reference", {s::transpose_reference, per_output_element}},
  };
  return kTable;
}

}  // namespace kiln::kernels::vulkan
