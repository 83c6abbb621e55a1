#include "passes/scheduler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/op_registry.h"
#include "passes/hazards.h"

namespace kiln::passes {
namespace {

// Builds the Program's slot table: the graph's symbols, then the derived
// slots kernel parameters ask for, each made once.
class Slots {
 public:
  explicit Slots(const ir::Graph& graph) : bounds_(graph.symbol_bounds()) {
    std::vector<std::string> names;
    for (const auto& [name, bound] : bounds_) names.push_back(name);
    const auto rank = [](const std::string& name) { return name == "T" ? 0 : name == "P" ? 1 : 2; };
    std::stable_sort(names.begin(), names.end(),
                     [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
    for (const std::string& name : names) slots_.push_back({name, bounds_.at(name), {}, 1, 0});
  }

  absl::StatusOr<program::Dim> dim(const ir::Dim& dim) const {
    if (dim.is_static()) return program::Dim::fixed(dim.value());
    const int32_t slot = find(dim.name());
    if (slot < 0) return absl::InvalidArgumentError(absl::StrCat("symbol '", dim.name(), "' is not declared"));
    return program::Dim::of_slot(slot);
  }

  absl::StatusOr<program::Shape> shape(const ir::Shape& shape) const {
    program::Shape out;
    for (const ir::Dim& d : shape) {
      absl::StatusOr<program::Dim> converted = dim(d);
      if (!converted.ok()) return converted.status();
      out.push_back(*converted);
    }
    return out;
  }

  // A parameter's extent: static, a given slot, or a derived one. Symbols
  // the graph does not declare count as 0.
  program::Dim param(const ir::KernelParam& param) {
    std::vector<int32_t> terms;
    for (const std::string& symbol : param.symbols) {
      const int32_t slot = find(symbol);
      if (slot >= 0) terms.push_back(slot);
    }
    if (terms.empty()) return program::Dim::fixed(param.value);
    // By name, so a sum is one slot whatever order the op lists its terms
    // in, named as the Program's contract writes it: P+T, not T+P.
    std::sort(terms.begin(), terms.end(),
              [&](int32_t a, int32_t b) { return slots_[a].name < slots_[b].name; });
    if (terms.size() == 1 && param.scale == 1 && param.value == 0) return program::Dim::of_slot(terms[0]);
    const std::string name = derived_name(terms, param.scale, param.value);
    if (const int32_t slot = find(name); slot >= 0) return program::Dim::of_slot(slot);
    int64_t bound = 0;
    for (int32_t term : terms) bound += slots_[term].bound;
    slots_.push_back({name, std::max<int64_t>(0, param.scale * bound + param.value), terms, param.scale, param.value});
    return program::Dim::of_slot(static_cast<int32_t>(slots_.size() - 1));
  }

  std::vector<program::StepSlot> take() { return std::move(slots_); }

 private:
  int32_t find(const std::string& name) const {
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].name == name) return static_cast<int32_t>(i);
    }
    return -1;
  }

  // "P+T", "4*T", "T-1".
  std::string derived_name(const std::vector<int32_t>& terms, int64_t scale, int64_t bias) const {
    std::string sum = absl::StrJoin(terms, "+", [&](std::string* out, int32_t t) { out->append(slots_[t].name); });
    if (scale != 1) sum = absl::StrCat(scale, "*", terms.size() > 1 ? "(" + sum + ")" : sum);
    if (bias > 0) absl::StrAppend(&sum, "+", bias);
    if (bias < 0) absl::StrAppend(&sum, bias);
    return sum;
  }

  const ir::SymbolValues& bounds_;
  std::vector<program::StepSlot> slots_;
};

absl::StatusOr<Placement> placement(const MemoryPlan& plan, const ir::Value& value) {
  auto it = plan.placements.find(value.name());
  if (it == plan.placements.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("%", value.name(), " has no placement in the memory plan; run plan-memory on this graph first"));
  }
  return it->second;
}

