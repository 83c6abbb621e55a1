// The primitive op set: enough for Llama-family decoders and MLPs. Every fact
// about an op lives in its entry below; kernels live under kernels/.
//
// Conventions shared by all entries: tensors are row-major, the last dim is
// contiguous; "rows" are all leading dims flattened. Step symbols: `T` is the
// number of tokens in this step, `P` the past length (tokens already in the KV
// cache). An op that reads P treats it as 0 when the graph declares no P.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ir/op_registry.h"

namespace kiln::ir {
namespace {

using Types = absl::StatusOr<std::vector<TensorType>>;

absl::Status fail(const InferContext& ctx, int operand, const std::string& rule) {
  return absl::InvalidArgumentError(absl::StrCat(operand_label(ctx, operand), ": ", rule));
}

int64_t normalise_axis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

Types same_as_first(const InferContext& ctx) { return std::vector<TensorType>{ctx.inputs[0]}; }

Types infer_unary_float(const InferContext& ctx) {
  if (absl::Status s = expect_float(ctx, 0); !s.ok()) return s;
  return same_as_first(ctx);
}

Types infer_binary(const InferContext& ctx) {
  if (ctx.inputs[0].dtype != ctx.inputs[1].dtype) {
    return fail(ctx, 1, absl::StrCat("dtype must match ", operand_label(ctx, 0)));
  }
  if (absl::Status s = expect_broadcastable(ctx, 0, 1); !s.ok()) return s;
  return same_as_first(ctx);
}

// matmul(a[..., M, K], b[K, N] | b[N, K] when transpose_b, bias[N]?) ->
// [..., M, N] in a's dtype. b is either 2-D (shared by every batch) or has
// a's batch dims.
Types infer_matmul(const InferContext& ctx) {
  const TensorType& a = ctx.inputs[0];
  const TensorType& b = ctx.inputs[1];
  if (absl::Status s = expect_rank_at_least(ctx, 0, 2); !s.ok()) return s;
  if (absl::Status s = expect_rank_at_least(ctx, 1, 2); !s.ok()) return s;
  if (absl::Status s = expect_float(ctx, 0); !s.ok()) return s;
  if (absl::Status s = expect_float(ctx, 1); !s.ok()) return s;
  const bool transpose_b = ctx.attr_bool("transpose_b");
  const int64_t k_dim = transpose_b ? -1 : -2;
  const Dim n = b.shape[b.shape.size() + (transpose_b ? -2 : -1)];
  if (absl::Status s = expect_same_dim(ctx, 0, -1, 1, k_dim); !s.ok()) return s;
  if (b.rank() > 2) {
    const bool same_batch = b.rank() == a.rank() &&
                            std::equal(b.shape.begin(), b.shape.end() - 2, a.shape.begin());
    if (!same_batch) return fail(ctx, 1, "batch dims must equal those of operand 'a'");
  }
  if (ctx.inputs.size() == 3) {
    const TensorType& bias = ctx.inputs[2];
    if (bias.rank() != 1 || !(bias.shape[0] == n)) {
      return fail(ctx, 2, absl::StrCat("expected shape [", n.to_string(), "]"));
    }
  }
  TensorType out{a.dtype, a.shape};
  out.shape.back() = n;
  return std::vector<TensorType>{out};
}

// embedding(table[V, D], ids[...]) -> [..., D] in the table's dtype.
Types infer_embedding(const InferContext& ctx) {
  if (ctx.inputs[0].rank() != 2) return fail(ctx, 0, "expected rank 2 [vocab, dim]");
  if (ctx.inputs[1].dtype != DType::i32) return fail(ctx, 1, "expected i32 token ids");
  TensorType out{ctx.inputs[0].dtype, ctx.inputs[1].shape};
  out.shape.push_back(ctx.inputs[0].shape[1]);
  return std::vector<TensorType>{out};
}

Types infer_norm(const InferContext& ctx) {
  if (absl::Status s = expect_float(ctx, 0); !s.ok()) return s;
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    if (ctx.inputs[i].rank() != 1) return fail(ctx, static_cast<int>(i), "expected rank 1");
    if (absl::Status s = expect_same_dim(ctx, 0, -1, static_cast<int>(i), 0); !s.ok()) return s;
  }
  return same_as_first(ctx);
}

Types infer_softmax(const InferContext& ctx) {
  if (absl::Status s = expect_float(ctx, 0); !s.ok()) return s;
  if (normalise_axis(ctx.attr_int("axis"), ctx.inputs[0].rank()) != ctx.inputs[0].rank() - 1) {
    return fail(ctx, 0, "softmax supports only the last axis");
  }
  return same_as_first(ctx);
}

// rope(x[T, H, Dh]) rotates pairs of the first rotary_dim features of each
// head by angle (P + t) * freq_i. `interleaved` pairs (2i, 2i+1) as GPT-J and
// llama.cpp's GGUF layout do; otherwise (i, i + rotary_dim/2) as HF's
// rotate_half. llama3 scaling reshapes the frequencies when
// scaling_original_context > 0.
Types infer_rope(const InferContext& ctx) {
  if (absl::Status s = expect_float(ctx, 0); !s.ok()) return s;
  const Shape& shape = ctx.inputs[0].shape;
  if (shape.size() != 3 || !shape[2].is_static()) return fail(ctx, 0, "expected [T, heads, head_dim]");
  const int64_t rotary = ctx.attr_int("rotary_dim");
  if (rotary < 0 || rotary > shape[2].value() || rotary % 2 != 0) {
    return fail(ctx, 0, absl::StrCat("rotary_dim ", rotary, " must be even and <= head_dim"));
  }
  return same_as_first(ctx);
}

// attention(q[T, Hq, Dh], k[S, Hkv, Dh], v[S, Hkv, Dh]) -> [T, Hq, Dh].
// Rows [0, P + T) of k and v are valid; query t sits at position P + t and,
// when causal, sees keys at positions <= P + t. Hq must be a multiple of Hkv
// (grouped-query attention; Hkv = 1 is multi-query).
Types infer_attention(const InferContext& ctx) {
  for (int i = 0; i < 3; ++i) {
    if (ctx.inputs[i].rank() != 3) return fail(ctx, i, "expected rank 3 [rows, heads, head_dim]");
    if (absl::Status s = expect_float(ctx, i); !s.ok()) return s;
  }
  if (absl::Status s = expect_same_dim(ctx, 0, 2, 1, 2); !s.ok()) return s;
  if (absl::Status s = expect_same_dim(ctx, 0, 2, 2, 2); !s.ok()) return s;
  if (absl::Status s = expect_same_dim(ctx, 1, 0, 2, 0); !s.ok()) return s;
  if (absl::Status s = expect_same_dim(ctx, 1, 1, 2, 1); !s.ok()) return s;
  const Dim& hq = ctx.inputs[0].shape[1];
  const Dim& hkv = ctx.inputs[1].shape[1];
  if (!hq.is_static() || !hkv.is_static() || hkv.value() == 0 || hq.value() % hkv.value() != 0) {
    return fail(ctx, 1, absl::StrCat("kv heads ", hkv.to_string(), " must divide query heads ", hq.to_string()));
  }
  return same_as_first(ctx);
}

// kv_write(cache[S, Hkv, Dh], x[T, Hkv, Dh]) writes x into rows [P, P + T) of
// the cache and returns the cache itself (same storage).
Types infer_kv_write(const InferContext& ctx) {
  if (ctx.inputs[0].rank() != 3) return fail(ctx, 0, "expected rank 3 [max_tokens, kv_heads, head_dim]");
  if (ctx.inputs[1].rank() != 3) return fail(ctx, 1, "expected rank 3 [T, kv_heads, head_dim]");
  if (absl::Status s = expect_same_dim(ctx, 0, 1, 1, 1); !s.ok()) return s;
  if (absl::Status s = expect_same_dim(ctx, 0, 2, 1, 2); !s.ok()) return s;
  return same_as_first(ctx);
}

// reshape(x) {shape}: a view. 0 in `shape` copies the input's dim at that
// index; -1 (at most once) takes whatever remains.
Types infer_reshape(const InferContext& ctx) {
  const Shape& in = ctx.inputs[0].shape;
  Shape out = std::get<Shape>(ctx.attr("shape"));
  int infer_at = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!out[i].is_static()) continue;
    if (out[i].value() == 0) {
      if (i >= in.size()) return fail(ctx, 0, absl::StrCat("shape index ", i, " has no input dim to copy"));
      out[i] = in[i];
    } else if (out[i].value() == -1) {
      if (infer_at >= 0) return fail(ctx, 0, "at most one -1 in shape");
      infer_at = static_cast<int>(i);
    }
  }
  if (infer_at >= 0) {
    Shape known = out;
    known.erase(known.begin() + infer_at);
    int64_t in_static = 1, known_static = 1;
    for (const Dim& d : in) in_static *= d.is_static() ? d.value() : 1;
    for (const Dim& d : known) known_static *= d.is_static() ? d.value() : 1;
    if (known_static == 0 || in_static % known_static != 0) return fail(ctx, 0, "cannot infer the -1 dim");
    out[infer_at] = Dim(in_static / known_static);
  }
  if (!same_element_count(in, out)) {
    return fail(ctx, 0, absl::StrCat("cannot reshape to ", shape_to_string(out), ": element counts differ"));
  }
  return std::vector<TensorType>{{ctx.inputs[0].dtype, out}};
}

