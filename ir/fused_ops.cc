// Fused ops: created only by the fusion pass (passes/fusion_rules.cc), never
// by frontends. Each computes exactly what the primitive graph it replaces
// computes (ir/ops.cc gives those semantics), has a CPU reference kernel
// (kernels/cpu/fused_*.cc), and keeps the unfused form as its fallback: when
// no rule matches, the primitive ops stay.
//
// Conventions beyond ir/ops.cc's:
//  - every weight is 2-D and shared by all rows: [K, N], or [N, K] when
//    transpose_b (the layout of HF checkpoints);
//  - a fused op that swallows a sum it can also hand on writes that sum as
//    result 0 (the "tee" form) and the op's main result after it. The result
//    count is fixed per op: when nothing reads the sum, the result is simply
//    unused (dce keeps the node for its other result; the planner gives the
//    sum a slot that dies at once). One result list per op keeps kernels,
//    rules and the planner free of "is the tee on?" branches;
//  - `act` names the gated activation by its primitive op (silu or gelu) and
//    `approximate` is gelu's attribute of the same name.

#include <array>

#include "absl/strings/str_cat.h"
#include "ir/op_registry.h"

namespace kiln::ir {
namespace {

using Types = absl::StatusOr<std::vector<TensorType>>;

absl::Status fail(const InferContext& ctx, int operand, const std::string& rule) {
  return absl::InvalidArgumentError(absl::StrCat(operand_label(ctx, operand), ": ", rule));
}

// The activations a gated FFN may use. Each takes approximate = "none";
// gelu also has its tanh form.
struct Activation {
  std::string_view op;
  bool has_tanh_form;
};
constexpr std::array<Activation, 2> kActivations = {{
    {"silu", false},
    {"gelu", true},
}};

absl::Status check_activation(const InferContext& ctx) {
  const std::string& act = ctx.attr_string("act");
  const std::string& approximate = ctx.attr_string("approximate");
  for (const Activation& known : kActivations) {
    if (known.op != act) continue;
    if (approximate == "none" || (known.has_tanh_form && approximate == "tanh")) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("act \"", act, "\" does not take approximate = \"", approximate, "\""));
  }
  return absl::InvalidArgumentError(absl::StrCat("act must be \"silu\" or \"gelu\", got \"", act, "\""));
}

// Checks the 2-D weight `w` against a contraction dim `k` (described as
// `k_what` in messages) and returns its output dim N.
absl::StatusOr<Dim> weight_cols(const InferContext& ctx, int w, const Dim& k, const std::string& k_what) {
  const TensorType& weight = ctx.inputs[w];
  if (weight.rank() != 2) return fail(ctx, w, "expected a 2-D weight");
  if (absl::Status s = expect_float(ctx, w); !s.ok()) return s;
  const bool transpose_b = ctx.attr_bool("transpose_b");
  const Dim& weight_k = weight.shape[transpose_b ? 1 : 0];
  if (!(weight_k == k)) {
    return fail(ctx, w, absl::StrCat("contraction dim ", weight_k.to_string(), " must equal ", k_what, " ",
                                     k.to_string()));
  }
  return weight.shape[transpose_b ? 0 : 1];
}

// x[..., M, K] @ w -> [..., M, N] in x's dtype.
absl::StatusOr<TensorType> projection(const InferContext& ctx, int x, int w) {
  if (absl::Status s = expect_rank_at_least(ctx, x, 2); !s.ok()) return s;
  if (absl::Status s = expect_float(ctx, x); !s.ok()) return s;
  const TensorType& input = ctx.inputs[x];
  absl::StatusOr<Dim> n = weight_cols(ctx, w, input.shape.back(), "the last dim of operand 'x'");
  if (!n.ok()) return n.status();
  TensorType out = input;
  out.shape.back() = *n;
  return out;
}

// Norm weights (gain, bias) from operand `first` on: rank 1, sized like the
// last dim of `like`.
absl::Status check_norm_weights(const InferContext& ctx, int first, const TensorType& like) {
  for (int i = first; i < static_cast<int>(ctx.inputs.size()); ++i) {
    const TensorType& weight = ctx.inputs[i];
    if (weight.rank() != 1 || !(weight.shape[0] == like.shape.back())) {
      return fail(ctx, i, absl::StrCat("expected shape [", like.shape.back().to_string(), "]"));
    }
  }
  return absl::OkStatus();
}

absl::Status expect_type(const InferContext& ctx, int operand, const TensorType& expected) {
  if (ctx.inputs[operand] == expected) return absl::OkStatus();
  return fail(ctx, operand, absl::StrCat("expected ", expected.to_string()));
}

// fused_ffn(x, w_gate, w_up, w_down) = (act(x @ w_gate) * (x @ w_up)) @ w_down.
Types infer_fused_ffn(const InferContext& ctx) {
  if (absl::Status s = check_activation(ctx); !s.ok()) return s;
  absl::StatusOr<TensorType> gate = projection(ctx, 0, 1);
  if (!gate.ok()) return gate.status();
  absl::StatusOr<TensorType> up = projection(ctx, 0, 2);
  if (!up.ok()) return up.status();
  if (!(gate->shape.back() == up->shape.back())) {
    return fail(ctx, 2, absl::StrCat("output dim must equal that of operand 'w_gate' (",
                                     gate->shape.back().to_string(), ")"));
  }
  absl::StatusOr<Dim> out_cols = weight_cols(ctx, 3, gate->shape.back(), "the intermediate size");
  if (!out_cols.ok()) return out_cols.status();
  TensorType out = *gate;
  out.shape.back() = *out_cols;
  return std::vector<TensorType>{out};
}

// fused_gate_up(x, w_gate, w_up) = act(x @ w_gate) * (x @ w_up).
Types infer_fused_gate_up(const InferContext& ctx) {
  if (absl::Status s = check_activation(ctx); !s.ok()) return s;
  absl::StatusOr<TensorType> gate = projection(ctx, 0, 1);
  if (!gate.ok()) return gate.status();
  absl::StatusOr<TensorType> up = projection(ctx, 0, 2);
  if (!up.ok()) return up.status();
  if (!(*gate == *up)) return fail(ctx, 2, absl::StrCat("must project to ", gate->to_string(), " as 'w_gate' does"));
  return std::vector<TensorType>{*gate};
}

// matmul_rmsnorm(x, w, g [, residual]) -> (sum, normed): sum = x @ w
// (+ residual), normed = rmsnorm(sum, g).
Types infer_matmul_rmsnorm(const InferContext& ctx) {
  absl::StatusOr<TensorType> sum = projection(ctx, 0, 1);
  if (!sum.ok()) return sum.status();
  if (ctx.inputs.size() == 4) {
    if (absl::Status s = expect_type(ctx, 3, *sum); !s.ok()) return s;
  }
  const TensorType& g = ctx.inputs[2];
  if (g.rank() != 1 || !(g.shape[0] == sum->shape.back())) {
    return fail(ctx, 2, absl::StrCat("expected shape [", sum->shape.back().to_string(), "]"));
  }
  return std::vector<TensorType>{*sum, *sum};
}

// residual_rmsnorm(a, b, g) and residual_layernorm(a, b, g [, beta]) ->
// (sum, normed): sum = a + b (equal types: the residual stream and a
// block's output), normed = norm(sum).
Types infer_residual_norm(const InferContext& ctx) {
  if (absl::Status s = expect_float(ctx, 0); !s.ok()) return s;
  if (absl::Status s = expect_rank_at_least(ctx, 0, 1); !s.ok()) return s;
  if (absl::Status s = expect_type(ctx, 1, ctx.inputs[0]); !s.ok()) return s;
  if (absl::Status s = check_norm_weights(ctx, 2, ctx.inputs[0]); !s.ok()) return s;
  return std::vector<TensorType>{ctx.inputs[0], ctx.inputs[0]};
}

// matmul_qkv(x, wq, wk, wv [, bq, bk, bv]) -> (x @ wq + bq, x @ wk + bk,
// x @ wv + bv): one read of x, three outputs (split write).
Types infer_matmul_qkv(const InferContext& ctx) {
  if (ctx.inputs.size() != 4 && ctx.inputs.size() != 7) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected 4 operands, or 7 with biases, got ", ctx.inputs.size()));
  }
  std::vector<TensorType> outs;
  for (int w = 1; w <= 3; ++w) {
    absl::StatusOr<TensorType> out = projection(ctx, 0, w);
    if (!out.ok()) return out.status();
    outs.push_back(*out);
  }
  for (int b = 4; b < static_cast<int>(ctx.inputs.size()); ++b) {
    const Dim& n = outs[b - 4].shape.back();
    if (ctx.inputs[b].rank() != 1 || !(ctx.inputs[b].shape[0] == n)) {
      return fail(ctx, b, absl::StrCat("expected shape [", n.to_string(), "]"));
    }
  }
  return outs;
}

