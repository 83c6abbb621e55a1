#include "runtime/graph_runner.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "program/step.h"

namespace kiln::runtime {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// Hands each weight over from the graph's bytes (memory-mapped .npy or
// safetensors files), which the caller keeps alive.
absl::Status import_weights(const ir::Graph& graph, const program::Program& program, backends::Weights& weights) {
  for (size_t i = 0; i < program.weights.size(); ++i) {
    const program::WeightEntry& entry = program.weights[i];
    const ir::Value* value = graph.find_value(entry.name);
    if (value == nullptr || value->weight().bytes == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("weight '", entry.name, "' has no data"));
    }
    const ir::WeightData& data = value->weight();
    if (static_cast<int64_t>(data.size) != entry.bytes) {
      return absl::InvalidArgumentError(absl::StrCat("weight '", entry.name, "' (", data.source, "): holds ",
                                                     data.size, " bytes, the Program expects ", entry.bytes));
    }
    if (absl::Status s = weights.import(static_cast<uint32_t>(i), {data.bytes, data.size}); !s.ok()) return s;
  }
  return absl::OkStatus();
}

const program::Binding* find(const std::vector<program::Binding>& bindings, const std::string& name) {
  for (const program::Binding& binding : bindings) {
    if (binding.name == name) return &binding;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<GraphRunner> GraphRunner::create(const backends::Backend& backend, ir::Graph& graph,
                                                passes::CompileOptions options) {
  options.target = backend.capabilities();
  absl::StatusOr<program::Program> program = passes::compile(graph, options);
  if (!program.ok()) return program.status();
  absl::StatusOr<backends::Executable> executable = backend.compile(*program);
  if (!executable.ok()) return executable.status();
  absl::StatusOr<backends::Weights> weights = executable->create_weights();
  if (!weights.ok()) return weights.status();
  if (absl::Status s = import_weights(graph, *program, *weights); !s.ok()) return s;
  absl::StatusOr<backends::State> state = executable->create_state();
  if (!state.ok()) return state.status();
  if (absl::Status s = executable->bind(*weights, &*state); !s.ok()) return s;
  return GraphRunner(*std::move(executable), *std::move(weights), *std::move(state));
}

absl::Status GraphRunner::set_input(const std::string& name, const HostTensor& tensor) {
  const program::Program& program = executable_.program();
  const program::Binding* binding = find(program.inputs, name);
  if (binding == nullptr) {
    std::vector<std::string> names;
    for (const program::Binding& b : program.inputs) names.push_back(b.name);
    return absl::NotFoundError(absl::StrCat("the graph has no input '", name, "'; its inputs are: ",
                                            absl::StrJoin(names, ", ")));
  }
  const program::TensorRef& expected = binding->ref;
  auto mismatch = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", name, "': expected ", std::string(program::dtype_name(expected.dtype)),
        program::shape_string(program, expected.shape), ", got ", std::string(program::dtype_name(tensor.dtype)),
        shape_text(tensor.shape), ": ", why));
  };
  if (tensor.dtype != expected.dtype) return mismatch("wrong dtype");
  if (tensor.shape.size() != expected.shape.size()) return mismatch("wrong rank");
  for (size_t i = 0; i < tensor.shape.size(); ++i) {
    const program::Dim& dim = expected.shape[i];
    const int64_t extent = tensor.shape[i];
    if (dim.is_static()) {
      if (dim.value != extent) return mismatch(absl::StrCat("dim ", i, " must be ", dim.value));
      continue;
    }
    const program::StepSlot& slot = program.slots[dim.slot];
    if (extent < 1 || extent > slot.bound) {
      return mismatch(absl::StrCat(slot.name, " = ", extent, " is outside [1, ", slot.bound, "]"));
    }
    auto [it, inserted] = step_.emplace(slot.name, extent);
    if (!inserted && it->second != extent) {
      return mismatch(absl::StrCat(slot.name, " is already ", it->second, " from another input"));
    }
  }
  pending_inputs_[name] = tensor;
  return absl::OkStatus();
}

absl::Status GraphRunner::run(const ir::SymbolValues& extra) {
  const program::Program& program = executable_.program();
  ir::SymbolValues symbols = step_;
  for (const auto& [name, value] : extra) symbols[name] = value;
  backends::Step step;
  for (int32_t i = 0; i < program.given_slots(); ++i) {
    auto it = symbols.find(program.slots[i].name);
    step.values.push_back(it == symbols.end() ? 0 : it->second);
  }
  for (size_t i = 0; i < program.inputs.size(); ++i) {
    auto it = pending_inputs_.find(program.inputs[i].name);
    if (it == pending_inputs_.end()) {
      return absl::FailedPreconditionError(absl::StrCat("input '", program.inputs[i].name, "' was not given"));
    }
    step.inputs.push_back({static_cast<uint32_t>(i), 0, it->second.bytes.data(), it->second.bytes.size()});
  }
  absl::StatusOr<program::StepValues> values = program::evaluate_step(program, step.values);
  if (!values.ok()) return values.status();
  std::map<std::string, HostTensor> outputs;
  for (size_t i = 0; i < program.outputs.size(); ++i) {
    const program::Binding& binding = program.outputs[i];
    HostTensor& tensor = outputs[binding.name];
    tensor.dtype = binding.ref.dtype;
    for (const program::Dim& dim : binding.ref.shape) tensor.shape.push_back(program::extent(dim, *values));
    tensor.bytes.resize(program::byte_size(binding.ref, *values));
  }
  for (size_t i = 0; i < program.outputs.size(); ++i) {
    HostTensor& tensor = outputs[program.outputs[i].name];
    step.outputs.push_back({static_cast<uint32_t>(i), 0, tensor.bytes.data(), tensor.bytes.size()});
  }
  absl::Status status = executable_.run(step);
  pending_inputs_.clear();
  step_.clear();
  if (!status.ok()) return status;
  outputs_ = std::move(outputs);
  return absl::OkStatus();
}

absl::StatusOr<HostTensor> GraphRunner::read_output(const std::string& name) const {
  auto it = outputs_.find(name);
  if (it == outputs_.end()) {
    return absl::NotFoundError(absl::StrCat("the graph has no output '", name, "', or it has not run"));
  }
  return it->second;
}

}  // namespace kiln::runtime