Types infer_transpose(const InferContext& ctx) {
  const Shape& in = ctx.inputs[0].shape;
  const std::vector<int64_t>& perm = std::get<std::vector<int64_t>>(ctx.attr("perm"));
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (sorted.size() != in.size() || sorted[i] != static_cast<int64_t>(i)) {
      return fail(ctx, 0, absl::StrCat("perm must be a permutation of 0..", in.size() - 1));
    }
  }
  Shape out;
  for (int64_t axis : perm) out.push_back(in[axis]);
  return std::vector<TensorType>{{ctx.inputs[0].dtype, out}};
}

Types infer_concat(const InferContext& ctx) {
  const TensorType& first = ctx.inputs[0];
  const int64_t axis = normalise_axis(ctx.attr_int("axis"), first.rank());
  if (axis < 0 || axis >= first.rank()) return fail(ctx, 0, "axis out of range");
  Shape out = first.shape;
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    const TensorType& other = ctx.inputs[i];
    if (other.dtype != first.dtype || other.rank() != first.rank()) {
      return fail(ctx, static_cast<int>(i), "dtype and rank must match the first operand");
    }
    for (int64_t d = 0; d < first.rank(); ++d) {
      if (d != axis && !(other.shape[d] == first.shape[d])) {
        return fail(ctx, static_cast<int>(i), absl::StrCat("dim ", d, " must match the first operand"));
      }
    }
    if (!out[axis].is_static() || !other.shape[axis].is_static()) {
      return fail(ctx, static_cast<int>(i), "concat axis must be static");
    }
    out[axis] = Dim(out[axis].value() + other.shape[axis].value());
  }
  return std::vector<TensorType>{{first.dtype, out}};
}