// embedding_cast(table[V, D], ids) {dtype} = cast(embedding(table, ids)):
// the rows converted as they are gathered (f16 tables under f32
// activations), so no cast dispatch follows.
Types infer_embedding_cast(const InferContext& ctx) {
  if (ctx.inputs[0].rank() != 2) return fail(ctx, 0, "expected rank 2 [vocab, dim]");
  if (absl::Status s = expect_float(ctx, 0); !s.ok()) return s;
  if (ctx.inputs[1].dtype != DType::i32) return fail(ctx, 1, "expected i32 token ids");
  absl::StatusOr<DType> dtype = parse_dtype(ctx.attr_string("dtype"));
  if (!dtype.ok()) return fail(ctx, 0, std::string(dtype.status().message()));
  TensorType out{*dtype, ctx.inputs[1].shape};
  out.shape.push_back(ctx.inputs[0].shape[1]);
  return std::vector<TensorType>{out};
}

// The GPU decode forms (docs/fusion.md, "Table decode"): a norm recomputed
// in the prologue of the products that read it, and the residual, rope and
// KV-cache writes in their epilogues. Each is what its primitive graph
// computes, with the normalised row rounded to x's dtype as rmsnorm's result
// would be.

// matmul_residual(x, w, residual) = x @ w + residual.
Types infer_matmul_residual(const InferContext& ctx) {
  absl::StatusOr<TensorType> product = projection(ctx, 0, 1);
  if (!product.ok()) return product.status();
  if (absl::Status s = expect_type(ctx, 2, *product); !s.ok()) return s;
  return std::vector<TensorType>{*product};
}

