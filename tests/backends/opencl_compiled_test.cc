// Programs the compiler makes (text IR -> passes -> Program, the variants
// from the OpenCL table) run on the OpenCL plugin and on the cpu plugin, the
// reference; every output of every step must agree. Steps share one state,
// so the KV cache written by one step is read by the next.

#include <dlfcn.h>

#include <cmath>

#include "gtest/gtest.h"
#include "ir/text.h"
#include "kernels/opencl/variant_rules.h"
#include "passes/pass_manager.h"
#include "passes/variant_rules.h"
#include "program/program_json.h"
#include "tests/backends/decoder_block_graph.h"
#include "tests/backends/opencl_test_support.h"

namespace kiln::backends::opencl_testing {
namespace {

using program::DType;

// The passes of the conformance harness, without fusion: each op of the
// graph is the kernel under test.
constexpr std::string_view kPipeline = "infer-shapes,canonicalize,cse,dce,plan-memory,schedule";

const kiln_backend_api* cpu_api() {
  static const kiln_backend_api* api = [] {
    void* library = dlopen(KILN_CPU_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) return static_cast<const kiln_backend_api*>(nullptr);
    auto get_api = reinterpret_cast<kiln_backend_get_api_fn>(dlsym(library, KILN_BACKEND_ENTRY_POINT));
    return get_api == nullptr ? nullptr : get_api();
  }();
  return api;
}

// Compiles |text| for |backend|, each dispatch's variant from |table|.
absl::StatusOr<program::Program> compile_graph(std::string_view text, const passes::VariantTable& table) {
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(text);
  if (!graph.ok()) return graph.status();
  absl::StatusOr<passes::PassManager> manager = passes::PassManager::from_pipeline(kPipeline);
  if (!manager.ok()) return manager.status();
  passes::PassContext context;
  context.target.backend = table.backend;
  if (absl::Status s = manager->run(*graph, context); !s.ok()) return s;
  absl::StatusOr<passes::CompiledVariantTable> compiled = passes::compile_variant_table(table);
  if (!compiled.ok()) return compiled.status();
  for (program::Dispatch& dispatch : context.program->dispatches) {
    ir::Value* value = graph->find_value(dispatch.node);
    absl::StatusOr<const passes::CompiledVariantRule*> rule =
        passes::select_variant(*compiled, *graph, *value->producer(), context.target);
    if (!rule.ok()) return rule.status();
    dispatch.variant = (*rule)->row.variant;
  }
  return *context.program;
}

std::vector<uint8_t> random_bytes(DType dtype, int64_t elements, uint32_t seed, int32_t id_limit) {
  std::vector<float> values = random_floats(static_cast<size_t>(elements), seed);
  if (dtype == DType::i32) {
    for (float& v : values) v = std::floor((v + 1) / 2 * static_cast<float>(id_limit));
  }
  return encode(dtype, values);
}

using Step = std::map<std::string, int64_t>;  // given slot values by name

// Every output of every step, run through |api|.
absl::StatusOr<std::vector<std::vector<float>>> run_steps(const kiln_backend_api* api, const program::Program& program,
                                                         const std::vector<Step>& named_steps, int32_t id_limit) {
  std::vector<std::vector<int64_t>> steps;
  for (const Step& named : named_steps) {
    std::vector<int64_t>& given = steps.emplace_back();
    for (int32_t i = 0; i < program.given_slots(); ++i) given.push_back(named.at(program.slots[i].name));
  }
  kiln_error error{};
  kiln_device* device = nullptr;
  kiln_device_options options{};
  options.struct_size = sizeof options;
  const std::string cache = test_cache_dir();
  options.cache_dir = cache.c_str();
  if (absl::Status s = status_of(api->create_device(0, &options, &device, &error), error); !s.ok()) return s;
  const std::string json = program::program_to_json(program);
  kiln_executable* executable = nullptr;
  kiln_weights* weights = nullptr;
  kiln_state* state = nullptr;
  std::vector<std::vector<float>> results;
  // A host plugin reads imported weights in place: they live until the end.
  std::vector<std::vector<uint8_t>> weight_bytes;
  absl::Status status = status_of(api->compile(device, json.data(), json.size(), &executable, &error), error);
  if (status.ok() && !program.weights.empty()) {
    status = status_of(api->create_weights(executable, &weights, &error), error);
    for (size_t i = 0; status.ok() && i < program.weights.size(); ++i) {
      const program::WeightEntry& w = program.weights[i];
      int64_t elements = 1;
      for (int64_t d : w.shape) elements *= d;
      const std::vector<uint8_t>& bytes =
          weight_bytes.emplace_back(random_bytes(w.dtype, elements, 100 + static_cast<uint32_t>(i), id_limit));
      status = status_of(api->import_weight(weights, static_cast<uint32_t>(i), bytes.data(), bytes.size(), &error),
                         error);
    }
  }
  if (status.ok() && program.state_bytes > 0) status = status_of(api->create_state(executable, &state, &error), error);
  if (status.ok()) status = status_of(api->bind(executable, weights, state, &error), error);
  for (size_t s = 0; status.ok() && s < steps.size(); ++s) {
    absl::StatusOr<program::StepValues> values = program::evaluate_step(program, steps[s]);
    if (!values.ok()) {
      status = values.status();
      break;
    }
    std::vector<std::vector<uint8_t>> in_bytes, out_bytes;
    std::vector<kiln_input> inputs;
    std::vector<kiln_output> outputs;
    for (size_t i = 0; i < program.inputs.size(); ++i) {
      const program::TensorRef& ref = program.inputs[i].ref;
      in_bytes.push_back(random_bytes(ref.dtype, program::element_count(ref.shape, *values),
                                      200 + static_cast<uint32_t>(10 * s + i), id_limit));
    }
    for (size_t i = 0; i < program.outputs.size(); ++i) {
      out_bytes.emplace_back(program::byte_size(program.outputs[i].ref, *values));
    }
    for (size_t i = 0; i < in_bytes.size(); ++i) {
      inputs.push_back({static_cast<uint32_t>(i), 0, in_bytes[i].data(), in_bytes[i].size()});
    }
    for (size_t i = 0; i < out_bytes.size(); ++i) {
      outputs.push_back({static_cast<uint32_t>(i), 0, out_bytes[i].data(), out_bytes[i].size()});
    }
    kiln_step step{sizeof(kiln_step), steps[s].data(), static_cast<uint32_t>(steps[s].size()), inputs.data(),
                   static_cast<uint32_t>(inputs.size()), outputs.data(), static_cast<uint32_t>(outputs.size())};
    status = status_of(api->run(executable, &step, &error), error);
    for (size_t i = 0; status.ok() && i < out_bytes.size(); ++i) {
      results.push_back(decode(program.outputs[i].ref.dtype, out_bytes[i]));
    }
  }
  if (executable != nullptr) api->destroy_executable(executable);
  if (weights != nullptr) api->destroy_weights(weights);
  if (state != nullptr) api->destroy_state(state);
  api->destroy_device(device);
  if (!status.ok()) return status;
  return results;
}

passes::VariantTable cpu_table() {
  return {"cpu", {{.name = "cpu.reference", .pattern = "y:*", .when = {}, .variant = "reference", .why = "test"}}};
}

void expect_same_as_cpu(std::string_view graph, const std::vector<Step>& steps, int32_t id_limit = 1) {
  KILN_REQUIRE_OPENCL();
  if (cpu_api() == nullptr) GTEST_SKIP() << "the cpu plugin does not load: " << dlerror();
  absl::StatusOr<program::Program> for_opencl = compile_graph(graph, kernels::opencl::variant_table());
  ASSERT_TRUE(for_opencl.ok()) << for_opencl.status();
  absl::StatusOr<program::Program> for_cpu = compile_graph(graph, cpu_table());
  ASSERT_TRUE(for_cpu.ok()) << for_cpu.status();
  auto got = run_steps(plugin_api(), *for_opencl, steps, id_limit);
  ASSERT_TRUE(got.ok()) << got.status();
  auto want = run_steps(cpu_api(), *for_cpu, steps, id_limit);
  ASSERT_TRUE(want.ok()) << want.status();
  ASSERT_EQ(got->size(), want->size());
  for (size_t o = 0; o < got->size(); ++o) {
    ASSERT_EQ((*got)[o].size(), (*want)[o].size()) << "result " << o;
    int failures = 0;
    for (size_t i = 0; i < (*got)[o].size() && failures < 5; ++i) {
      const double g = (*got)[o][i], w = (*want)[o][i];
      if (!(std::abs(g - w) <= 1e-4 + 1e-4 * std::abs(w))) {
        ADD_FAILURE() << "result " << o << " [" << i << "]: opencl " << g << ", cpu " << w;
        ++failures;
      }
    }
  }
}

// The decoder attention block of the conformance suite, run as a prefill
// of 5 tokens, then a decode token, then a chunk of 3, on one KV cache.
using ::kiln::backends::testing::kDecoderAttentionBlock;

TEST(OpenclCompiledTest, AttentionBlockPrefillThenDecode) {
  expect_same_as_cpu(kDecoderAttentionBlock, {{{"P", 0}, {"T", 5}}, {{"P", 5}, {"T", 1}}, {{"P", 6}, {"T", 3}}});
}

// One token per step: the gemv variants.
TEST(OpenclCompiledTest, DecodeStepsUseGemv) {
  std::string decode(kDecoderAttentionBlock);
  decode.replace(decode.find("T <= 8"), 6, "T <= 1");
  absl::StatusOr<program::Program> program = compile_graph(decode, kernels::opencl::variant_table());
  ASSERT_TRUE(program.ok()) << program.status();
  for (const program::Dispatch& d : program->dispatches) {
    if (d.kernel == "matmul") {
      EXPECT_EQ(d.variant, "gemv") << d.node;
    }
  }
  expect_same_as_cpu(decode, {{{"P", 0}, {"T", 1}}, {{"P", 1}, {"T", 1}}, {{"P", 2}, {"T", 1}}});
}

TEST(OpenclCompiledTest, FeedForwardAndSampling) {
  expect_same_as_cpu(R"(symbol T <= 8
input %ids : i32[T]
weight %table : f16[61, 40]
weight %w1 : f32[40, 90]
weight %w2 : bf16[90, 40]
weight %ln : f32[40]
weight %head : f16[61, 40]
%e = embedding(%table, %ids)
%h = matmul(%e, %w1)
%g = gelu(%h) {approximate = "tanh"}
%s = silu(%h)
%p = mul(%g, %s)
%d = matmul(%p, %w2)
%r = add(%e, %d)
%n = layernorm(%r, %ln)
%l = matmul(%n, %head) {transpose_b = true}
%last = slice(%l) {axis = 0, start = -1}
%sm = softmax(%last)
%best = argmax(%last)
%t = transpose(%l) {perm = [1, 0]}
%c = concat(%sm, %last) {axis = 0}
output %sm
output %best
output %t
output %c)",
                     {{{"T", 3}}, {{"T", 7}}}, 61);
}

}  // namespace
}  // namespace kiln::backends::opencl_testing