// slice(x) {axis, start, end}: Python semantics; negative indices count from
// the end, end = 0 means "to the end". A symbolic axis can only be sliced to
// a static suffix (start < 0, end = 0): the last token's logits.
Types infer_slice(const InferContext& ctx) {
  const TensorType& in = ctx.inputs[0];
  const int64_t axis = normalise_axis(ctx.attr_int("axis"), in.rank());
  if (axis < 0 || axis >= in.rank()) return fail(ctx, 0, "axis out of range");
  const int64_t start = ctx.attr_int("start");
  const int64_t end = ctx.attr_int("end");
  TensorType out = in;
  const Dim& dim = in.shape[axis];
  if (!dim.is_static()) {
    if (start >= 0 || end != 0) return fail(ctx, 0, "a symbolic dim can only be sliced to a suffix (start < 0, end = 0)");
    out.shape[axis] = Dim(-start);
    return std::vector<TensorType>{out};
  }
  const int64_t size = dim.value();
  const int64_t lo = start < 0 ? start + size : start;
  const int64_t hi = end <= 0 ? end + size : end;
  if (lo < 0 || hi > size || lo >= hi) {
    return fail(ctx, 0, absl::StrCat("slice [", start, ", ", end, ") is empty or out of range for dim ", size));
  }
  out.shape[axis] = Dim(hi - lo);
  return std::vector<TensorType>{out};
}

