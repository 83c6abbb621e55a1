#include "bench/bench_graph.h"

#include <cstring>
#include <functional>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/text.h"
#include "passes/compile.h"
#include "program/step.h"

namespace kiln::bench {
namespace {

// xorshift32: fast enough for 0.5 GB of weights, and the same every run.
class Random {
 public:
  explicit Random(uint32_t seed) : x_(seed | 1u) {}
  // Uniform in [-range, range).
  float next(float range) {
    x_ ^= x_ << 13;
    x_ ^= x_ >> 17;
    x_ ^= x_ << 5;
    return (static_cast<float>(x_ >> 8) / 8388608.0f - 1.0f) * range;
  }

 private:
  uint32_t x_;
};

// `elements` values of `dtype` drawn from [-range, range); i32 elements
// are 1 (row 1 of an embedding: every row is the same bytes).
std::vector<uint8_t> random_bytes(program::DType dtype, int64_t elements, float range, uint32_t seed) {
  std::vector<uint8_t> out(static_cast<size_t>(program::dtype_bytes(dtype, elements)));
  Random random(seed);
  for (int64_t i = 0; i < elements; ++i) {
    switch (dtype) {
      case program::DType::f32: {
        const float v = random.next(range);
        std::memcpy(&out[4 * i], &v, 4);
        break;
      }
      case program::DType::f16: {
        const uint16_t h = program::f32_to_f16(random.next(range));
        std::memcpy(&out[2 * i], &h, 2);
        break;
      }
      case program::DType::bf16: {
        const uint16_t b = program::f32_to_bf16(random.next(range));
        std::memcpy(&out[2 * i], &b, 2);
        break;
      }
      case program::DType::i32: {
        const int32_t id = 1;
        std::memcpy(&out[4 * i], &id, 4);
        break;
      }
    }
  }
  return out;
}

// The bytes of weight `entry`, drawn on first use and kept for the process
// (the cpu plugin reads them in place; a map never moves its values).
const std::vector<uint8_t>& weight_bytes(const program::WeightEntry& entry) {
  static std::map<std::tuple<std::string, program::DType, int64_t>, std::vector<uint8_t>> cache;
  auto key = std::make_tuple(entry.name, entry.dtype, entry.bytes);
  auto it = cache.find(key);
  if (it == cache.end()) {
    const int64_t elements = entry.bytes / program::dtype_bytes(entry.dtype, 1);
    const uint32_t seed = static_cast<uint32_t>(std::hash<std::string>{}(entry.name));
    it = cache.emplace(std::move(key), random_bytes(entry.dtype, elements, 0.05f, seed)).first;
  }
  return it->second;
}

}  // namespace

absl::StatusOr<program::Program> compile_graph(const passes::Target& target, const std::string& name,
                                               std::string_view text, std::string_view pipeline) {
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(text, name);
  if (!graph.ok()) return graph.status();
  passes::CompileOptions options;
  options.target = target;
  options.pipeline = std::string(pipeline);
  return passes::compile(*graph, options);
}

std::string kernel_list(const program::Program& program) {
  std::vector<std::string> names;
  for (const program::Dispatch& d : program.dispatches) names.push_back(d.kernel);
  return absl::StrJoin(names, " ");
}

absl::StatusOr<BenchGraph> BenchGraph::create(const backends::Backend& backend, const std::string& name,
                                              std::string_view text, std::string_view pipeline,
                                              const backends::State* shared_state) {
  absl::StatusOr<program::Program> program = compile_graph(backend.capabilities(), name, text, pipeline);
  if (!program.ok()) return program.status();
  for (program::Binding& output : program->outputs) output.ref.shape = {program::Dim::fixed(1)};
  absl::StatusOr<backends::Executable> executable = backend.compile(*program);
  if (!executable.ok()) return executable.status();
  absl::StatusOr<backends::Weights> weights = executable->create_weights();
  if (!weights.ok()) return weights.status();
  for (size_t i = 0; i < program->weights.size(); ++i) {
    if (absl::Status s = weights->import(static_cast<uint32_t>(i), weight_bytes(program->weights[i])); !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<backends::State> state =
      shared_state != nullptr ? absl::StatusOr<backends::State>(*shared_state) : executable->create_state();
  if (!state.ok()) return state.status();
  if (absl::Status s = executable->bind(*weights, &*state); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(name, ": ", s.message()));
  }
  return BenchGraph(*std::move(executable), *std::move(state));
}

absl::Status BenchGraph::prepare(const ir::SymbolValues& symbols) {
  const program::Program& p = program();
  std::vector<int64_t> values;
  for (int32_t i = 0; i < p.given_slots(); ++i) {
    auto it = symbols.find(p.slots[i].name);
    values.push_back(it == symbols.end() ? 0 : it->second);
  }
  absl::StatusOr<program::StepValues> extents = program::evaluate_step(p, values);
  if (!extents.ok()) return extents.status();
  step_ = {values, {}, {}};
  inputs_.resize(p.inputs.size());
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    const program::TensorRef& ref = p.inputs[i].ref;
    const int64_t elements = program::element_count(ref.shape, *extents);
    inputs_[i] = random_bytes(ref.dtype, elements, 1.0f, static_cast<uint32_t>(i + 1));
    step_.inputs.push_back({static_cast<uint32_t>(i), 0, inputs_[i].data(), inputs_[i].size()});
  }
  if (!p.outputs.empty()) {
    readback_.resize(static_cast<size_t>(program::dtype_bytes(p.outputs[0].ref.dtype, 1)));
    step_.outputs.push_back({0, 0, readback_.data(), readback_.size()});
  }
  return absl::OkStatus();
}

absl::Status BenchGraph::run() { return executable_.run(step_); }

bool BenchGraph::dispatches(std::string_view kernel) const {
  for (const program::Dispatch& d : program().dispatches) {
    if (d.kernel == kernel) return true;
  }
  return false;
}

}  // namespace kiln::bench
