#include "tests/backends/conformance_harness.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "frontend/npy.h"
#include "ir/text.h"
#include "nlohmann/json.hpp"
#include "passes/pass_manager.h"

namespace kiln::backends::testing {
namespace {

using nlohmann::json;

// FNV-1a: a seed that is the same on every platform and run.
uint64_t seed_of(const std::string& text) {
  uint64_t hash = 14695981039346656037ull;
  for (char c : text) hash = (hash ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return hash;
}

absl::StatusOr<std::vector<int64_t>> evaluate(const ir::Shape& shape, const ir::SymbolValues& step) {
  std::vector<int64_t> dims;
  for (const ir::Dim& dim : shape) {
    absl::StatusOr<int64_t> value = ir::eval_dim(dim, step);
    if (!value.ok()) return value.status();
    dims.push_back(*value);
  }
  return dims;
}

void store(HostTensor& tensor, int64_t i, double value) {
  const auto put = [&](auto bits) { std::memcpy(tensor.bytes.data() + i * sizeof bits, &bits, sizeof bits); };
  switch (tensor.dtype) {
    case ir::DType::f32: put(static_cast<float>(value)); break;
    case ir::DType::f16: put(ir::f32_to_f16(static_cast<float>(value))); break;
    case ir::DType::bf16: put(ir::f32_to_bf16(static_cast<float>(value))); break;
    case ir::DType::i32: put(static_cast<int32_t>(value)); break;
  }
}

absl::StatusOr<HostTensor> draw(const std::string& name, const ir::TensorType& type, const OpCase& op_case) {
  absl::StatusOr<std::vector<int64_t>> shape = evaluate(type.shape, op_case.step);
  if (!shape.ok()) return shape.status();
  HostTensor tensor{type.dtype, *shape, {}};
  tensor.bytes.resize(ir::dtype_bytes(type.dtype, tensor.elements()));
  std::mt19937_64 random(seed_of(op_case.name + "/" + name));
  std::uniform_real_distribution<double> real(-op_case.input_range, op_case.input_range);
  std::uniform_int_distribution<int32_t> id(0, std::max(op_case.id_limit - 1, 0));
  for (int64_t i = 0; i < tensor.elements(); ++i) store(tensor, i, type.dtype == ir::DType::i32 ? id(random) : real(random));
  return tensor;
}

json attr_json(const ir::AttrValue& value) {
  return std::visit(
      [](const auto& v) -> json {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, ir::Shape>) {
          json dims = json::array();
          for (const ir::Dim& dim : v) dims.push_back(dim.is_static() ? json(dim.value()) : json(dim.name()));
          return dims;
        } else {
          return json(v);
        }
      },
      value);
}

// The graph as numpy_reference.py reads it.
json case_json(const ir::Graph& graph, const ir::SymbolValues& step) {
  json doc{{"step", step}, {"nodes", json::array()}, {"outputs", json::array()}, {"states", json::array()}};
  for (const auto& node : graph.nodes()) {
    json entry{{"op", node->op()}, {"inputs", json::array()}, {"outputs", json::array()}, {"attrs", json::object()}};
    for (const ir::Value* input : node->inputs()) entry["inputs"].push_back(input->name());
    for (const ir::Value* output : node->outputs()) {
      entry["outputs"].push_back({{"name", output->name()}, {"dtype", ir::dtype_name(output->type().dtype)}});
    }
    for (const auto& [name, value] : node->attrs()) entry["attrs"][name] = attr_json(value);
    doc["nodes"].push_back(entry);
  }
  for (const ir::Value* output : graph.outputs()) doc["outputs"].push_back(output->name());
  for (const ir::Value* state : graph.states()) doc["states"].push_back(state->name());
  return doc;
}

absl::StatusOr<HostTensor> load_npy(const std::string& path) {
  absl::StatusOr<frontend::TensorData> data = frontend::read_npy(path);
  if (!data.ok()) return data.status();
  return HostTensor{data->dtype, data->shape, std::vector<uint8_t>(data->data, data->data + data->bytes)};
}

absl::Status run_reference(const ir::Graph& graph, const ir::SymbolValues& step, const std::string& dir) {
  std::ofstream(dir + "/case.json") << case_json(graph, step).dump(2);
  const std::string log = dir + "/reference.log";
  const std::string command = absl::StrCat(KILN_PYTHON, " ", KILN_SOURCE_DIR, "/tests/backends/numpy_reference.py ",
                                           dir, " > ", log, " 2>&1");
  if (std::system(command.c_str()) != 0) {
    std::stringstream output;
    output << std::ifstream(log).rdbuf();
    return absl::InternalError(absl::StrCat("numpy_reference.py failed:\n", output.str()));
  }
  return absl::OkStatus();
}

absl::StatusOr<passes::Program> compile_graph(ir::Graph& graph, const passes::Target& target) {
  absl::StatusOr<passes::PassManager> manager = passes::PassManager::from_pipeline(kConformancePipeline);
  if (!manager.ok()) return manager.status();
  passes::PassContext context;
  context.target = target;
  if (absl::Status s = manager->run(graph, context); !s.ok()) return s;
  return *std::move(context.program);
}

absl::StatusOr<HostTensor> read_binding(Executable& exe, const passes::Binding& binding, const ir::SymbolValues& step) {
  absl::StatusOr<std::vector<int64_t>> shape = evaluate(binding.ref.shape, step);
  if (!shape.ok()) return shape.status();
  HostTensor tensor{binding.ref.dtype, *shape, {}};
  tensor.bytes.resize(ir::dtype_bytes(tensor.dtype, tensor.elements()));
  if (absl::Status s = exe.read(binding.ref.region, binding.ref.offset, tensor.bytes); !s.ok()) return s;
  return tensor;
}

absl::StatusOr<Results> run_backend(const Backend& backend, const passes::Program& program,
                                    const std::map<std::string, HostTensor>& values, const ir::SymbolValues& step) {
  absl::StatusOr<Executable> exe = backend.compile(program);
  if (!exe.ok()) return exe.status();
  for (size_t i = 0; i < program.weights.size(); ++i) {
    if (absl::Status s = exe->upload_weight(i, values.at(program.weights[i].name).bytes); !s.ok()) return s;
  }
  for (const auto* table : {&program.inputs, &program.states}) {
    for (const passes::Binding& binding : *table) {
      if (absl::Status s = exe->write(binding.ref.region, binding.ref.offset, values.at(binding.name).bytes); !s.ok()) {
        return s;
      }
    }
  }
  if (absl::Status s = exe->run(step); !s.ok()) return s;
  Results results;
  for (const passes::Binding& output : program.outputs) {
    absl::StatusOr<HostTensor> tensor = read_binding(*exe, output, step);
    if (!tensor.ok()) return tensor.status();
    results[output.name] = *std::move(tensor);
  }
  for (const passes::Binding& state : program.states) {
    absl::StatusOr<HostTensor> tensor = read_binding(*exe, state, step);
    if (!tensor.ok()) return tensor.status();
    results["state:" + state.name] = *std::move(tensor);
  }
  return results;
}

absl::StatusOr<Results> read_reference(const ir::Graph& graph, const std::string& dir) {
  Results results;
  for (const ir::Value* output : graph.outputs()) {
    absl::StatusOr<HostTensor> tensor = load_npy(dir + "/expected_" + output->name() + ".npy");
    if (!tensor.ok()) return tensor.status();
    results[output->name()] = *std::move(tensor);
  }
  for (const ir::Value* state : graph.states()) {
    absl::StatusOr<HostTensor> tensor = load_npy(dir + "/expected_state_" + state->name() + ".npy");
    if (!tensor.ok()) return tensor.status();
    results["state:" + state->name()] = *std::move(tensor);
  }
  return results;
}

}  // namespace

int64_t HostTensor::elements() const {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

double HostTensor::value(int64_t i) const {
  const auto get = [&](auto bits) {
    std::memcpy(&bits, bytes.data() + i * sizeof bits, sizeof bits);
    return bits;
  };
  switch (dtype) {
    case ir::DType::f32: return get(float{});
    case ir::DType::f16: return ir::f16_to_f32(get(uint16_t{}));
    case ir::DType::bf16: return ir::bf16_to_f32(get(uint16_t{}));
    case ir::DType::i32: return get(int32_t{});
  }
  return NAN;
}

absl::StatusOr<CaseRun> run_case(const Backend& backend, const OpCase& op_case, const std::string& work_dir) {
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(op_case.graph, op_case.name);
  if (!graph.ok()) return graph.status();
  std::map<std::string, HostTensor> values;
  for (const auto* leaves : {&graph->inputs(), &graph->weights(), &graph->states()}) {
    for (const ir::Value* value : *leaves) {
      absl::StatusOr<HostTensor> tensor = draw(value->name(), value->type(), op_case);
      if (!tensor.ok()) return tensor.status();
      const std::string path = work_dir + "/" + value->name() + ".npy";
      if (absl::Status s = frontend::write_npy(path, tensor->dtype, tensor->shape, tensor->bytes.data()); !s.ok()) {
        return s;
      }
      values[value->name()] = *std::move(tensor);
    }
  }
  if (absl::Status s = run_reference(*graph, op_case.step, work_dir); !s.ok()) return s;
  absl::StatusOr<Results> reference = read_reference(*graph, work_dir);
  if (!reference.ok()) return reference.status();
  absl::StatusOr<passes::Program> program = compile_graph(*graph, backend.capabilities());
  if (!program.ok()) return program.status();
  absl::StatusOr<Results> results = run_backend(backend, *program, values, op_case.step);
  if (!results.ok()) return results.status();
  return CaseRun{*std::move(results), *std::move(reference)};
}

std::string compare(const HostTensor& got, const HostTensor& want, Tolerance tolerance) {
  if (got.dtype != want.dtype || got.shape != want.shape) {
    return absl::StrCat("got ", std::string(ir::dtype_name(got.dtype)), "[", absl::StrJoin(got.shape, ", "),
                        "], want ", std::string(ir::dtype_name(want.dtype)), "[", absl::StrJoin(want.shape, ", "), "]");
  }
  int64_t worst = -1;
  double worst_excess = 0.0;
  for (int64_t i = 0; i < want.elements(); ++i) {
    const double error = std::abs(got.value(i) - want.value(i));
    const double excess = error - (tolerance.atol + tolerance.rtol * std::abs(want.value(i)));
    if (excess > worst_excess || std::isnan(error)) {
      worst = i;
      worst_excess = std::isnan(error) ? INFINITY : excess;
    }
  }
  if (worst < 0) return "";
  return absl::StrCat("element ", worst, " is ", got.value(worst), ", want ", want.value(worst), " (atol ",
                      tolerance.atol, ", rtol ", tolerance.rtol, ")");
}

}  // namespace kiln::backends::testing
