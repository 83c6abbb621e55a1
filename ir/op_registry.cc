#include "ir/op_registry.h"

#include "absl/strings/str_cat.h"

namespace kiln::ir {

OpRegistry::OpRegistry() {
  register_primitive_ops(*this);
  register_fused_ops(*this);
}

OpRegistry& OpRegistry::global() {
  static OpRegistry* registry = new OpRegistry();
  return *registry;
}

absl::Status OpRegistry::add(OpDef def) {
  if (find(def.name) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("op '", def.name, "' is already registered"));
  }
  if (!def.infer) {
    return absl::InvalidArgumentError(absl::StrCat("op '", def.name, "' has no shape inference"));
  }
  defs_.push_back(std::make_unique<OpDef>(std::move(def)));
  return absl::OkStatus();
}

const OpDef* OpRegistry::find(std::string_view name) const {
  for (const auto& def : defs_) {
    if (def->name == name) return def.get();
  }
  return nullptr;
}

std::vector<const OpDef*> OpRegistry::all() const {
  std::vector<const OpDef*> defs;
  for (const auto& def : defs_) defs.push_back(def.get());
  return defs;
}

const OpDef* find_op(std::string_view name) { return OpRegistry::global().find(name); }

const AttrSpec* find_attr_spec(const OpDef& def, std::string_view name) {
  for (const AttrSpec& spec : def.attrs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string operand_label(const InferContext& ctx, int operand) {
  const OpDef* def = find_op(ctx.op);
  std::string name = std::to_string(operand);
  if (def != nullptr && !def->operands.empty()) {
    const size_t index = std::min<size_t>(operand, def->operands.size() - 1);
    name = def->operands[index];
  }
  return absl::StrCat("operand '", name, "' (", ctx.inputs[operand].to_string(), ")");
}

absl::Status expect_rank_at_least(const InferContext& ctx, int operand, int64_t rank) {
  if (ctx.inputs[operand].rank() >= rank) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(operand_label(ctx, operand), ": expected rank >= ", rank));
}

absl::Status expect_same_dim(const InferContext& ctx, int operand_a, int64_t dim_a, int operand_b,
                             int64_t dim_b) {
  const Shape& a = ctx.inputs[operand_a].shape;
  const Shape& b = ctx.inputs[operand_b].shape;
  const Dim& da = a[dim_a < 0 ? a.size() + dim_a : dim_a];
  const Dim& db = b[dim_b < 0 ? b.size() + dim_b : dim_b];
  if (da == db) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(operand_label(ctx, operand_b), ": dim ", db.to_string(),
                                                 " must equal dim ", da.to_string(), " of ",
                                                 operand_label(ctx, operand_a)));
}

absl::Status expect_float(const InferContext& ctx, int operand) {
  if (dtype_info(ctx.inputs[operand].dtype).is_float) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(operand_label(ctx, operand), ": expected a float dtype"));
}

absl::Status expect_broadcastable(const InferContext& ctx, int operand_a, int operand_b) {
  const Shape& a = ctx.inputs[operand_a].shape;
  const Shape& b = ctx.inputs[operand_b].shape;
  const bool suffix = b.size() <= a.size() && std::equal(b.begin(), b.end(), a.end() - b.size());
  if (suffix) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(operand_label(ctx, operand_b), ": shape must equal ",
                                                 shape_to_string(a), " or a suffix of it"));
}

}  // namespace kiln::ir