Types infer_argmax(const InferContext& ctx) {
  if (absl::Status s = expect_float(ctx, 0); !s.ok()) return s;
  TensorType out{DType::i32, ctx.inputs[0].shape};
  out.shape.pop_back();
  if (out.shape.empty()) out.shape.push_back(Dim(1));
  return std::vector<TensorType>{out};
}

// top_k(logits[..., V], recent[W]?) {k, penalty} -> (ids i32[k], values
// f32[k]): the k most likely tokens of the last row after the repetition
// penalty (a positive logit of a token in `recent` divided by `penalty`, a
// negative one multiplied; ids < 0 in `recent` are padding), most likely
// first, the lower id first among equals; NaN counts as -inf. `values`
// are the raw logits of those ids, so the host's sampler recomputes the
// penalty and the softmax in f64 exactly as it does for full logits.
Types infer_top_k(const InferContext& ctx) {
  if (ctx.inputs[0].dtype != DType::f32) return fail(ctx, 0, "expected f32 logits");
  if (absl::Status s = expect_rank_at_least(ctx, 0, 1); !s.ok()) return s;
  const Dim& vocab = ctx.inputs[0].shape.back();
  const int64_t k = ctx.attr_int("k");
  if (!vocab.is_static() || k < 1 || k > vocab.value()) {
    return fail(ctx, 0, absl::StrCat("k = ", k, " must be in [1, ", vocab.to_string(), "]"));
  }
  if (ctx.inputs.size() == 2) {
    const TensorType& recent = ctx.inputs[1];
    if (recent.dtype != DType::i32 || recent.rank() != 1 || !recent.shape[0].is_static()) {
      return fail(ctx, 1, "expected static i32[W] token ids");
    }
  }
  return std::vector<TensorType>{{DType::i32, {Dim(k)}}, {DType::f32, {Dim(k)}}};
}

Types infer_cast(const InferContext& ctx) {
  absl::StatusOr<DType> dtype = parse_dtype(ctx.attr_string("dtype"));
  if (!dtype.ok()) return fail(ctx, 0, std::string(dtype.status().message()));
  return std::vector<TensorType>{{*dtype, ctx.inputs[0].shape}};
}


// ---- Kernel parameters (OpDef::derive) ---------------------------------------

using Derived = absl::StatusOr<KernelParams>;
using Outputs = std::span<const TensorType>;

// rows = every leading dim of a (batch dims and M); a batched b has a's
// batch dims, so its batch index is row / m.
Derived derive_matmul(const InferContext& ctx, Outputs outputs) {
  const Shape& a = ctx.inputs[0].shape;
  const Shape& b = ctx.inputs[1].shape;
  const bool transpose_b = ctx.attr_bool("transpose_b");
  const Shape& out = outputs[0].shape;
  return ParamBuilder()
      .extent("rows", leading_dims(a))
      .extent("m", a[a.size() - 2])
      .extent("k", a.back())
      .extent("n", b[b.size() - (transpose_b ? 2 : 1)])
      .flag("b_batched", b.size() > 2)
      .flag("has_bias", ctx.inputs.size() == 3)
      .launch(std::vector<Dim>{leading_dims(out).begin(), leading_dims(out).end()})
      .launch(std::span(&out.back(), 1))
      .build();
}

// b repeats over a's leading dims with this period.
Derived derive_binary(const InferContext& ctx, Outputs outputs) {
  return ParamBuilder()
      .extent("n", ctx.inputs[0].shape)
      .extent("period", ctx.inputs[1].shape)
      .launch(outputs[0].shape)
      .build();
}