// The normalised input of a norm-prologue op: x[..., K] and its gain g[K].
absl::Status check_norm_input(const InferContext& ctx) {
  if (absl::Status s = expect_rank_at_least(ctx, 0, 2); !s.ok()) return s;
  if (absl::Status s = expect_float(ctx, 0); !s.ok()) return s;
  if (absl::Status s = expect_float(ctx, 1); !s.ok()) return s;
  const TensorType& g = ctx.inputs[1];
  if (g.rank() != 1 || !(g.shape[0] == ctx.inputs[0].shape.back())) {
    return fail(ctx, 1, absl::StrCat("expected shape [", ctx.inputs[0].shape.back().to_string(), "]"));
  }
  return absl::OkStatus();
}

// rmsnorm_matmul(x, g, w) = rmsnorm(x, g) @ w.
Types infer_rmsnorm_matmul(const InferContext& ctx) {
  if (absl::Status s = check_norm_input(ctx); !s.ok()) return s;
  absl::StatusOr<TensorType> product = projection(ctx, 0, 2);
  if (!product.ok()) return product.status();
  return std::vector<TensorType>{*product};
}

// rmsnorm_gate_up(x, g, w_gate, w_up) = act(n @ w_gate) * (n @ w_up), n = rmsnorm(x, g).
Types infer_rmsnorm_gate_up(const InferContext& ctx) {
  if (absl::Status s = check_activation(ctx); !s.ok()) return s;
  if (absl::Status s = check_norm_input(ctx); !s.ok()) return s;
  absl::StatusOr<TensorType> gate = projection(ctx, 0, 2);
  if (!gate.ok()) return gate.status();
  absl::StatusOr<TensorType> up = projection(ctx, 0, 3);
  if (!up.ok()) return up.status();
  if (!(*gate == *up)) return fail(ctx, 3, absl::StrCat("must project to ", gate->to_string(), " as 'w_gate' does"));
  return std::vector<TensorType>{*gate};
}