absl::StatusOr<program::TensorRef> tensor_ref(const MemoryPlan& plan, const Slots& slots, const ir::Value& value) {
  absl::StatusOr<Placement> place = placement(plan, value);
  if (!place.ok()) return place.status();
  absl::StatusOr<program::Shape> shape = slots.shape(place->shape);
  if (!shape.ok()) return shape.status();
  return program::TensorRef{place->region, place->offset, place->weight, place->dtype, *std::move(shape)};
}

absl::StatusOr<std::vector<program::Binding>> bindings(const MemoryPlan& plan, const Slots& slots,
                                                       const std::vector<ir::Value*>& values) {
  std::vector<program::Binding> out;
  for (const ir::Value* value : values) {
    absl::StatusOr<program::TensorRef> ref = tensor_ref(plan, slots, *value);
    if (!ref.ok()) return ref.status();
    out.push_back({value->name(), *std::move(ref)});
  }
  return out;
}

int64_t align_up(int64_t value, int64_t alignment) { return (value + alignment - 1) / alignment * alignment; }

// Packs the weights in graph order into chunks of at most `chunk_limit`
// bytes (0: one chunk), each weight at an aligned offset.
absl::Status plan_weights(const ir::Graph& graph, int64_t alignment, int64_t chunk_limit, program::Program& out) {
  for (const ir::Value* weight : graph.weights()) {
    const ir::TensorType& type = weight->type();
    program::WeightEntry entry{weight->name(), type.dtype, {}, 0, 0, 0, weight->weight().source};
    for (const ir::Dim& dim : type.shape) {
      if (!dim.is_static()) {
        return absl::InvalidArgumentError(
            absl::StrCat("weight %", weight->name(), " (", type.to_string(), "): a weight's shape must be static"));
      }
      entry.shape.push_back(dim.value());
    }
    absl::StatusOr<int64_t> bytes = ir::byte_size(type, {});
    if (!bytes.ok()) return bytes.status();
    entry.bytes = *bytes;
    if (chunk_limit > 0 && entry.bytes > chunk_limit) {
      return absl::ResourceExhaustedError(absl::StrCat("weight %", weight->name(), " (", type.to_string(), ", ",
                                                       entry.bytes, " bytes) is larger than the target's largest "
                                                       "buffer (", chunk_limit, " bytes)"));
    }
    if (out.weight_chunks.empty()) out.weight_chunks.push_back(0);
    int64_t offset = align_up(out.weight_chunks.back(), alignment);
    if (chunk_limit > 0 && offset + entry.bytes > chunk_limit) {
      out.weight_chunks.push_back(0);
      offset = 0;
    }
    entry.chunk = static_cast<int32_t>(out.weight_chunks.size() - 1);
    entry.offset = offset;
    out.weight_chunks.back() = offset + entry.bytes;
    out.weights.push_back(std::move(entry));
  }
  return absl::OkStatus();
}

// A scalar attribute as a constant; lists (reshape's shape, transpose's
// perm) reach kernels as derived parameters instead.
void add_attribute(const ir::AttrSpec& spec, const ir::AttrValue& value, program::Dispatch& out) {
  program::Constant c{spec.name, program::Constant::Type::integer, 0, 0, ""};
  if (const bool* b = std::get_if<bool>(&value)) {
    c.type = program::Constant::Type::boolean;
    c.integer = *b ? 1 : 0;
  } else if (const int64_t* i = std::get_if<int64_t>(&value)) {
    c.integer = *i;
  } else if (const double* r = std::get_if<double>(&value)) {
    c.type = program::Constant::Type::real;
    c.real = *r;
  } else if (const std::string* name = std::get_if<std::string>(&value); name != nullptr && !spec.allowed.empty()) {
    c.integer = ir::enum_index(spec, value);
    c.symbol = *name;
  } else {
    return;
  }
  out.constants.push_back(std::move(c));
}

