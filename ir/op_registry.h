#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/attributes.h"
#include "ir/shape.h"

namespace kiln::ir {

struct AttrSpec {
  std::string name;
  AttrType type;
  std::optional<AttrValue> default_value;  // none: the attribute is required
  // An enumeration: a string attribute whose value must be one of these.
  // The Program carries its index, the kernels' integer for it.
  std::vector<std::string> allowed = {};
};

// A kernel parameter: value + scale * (the sum of `symbols`), static when
// `symbols` is empty (the scheduler makes it a Program constant) and
// otherwise a step parameter reading a slot that holds that sum.
struct KernelParam {
  std::string name;
  int64_t value = 0;
  std::vector<std::string> symbols = {};
  int64_t scale = 1;
};

// What a kernel needs to know of one node beyond its attributes: the
// parameters (m, n, k, rows, heads, ...) and the launch domain (the
// elements the kernel computes, outermost first).
struct KernelParams {
  std::vector<KernelParam> params;
  std::vector<KernelParam> launch;
};

// What shape inference sees of a node: its operand types and its attributes
// (schema defaults already filled in).
struct InferContext {
  std::string_view op;
  std::span<const TensorType> inputs;
  const Attributes& attrs;

  const AttrValue& attr(std::string_view name) const { return attrs.find(std::string(name))->second; }
  int64_t attr_int(std::string_view name) const { return std::get<int64_t>(attr(name)); }
  double attr_real(std::string_view name) const { return std::get<double>(attr(name)); }
  bool attr_bool(std::string_view name) const { return std::get<bool>(attr(name)); }
  const std::string& attr_string(std::string_view name) const { return std::get<std::string>(attr(name)); }
};

// Infers result types, or fails with a message naming the operand and the
// rule broken ("operand 'w' (f32[64, 32]): contraction dim 32 != 64").
using InferFn = std::function<absl::StatusOr<std::vector<TensorType>>(const InferContext&)>;

// Derives a verified node's kernel parameters from its operand and result
// types. Fails only where an extent is not expressible as a step slot (a
// product of two symbols).
using DeriveFn = std::function<absl::StatusOr<KernelParams>(const InferContext&, std::span<const TensorType>)>;

// Everything kiln knows about one op lives in its entry: the parser,
// verifier, passes, memory planner and scheduler all read it; none keeps a
// switch of its own over op names.
struct OpDef {
  std::string name = {};
  std::string doc = {};                   // one line, for --help and docs/
  std::vector<std::string> operands = {};  // names, in order; the last may repeat when variadic
  int min_inputs = 0;
  int max_inputs = 0;  // -1: variadic
  std::vector<AttrSpec> attrs = {};
  InferFn infer = {};
  // Kernel parameters; null: those of an elementwise op over the first
  // result (n = its elements, launched over them).
  DeriveFn derive = {};

  // Traits.
  bool elementwise = false;
  bool commutative = false;
  // The result may share storage with this operand when the operand dies
  // here (an optimisation the planner may take); -1 for none.
  int may_write_in_place_over = -1;
  // Result r *is* the storage of operand aliases[r] (kv_write updates the
  // cache it returns; reshape is a view; a fused op may return several
  // caches it wrote); results past the list, or -1, have storage of their own.
  std::vector<int> aliases = {};
  // The result is a view: no kernel runs (reshape).
  bool is_view = false;
  // Only passes create it (fused ops); the JSON frontend refuses it.
  bool fused = false;

  // The operand whose storage result `result` is, or -1.
  int aliased_operand(int result) const {
    return result < static_cast<int>(aliases.size()) ? aliases[result] : -1;
  }
};

// The registry of ops. Registration happens once at start-up (the built-in
// table) or explicitly by users adding their own ops before building graphs;
// lookups are then thread-safe.
class OpRegistry {
 public:
  static OpRegistry& global();

  absl::Status add(OpDef def);
  const OpDef* find(std::string_view name) const;
  std::vector<const OpDef*> all() const;

 private:
  OpRegistry();
  std::vector<std::unique_ptr<OpDef>> defs_;
};

const OpDef* find_op(std::string_view name);

// The schema of `def`'s attribute `name`, or null when it declares none.
const AttrSpec* find_attr_spec(const OpDef& def, std::string_view name);

// Registers the built-in primitive ops (ops.cc) and fused ops
// (fused_ops.cc); called by OpRegistry's constructor.
void register_primitive_ops(OpRegistry& registry);
void register_fused_ops(OpRegistry& registry);

// Checks an attribute's value against its schema: its type, and for an
// enumeration one of the allowed names ("attribute 'approximate' is
// \"fast\"; expected one of \"none\", \"tanh\"").
absl::Status check_attribute(const AttrSpec& spec, const AttrValue& value);

// The attribute's enumeration index, or -1 when `spec` is no enumeration or
// `value` is not one of its names.
int enum_index(const AttrSpec& spec, const AttrValue& value);

// Kernel parameters of `node`-like inputs: derive, or the elementwise
// default.
absl::StatusOr<KernelParams> derive_params(const OpDef& def, const InferContext& ctx,
                                           std::span<const TensorType> outputs);

// A kernel parameter for an extent: static, a symbol, or (for a product of
// dims, "rows") a static multiple of one symbol. Fails for a product of two
// symbols, naming the parameter.
absl::StatusOr<KernelParam> extent_param(std::string name, std::span<const Dim> dims);

// Builds a derive function's result; the first failure is kept.
class ParamBuilder {
 public:
  ParamBuilder& fixed(std::string name, int64_t value);
  ParamBuilder& flag(std::string name, bool value) { return fixed(std::move(name), value ? 1 : 0); }
  // The product of `dims` (all but the last of a shape: its rows).
  ParamBuilder& extent(std::string name, std::span<const Dim> dims);
  ParamBuilder& extent(std::string name, const Dim& dim) { return extent(std::move(name), std::span(&dim, 1)); }
  // bias + the sum of `dims`: P + T, T - 1.
  ParamBuilder& sum(std::string name, std::vector<Dim> dims, int64_t bias = 0);
  // One launch extent per dim, outermost first.
  ParamBuilder& launch(std::span<const Dim> dims);
  absl::StatusOr<KernelParams> build() const;

 private:
  KernelParams params_;
  absl::Status status_;
};

// The kernel parameters of a row gather (embedding, embedding_cast):
// table[vocab, dim] rows chosen by ids, launched over the result.
absl::StatusOr<KernelParams> derive_gather(const InferContext& ctx, std::span<const TensorType> outputs);

// All but the last dim of `shape`: what a row-wise kernel calls rows.
std::span<const Dim> leading_dims(const Shape& shape);

// Shape helpers shared by op entries and fused-op entries.
absl::Status expect_rank_at_least(const InferContext& ctx, int operand, int64_t rank);
absl::Status expect_same_dim(const InferContext& ctx, int operand_a, int64_t dim_a, int operand_b,
                             int64_t dim_b);
absl::Status expect_float(const InferContext& ctx, int operand);
// `b` broadcasts to `a` when its shape equals `a`'s or a suffix of it.
absl::Status expect_broadcastable(const InferContext& ctx, int operand_a, int operand_b);
std::string operand_label(const InferContext& ctx, int operand);

}  // namespace kiln::ir