// rmsnorm_qkv_rope(x[T, K], g, wq, wk, wv, k_cache[S, Hkv, Dh], v_cache [, bq,
// bk, bv]) -> (rope(q)[T, Hq, Dh], k_cache, v_cache): n = rmsnorm(x, g);
// q = n @ wq (+ bq) in heads of Dh, rotated; k = n @ wk (+ bk), rotated,
// and v = n @ wv (+ bv) written into rows [P, P + T) of the caches, which
// results 1 and 2 are (as kv_write's result is its cache).
Types infer_rmsnorm_qkv_rope(const InferContext& ctx) {
  if (ctx.inputs.size() != 7 && ctx.inputs.size() != 10) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected 7 operands, or 10 with biases, got ", ctx.inputs.size()));
  }
  if (absl::Status s = check_norm_input(ctx); !s.ok()) return s;
  if (ctx.inputs[0].rank() != 2) return fail(ctx, 0, "expected [T, K]");
  std::vector<TensorType> products;
  for (int w = 2; w <= 4; ++w) {
    absl::StatusOr<TensorType> product = projection(ctx, 0, w);
    if (!product.ok()) return product.status();
    products.push_back(*product);
  }
  for (int b = 7; b < static_cast<int>(ctx.inputs.size()); ++b) {
    const Dim& n = products[b - 7].shape.back();
    if (ctx.inputs[b].rank() != 1 || !(ctx.inputs[b].shape[0] == n)) {
      return fail(ctx, b, absl::StrCat("expected shape [", n.to_string(), "]"));
    }
  }
  for (int cache = 5; cache <= 6; ++cache) {
    const Shape& shape = ctx.inputs[cache].shape;
    if (shape.size() != 3 || !shape[1].is_static() || !shape[2].is_static()) {
      return fail(ctx, cache, "expected a cache [max_tokens, kv_heads, head_dim] with static heads");
    }
    if (absl::Status s = expect_float(ctx, cache); !s.ok()) return s;
    const Dim& n = products[cache - 4].shape.back();
    if (!n.is_static() || n.value() != shape[1].value() * shape[2].value()) {
      return fail(ctx, cache, absl::StrCat("kv_heads x head_dim must equal the projection's ", n.to_string(),
                                           " columns"));
    }
  }
  if (absl::Status s = expect_same_dim(ctx, 5, 1, 6, 1); !s.ok()) return s;
  if (absl::Status s = expect_same_dim(ctx, 5, 2, 6, 2); !s.ok()) return s;
  const int64_t head_dim = ctx.inputs[5].shape[2].value();
  const Dim& nq = products[0].shape.back();
  if (!nq.is_static() || head_dim == 0 || nq.value() % head_dim != 0) {
    return fail(ctx, 2, absl::StrCat("query columns ", nq.to_string(), " must be whole heads of ", head_dim));
  }
  const int64_t rotary = ctx.attr_int("rotary_dim");
  if (rotary < 0 || rotary > head_dim || rotary % 2 != 0) {
    return fail(ctx, 5, absl::StrCat("rotary_dim ", rotary, " must be even and <= head_dim ", head_dim));
  }
  TensorType q = products[0];
  q.shape = {q.shape[0], Dim(nq.value() / head_dim), Dim(head_dim)};
  return std::vector<TensorType>{q, ctx.inputs[5], ctx.inputs[6]};
}


// ---- Kernel parameters (OpDef::derive) ---------------------------------------

using Derived = absl::StatusOr<KernelParams>;
using Outputs = std::span<const TensorType>;

// The output dim of weight operand `w`.
Dim weight_n(const InferContext& ctx, int w) { return ctx.inputs[w].shape[ctx.attr_bool("transpose_b") ? 0 : 1]; }

// A projection of x's rows: rows, k, and the launch [rows, n].
ParamBuilder projection_params(const InferContext& ctx, const Dim& n) {
  const Shape& x = ctx.inputs[0].shape;
  std::vector<Dim> launch(leading_dims(x).begin(), leading_dims(x).end());
  launch.push_back(n);
  ParamBuilder params;
  params.extent("rows", leading_dims(x)).extent("k", x.back()).launch(launch);
  return params;
}

Derived derive_fused_ffn(const InferContext& ctx, Outputs outputs) {
  return projection_params(ctx, outputs[0].shape.back())
      .extent("f", weight_n(ctx, 1))
      .extent("n", weight_n(ctx, 3))
      .build();
}

Derived derive_fused_gate_up(const InferContext& ctx, Outputs) {
  return projection_params(ctx, weight_n(ctx, 1)).extent("n", weight_n(ctx, 1)).build();
}

Derived derive_matmul_rmsnorm(const InferContext& ctx, Outputs) {
  return projection_params(ctx, weight_n(ctx, 1))
      .extent("n", weight_n(ctx, 1))
      .flag("has_residual", ctx.inputs.size() == 4)
      .build();
}

