#include "runtime/graph_runner.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::runtime {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

absl::Status upload_weights(const ir::Graph& graph, const passes::Program& program, backends::Executable& exe) {
  for (size_t i = 0; i < program.weights.size(); ++i) {
    const passes::WeightEntry& entry = program.weights[i];
    const ir::Value* value = graph.find_value(entry.name);
    if (value == nullptr || value->weight().bytes == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("weight '", entry.name, "' has no data"));
    }
    const ir::WeightData& data = value->weight();
    if (static_cast<int64_t>(data.size) != entry.bytes) {
      return absl::InvalidArgumentError(absl::StrCat("weight '", entry.name, "' (", data.source, "): holds ",
                                                     data.size, " bytes, the Program expects ", entry.bytes));
    }
    if (absl::Status s = exe.upload_weight(static_cast<uint32_t>(i), {data.bytes, data.size}); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GraphRunner> GraphRunner::create(const backends::Backend& backend, ir::Graph& graph,
                                                passes::CompileOptions options) {
  options.target = backend.capabilities();
  absl::StatusOr<passes::Program> program = passes::compile(graph, options);
  if (!program.ok()) return program.status();
  absl::StatusOr<backends::Executable> executable = backend.compile(*program);
  if (!executable.ok()) return executable.status();
  if (absl::Status s = upload_weights(graph, *program, *executable); !s.ok()) return s;
  return GraphRunner(*std::move(program), *std::move(executable));
}

const passes::Binding* GraphRunner::find(const std::vector<passes::Binding>& bindings,
                                         const std::string& name) const {
  for (const passes::Binding& binding : bindings) {
    if (binding.name == name) return &binding;
  }
  return nullptr;
}

absl::Status GraphRunner::set_input(const std::string& name, const HostTensor& tensor) {
  const passes::Binding* binding = find(program_.inputs, name);
  if (binding == nullptr) {
    std::vector<std::string> names;
    for (const passes::Binding& b : program_.inputs) names.push_back(b.name);
    return absl::NotFoundError(absl::StrCat("the graph has no input '", name, "'; its inputs are: ",
                                            absl::StrJoin(names, ", ")));
  }
  const ir::TensorType expected{binding->ref.dtype, binding->ref.shape};
  auto mismatch = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("input '", name, "': expected ", expected.to_string(), ", got ",
                                                   std::string(ir::dtype_name(tensor.dtype)), shape_text(tensor.shape), ": ", why));
  };
  if (tensor.dtype != expected.dtype) return mismatch("wrong dtype");
  if (tensor.shape.size() != expected.shape.size()) return mismatch("wrong rank");
  for (size_t i = 0; i < tensor.shape.size(); ++i) {
    const ir::Dim& dim = expected.shape[i];
    const int64_t extent = tensor.shape[i];
    if (dim.is_static()) {
      if (dim.value() != extent) return mismatch(absl::StrCat("dim ", i, " must be ", dim.value()));
      continue;
    }
    const int64_t bound = program_.symbols.at(dim.name());
    if (extent < 1 || extent > bound) {
      return mismatch(absl::StrCat(dim.name(), " = ", extent, " is outside [1, ", bound, "]"));
    }
    auto [it, inserted] = step_.emplace(dim.name(), extent);
    if (!inserted && it->second != extent) {
      return mismatch(absl::StrCat(dim.name(), " is already ", it->second, " from another input"));
    }
  }
  pending_inputs_[name] = tensor;
  return absl::OkStatus();
}

absl::Status GraphRunner::run(const ir::SymbolValues& extra) {
  ir::SymbolValues step = step_;
  for (const auto& [name, value] : extra) step[name] = value;
  for (const auto& [name, bound] : program_.symbols) step.emplace(name, 0);
  for (const auto& [name, tensor] : pending_inputs_) {
    const passes::Binding* binding = find(program_.inputs, name);
    if (absl::Status s = executable_.write(binding->ref.region, binding->ref.offset, tensor.bytes); !s.ok()) return s;
  }
  for (const passes::Binding& binding : program_.inputs) {
    if (!pending_inputs_.contains(binding.name)) {
      return absl::FailedPreconditionError(absl::StrCat("input '", binding.name, "' was not given"));
    }
  }
  absl::Status status = executable_.run(step);
  pending_inputs_.clear();
  step_.clear();
  last_step_ = step;
  return status;
}

absl::StatusOr<HostTensor> GraphRunner::read_output(const std::string& name) {
  const passes::Binding* binding = find(program_.outputs, name);
  if (binding == nullptr) return absl::NotFoundError(absl::StrCat("the graph has no output '", name, "'"));
  HostTensor tensor;
  tensor.dtype = binding->ref.dtype;
  for (const ir::Dim& dim : binding->ref.shape) {
    absl::StatusOr<int64_t> extent = ir::eval_dim(dim, last_step_);
    if (!extent.ok()) return extent.status();
    tensor.shape.push_back(*extent);
  }
  absl::StatusOr<int64_t> bytes = ir::byte_size({tensor.dtype, binding->ref.shape}, last_step_);
  if (!bytes.ok()) return bytes.status();
  tensor.bytes.resize(*bytes);
  if (absl::Status s = executable_.read(binding->ref.region, binding->ref.offset, tensor.bytes); !s.ok()) return s;
  return tensor;
}

}  // namespace kiln::runtime
