#include "tests/backends/conformance_harness.h"

#include <stdlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/registry.h"
#include "frontend/npy.h"
#include "gtest/gtest.h"
#include "ir/text.h"
#include "nlohmann/json.hpp"
#include "passes/compile.h"
#include "passes/variant_rules.h"
#include "program/step.h"
#include "tests/backends/backend_test_support.h"

namespace kiln::backends::testing {
namespace {

using nlohmann::json;

// The drawn leaves of a case's graph: weights once, inputs per step.
struct Leaves {
  std::map<std::string, HostTensor> weights;
  std::vector<std::map<std::string, HostTensor>> inputs;  // per step
};

// FNV-1a: a seed that is the same on every platform and run.
uint64_t seed_of(const std::string& text) {
  uint64_t hash = 14695981039346656037ull;
  for (char c : text) hash = (hash ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return hash;
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

absl::StatusOr<HostTensor> zeros(const ir::TensorType& type, const ir::SymbolValues& step) {
  HostTensor tensor{type.dtype, {}, {}};
  for (const ir::Dim& dim : type.shape) {
    absl::StatusOr<int64_t> extent = ir::eval_dim(dim, step);
    if (!extent.ok()) return extent.status();
    tensor.shape.push_back(*extent);
  }
  tensor.bytes.resize(ir::dtype_bytes(type.dtype, tensor.elements()));
  return tensor;
}

// Values of leaf `key` (its name, and the step for inputs) at `step`'s
// extents: the same on every run.
absl::StatusOr<HostTensor> draw(const std::string& key, const ir::TensorType& type, const ir::SymbolValues& step,
                                const OpCase& op_case) {
  absl::StatusOr<HostTensor> tensor = zeros(type, step);
  if (!tensor.ok()) return tensor.status();
  std::mt19937_64 random(seed_of(op_case.name + "/" + key));
  std::uniform_real_distribution<double> real(-op_case.input_range, op_case.input_range);
  std::uniform_int_distribution<int32_t> id(op_case.id_min, std::max(op_case.id_limit - 1, op_case.id_min));
  for (int64_t i = 0; i < tensor->elements(); ++i) {
    double value = type.dtype == ir::DType::i32 ? id(random) : real(random);
    if (op_case.quantum > 0 && type.dtype != ir::DType::i32) {
      value = std::round(value / op_case.quantum) * op_case.quantum;
    }
    if (op_case.special_every > 0 && type.dtype != ir::DType::i32 && i % op_case.special_every == 0) {
      const double specials[] = {NAN, INFINITY, -INFINITY};
      value = specials[i / op_case.special_every % 3];
    }
    store(*tensor, i, value);
  }
  return tensor;
}

// The case's graph: its text, or the file a "file:PATH" graph names.
absl::StatusOr<ir::Graph> parse_case_graph(const OpCase& op_case) {
  if (!op_case.graph.starts_with("file:")) return ir::parse_graph(op_case.graph, op_case.name);
  const std::string path = op_case.graph.substr(5);
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat(op_case.name, ": cannot read ", path));
  std::stringstream text;
  text << file.rdbuf();
  return ir::parse_graph(text.str(), path);
}

absl::StatusOr<Leaves> draw_leaves(const ir::Graph& graph, const OpCase& op_case) {
  Leaves leaves;
  for (const ir::Value* weight : graph.weights()) {
    absl::StatusOr<HostTensor> tensor = draw(weight->name(), weight->type(), {}, op_case);
    if (!tensor.ok()) return tensor.status();
    leaves.weights[weight->name()] = *std::move(tensor);
  }
  for (size_t s = 0; s < op_case.steps.size(); ++s) {
    std::map<std::string, HostTensor>& inputs = leaves.inputs.emplace_back();
    for (const ir::Value* input : graph.inputs()) {
      absl::StatusOr<HostTensor> tensor =
          draw(absl::StrCat(input->name(), "@", s), input->type(), op_case.steps[s], op_case);
      if (!tensor.ok()) return tensor.status();
      inputs[input->name()] = *std::move(tensor);
    }
  }
  return leaves;
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

std::vector<std::string> names_of(const std::vector<ir::Value*>& values) {
  std::vector<std::string> names;
  for (const ir::Value* value : values) names.push_back(value->name());
  return names;
}

// The graph as numpy_reference.py reads it.
json case_json(const ir::Graph& graph, const std::vector<ir::SymbolValues>& steps) {
  json doc{{"steps", steps},
           {"nodes", json::array()},
           {"inputs", names_of(graph.inputs())},
           {"weights", names_of(graph.weights())},
           {"outputs", names_of(graph.outputs())},
           {"states", names_of(graph.states())}};
  for (const auto& node : graph.nodes()) {
    json entry{{"op", node->op()}, {"inputs", json::array()}, {"outputs", json::array()}, {"attrs", json::object()}};
    for (const ir::Value* input : node->inputs()) entry["inputs"].push_back(input->name());
    for (const ir::Value* output : node->outputs()) {
      entry["outputs"].push_back({{"name", output->name()}, {"dtype", ir::dtype_name(output->type().dtype)}});
    }
    for (const auto& [name, value] : node->attrs()) entry["attrs"][name] = attr_json(value);
    doc["nodes"].push_back(entry);
  }
  return doc;
}

absl::Status save(const std::string& path, const HostTensor& tensor) {
  return frontend::write_npy(path, tensor.dtype, tensor.shape, tensor.bytes.data());
}

absl::StatusOr<HostTensor> load(const std::string& path) {
  absl::StatusOr<frontend::TensorData> data = frontend::read_npy(path);
  if (!data.ok()) return data.status();
  return HostTensor{data->dtype, data->shape, std::vector<uint8_t>(data->data, data->data + data->bytes)};
}

// Writes the case and its values to `dir`, runs numpy_reference.py there
// and reads what it wrote.
absl::StatusOr<Results> run_reference(const ir::Graph& graph, const OpCase& op_case, const Leaves& leaves,
                                      const std::string& dir) {
  std::ofstream(dir + "/case.json") << case_json(graph, op_case.steps).dump(2);
  std::vector<std::pair<std::string, const HostTensor*>> files;
  for (const auto& [name, tensor] : leaves.weights) files.emplace_back("weight_" + name, &tensor);
  for (size_t s = 0; s < leaves.inputs.size(); ++s) {
    for (const auto& [name, tensor] : leaves.inputs[s]) {
      files.emplace_back(absl::StrCat("input_", s, "_", name), &tensor);
    }
  }
  std::map<std::string, HostTensor> states;
  for (const ir::Value* state : graph.states()) {
    absl::StatusOr<HostTensor> tensor = zeros(state->type(), {});
    if (!tensor.ok()) return tensor.status();
    states[state->name()] = *std::move(tensor);
  }
  for (const auto& [name, tensor] : states) files.emplace_back("state_" + name, &tensor);
  for (const auto& [file, tensor] : files) {
    if (absl::Status s = save(absl::StrCat(dir, "/", file, ".npy"), *tensor); !s.ok()) return s;
  }
  const std::string log = dir + "/reference.log";
  const std::string command = absl::StrCat(KILN_PYTHON, " ", KILN_SOURCE_DIR, "/tests/backends/numpy_reference.py ",
                                           dir, " > ", log, " 2>&1");
  if (std::system(command.c_str()) != 0) {
    std::stringstream output;
    output << std::ifstream(log).rdbuf();
    return absl::InternalError(absl::StrCat("numpy_reference.py failed:\n", output.str()));
  }
  Results results;
  for (size_t s = 0; s < op_case.steps.size(); ++s) {
    for (const ir::Value* output : graph.outputs()) {
      absl::StatusOr<HostTensor> tensor = load(absl::StrCat(dir, "/expected_", s, "_", output->name(), ".npy"));
      if (!tensor.ok()) return tensor.status();
      results[absl::StrCat(s, ":", output->name())] = *std::move(tensor);
    }
  }
  for (const ir::Value* state : graph.states()) {
    absl::StatusOr<HostTensor> tensor = load(dir + "/expected_state_" + state->name() + ".npy");
    if (!tensor.ok()) return tensor.status();
    results["state:" + state->name()] = *std::move(tensor);
  }
  return results;
}

// One step: the given slots from `symbols` (0 when absent), every input
// written, every output read back into `results` as "<index>:<name>".
absl::Status run_step(Executable& executable, const ir::SymbolValues& symbols,
                      const std::map<std::string, HostTensor>& inputs, size_t index, Results& results) {
  const program::Program& program = executable.program();
  Step step;
  for (int32_t i = 0; i < program.given_slots(); ++i) {
    auto it = symbols.find(program.slots[i].name);
    step.values.push_back(it == symbols.end() ? 0 : it->second);
  }
  for (size_t i = 0; i < program.inputs.size(); ++i) {
    const HostTensor& tensor = inputs.at(program.inputs[i].name);
    step.inputs.push_back({static_cast<uint32_t>(i), 0, tensor.bytes.data(), tensor.bytes.size()});
  }
  absl::StatusOr<program::StepValues> values = program::evaluate_step(program, step.values);
  if (!values.ok()) return values.status();
  std::vector<HostTensor*> outputs;
  for (const program::Binding& binding : program.outputs) {
    HostTensor& tensor = results[absl::StrCat(index, ":", binding.name)];
    tensor.dtype = binding.ref.dtype;
    for (const program::Dim& dim : binding.ref.shape) tensor.shape.push_back(program::extent(dim, *values));
    tensor.bytes.resize(program::byte_size(binding.ref, *values));
    outputs.push_back(&tensor);
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    step.outputs.push_back({static_cast<uint32_t>(i), 0, outputs[i]->bytes.data(), outputs[i]->bytes.size()});
  }
  return executable.run(step);
}

absl::Status read_states(const program::Program& program, const State& state, Results& results) {
  const program::StepValues bound = program::bound_step(program);
  for (const program::Binding& binding : program.states) {
    HostTensor& tensor = results["state:" + binding.name];
    tensor.dtype = binding.ref.dtype;
    for (const program::Dim& dim : binding.ref.shape) tensor.shape.push_back(program::extent(dim, bound));
    tensor.bytes.resize(program::byte_size(binding.ref, bound));
    if (absl::Status s = state.read(binding.ref.offset, tensor.bytes); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// A per-process cache of results that do not depend on the backend under
// test (the tests run on one thread).
template <typename Compute>
absl::StatusOr<Results> cached(std::map<std::string, absl::StatusOr<Results>>& cache, const std::string& key,
                               Compute compute) {
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, compute()).first;
  return it->second;
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

const Unsupported* BackendUnderTest::find_unsupported(const OpCase& op_case, const std::string& variant) const {
  for (const Unsupported& entry : unsupported) {
    for (const std::string& subject : {op_case.name, op_case.op}) {
      if (subject.empty()) continue;
      if (entry.what == subject || (!variant.empty() && entry.what == subject + "@" + variant)) return &entry;
    }
  }
  return nullptr;
}

namespace {

// The backends opened for the process, closed when the tests end rather than
// by a static destructor: NVIDIA's Vulkan and OpenCL drivers tear their own
// state down at exit, and a device destroyed after that crashes the process
// (SIGSEGV after every test passed, seen on the H100).
std::map<std::string, absl::StatusOr<Backend>>& opened_backends() {
  static auto* opened = new std::map<std::string, absl::StatusOr<Backend>>();
  return *opened;
}

class CloseBackends : public ::testing::Environment {
 public:
  void TearDown() override { opened_backends().clear(); }
};

const ::testing::Environment* const kCloseBackends = ::testing::AddGlobalTestEnvironment(new CloseBackends);

}  // namespace

absl::StatusOr<Backend> open_conformance_backend(const std::string& name) {
  std::map<std::string, absl::StatusOr<Backend>>& opened = opened_backends();
  auto it = opened.find(name);
  if (it != opened.end()) return it->second;
  setenv("KILN_PLUGIN_PATH", KILN_BINARY_DIR "/backends", /*overwrite=*/0);
  setenv("KILN_VULKAN_VALIDATION", "1", /*overwrite=*/0);
  BackendOptions options;
  options.cache_dir = absl::StrCat(KILN_BINARY_DIR, "/conformance-cache/", name);
  return opened.emplace(name, Backend::open(name, options)).first->second;
}

absl::StatusOr<BackendRun> run_on_backend(const Backend& backend, const OpCase& op_case, const char* pipeline,
                                          const std::map<std::string, std::string>& force_variants) {
  absl::StatusOr<ir::Graph> graph = parse_case_graph(op_case);
  if (!graph.ok()) return graph.status();
  absl::StatusOr<Leaves> leaves = draw_leaves(*graph, op_case);
  if (!leaves.ok()) return leaves.status();
  passes::CompileOptions options;
  options.target = backend.capabilities();
  options.pipeline = pipeline;
  options.force_variants = force_variants;
  absl::StatusOr<program::Program> program = passes::compile(*graph, options);
  if (!program.ok()) return program.status();
  absl::StatusOr<Executable> executable = backend.compile(*program);
  if (!executable.ok()) return executable.status();
  absl::StatusOr<Weights> weights = executable->create_weights();
  if (!weights.ok()) return weights.status();
  for (size_t i = 0; i < program->weights.size(); ++i) {
    const HostTensor& tensor = leaves->weights.at(program->weights[i].name);
    if (absl::Status s = weights->import(static_cast<uint32_t>(i), tensor.bytes); !s.ok()) return s;
  }
  absl::StatusOr<State> state = executable->create_state();
  if (!state.ok()) return state.status();
  if (absl::Status s = executable->bind(*weights, &*state); !s.ok()) return s;
  BackendRun run{*program, {}};
  for (size_t s = 0; s < op_case.steps.size(); ++s) {
    absl::Status status = run_step(*executable, op_case.steps[s], leaves->inputs[s], s, run.results);
    if (!status.ok()) return absl::Status(status.code(), absl::StrCat("step ", s, ": ", status.message()));
  }
  if (absl::Status s = read_states(*program, *state, run.results); !s.ok()) return s;
  return run;
}

absl::StatusOr<Results> reference_results(const OpCase& op_case) {
  static std::map<std::string, absl::StatusOr<Results>> cache;
  return cached(cache, op_case.name, [&]() -> absl::StatusOr<Results> {
    absl::StatusOr<ir::Graph> graph = parse_case_graph(op_case);
    if (!graph.ok()) return graph.status();
    absl::StatusOr<Leaves> leaves = draw_leaves(*graph, op_case);
    if (!leaves.ok()) return leaves.status();
    std::string dir = (std::filesystem::temp_directory_path() / "kiln-conformance-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) return absl::InternalError("mkdtemp failed for " + dir);
    absl::StatusOr<Results> results = run_reference(*graph, op_case, *leaves, dir);
    std::filesystem::remove_all(dir);
    return results;
  });
}

absl::StatusOr<Results> cpu_unfused_results(const OpCase& op_case) {
  static std::map<std::string, absl::StatusOr<Results>> cache;
  return cached(cache, op_case.name, [&]() -> absl::StatusOr<Results> {
    absl::StatusOr<Backend> cpu = open_conformance_backend("cpu");
    if (!cpu.ok()) return cpu.status();
    absl::StatusOr<BackendRun> run = run_on_backend(*cpu, op_case, kConformancePipeline);
    if (!run.ok()) return run.status();
    return run->results;
  });
}

std::vector<ConformanceParam> conformance_params(const std::vector<OpCase>& cases) {
  std::vector<ConformanceParam> params;
  for (const BackendUnderTest& backend : backends_under_test()) {
    for (const OpCase& op_case : cases) {
      params.push_back({&backend, &op_case, ""});
      auto registered = backend.variants.find(op_case.op);
      if (registered == backend.variants.end()) continue;
      for (const Variant& variant : registered->second) {
        if (absl::c_linear_search(op_case.force, variant.name)) params.push_back({&backend, &op_case, variant.name});
      }
    }
  }
  return params;
}

std::string param_name(const ConformanceParam& param) {
  std::string name = absl::StrCat(param.backend->name, "_", param.op_case->name);
  if (!param.variant.empty()) absl::StrAppend(&name, "_forced_", param.variant);
  return name;
}

namespace {

// OK, or why the case fails: an error on the way, a missing fused kernel,
// or every mismatch.
absl::Status check_case(const Backend& backend, const OpCase& op_case, const std::string& variant) {
  std::map<std::string, std::string> force;
  if (!variant.empty()) force[op_case.op] = variant;
  const bool fusion = op_case.is_fusion();
  const char* pipeline = fusion ? kFusedPipeline : kConformancePipeline;
  absl::StatusOr<BackendRun> run = run_on_backend(backend, op_case, pipeline, force);
  if (!run.ok()) return run.status();
  std::vector<std::string> expected = op_case.fused_kernels;
  const bool gpu = backend.capabilities().shared_memory_bytes > 0;
  for (const std::string& kernel : gpu ? op_case.gpu_fused_kernels : op_case.cpu_fused_kernels) {
    expected.push_back(kernel);
  }
  for (const std::string& kernel : expected) {
    const auto dispatches = [&kernel](const program::Dispatch& d) { return d.kernel == kernel; };
    if (passes::has_kernel(backend.capabilities(), kernel) && absl::c_none_of(run->program.dispatches, dispatches)) {
      return absl::InternalError(absl::StrCat("the fused Program has no ", kernel, " dispatch"));
    }
  }
  absl::StatusOr<Results> want = fusion ? cpu_unfused_results(op_case) : reference_results(op_case);
  if (!want.ok()) return want.status();
  return compare_results(run->results, *want, op_case.tolerance);
}

// What `variant` of `op` needs that the device lacks, or "".
std::string missing_need(const BackendUnderTest& backend, const std::string& op, const std::string& variant,
                         const kiln_capabilities& caps) {
  auto registered = backend.variants.find(op);
  if (registered == backend.variants.end()) return "";
  for (const Variant& known : registered->second) {
    if (known.name != variant) continue;
    if (known.needs == "subgroups" && caps.subgroup_size_min == 0) return known.needs;
    if (known.needs == "cooperative_matrix" && caps.cooperative_matrix == 0) return known.needs;
  }
  return "";
}

}  // namespace

void run_conformance(const ConformanceParam& param) {
  const std::string& name = param.backend->name;
  absl::StatusOr<Backend> backend = open_conformance_backend(name);
  if (!backend.ok()) {
    if (must_open(name)) FAIL() << backend.status();
    GTEST_SKIP() << "backend '" << name << "' is not usable here: " << backend.status();
  }
  const std::string missing = missing_need(*param.backend, param.op_case->op, param.variant,
                                           backend->device_info().caps);
  if (!missing.empty()) {
    GTEST_SKIP() << "'" << backend->device_name() << "' lacks " << missing << ", which " << name << "'s "
                 << param.op_case->op << " variant " << param.variant << " needs";
  }
  const absl::Status status = check_case(*backend, *param.op_case, param.variant);
  const Unsupported* unsupported = param.backend->find_unsupported(*param.op_case, param.variant);
  if (unsupported == nullptr) {
    EXPECT_TRUE(status.ok()) << status;
    return;
  }
  if (status.ok()) {
    FAIL() << "passes now: remove \"" << unsupported->what << "\" from " << name << "'s unsupported list";
  }
  const std::string message(status.message());
  GTEST_SKIP() << "unsupported on " << name << ": " << unsupported->why << "\n(fails with: "
               << message.substr(0, message.find('\n')) << ")";
}

std::string compare(const HostTensor& got, const HostTensor& want, Tolerance tolerance) {
  if (got.dtype != want.dtype || got.shape != want.shape) {
    return absl::StrCat("got ", std::string(ir::dtype_name(got.dtype)), "[", absl::StrJoin(got.shape, ", "),
                        "], want ", std::string(ir::dtype_name(want.dtype)), "[", absl::StrJoin(want.shape, ", "), "]");
  }
  int64_t worst = -1;
  double worst_excess = 0.0;
  for (int64_t i = 0; i < want.elements(); ++i) {
    if (got.value(i) == want.value(i) || (std::isnan(got.value(i)) && std::isnan(want.value(i)))) continue;
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

absl::Status compare_results(const Results& got, const Results& want, Tolerance tolerance) {
  std::vector<std::string> mismatches;
  if (want.empty()) mismatches.push_back("no results to compare with");
  for (const auto& [name, tensor] : got) {
    if (!want.contains(name)) mismatches.push_back(absl::StrCat(name, ": not in the reference"));
  }
  for (const auto& [name, expected] : want) {
    auto it = got.find(name);
    if (it == got.end()) {
      mismatches.push_back(absl::StrCat(name, ": missing"));
      continue;
    }
    if (std::string difference = compare(it->second, expected, tolerance); !difference.empty()) {
      mismatches.push_back(absl::StrCat(name, ": ", difference));
    }
  }
  if (mismatches.empty()) return absl::OkStatus();
  return absl::InternalError(absl::StrJoin(mismatches, "\n"));
}

}  // namespace kiln::backends::testing