Derived derive_residual_norm(const InferContext& ctx, Outputs) {
  const Shape& a = ctx.inputs[0].shape;
  std::vector<Dim> rows(leading_dims(a).begin(), leading_dims(a).end());
  if (rows.empty()) rows.push_back(Dim(1));
  return ParamBuilder()
      .extent("rows", rows)
      .extent("cols", a.back())
      .flag("has_bias", ctx.inputs.size() == 4)
      .launch(rows)
      .build();
}

// Launched over the three results side by side: [rows, nq + nk + nv].
Derived derive_matmul_qkv(const InferContext& ctx, Outputs) {
  const Dim nq = weight_n(ctx, 1), nk = weight_n(ctx, 2), nv = weight_n(ctx, 3);
  const int64_t total = nq.value() + nk.value() + nv.value();
  return projection_params(ctx, Dim(total))
      .extent("nq", nq)
      .extent("nk", nk)
      .extent("nv", nv)
      .flag("has_bias", ctx.inputs.size() == 7)
      .build();
}

Derived derive_matmul_residual(const InferContext& ctx, Outputs) {
  return projection_params(ctx, weight_n(ctx, 1)).extent("n", weight_n(ctx, 1)).build();
}

Derived derive_rmsnorm_matmul(const InferContext& ctx, Outputs) {
  return projection_params(ctx, weight_n(ctx, 2)).extent("n", weight_n(ctx, 2)).build();
}

Derived derive_rmsnorm_gate_up(const InferContext& ctx, Outputs) {
  return projection_params(ctx, weight_n(ctx, 2)).extent("n", weight_n(ctx, 2)).build();
}

// Launched over the three products side by side, [rows, nq + nk + nv], as
// matmul_qkv is; the rope and cache parameters as rope and kv_write name them.
Derived derive_rmsnorm_qkv_rope(const InferContext& ctx, Outputs) {
  const Dim nq = weight_n(ctx, 2), nk = weight_n(ctx, 3), nv = weight_n(ctx, 4);
  const Shape& cache = ctx.inputs[5].shape;
  const int64_t total = nq.value() + nk.value() + nv.value();
  return projection_params(ctx, Dim(total))
      .extent("nq", nq)
      .extent("nk", nk)
      .extent("nv", nv)
      .extent("heads", Dim(nq.value() / cache[2].value()))
      .extent("kv_heads", cache[1])
      .extent("head_dim", cache[2])
      .extent("capacity", cache[0])
      .sum("past", {Dim::symbol("P")})
      .flag("has_bias", ctx.inputs.size() == 10)
      .build();
}

