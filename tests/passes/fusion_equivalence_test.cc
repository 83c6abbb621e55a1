// Numerical equivalence of every fusion rule: one text graph is compiled
// with and without `fuse`, both Programs run on the cpu plugin from the same
// random inputs, weights and KV cache, and every output and state agrees
// within the case's tolerance. Sizes are odd on purpose (not multiples of 4,
// 16 or 32), so no kernel can lean on a tile size.
//
// Tolerances. In f32 the fused and unfused kernels compute the same f64 sums
// and round at the same points; only the order of additions inside a dot
// product differs, so results agree to a few f32 ulps: atol 1e-5, rtol 1e-4.
// In f16 the unfused graph rounds each intermediate to f16 where the fused
// kernel keeps it in f32, a difference of up to one f16 ulp carried through a
// norm: atol 4e-3, rtol 1e-2.

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ir/text.h"
#include "passes/pass_manager.h"
#include "tests/backends/backend_test_support.h"

namespace kiln::passes {
namespace {

constexpr const char* kUnfused = "infer-shapes,dce,plan-memory,schedule";
constexpr const char* kFused = "infer-shapes,fuse,dce,plan-memory,schedule";

struct Tolerance {
  double atol;
  double rtol;
};
constexpr Tolerance kF32{1e-5, 1e-4};
constexpr Tolerance kF16{4e-3, 1e-2};

struct EquivalenceCase {
  std::string name;
  std::string graph;  // text IR, or "file:NAME" for tests/passes/fuse/NAME
  ir::SymbolValues step;
  std::vector<std::string> fused_kernels;  // the fused Program must dispatch each
  Tolerance tolerance = kF32;
};

void PrintTo(const EquivalenceCase& c, std::ostream* out) { *out << c.name; }

// Bytes of one tensor in its dtype.
using Values = std::map<std::string, std::vector<uint8_t>>;

std::string graph_text(const EquivalenceCase& c) {
  if (!c.graph.starts_with("file:")) return c.graph;
  std::stringstream text;
  const std::filesystem::path cases = std::filesystem::path(KILN_SOURCE_DIR) / "tests" / "passes" / "fuse";
  text << std::ifstream(cases / c.graph.substr(5)).rdbuf();
  return text.str();
}

absl::StatusOr<Program> compile(const EquivalenceCase& c, const char* pipeline, const Target& target) {
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(graph_text(c), c.name);
  if (!graph.ok()) return graph.status();
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline(pipeline);
  if (!manager.ok()) return manager.status();
  PassContext context;
  context.target = target;
  if (absl::Status s = manager->run(*graph, context); !s.ok()) return s;
  return *std::move(context.program);
}

int64_t elements(const ir::Shape& shape, const ir::SymbolValues& step) {
  return ir::element_count(shape, step).value_or(0);
}

// Element i of a float tensor in its dtype (f32, f16 or bf16).
void store(ir::DType dtype, std::vector<uint8_t>& bytes, int64_t i, float value) {
  if (dtype == ir::DType::f32) {
    std::memcpy(bytes.data() + 4 * i, &value, 4);
    return;
  }
  const uint16_t bits = dtype == ir::DType::f16 ? ir::f32_to_f16(value) : ir::f32_to_bf16(value);
  std::memcpy(bytes.data() + 2 * i, &bits, 2);
}

float load(ir::DType dtype, const std::vector<uint8_t>& bytes, int64_t i) {
  if (dtype == ir::DType::f32) {
    float value;
    std::memcpy(&value, bytes.data() + 4 * i, 4);
    return value;
  }
  uint16_t bits;
  std::memcpy(&bits, bytes.data() + 2 * i, 2);
  return dtype == ir::DType::f16 ? ir::f16_to_f32(bits) : ir::bf16_to_f32(bits);
}

// Uniform values in [-1, 1), the same on every run, for every weight, input
// and state of `program` (weights at their static shapes, the rest at `step`).
Values draw(const Program& program, const ir::SymbolValues& step) {
  std::mt19937 random(20241);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  Values values;
  auto fill = [&](const std::string& name, ir::DType dtype, int64_t count) {
    std::vector<uint8_t>& bytes = values[name];
    bytes.resize(ir::dtype_bytes(dtype, count));
    for (int64_t i = 0; i < count; ++i) store(dtype, bytes, i, uniform(random));
  };
  for (const WeightEntry& weight : program.weights) fill(weight.name, weight.dtype, elements(weight.shape, {}));
  for (const auto* table : {&program.inputs, &program.states}) {
    for (const Binding& binding : *table) fill(binding.name, binding.ref.dtype, elements(binding.ref.shape, step));
  }
  return values;
}

// Runs `program` on `backend` from `values`; returns each output and state.
absl::StatusOr<Values> run(const backends::Backend& backend, const Program& program, const Values& values,
                           const ir::SymbolValues& step) {
  absl::StatusOr<backends::Executable> exe = backend.compile(program);
  if (!exe.ok()) return exe.status();
  for (size_t i = 0; i < program.weights.size(); ++i) {
    if (absl::Status s = exe->upload_weight(i, values.at(program.weights[i].name)); !s.ok()) return s;
  }
  for (const auto* table : {&program.inputs, &program.states}) {
    for (const Binding& binding : *table) {
      absl::Status s = exe->write(binding.ref.region, binding.ref.offset, values.at(binding.name));
      if (!s.ok()) return s;
    }
  }
  if (absl::Status s = exe->run(step); !s.ok()) return s;
  Values results;
  for (const auto* table : {&program.outputs, &program.states}) {
    for (const Binding& binding : *table) {
      std::vector<uint8_t>& bytes = results[binding.name];
      bytes.resize(ir::dtype_bytes(binding.ref.dtype, elements(binding.ref.shape, step)));
      if (absl::Status s = exe->read(binding.ref.region, binding.ref.offset, bytes); !s.ok()) return s;
    }
  }
  return results;
}

bool dispatches(const Program& program, const std::string& kernel) {
  return std::any_of(program.dispatches.begin(), program.dispatches.end(),
                     [&](const Dispatch& d) { return d.kernel == kernel; });
}

class FusionEquivalenceTest : public testing::TestWithParam<EquivalenceCase> {};

TEST_P(FusionEquivalenceTest, FusedAndUnfusedAgree) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  const EquivalenceCase& c = GetParam();
  absl::StatusOr<Program> unfused = compile(c, kUnfused, cpu.capabilities());
  ASSERT_TRUE(unfused.ok()) << unfused.status();
  absl::StatusOr<Program> fused = compile(c, kFused, cpu.capabilities());
  ASSERT_TRUE(fused.ok()) << fused.status();
  for (const std::string& kernel : c.fused_kernels) {
    EXPECT_TRUE(dispatches(*fused, kernel)) << "the fused Program has no " << kernel;
    EXPECT_FALSE(dispatches(*unfused, kernel));
  }
  const Values values = draw(*unfused, c.step);
  absl::StatusOr<Values> want = run(cpu, *unfused, values, c.step);
  ASSERT_TRUE(want.ok()) << want.status();
  absl::StatusOr<Values> got = run(cpu, *fused, values, c.step);
  ASSERT_TRUE(got.ok()) << got.status();
  for (const auto* table : {&unfused->outputs, &unfused->states}) {
    for (const Binding& binding : *table) {
      const std::vector<uint8_t>& expected = want->at(binding.name);
      const std::vector<uint8_t>& actual = got->at(binding.name);
      ASSERT_EQ(actual.size(), expected.size()) << binding.name;
      for (int64_t i = 0; i < elements(binding.ref.shape, c.step); ++i) {
        const float u = load(binding.ref.dtype, expected, i), f = load(binding.ref.dtype, actual, i);
        ASSERT_LE(std::abs(f - u), c.tolerance.atol + c.tolerance.rtol * std::abs(u))
            << "%" << binding.name << "[" << i << "]: fused " << f << ", unfused " << u;
      }
    }
  }
}

// x[T, 37] through a gated FFN of intermediate size 83.
// `weights` is the weights' dtype; activations are f32 (f16 weights under f32
// activations is how most model files run).
std::string ffn(const std::string& bound, const std::string& act, bool transpose_b,
                const std::string& weights = "f32") {
  const std::string w_in = transpose_b ? "[83, 37]" : "[37, 83]";
  const std::string w_out = transpose_b ? "[37, 83]" : "[83, 37]";
  const std::string attrs = transpose_b ? " {transpose_b = true}" : "";
  return absl::StrCat("symbol T <= ", bound, "\ninput %x : f32[T, 37]\nweight %wg : ", weights, w_in, "\nweight %wu : ",
                      weights, w_in, "\nweight %wd : ", weights, w_out, "\n%g = matmul(%x, %wg)", attrs, "\n%a = ", act,
                      "\n%u = matmul(%x, %wu)", attrs, "\n%m = mul(%u, %a)\n%d = matmul(%m, %wd)", attrs,
                      "\noutput %d\n");
}

std::string matmul_rmsnorm(const std::string& dtype, const std::string& weights = "") {
  const std::string& w = weights.empty() ? dtype : weights;
  return absl::StrCat("symbol T <= 1\ninput %x : ", dtype, "[T, 45]\ninput %r : ", dtype, "[T, 67]\nweight %w : ",
                      w, "[67, 45]\nweight %g : ", w,
                      "[67]\n%h = matmul(%x, %w) {transpose_b = true}\n%s = add(%h, %r)\n"
                      "%y = rmsnorm(%s, %g) {eps = 1e-06}\noutput %s, %y\n");
}

INSTANTIATE_TEST_SUITE_P(
    Rules, FusionEquivalenceTest,
    testing::Values(
        EquivalenceCase{"fused_ffn_silu", ffn("1", "silu(%g)", true), {{"T", 1}}, {"fused_ffn"}},
        EquivalenceCase{"fused_ffn_gelu", ffn("1", "gelu(%g)", false), {{"T", 1}}, {"fused_ffn"}},
        EquivalenceCase{"fused_ffn_gelu_tanh", ffn("1", "gelu(%g) {approximate = \"tanh\"}", true), {{"T", 1}},
                        {"fused_ffn"}},
        EquivalenceCase{"fused_gate_up", ffn("13", "silu(%g)", true), {{"T", 13}}, {"fused_gate_up"}},
        EquivalenceCase{"fused_ffn_f16_weights", ffn("1", "silu(%g)", true, "f16"), {{"T", 1}}, {"fused_ffn"}},
        EquivalenceCase{"fused_gate_up_bf16_weights", ffn("13", "silu(%g)", true, "bf16"), {{"T", 9}},
                        {"fused_gate_up"}},
        EquivalenceCase{"fused_gate_up_short_step", ffn("13", "gelu(%g)", false), {{"T", 5}}, {"fused_gate_up"}},
        EquivalenceCase{"matmul_rmsnorm_tee", R"(symbol T <= 1
input %x : f32[T, 37]
weight %w : f32[37, 53]
weight %g : f32[53]
%h = matmul(%x, %w)
%y = rmsnorm(%h, %g)
%z = mul(%h, %y)
output %z
)",
                        {{"T", 1}}, {"matmul_rmsnorm"}},
        EquivalenceCase{"matmul_rmsnorm_residual", matmul_rmsnorm("f32"), {{"T", 1}}, {"matmul_rmsnorm"}},
        EquivalenceCase{"matmul_rmsnorm_residual_f16", matmul_rmsnorm("f16"), {{"T", 1}}, {"matmul_rmsnorm"}, kF16},
        EquivalenceCase{"matmul_rmsnorm_residual_f16_weights", matmul_rmsnorm("f32", "f16"), {{"T", 1}},
                        {"matmul_rmsnorm"}},
        EquivalenceCase{"residual_rmsnorm_f16_gain", R"(symbol T <= 7
input %a : f32[T, 41]
input %b : f32[T, 41]
weight %g : f16[41]
%s = add(%a, %b)
%y = rmsnorm(%s, %g)
output %s, %y
)",
                        {{"T", 6}}, {"residual_rmsnorm"}},
        EquivalenceCase{"residual_rmsnorm_in_place", R"(symbol T <= 7
input %x : f32[T, 41]
input %b : f32[T, 41]
weight %g : f32[41]
%a = scale(%x) {scale = 3.0}
%s = add(%a, %b)
%y = rmsnorm(%s, %g)
%z = add(%s, %y)
output %z
)",
                        {{"T", 5}}, {"residual_rmsnorm"}},
        EquivalenceCase{"residual_layernorm_bias", R"(symbol T <= 9
input %a : f32[T, 23]
input %b : f32[T, 23]
weight %g : f32[23]
weight %beta : f32[23]
%s = add(%a, %b)
%y = layernorm(%s, %g, %beta) {eps = 1e-06}
output %s, %y
)",
                        {{"T", 9}}, {"residual_layernorm"}},
        EquivalenceCase{"residual_layernorm", R"(symbol T <= 9
input %a : f32[T, 23]
input %b : f32[T, 23]
weight %g : f32[23]
%s = add(%a, %b)
%y = layernorm(%s, %g)
output %y
)",
                        {{"T", 3}}, {"residual_layernorm"}},
        EquivalenceCase{"matmul_qkv", R"(symbol T <= 11
input %x : f32[T, 37]
weight %wq : f32[45, 37]
weight %wk : f32[15, 37]
weight %wv : f32[15, 37]
%q = matmul(%x, %wq) {transpose_b = true}
%k = matmul(%x, %wk) {transpose_b = true}
%v = matmul(%x, %wv) {transpose_b = true}
output %q, %k, %v
)",
                        {{"T", 7}}, {"matmul_qkv"}},
        EquivalenceCase{"matmul_qkv_bias", R"(symbol T <= 11
input %x : f32[T, 37]
weight %wq : f32[37, 45]
weight %wk : f32[37, 15]
weight %wv : f32[37, 15]
weight %bq : f32[45]
weight %bk : f32[15]
weight %bv : f32[15]
%q = matmul(%x, %wq, %bq)
%k = matmul(%x, %wk, %bk)
%v = matmul(%x, %wv, %bv)
output %q, %k, %v
)",
                        {{"T", 11}}, {"matmul_qkv"}},
        EquivalenceCase{"llama_block_decode", "file:llama_block_decode.kir", {{"T", 1}, {"P", 5}},
                        {"residual_rmsnorm", "matmul_qkv", "matmul_rmsnorm", "fused_ffn"}},
        EquivalenceCase{"llama_block_prefill", "file:llama_block_prefill.kir", {{"T", 7}, {"P", 3}},
                        {"residual_rmsnorm", "matmul_qkv", "fused_gate_up"}}),
    [](const testing::TestParamInfo<EquivalenceCase>& info) { return info.param.name; });

}  // namespace
}  // namespace kiln::passes