// Row-wise ops over the last dim: norms, softmax, argmax.
Derived derive_rows(const InferContext& ctx, Outputs) {
  const Shape& x = ctx.inputs[0].shape;
  std::vector<Dim> rows(leading_dims(x).begin(), leading_dims(x).end());
  if (rows.empty()) rows.push_back(Dim(1));
  return ParamBuilder()
      .extent("rows", rows)
      .extent("cols", x.back())
      .flag("has_bias", ctx.op == "layernorm" && ctx.inputs.size() == 3)
      .launch(rows)
      .build();
}

Derived derive_rope(const InferContext& ctx, Outputs) {
  const Shape& x = ctx.inputs[0].shape;
  const Dim pairs(ctx.attr_int("rotary_dim") / 2);
  return ParamBuilder()
      .extent("rows", x[0])
      .extent("heads", x[1])
      .extent("head_dim", x[2])
      .sum("past", {Dim::symbol("P")})
      .launch(std::vector<Dim>{x[0], x[1], pairs})
      .build();
}

// Query row t sits at position past + t and sees keys [0, kv_rows) (all of
// them when not causal, else those at positions <= past + t).
Derived derive_attention(const InferContext& ctx, Outputs) {
  const Shape& q = ctx.inputs[0].shape;
  const Shape& k = ctx.inputs[1].shape;
  return ParamBuilder()
      .extent("rows", q[0])
      .extent("heads", q[1])
      .extent("kv_heads", k[1])
      .extent("head_dim", q[2])
      .extent("capacity", k[0])
      .sum("past", {Dim::symbol("P")})
      .sum("kv_rows", {Dim::symbol("P"), q[0]})
      .launch(std::vector<Dim>{q[0], q[1]})
      .build();
}

// Launched over the rows written, not over the cache it returns.
Derived derive_kv_write(const InferContext& ctx, Outputs) {
  const Shape& cache = ctx.inputs[0].shape;
  const Shape& x = ctx.inputs[1].shape;
  return ParamBuilder()
      .extent("rows", x[0])
      .extent("width", std::span(x).subspan(1))
      .extent("capacity", cache[0])
      .sum("past", {Dim::symbol("P")})
      .launch(x)
      .build();
}

Derived derive_transpose(const InferContext& ctx, Outputs outputs) {
  const Shape& in = ctx.inputs[0].shape;
  const std::vector<int64_t>& perm = std::get<std::vector<int64_t>>(ctx.attr("perm"));
  ParamBuilder params;
  params.fixed("rank", static_cast<int64_t>(in.size()));
  for (size_t i = 0; i < in.size(); ++i) {
    params.extent(absl::StrCat("dim", i), in[i]).fixed(absl::StrCat("perm", i), perm[i]);
  }
  return params.launch(outputs[0].shape).build();
}

// Each operand is `outer` blocks of width{i} x inner elements, laid side by
// side in the result.
Derived derive_concat(const InferContext& ctx, Outputs outputs) {
  const Shape& out = outputs[0].shape;
  const auto axis = static_cast<size_t>(normalise_axis(ctx.attr_int("axis"), static_cast<int64_t>(out.size())));
  ParamBuilder params;
  params.extent("outer", std::span(out).first(axis)).extent("inner", std::span(out).subspan(axis + 1));
  params.fixed("count", static_cast<int64_t>(ctx.inputs.size()));
  for (size_t i = 0; i < ctx.inputs.size(); ++i) params.extent(absl::StrCat("width", i), ctx.inputs[i].shape[axis]);
  return params.launch(out).build();
}

// The result is rows [begin, begin + out_extent) of each of `outer` blocks
// of in_extent x inner elements; begin counts from the end of a symbolic
// axis.
Derived derive_slice(const InferContext& ctx, Outputs outputs) {
  const Shape& in = ctx.inputs[0].shape;
  const auto axis = static_cast<size_t>(normalise_axis(ctx.attr_int("axis"), static_cast<int64_t>(in.size())));
  const int64_t start = ctx.attr_int("start");
  ParamBuilder params;
  params.extent("outer", std::span(in).first(axis))
      .extent("inner", std::span(in).subspan(axis + 1))
      .extent("in_extent", in[axis])
      .extent("out_extent", outputs[0].shape[axis]);
  if (!in[axis].is_static()) {
    params.sum("begin", {in[axis]}, start);
  } else {
    params.fixed("begin", start < 0 ? start + in[axis].value() : start);
  }
  return params.launch(outputs[0].shape).build();
}

