#include "passes/scheduler.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "ir/op_registry.h"

namespace kiln::passes {
namespace {

absl::StatusOr<TensorRef> placement(const MemoryPlan& plan, const ir::Value& value) {
  auto it = plan.placements.find(value.name());
  if (it == plan.placements.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("%", value.name(), " has no placement in the memory plan; run plan-memory on this graph first"));
  }
  return it->second;
}

absl::StatusOr<std::vector<Binding>> bindings(const MemoryPlan& plan, const std::vector<ir::Value*>& values) {
  std::vector<Binding> out;
  for (const ir::Value* value : values) {
    absl::StatusOr<TensorRef> ref = placement(plan, *value);
    if (!ref.ok()) return ref.status();
    out.push_back({value->name(), *std::move(ref)});
  }
  return out;
}

absl::StatusOr<std::vector<WeightEntry>> weight_table(const ir::Graph& graph) {
  std::vector<WeightEntry> weights;
  for (const ir::Value* weight : graph.weights()) {
    const ir::TensorType& type = weight->type();
    for (const ir::Dim& dim : type.shape) {
      if (!dim.is_static()) {
        return absl::InvalidArgumentError(
            absl::StrCat("weight %", weight->name(), " (", type.to_string(), "): a weight's shape must be static"));
      }
    }
    absl::StatusOr<int64_t> bytes = ir::byte_size(type, {});
    if (!bytes.ok()) return bytes.status();
    weights.push_back({weight->name(), type.dtype, type.shape, *bytes, weight->weight().source});
  }
  return weights;
}

void add_symbols(const ir::Shape& shape, std::set<std::string>& symbols) {
  for (const ir::Dim& dim : shape) {
    if (!dim.is_static()) symbols.insert(dim.name());
  }
}

absl::StatusOr<Dispatch> dispatch_for(const ir::Graph& graph, const MemoryPlan& plan, const ir::Node& node) {
  Dispatch dispatch;
  dispatch.kernel = node.op();
  dispatch.node = node.output()->name();
  dispatch.constants = node.attrs();
  std::set<std::string> uniforms;
  for (const ir::Value* input : node.inputs()) {
    absl::StatusOr<TensorRef> ref = placement(plan, *input);
    if (!ref.ok()) return ref.status();
    add_symbols(ref->shape, uniforms);
    dispatch.inputs.push_back(*std::move(ref));
  }
  for (const ir::Value* output : node.outputs()) {
    absl::StatusOr<TensorRef> ref = placement(plan, *output);
    if (!ref.ok()) return ref.status();
    add_symbols(ref->shape, uniforms);
    dispatch.outputs.push_back(*std::move(ref));
  }
  for (const std::string& symbol : node.def().reads_symbols) {
    if (graph.symbol_bounds().contains(symbol)) uniforms.insert(symbol);
  }
  dispatch.work_size = node.output()->type().shape;
  dispatch.uniforms.assign(uniforms.begin(), uniforms.end());
  return dispatch;
}

}  // namespace

absl::StatusOr<Program> schedule_program(const ir::Graph& graph, const MemoryPlan& plan) {
  Program program;
  program.alignment = plan.alignment;
  program.arena_bytes = plan.arena_bytes;
  program.arena_lower_bound_bytes = plan.lower_bound_bytes;
  program.state_bytes = plan.state_bytes;
  program.symbols = graph.symbol_bounds();
  absl::StatusOr<std::vector<WeightEntry>> weights = weight_table(graph);
  if (!weights.ok()) return weights.status();
  program.weights = *std::move(weights);
  absl::StatusOr<std::vector<Binding>> states = bindings(plan, graph.states());
  absl::StatusOr<std::vector<Binding>> inputs = bindings(plan, graph.inputs());
  absl::StatusOr<std::vector<Binding>> outputs = bindings(plan, graph.outputs());
  for (const auto* table : {&states, &inputs, &outputs}) {
    if (!table->ok()) return table->status();
  }
  program.states = *std::move(states);
  program.inputs = *std::move(inputs);
  program.outputs = *std::move(outputs);
  for (const auto& node : graph.nodes()) {
    if (node->def().is_view) continue;
    absl::StatusOr<Dispatch> dispatch = dispatch_for(graph, plan, *node);
    if (!dispatch.ok())
      return absl::Status(dispatch.status().code(), absl::StrCat(node->label(), ": ", dispatch.status().message()));
    program.dispatches.push_back(*std::move(dispatch));
  }
  return program;
}

}  // namespace kiln::passes
