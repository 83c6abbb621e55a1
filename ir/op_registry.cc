#include "ir/op_registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

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

absl::Status check_attribute(const AttrSpec& spec, const AttrValue& value) {
  if (attr_type_of(value) != spec.type) {
    return absl::InvalidArgumentError(absl::StrCat("attribute '", spec.name, "' must be a ",
                                                   attr_type_name(spec.type), ", got ", attr_to_string(value)));
  }
  if (spec.allowed.empty() || enum_index(spec, value) >= 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "attribute '", spec.name, "' is ", attr_to_string(value), "; expected one of ",
      absl::StrJoin(spec.allowed, ", ", [](std::string* out, const std::string& name) {
        absl::StrAppend(out, "\"", name, "\"");
      })));
}

int enum_index(const AttrSpec& spec, const AttrValue& value) {
  const std::string* name = std::get_if<std::string>(&value);
  if (name == nullptr) return -1;
  for (size_t i = 0; i < spec.allowed.size(); ++i) {
    if (spec.allowed[i] == *name) return static_cast<int>(i);
  }
  return -1;
}

absl::StatusOr<KernelParam> extent_param(std::string name, std::span<const Dim> dims) {
  KernelParam param{std::move(name), 1, {}, 1};
  for (const Dim& dim : dims) {
    if (dim.is_static()) {
      param.value *= dim.value();
      continue;
    }
    if (!param.symbols.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("kernel parameter '", param.name,
                                                     "' is a product of two symbols, which no step slot holds"));
    }
    param.symbols.push_back(dim.name());
  }
  if (!param.symbols.empty()) {
    param.scale = param.value;
    param.value = 0;
  }
  return param;
}

ParamBuilder& ParamBuilder::fixed(std::string name, int64_t value) {
  params_.params.push_back({std::move(name), value, {}, 1});
  return *this;
}

ParamBuilder& ParamBuilder::extent(std::string name, std::span<const Dim> dims) {
  absl::StatusOr<KernelParam> param = extent_param(std::move(name), dims);
  if (param.ok()) {
    params_.params.push_back(*std::move(param));
  } else if (status_.ok()) {
    status_ = param.status();
  }
  return *this;
}

ParamBuilder& ParamBuilder::sum(std::string name, std::vector<Dim> dims, int64_t bias) {
  KernelParam param{std::move(name), bias, {}, 1};
  for (const Dim& dim : dims) {
    if (dim.is_static()) {
      param.value += dim.value();
    } else {
      param.symbols.push_back(dim.name());
    }
  }
  params_.params.push_back(std::move(param));
  return *this;
}

ParamBuilder& ParamBuilder::launch(std::span<const Dim> dims) {
  for (const Dim& dim : dims) {
    absl::StatusOr<KernelParam> extent = extent_param("launch", std::span(&dim, 1));
    if (extent.ok()) params_.launch.push_back(*std::move(extent));
  }
  return *this;
}

absl::StatusOr<KernelParams> ParamBuilder::build() const {
  if (!status_.ok()) return status_;
  return params_;
}

std::span<const Dim> leading_dims(const Shape& shape) {
  return shape.empty() ? std::span<const Dim>() : std::span<const Dim>(shape.data(), shape.size() - 1);
}

absl::StatusOr<KernelParams> derive_params(const OpDef& def, const InferContext& ctx,
                                           std::span<const TensorType> outputs) {
  if (def.derive) return def.derive(ctx, outputs);
  ParamBuilder params;
  params.extent("n", outputs[0].shape);
  if (outputs[0].shape.empty()) return params.build();
  return params.launch(outputs[0].shape).build();
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
