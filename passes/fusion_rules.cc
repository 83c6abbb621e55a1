// The built-in fusion rules: one row per fusion, read as algebra (the line
// above each row), with the conditions under which its fused kernel wins.
// A new fusion is one row here plus its fused op (ir/fused_ops.cc) and its
// kernels (kernels/cpu/fused_*.cc and each GPU backend's); see
// docs/fusion.md.

#include "passes/fusion_rules.h"

namespace kiln::passes {
namespace {

// Decode's largest row a fused matmul + rmsnorm normalises in one pass: the
// reference guide's N <= 8192 (one workgroup owns the row's sum of squares).
constexpr int64_t kMatmulRmsnormMaxCols = 8192;
// The whole-FFN kernel keeps act(gate) * up for one row in workgroup memory,
// in f32.
constexpr int64_t kFfnIntermediateBytesPerElement = 4;

// Dtypes: a fused kernel, like matmul, reads its weights in their stored
// dtype (f16 weights beside f32 activations is the common model case), so
// rows require one dtype across the weights that share a loop and one
// across the activations, never weights equal to activations.

// Conversions folded into the op that produces their operand, on every
// target and step: the embedding's f16 rows become the f32 residual stream
// as they are gathered.
FusionTable convert_table() {
  return {"convert",
          {
              // cast(embedding(t, ids)) -> embedding_cast(t, ids)
              {.name = "embedding_cast",
               .pattern = "y:cast(e:embedding(t, ids))",
               .when = {},
               .fused = "y = embedding_cast(t, ids) {dtype = y.dtype}",
               .why = "the rows are converted as they are gathered: no cast dispatch, no second copy of the rows"},
          }};
}

// GPU decode: a layer in five dispatches, each spread over the device. A
// GPU gives every workgroup of a matrix-vector product the whole input row
// anyway, so the norm that produces it is recomputed in each workgroup's
// prologue (its sum of squares rides along the dot products) instead of
// running as a dispatch of its own on a few workgroups; the residual add,
// rope and the KV-cache writes run in the epilogues. This table comes
// first: its patterns read the primitive matmuls, norms and adds that the
// other tables would otherwise take. Prefill keeps the other tables' forms:
// its products are tiled, and a tile does not read whole rows.

// The rope attributes q's and k's rotations must share to be one op's.
std::vector<Condition> same_rope(std::vector<Condition> when) {
  for (const char* attr : {"theta", "rotary_dim", "interleaved", "scaling_factor", "scaling_low_freq_factor",
                           "scaling_high_freq_factor", "scaling_original_context"}) {
    when.push_back(same_attr(attr, {"qr", "kr"}));
  }
  return when;
}

constexpr const char* kRopeAttrs =
    "theta = qr.theta, rotary_dim = qr.rotary_dim, interleaved = qr.interleaved, "
    "scaling_factor = qr.scaling_factor, scaling_low_freq_factor = qr.scaling_low_freq_factor, "
    "scaling_high_freq_factor = qr.scaling_high_freq_factor, "
    "scaling_original_context = qr.scaling_original_context";

// The widest product whose input norm the decode table recomputes in its
// prologue (rmsnorm_matmul.decode).
constexpr int64_t kNormPrologueColumns = 32768;

FusionTable decode_table() {
  const std::string qkv_form = std::string("qr, kc, vc = rmsnorm_qkv_rope(x, g, wq, wk, wv, kcache, vcache");
  const std::string qkv_attrs = std::string(" {eps = n.eps, transpose_b = q.transpose_b, ") + kRopeAttrs + "}";
  return {"decode",
          {
              // rope(matmul(rmsnorm(x, g), wq, bq)); kv_write(kc, rope(matmul(.., wk, bk))); kv_write(vc, matmul(.., wv, bv))
              {.name = "rmsnorm_qkv_rope.bias.decode",
               .pattern = "qr:rope(reshape(q:matmul(n:rmsnorm(x, g), wq, bq)));"
                          "kc:kv_write(kcache, kr:rope(reshape(k:matmul(n, wk, bk))));"
                          "vc:kv_write(vcache, reshape(v:matmul(n, wv, bv)))",
               .when = same_rope({decode("q"), target_has_workgroups(), same_dtype({"wq", "wk", "wv"}),
                                  same_dtype({"bq", "bk", "bv"}), same_attr("transpose_b", {"q", "k", "v"}),
                                  matrices({"wq", "wk", "wv"})}),
               .fused = qkv_form + ", bq, bk, bv)" + qkv_attrs,
               .why = "decode: the norm in the prologue; rope and the cache writes in the epilogue"},
              // the same without biases
              {.name = "rmsnorm_qkv_rope.decode",
               .pattern = "qr:rope(reshape(q:matmul(n:rmsnorm(x, g), wq)));"
                          "kc:kv_write(kcache, kr:rope(reshape(k:matmul(n, wk))));"
                          "vc:kv_write(vcache, reshape(v:matmul(n, wv)))",
               .when = same_rope({decode("q"), target_has_workgroups(), same_dtype({"wq", "wk", "wv"}),
                                  same_attr("transpose_b", {"q", "k", "v"}), matrices({"wq", "wk", "wv"})}),
               .fused = qkv_form + ")" + qkv_attrs,
               .why = "decode: the norm in the prologue; rope and the cache writes in the epilogue"},
              // mul(act(matmul(rmsnorm(x, g), wg)), matmul(rmsnorm(x, g), wu)) -> rmsnorm_gate_up(x, g, wg, wu)
              {.name = "rmsnorm_gate_up.decode",
               .pattern = "m:mul(act:silu|gelu(gt:matmul(n:rmsnorm(x, g), wg)), u:matmul(n, wu))",
               .when = {decode("n"), target_has_workgroups(), same_dtype({"wg", "wu"}),
                        same_attr("transpose_b", {"gt", "u"}), matrices({"wg", "wu"})},
               .fused = "m = rmsnorm_gate_up(x, g, wg, wu) {eps = n.eps, act = act.op, approximate = act.approximate, "
                        "transpose_b = gt.transpose_b}",
               .why = "decode: the norm in the prologue, the activation and product in the epilogue"},
              // add(r, matmul(x, w)) -> matmul_residual(x, w, r)
              {.name = "matmul_residual.decode",
               .pattern = "y:add(r, h:matmul(x, w))",
               .when = {decode("h"), target_has_workgroups(), same_shape({"r", "h"}), matrices({"w"})},
               .fused = "y = matmul_residual(x, w, r) {transpose_b = h.transpose_b}",
               .why = "decode: the residual added in the projection's epilogue"},
              // matmul(rmsnorm(x, g), w) -> rmsnorm_matmul(x, g, w), up to
              // kNormPrologueColumns columns: every workgroup of the product
              // reads x and g again for its prologue, a cost that grows with
              // the columns while the dispatch saved does not. At a
              // vocabulary's width the separate norm wins: the Llama-3.2-1B
              // head (2048 -> 128256) takes 271 us fused against 261 unfused
              // on the H100's Vulkan, 344 against 236 on its OpenCL
              // (fusion_bench).
              {.name = "rmsnorm_matmul.decode",
               .pattern = "y:matmul(n:rmsnorm(x, g), w)",
               .when = {decode("y"), target_has_workgroups(), matrices({"w"}), cols_at_most("y", kNormPrologueColumns)},
               .fused = "y = rmsnorm_matmul(x, g, w) {eps = n.eps, transpose_b = y.transpose_b}",
               .why = "decode: the norm recomputed in the projection's prologue (the output norm and lm head)"},
          }};
}

// Gated FFNs. The whole-FFN form comes first: it covers the gate+up form and
// the down projection too, so where it applies (decode, intermediate within
// workgroup memory) it saves the most. Otherwise the gate+up form still
// reads x once and applies the activation in the epilogue, and down stays a
// plain matmul. This table runs before the QKV table because gate and up
// are also matmuls sharing their input.
FusionTable ffn_table() {
  return {"ffn",
          {
              // matmul(mul(act(matmul(x, wg)), matmul(x, wu)), wd) -> fused_ffn(x, wg, wu, wd)
              {.name = "fused_ffn.decode",
               .pattern = "d:matmul(m:mul(act:silu|gelu(g:matmul(x, wg)), u:matmul(x, wu)), wd)",
               .when = {decode("x"), fits_workgroup_memory("m", kFfnIntermediateBytesPerElement),
                        same_dtype({"wg", "wu", "wd"}), same_attr("transpose_b", {"g", "u", "d"}),
                        matrices({"wg", "wu", "wd"})},
               .fused = "d = fused_ffn(x, wg, wu, wd) {act = act.op, approximate = act.approximate, "
                        "transpose_b = d.transpose_b}",
               .why = "decode: one dispatch reads x once and never writes act(gate) * up to memory"},
              // mul(act(matmul(x, wg)), matmul(x, wu)) -> fused_gate_up(x, wg, wu)
              {.name = "fused_gate_up",
               .pattern = "m:mul(act:silu|gelu(g:matmul(x, wg)), u:matmul(x, wu))",
               .when = {same_dtype({"wg", "wu"}), same_attr("transpose_b", {"g", "u"}),
                        matrices({"wg", "wu"})},
               .fused = "m = fused_gate_up(x, wg, wu) {act = act.op, approximate = act.approximate, "
                        "transpose_b = g.transpose_b}",
               .why = "any token count: gate and up share one read of x and the activation runs in the epilogue"},
          }};
}

// Norms over a sum. The matmul_rmsnorm rows come first: they swallow the
// producing matmul as well as the sum, so where they apply (decode, a row
// within one pass) they save a dispatch more than residual_rmsnorm. With a
// residual before without: the wider pattern first.
FusionTable norm_table() {
  return {"norm",
          {
              // rmsnorm(add(r, matmul(x, w)), g) -> (sum, normed) = matmul_rmsnorm(x, w, g, r)
              {.name = "matmul_rmsnorm.residual.decode",
               .pattern = "y:rmsnorm(s:add(r, h:matmul(x, w)), g)",
               .when = {decode("h"), cols_at_most("h", kMatmulRmsnormMaxCols), same_shape({"r", "h"}), matrices({"w"})},
               .fused = "s, y = matmul_rmsnorm(x, w, g, r) {eps = y.eps, transpose_b = h.transpose_b}",
               .why = "decode: read W once, add the residual and normalise in the epilogue"},
              // rmsnorm(matmul(x, w), g) -> (h, normed) = matmul_rmsnorm(x, w, g)
              {.name = "matmul_rmsnorm.decode",
               .pattern = "y:rmsnorm(h:matmul(x, w), g)",
               .when = {decode("h"), cols_at_most("h", kMatmulRmsnormMaxCols), matrices({"w"})},
               .fused = "h, y = matmul_rmsnorm(x, w, g) {eps = y.eps, transpose_b = h.transpose_b}",
               .why = "decode: read W once and normalise in the epilogue"},
              // rmsnorm(add(a, b), g) -> (sum, normed) = residual_rmsnorm(a, b, g)
              {.name = "residual_rmsnorm",
               .pattern = "y:rmsnorm(s:add(a, b), g)",
               .when = {same_shape({"a", "b"})},
               .fused = "s, y = residual_rmsnorm(a, b, g) {eps = y.eps}",
               .why = "the residual stream is read once and the sum written once, beside the normalised row"},
              // layernorm(add(a, b), g, beta) -> (sum, normed) = residual_layernorm(a, b, g, beta)
              {.name = "residual_layernorm.bias",
               .pattern = "y:layernorm(s:add(a, b), g, beta)",
               .when = {same_shape({"a", "b"}), same_dtype({"g", "beta"})},
               .fused = "s, y = residual_layernorm(a, b, g, beta) {eps = y.eps}",
               .why = "the residual stream is read once and the sum written once, beside the normalised row"},
              // layernorm(add(a, b), g) -> (sum, normed) = residual_layernorm(a, b, g)
              {.name = "residual_layernorm",
               .pattern = "y:layernorm(s:add(a, b), g)",
               .when = {same_shape({"a", "b"})},
               .fused = "s, y = residual_layernorm(a, b, g) {eps = y.eps}",
               .why = "the residual stream is read once and the sum written once, beside the normalised row"},
          }};
}

// Projections sharing their input. With biases first: a biased pattern
// never matches unbiased matmuls (operand counts differ), so the order only
// keeps the tables' habit of the wider pattern first.
FusionTable qkv_table() {
  return {"qkv",
          {
              // matmul(x, wq, bq), matmul(x, wk, bk), matmul(x, wv, bv) -> matmul_qkv(x, wq, wk, wv, bq, bk, bv)
              {.name = "matmul_qkv.bias",
               .pattern = "q:matmul(x, wq, bq); k:matmul(x, wk, bk); v:matmul(x, wv, bv)",
               .when = {same_dtype({"wq", "wk", "wv"}), same_dtype({"bq", "bk", "bv"}),
                        same_attr("transpose_b", {"q", "k", "v"}), matrices({"wq", "wk", "wv"})},
               .fused = "q, k, v = matmul_qkv(x, wq, wk, wv, bq, bk, bv) {transpose_b = q.transpose_b}",
               .why = "x is read once for all three projections; each output is written where it is read"},
              // matmul(x, wq), matmul(x, wk), matmul(x, wv) -> matmul_qkv(x, wq, wk, wv)
              {.name = "matmul_qkv",
               .pattern = "q:matmul(x, wq); k:matmul(x, wk); v:matmul(x, wv)",
               .when = {same_dtype({"wq", "wk", "wv"}), same_attr("transpose_b", {"q", "k", "v"}),
                        matrices({"wq", "wk", "wv"})},
               .fused = "q, k, v = matmul_qkv(x, wq, wk, wv) {transpose_b = q.transpose_b}",
               .why = "x is read once for all three projections; each output is written where it is read"},
          }};
}

}  // namespace

std::vector<FusionTable> builtin_fusion_tables() {
  return {convert_table(), decode_table(), ffn_table(), norm_table(), qkv_table()};
}

}  // namespace kiln::passes