Derived derive_top_k(const InferContext& ctx, Outputs) {
  const Shape& logits = ctx.inputs[0].shape;
  std::vector<Dim> rows(leading_dims(logits).begin(), leading_dims(logits).end());
  return ParamBuilder()
      .extent("rows", rows)
      .extent("vocab", logits.back())
      .extent("window", ctx.inputs.size() == 2 ? ctx.inputs[1].shape.back() : Dim(0))
      .launch(std::vector<Dim>{Dim(ctx.attr_int("k"))})
      .build();
}

OpDef unary(std::string name, std::string doc) {
  return {.name = std::move(name), .doc = std::move(doc), .operands = {"x"}, .min_inputs = 1,
          .max_inputs = 1, .infer = infer_unary_float, .elementwise = true,
          .may_write_in_place_over = 0};
}

OpDef binary(std::string name, std::string doc) {
  return {.name = std::move(name), .doc = std::move(doc), .operands = {"a", "b"}, .min_inputs = 2,
          .max_inputs = 2, .infer = infer_binary, .derive = derive_binary, .elementwise = true, .commutative = true,
          .may_write_in_place_over = 0};
}

std::vector<OpDef> primitive_ops() {
  const AttrSpec eps{"eps", AttrType::real, 1e-5};
  return {
      {.name = "embedding", .doc = "rows of a table selected by token ids", .operands = {"table", "ids"},
       .min_inputs = 2, .max_inputs = 2, .infer = infer_embedding, .derive = derive_gather},
      {.name = "matmul", .doc = "a @ b (+ bias); b may be transposed and shared across batches",
       .operands = {"a", "b", "bias"}, .min_inputs = 2, .max_inputs = 3,
       .attrs = {{"transpose_b", AttrType::boolean, false}}, .infer = infer_matmul, .derive = derive_matmul},
      binary("add", "a + b, b broadcast over a's leading dims"),
      binary("mul", "a * b, b broadcast over a's leading dims"),
      {.name = "scale", .doc = "x * scale", .operands = {"x"}, .min_inputs = 1, .max_inputs = 1,
       .attrs = {{"scale", AttrType::real, std::nullopt}}, .infer = infer_unary_float,
       .elementwise = true, .may_write_in_place_over = 0},
      unary("silu", "x * sigmoid(x)"),
      {.name = "gelu", .doc = "x * Phi(x); tanh approximation when approximate = \"tanh\"",
       .operands = {"x"}, .min_inputs = 1, .max_inputs = 1,
       .attrs = {{"approximate", AttrType::string, std::string("none"), {"none", "tanh"}}},
       .infer = infer_unary_float,
       .elementwise = true, .may_write_in_place_over = 0},
      unary("relu", "max(x, 0)"),
      {.name = "rmsnorm", .doc = "x / sqrt(mean(x^2) + eps) * w over the last dim",
       .operands = {"x", "w"}, .min_inputs = 2, .max_inputs = 2, .attrs = {eps}, .infer = infer_norm, .derive = derive_rows},
      {.name = "layernorm", .doc = "(x - mean) / sqrt(var + eps) * w (+ b) over the last dim",
       .operands = {"x", "w", "b"}, .min_inputs = 2, .max_inputs = 3, .attrs = {eps}, .infer = infer_norm, .derive = derive_rows},
      {.name = "softmax", .doc = "numerically stable softmax over the last axis", .operands = {"x"},
       .min_inputs = 1, .max_inputs = 1, .attrs = {{"axis", AttrType::integer, int64_t{-1}}},
       .infer = infer_softmax, .derive = derive_rows, .may_write_in_place_over = 0},
      {.name = "rope", .doc = "rotary position embedding at positions P + t", .operands = {"x"},
       .min_inputs = 1, .max_inputs = 1,
       .attrs = {{"theta", AttrType::real, 10000.0},
                 {"rotary_dim", AttrType::integer, std::nullopt},
                 {"interleaved", AttrType::boolean, false},
                 {"scaling_factor", AttrType::real, 1.0},
                 {"scaling_low_freq_factor", AttrType::real, 1.0},
                 {"scaling_high_freq_factor", AttrType::real, 4.0},
                 {"scaling_original_context", AttrType::integer, int64_t{0}}},
       .infer = infer_rope, .derive = derive_rope, .may_write_in_place_over = 0},
      {.name = "attention", .doc = "scaled dot-product attention over KV rows [0, P + T), causal, GQA",
       .operands = {"q", "k", "v"}, .min_inputs = 3, .max_inputs = 3,
       .attrs = {{"causal", AttrType::boolean, true}, {"scale", AttrType::real, 0.0}},
       .infer = infer_attention, .derive = derive_attention},
      {.name = "kv_write", .doc = "writes x into rows [P, P + T) of the cache; returns the cache",
       .operands = {"cache", "x"}, .min_inputs = 2, .max_inputs = 2, .infer = infer_kv_write,
       .derive = derive_kv_write, .aliases = {0}},
      {.name = "reshape", .doc = "a view with another shape (0 copies a dim, -1 infers one)",
       .operands = {"x"}, .min_inputs = 1, .max_inputs = 1,
       .attrs = {{"shape", AttrType::shape, std::nullopt}}, .infer = infer_reshape,
       .aliases = {0}, .is_view = true},
      {.name = "transpose", .doc = "permutes dims", .operands = {"x"}, .min_inputs = 1, .max_inputs = 1,
       .attrs = {{"perm", AttrType::ints, std::nullopt}}, .infer = infer_transpose,
       .derive = derive_transpose},
      {.name = "concat", .doc = "joins operands along a static axis", .operands = {"x"},
       .min_inputs = 1, .max_inputs = -1, .attrs = {{"axis", AttrType::integer, std::nullopt}},
       .infer = infer_concat, .derive = derive_concat},
      {.name = "slice", .doc = "x[start:end] along one axis (end 0 = to the end)", .operands = {"x"},
       .min_inputs = 1, .max_inputs = 1,
       .attrs = {{"axis", AttrType::integer, std::nullopt},
                 {"start", AttrType::integer, std::nullopt},
                 {"end", AttrType::integer, int64_t{0}}},
       .infer = infer_slice, .derive = derive_slice},
      {.name = "argmax", .doc = "index of the largest value over the last axis (first on ties)",
       .operands = {"x"}, .min_inputs = 1, .max_inputs = 1, .infer = infer_argmax,
       .derive = derive_rows},
      {.name = "top_k", .doc = "the k most likely tokens of the last row after a repetition penalty (ids, logits)",
       .operands = {"logits", "recent"}, .min_inputs = 1, .max_inputs = 2,
       .attrs = {{"k", AttrType::integer, std::nullopt}, {"penalty", AttrType::real, 1.0}},
       .infer = infer_top_k, .derive = derive_top_k},
      {.name = "cast", .doc = "converts to another dtype", .operands = {"x"}, .min_inputs = 1,
       .max_inputs = 1, .attrs = {{"dtype", AttrType::string, std::nullopt, {"f32", "f16", "bf16", "i32"}}},
       .infer = infer_cast,
       .elementwise = true},
  };
}

}  // namespace

absl::StatusOr<KernelParams> derive_gather(const InferContext& ctx, std::span<const TensorType> outputs) {
  const Shape& table = ctx.inputs[0].shape;
  return ParamBuilder()
      .extent("vocab", table[0])
      .extent("dim", table[1])
      .extent("rows", ctx.inputs[1].shape)
      .launch(outputs[0].shape)
      .build();
}

void register_primitive_ops(OpRegistry& registry) {
  for (OpDef& def : primitive_ops()) {
    absl::Status status = registry.add(std::move(def));
    (void)status;  // the built-in names are unique
  }
}

}  // namespace kiln::ir