absl::Status add_params(const ir::Node& node, Slots& slots, program::Dispatch& out) {
  std::vector<ir::TensorType> inputs, outputs;
  for (const ir::Value* input : node.inputs()) inputs.push_back(input->type());
  for (const ir::Value* output : node.outputs()) outputs.push_back(output->type());
  const ir::InferContext context{node.op(), inputs, node.attrs()};
  absl::StatusOr<ir::KernelParams> params = ir::derive_params(node.def(), context, outputs);
  if (!params.ok()) return params.status();
  for (const ir::KernelParam& param : params->params) {
    const program::Dim dim = slots.param(param);
    if (dim.is_static()) {
      out.constants.push_back({param.name, program::Constant::Type::integer, dim.value, 0, ""});
    } else {
      out.step_params.push_back({param.name, dim.slot});
    }
  }
  for (const ir::KernelParam& extent : params->launch) out.launch.push_back(slots.param(extent));
  return absl::OkStatus();
}

absl::StatusOr<program::Dispatch> dispatch_for(const MemoryPlan& plan, Slots& slots, const ir::Node& node) {
  program::Dispatch dispatch;
  dispatch.kernel = node.op();
  dispatch.node = node.output()->name();
  for (const ir::AttrSpec& spec : node.def().attrs) add_attribute(spec, node.attr(spec.name), dispatch);
  if (absl::Status s = add_params(node, slots, dispatch); !s.ok()) return s;
  std::sort(dispatch.constants.begin(), dispatch.constants.end(),
            [](const program::Constant& a, const program::Constant& b) { return a.name < b.name; });
  std::sort(dispatch.step_params.begin(), dispatch.step_params.end(),
            [](const program::StepParam& a, const program::StepParam& b) { return a.name < b.name; });
  for (const ir::Value* input : node.inputs()) {
    absl::StatusOr<program::TensorRef> ref = tensor_ref(plan, slots, *input);
    if (!ref.ok()) return ref.status();
    dispatch.inputs.push_back(*std::move(ref));
  }
  for (const ir::Value* output : node.outputs()) {
    absl::StatusOr<program::TensorRef> ref = tensor_ref(plan, slots, *output);
    if (!ref.ok()) return ref.status();
    dispatch.outputs.push_back(*std::move(ref));
  }
  return dispatch;
}

}  // namespace

absl::StatusOr<program::Program> schedule_program(const ir::Graph& graph, const MemoryPlan& plan,
                                                  const Target& target) {
  program::Program program;
  program.alignment = plan.alignment;
  program.arena_bytes = plan.arena_bytes;
  program.arena_lower_bound_bytes = plan.lower_bound_bytes;
  program.state_bytes = plan.state_bytes;
  if (absl::Status s = plan_weights(graph, plan.alignment, target.max_buffer_bytes, program); !s.ok()) return s;
  Slots slots(graph);
  for (const auto& node : graph.nodes()) {
    if (node->def().is_view) continue;
    absl::StatusOr<program::Dispatch> dispatch = dispatch_for(plan, slots, *node);
    if (!dispatch.ok()) {
      return absl::Status(dispatch.status().code(), absl::StrCat(node->label(), ": ", dispatch.status().message()));
    }
    program.dispatches.push_back(*std::move(dispatch));
  }
  absl::StatusOr<std::vector<program::Binding>> states = bindings(plan, slots, graph.states());
  absl::StatusOr<std::vector<program::Binding>> inputs = bindings(plan, slots, graph.inputs());
  absl::StatusOr<std::vector<program::Binding>> outputs = bindings(plan, slots, graph.outputs());
  for (const auto* table : {&states, &inputs, &outputs}) {
    if (!table->ok()) return table->status();
  }
  program.states = *std::move(states);
  program.inputs = *std::move(inputs);
  program.outputs = *std::move(outputs);
  program.slots = slots.take();
  compute_hazards(program);
  return program;
}

}  // namespace kiln::passes