std::vector<OpDef> fused_ops() {
  const AttrSpec eps{"eps", AttrType::real, 1e-5};
  const AttrSpec transpose_b{"transpose_b", AttrType::boolean, false};
  const AttrSpec act{"act", AttrType::string, std::string("silu"), {"silu", "gelu"}};
  const AttrSpec approximate{"approximate", AttrType::string, std::string("none"), {"none", "tanh"}};
  // rope's attributes (ir/ops.cc), for the ops that rotate in an epilogue.
  const AttrSpec theta{"theta", AttrType::real, 10000.0};
  const AttrSpec rotary_dim{"rotary_dim", AttrType::integer, std::nullopt};
  const AttrSpec interleaved{"interleaved", AttrType::boolean, false};
  const AttrSpec scaling_factor{"scaling_factor", AttrType::real, 1.0};
  const AttrSpec scaling_low_freq_factor{"scaling_low_freq_factor", AttrType::real, 1.0};
  const AttrSpec scaling_high_freq_factor{"scaling_high_freq_factor", AttrType::real, 4.0};
  const AttrSpec scaling_original_context{"scaling_original_context", AttrType::integer, int64_t{0}};
  return {
      {.name = "fused_ffn", .doc = "(act(x @ w_gate) * (x @ w_up)) @ w_down: a gated FFN in one dispatch",
       .operands = {"x", "w_gate", "w_up", "w_down"}, .min_inputs = 4, .max_inputs = 4,
       .attrs = {act, approximate, transpose_b}, .infer = infer_fused_ffn, .derive = derive_fused_ffn, .fused = true},
      {.name = "fused_gate_up", .doc = "act(x @ w_gate) * (x @ w_up): a gated FFN's first half",
       .operands = {"x", "w_gate", "w_up"}, .min_inputs = 3, .max_inputs = 3,
       .attrs = {act, approximate, transpose_b}, .infer = infer_fused_gate_up, .derive = derive_fused_gate_up,
       .fused = true},
      {.name = "matmul_rmsnorm",
       .doc = "sum = x @ w (+ residual), normed = rmsnorm(sum, g); results (sum, normed)",
       .operands = {"x", "w", "g", "residual"}, .min_inputs = 3, .max_inputs = 4,
       .attrs = {eps, transpose_b}, .infer = infer_matmul_rmsnorm, .derive = derive_matmul_rmsnorm, .fused = true},
      {.name = "residual_rmsnorm", .doc = "sum = a + b, normed = rmsnorm(sum, g); results (sum, normed)",
       .operands = {"a", "b", "g"}, .min_inputs = 3, .max_inputs = 3, .attrs = {eps},
       .infer = infer_residual_norm, .derive = derive_residual_norm, .may_write_in_place_over = 0, .fused = true},
      {.name = "residual_layernorm",
       .doc = "sum = a + b, normed = layernorm(sum, g (, beta)); results (sum, normed)",
       .operands = {"a", "b", "g", "beta"}, .min_inputs = 3, .max_inputs = 4, .attrs = {eps},
       .infer = infer_residual_norm, .derive = derive_residual_norm, .may_write_in_place_over = 0, .fused = true},
      {.name = "matmul_qkv", .doc = "x @ wq, x @ wk, x @ wv (+ biases) in one read of x; results (q, k, v)",
       .operands = {"x", "wq", "wk", "wv", "bq", "bk", "bv"}, .min_inputs = 4, .max_inputs = 7,
       .attrs = {transpose_b}, .infer = infer_matmul_qkv, .derive = derive_matmul_qkv, .fused = true},
      {.name = "embedding_cast", .doc = "cast(embedding(table, ids)): the rows converted as they are gathered",
       .operands = {"table", "ids"}, .min_inputs = 2, .max_inputs = 2,
       .attrs = {{"dtype", AttrType::string, std::nullopt, {"f32", "f16", "bf16"}}}, .infer = infer_embedding_cast,
       .derive = derive_gather, .fused = true},
      {.name = "matmul_residual", .doc = "x @ w + residual: a projection that adds the residual in its epilogue",
       .operands = {"x", "w", "residual"}, .min_inputs = 3, .max_inputs = 3, .attrs = {transpose_b},
       .infer = infer_matmul_residual, .derive = derive_matmul_residual, .may_write_in_place_over = 2,
       .fused = true},
      {.name = "rmsnorm_matmul", .doc = "rmsnorm(x, g) @ w: the norm recomputed in the projection's prologue",
       .operands = {"x", "g", "w"}, .min_inputs = 3, .max_inputs = 3, .attrs = {eps, transpose_b},
       .infer = infer_rmsnorm_matmul, .derive = derive_rmsnorm_matmul, .fused = true},
      {.name = "rmsnorm_gate_up",
       .doc = "act(n @ w_gate) * (n @ w_up), n = rmsnorm(x, g): the FFN's first half with its norm",
       .operands = {"x", "g", "w_gate", "w_up"}, .min_inputs = 4, .max_inputs = 4,
       .attrs = {eps, act, approximate, transpose_b}, .infer = infer_rmsnorm_gate_up,
       .derive = derive_rmsnorm_gate_up, .fused = true},
      {.name = "rmsnorm_qkv_rope",
       .doc = "n = rmsnorm(x, g); rope(n @ wq), and rope(n @ wk), n @ wv written into the caches at row P; "
              "results (q, k_cache, v_cache)",
       .operands = {"x", "g", "wq", "wk", "wv", "k_cache", "v_cache", "bq", "bk", "bv"}, .min_inputs = 7,
       .max_inputs = 10, .attrs = {eps, transpose_b, theta, rotary_dim, interleaved, scaling_factor,
                                   scaling_low_freq_factor, scaling_high_freq_factor, scaling_original_context},
       .infer = infer_rmsnorm_qkv_rope, .derive = derive_rmsnorm_qkv_rope, .aliases = {-1, 5, 6}, .fused = true},
  };
}

}  // namespace

void register_fused_ops(OpRegistry& registry) {
  for (OpDef& def : fused_ops()) {
    absl::Status status = registry.add(std::move(def));
    (void)status;  // the built-in names are unique
  }
}

}  // namespace kiln::ir
