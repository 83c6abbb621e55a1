#include "kernels/opencl/kernel_table.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "kernels/opencl/embedded_sources.h"

namespace kiln::kernels::opencl {
namespace {

// ---- Group counts ---------------------------------------------------------------

int64_t product(std::span<const int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}
int64_t cols(const std::vector<int64_t>& shape) { return shape.empty() ? 1 : shape.back(); }
int64_t rows(const std::vector<int64_t>& shape) { return shape.empty() ? 1 : product(shape) / shape.back(); }
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

bool flag(const program::Dispatch& dispatch, std::string_view name) {
  const program::Constant* c = dispatch.find_constant(name);
  return c != nullptr && c->integer != 0;
}

// One work-item per element of result 0 (elementwise and layout kernels).
int64_t per_result_element(const StepShapes& s, int64_t wg) { return ceil_div(product(s.outputs[0]), wg); }

// One work-item per element of input 1 (kv_write: the rows written).
int64_t per_input1_element(const StepShapes& s, int64_t wg) { return ceil_div(product(s.inputs[1]), wg); }

// One work-group per row of input 0 (norms, softmax, argmax; attention: per
// query row and head).
int64_t per_input_row(const StepShapes& s, int64_t) { return rows(s.inputs[0]); }

// rope: one work-item per rotated pair or passed-through feature.
int64_t per_rope_item(const StepShapes& s, int64_t wg) {
  const program::Constant* rotary = s.dispatch.find_constant("rotary_dim");
  const int64_t half = rotary == nullptr ? 0 : rotary->integer / 2;
  const int64_t head_dim = cols(s.inputs[0]);
  return ceil_div(rows(s.inputs[0]) * (head_dim - half), wg);
}

// gemv: a team of GEMV_LANES work-items per output (prelude.cl), WG /
// GEMV_LANES outputs per group and row. The team is the smallest power of
// two from 32 (at most WG) that has
// - kGemvLanes lanes, or one per 8-element chunk of K where K has fewer
//   chunks: each lane then reads a few chunks as straight-line loads
//   (prelude.cl unrolls the loop over them whole), and a group lives
//   briefly, so the last wave of a product drains fast;
// - at least kGemvMinGroups groups per row (8 per SM of a 132-SM GPU): a
//   decode step chains its products, so each must fill the device alone;
// - at most kGemvMaxChunks chunks per lane, which bounds the unroll.
// On the H100 (bench/README.md) teams of 128 with that unroll, against the
// previous 32 / 64 / 32, took the three benchmark products from 0.87 /
// 1.00 / 0.99 of the device copy to 0.93 / 1.02 / 1.03. Without
// transpose_b a work-item computes an output alone.
constexpr int64_t kGemvLanes = 128;
constexpr int64_t kGemvMinGroups = 1024;
constexpr int64_t kGemvMaxChunks = 16;

// The outputs a gemv's teams compute, at a step's shapes: result 0's
// columns, q's, k's and v's columns end to end (matmul_qkv), or rope pairs
// (rmsnorm_qkv_rope).
int64_t result_columns(const StepShapes& s) { return cols(s.outputs[0]); }
int64_t qkv_columns(const StepShapes& s) { return cols(s.outputs[0]) + cols(s.outputs[1]) + cols(s.outputs[2]); }
int64_t rope_pairs(const StepShapes& s) { return backends::support::rope_pair_count(s.dispatch); }
using GemvOutputs = int64_t (*)(const StepShapes&);

// The dispatch's tensors with their static extents, 0 for a symbolic one.
// The team is a build constant, chosen from these; a product whose columns
// or K are symbolic keeps the smallest. Any team is correct: the group
// count divides by the same one (StepShapes::team).
std::vector<std::vector<int64_t>> static_extents(const std::vector<program::TensorRef>& refs) {
  std::vector<std::vector<int64_t>> shapes;
  for (const program::TensorRef& ref : refs) {
    std::vector<int64_t>& shape = shapes.emplace_back();
    for (const program::Dim& dim : ref.shape) shape.push_back(dim.is_static() ? dim.value : 0);
  }
  return shapes;
}

// The smallest team: 32 work-items an output with transpose_b (at most
// WG), else 1 (a work-item computes an output alone, neighbours reading
// neighbouring columns).
int64_t smallest_team(const program::Dispatch& d, int64_t wg) {
  return flag(d, "transpose_b") ? std::min<int64_t>(32, wg) : 1;
}

template <GemvOutputs outputs>
int64_t gemv_team(const program::Dispatch& d, int64_t wg) {
  int64_t lanes = smallest_team(d, wg);
  if (lanes == 1) return 1;
  const std::vector<std::vector<int64_t>> inputs = static_extents(d.inputs), results = static_extents(d.outputs);
  const int64_t n = outputs({d, inputs, results}), k = cols(inputs[0]);
  if (n <= 0 || k <= 0) return lanes;
  const int64_t chunks = ceil_div(k, 8);
  while (lanes < wg && ((lanes < kGemvLanes && lanes < chunks) || ceil_div(n, wg / lanes) < kGemvMinGroups ||
                        ceil_div(chunks, lanes) > kGemvMaxChunks)) {
    lanes *= 2;
  }
  return lanes;
}

template <GemvOutputs outputs>
int64_t gemv_groups(const StepShapes& s, int64_t wg) {
  return rows(s.inputs[0]) * ceil_div(outputs(s), wg / s.team);
}

// Tiled: TILE x TILE outputs per group (TILE in prelude.cl).
constexpr int64_t kTile = 16;
int64_t matmul_tiled_groups(const StepShapes& s, int64_t) {
  const std::vector<int64_t>& out = s.outputs[0];
  const int64_t m = out.size() >= 2 ? out[out.size() - 2] : 1;
  const int64_t batches = m == 0 ? 0 : rows(out) / m;
  return batches * ceil_div(m, kTile) * ceil_div(cols(out), kTile);
}
int64_t fused_gate_up_tiled_groups(const StepShapes& s, int64_t) {
  return ceil_div(rows(s.outputs[0]), kTile) * ceil_div(cols(s.outputs[0]), kTile);
}
int64_t matmul_qkv_tiled_groups(const StepShapes& s, int64_t) {
  int64_t tiles = 0;
  for (const std::vector<int64_t>& out : s.outputs) tiles += ceil_div(cols(out), kTile);
  return ceil_div(rows(s.outputs[0]), kTile) * tiles;
}

// top_k: one work-group for the row it reads.
int64_t one_group(const StepShapes&, int64_t) { return 1; }

// top_k split: one work-group per kTopKSlice logits of the row (TOP_K_SLICE
// in top_k_split.cl); its scratch, a counter padded to 16 bytes, then per
// work-group min(k, slice) (value, id) pairs of 4-byte words.
constexpr int64_t kTopKSlice = 1024;
int64_t top_k_slices(const StepShapes& s, int64_t) { return ceil_div(cols(s.inputs[0]), kTopKSlice); }
int64_t top_k_scratch(const StepShapes& s) {
  return 16 + top_k_slices(s, 0) * std::min(cols(s.outputs[0]), kTopKSlice) * 8;
}

// attention decode: one work-group per (query row, kv head, block of
// kAttentionDecodeKeys cache rows; DECODE_KEYS in attention_decode.cl, one
// key per work-item, so exactly that many work-items); blocks past the
// step's KV length do nothing. Its scratch, per (row, kv head): a counter
// padded to 16 bytes, then per (block, query head of the group) the
// block's max, sum and Dh partial sums, 4-byte words.
constexpr int64_t kAttentionDecodeKeys = 256;
int64_t attention_decode_blocks(const StepShapes& s, int64_t) {
  return s.inputs[0][0] * s.inputs[1][1] * ceil_div(s.inputs[1][0], kAttentionDecodeKeys);
}
int64_t attention_decode_scratch(const StepShapes& s) {
  const int64_t group = s.inputs[0][1] / s.inputs[1][1];
  const int64_t record = 4 + ceil_div(s.inputs[1][0], kAttentionDecodeKeys) * group * (s.inputs[0][2] + 2);
  return 4 * record * s.inputs[0][0] * s.inputs[1][1];
}

constexpr OpenclKernel elementwise{per_result_element, 256};
constexpr OpenclKernel per_row{per_input_row, 256};
// gemv kernels, one launch for both variants (prelude.cl's split).
// gemv_subgroup's team is a subgroup, whatever GEMV_LANES says, and a
// group's subgroups take its outputs in turn, so its teams stay at the
// smallest (WG / 32 outputs a group, about one per subgroup): a larger team
// would leave most subgroups idle. Filling the device on small products
// would take an output split over several subgroups; no device we run has
// OpenCL subgroups to measure that on.
template <GemvOutputs outputs>
constexpr OpenclKernel gemv_of{.groups = gemv_groups<outputs>, .workgroup = 256, .team = gemv_team<outputs>};
template <GemvOutputs outputs>
constexpr OpenclKernel gemv_subgroup_of{
    .groups = gemv_groups<outputs>, .workgroup = 256, .subgroups = true, .team = smallest_team};
constexpr OpenclKernel gemv = gemv_of<result_columns>;
constexpr OpenclKernel gemv_subgroup = gemv_subgroup_of<result_columns>;
constexpr OpenclKernel tiled{matmul_tiled_groups, kTile * kTile, true};

// ---- The table ------------------------------------------------------------------

// One row per kernel file. The variant names say how the work is split:
// elementwise (a work-item per element), workgroup (a work-group per row,
// reduced in local memory), gemv (work-groups over a few rows' outputs),
// tiled (work-groups over output blocks), gather (a work-item per element
// read by index).
constexpr auto kKernels = std::to_array<KernelRow>({
    {"embedding", "gather", elementwise},
    {"embedding_cast", "gather", elementwise},
    {"matmul", "gemv", gemv},
    {"matmul", "gemv_subgroup", gemv_subgroup},
    {"matmul", "tiled", tiled},
    {"add", "elementwise", elementwise},
    {"mul", "elementwise", elementwise},
    {"scale", "elementwise", elementwise},
    {"silu", "elementwise", elementwise},
    {"gelu", "elementwise", elementwise},
    {"relu", "elementwise", elementwise},
    {"cast", "elementwise", elementwise},
    {"rmsnorm", "workgroup", per_row},
    {"layernorm", "workgroup", per_row},
    {"softmax", "workgroup", per_row},
    {"rope", "elementwise", {per_rope_item, 256}},
    {"attention", "workgroup", {per_input_row, 128}},
    {"attention", "decode", {attention_decode_blocks, kAttentionDecodeKeys, true, attention_decode_scratch}},
    {"kv_write", "elementwise", {per_input1_element, 256}},
    {"transpose", "elementwise", elementwise},
    {"concat", "elementwise", elementwise},
    {"slice", "elementwise", elementwise},
    {"argmax", "workgroup", per_row},
    {"top_k", "workgroup", {one_group, 256}},
    {"top_k", "split", {top_k_slices, 256, false, top_k_scratch}},
    {"fused_gate_up", "gemv", gemv},
    {"fused_gate_up", "gemv_subgroup", gemv_subgroup},
    {"fused_gate_up", "tiled", {fused_gate_up_tiled_groups, kTile * kTile, true}},
    {"residual_rmsnorm", "workgroup", per_row},
    {"residual_layernorm", "workgroup", per_row},
    {"matmul_qkv", "gemv", gemv_of<qkv_columns>},
    {"matmul_qkv", "gemv_subgroup", gemv_subgroup_of<qkv_columns>},
    {"matmul_qkv", "tiled", {matmul_qkv_tiled_groups, kTile * kTile, true}},
    {"matmul_residual", "gemv", gemv},
    {"matmul_residual", "gemv_subgroup", gemv_subgroup},
    {"rmsnorm_matmul", "gemv", gemv},
    {"rmsnorm_matmul", "gemv_subgroup", gemv_subgroup},
    {"rmsnorm_gate_up", "gemv", gemv},
    {"rmsnorm_gate_up", "gemv_subgroup", gemv_subgroup},
    {"rmsnorm_qkv_rope", "gemv", gemv_of<rope_pairs>},
    {"rmsnorm_qkv_rope", "gemv_subgroup", gemv_subgroup_of<rope_pairs>},
});

std::string_view embedded(std::string_view name) {
  for (const EmbeddedSource& source : embedded_sources()) {
    if (source.name == name) return source.text;
  }
  return {};
}

// Embedded file |name| with each line `#include "<file>.cl"` replaced by
// that file's text, expanded likewise (at most |depth| levels); empty when a
// file is missing.
std::string expanded(std::string_view name, int depth) {
  const std::string_view text = embedded(name);
  if (text.empty() || depth == 0) return {};
  constexpr std::string_view kOpen = "#include \"", kClose = ".cl\"";
  std::string out;
  for (size_t begin = 0; begin < text.size();) {
    const size_t end = std::min(text.find('\n', begin), text.size());
    const std::string_view line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.starts_with(kOpen) && line.ends_with(kClose)) {
      const std::string_view file = line.substr(kOpen.size(), line.size() - kOpen.size() - kClose.size());
      const std::string included = expanded(file, depth - 1);
      if (included.empty()) return {};
      out += included;
    } else {
      out.append(line);
      out += '\n';
    }
  }
  return out;
}

}  // namespace

std::span<const KernelRow> kernel_table() { return kKernels; }

std::string entry_point(const KernelRow& row) { return absl::StrCat(std::string(row.op), "_", std::string(row.variant)); }

std::string kernel_source(std::string_view entry_point) {
  const std::string kernel = expanded(entry_point, 3);
  if (kernel.empty()) return {};
  return absl::StrCat(std::string(embedded("prelude")), "\n", std::string(embedded("elementwise_ops")), "\n",
                      std::string(embedded("activations")), "\n", std::string(kernel));
}

}  // namespace kiln::kernels::opencl
