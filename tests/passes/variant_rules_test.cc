#include "passes/variant_rules.h"

#include "gtest/gtest.h"
#include "ir/text.h"
#include "passes/pass_manager.h"

namespace kiln::passes {
namespace {

ir::Graph parse(std::string_view text) {
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(text);
  EXPECT_TRUE(graph.ok()) << graph.status();
  return *std::move(graph);
}

// The shape of a GPU backend's matmul rows: gemv for one row, with or
// without subgroups; tiled f16 where the target has f16; tiled f32 else.
VariantTable gpu_like_table() {
  return {"gpu",
          {
              {.name = "gemv_subgroup", .pattern = "y:matmul", .when = {decode("y"), target_has_subgroups()},
               .variant = "gemv_subgroup", .why = "one row: a subgroup reduces each dot product"},
              {.name = "gemv", .pattern = "y:matmul", .when = {decode("y")}, .variant = "gemv",
               .why = "one row: a workgroup reduces each dot product"},
              {.name = "tiled_f16", .pattern = "y:matmul", .when = {dtype_is("y", ir::DType::f16), target_has_f16()},
               .variant = "tiled_f16", .why = "f16 tiles"},
              {.name = "tiled", .pattern = "y:matmul", .when = {}, .variant = "tiled", .why = "f32 tiles"},
          }};
}

std::string variant_of(const std::string& rows, const std::string& dtype, const Target& target) {
  ir::Graph graph = parse(absl::StrCat("symbol T <= 64\ninput %x : ", dtype, "[", rows, ", 8]\nweight %w : ", dtype,
                                       "[8, 8]\n%y = matmul(%x, %w)\noutput %y\n"));
  absl::StatusOr<CompiledVariantTable> table = compile_variant_table(gpu_like_table());
  EXPECT_TRUE(table.ok()) << table.status();
  absl::StatusOr<const CompiledVariantRule*> rule =
      select_variant(*table, graph, *graph.find_value("y")->producer(), target);
  EXPECT_TRUE(rule.ok()) << rule.status();
  return rule.ok() ? (*rule)->row.variant : "";
}

TEST(VariantRulesTest, FirstMatchingRowPicksTheVariant) {
  const Target subgroups{.backend = "gpu", .has_f16 = true, .subgroup_size = 32};
  const Target plain{.backend = "gpu"};
  EXPECT_EQ(variant_of("1", "f32", subgroups), "gemv_subgroup");
  EXPECT_EQ(variant_of("1", "f32", plain), "gemv");
  EXPECT_EQ(variant_of("T", "f16", subgroups), "tiled_f16");
  EXPECT_EQ(variant_of("T", "f16", plain), "tiled");
  EXPECT_EQ(variant_of("T", "f32", subgroups), "tiled");
}

TEST(VariantRulesTest, NoMatchingRowListsEachRefusal) {
  ir::Graph graph = parse("input %x : f32[4, 8]\n%y = relu(%x)\noutput %y\n");
  VariantTable table = gpu_like_table();
  table.rules.pop_back();
  absl::StatusOr<CompiledVariantTable> compiled = compile_variant_table(table);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  absl::StatusOr<const CompiledVariantRule*> rule =
      select_variant(*compiled, graph, *graph.find_value("y")->producer(), Target{});
  ASSERT_FALSE(rule.ok());
  EXPECT_EQ(rule.status().message(),
            "%y = relu: no gpu kernel variant: gemv_subgroup: %y = relu is not matmul; gemv: %y = relu is not matmul; "
            "tiled_f16: %y = relu is not matmul");
}

TEST(VariantRulesTest, ConditionsMayReadOnlyWhatThePatternBinds) {
  absl::StatusOr<CompiledVariantTable> table =
      compile_variant_table({"gpu", {{.name = "bad", .pattern = "y:matmul", .when = {decode("x")}, .variant = "v"}}});
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().message(),
            "variant table gpu, rule bad: condition 'rows(x) == 1' reads 'x', which the pattern does not bind");
}

TEST(VariantRulesTest, BuiltinTablesCompile) {
  for (const VariantTable& table : builtin_variant_tables()) {
    absl::StatusOr<CompiledVariantTable> compiled = compile_variant_table(table);
    EXPECT_TRUE(compiled.ok()) << compiled.status();
  }
}

// has_kernel reads the target backend's own table: a row rooted at the op,
// at an alternation naming it ("y:rmsnorm|layernorm|residual_rmsnorm"), or
// at any op ("y:*").
TEST(VariantRulesTest, HasKernelReadsTheTargetsTable) {
  Target cpu;
  EXPECT_TRUE(has_kernel(cpu, "fused_ffn"));  // the cpu table's catch-all row
  EXPECT_TRUE(has_kernel(cpu, "matmul"));
  Target opencl;
  opencl.backend = "opencl";
  EXPECT_TRUE(has_kernel(opencl, "matmul"));
  EXPECT_TRUE(has_kernel(opencl, "fused_gate_up"));
  EXPECT_TRUE(has_kernel(opencl, "residual_rmsnorm"));  // one op of an alternation
  EXPECT_TRUE(has_kernel(opencl, "slice"));
  EXPECT_FALSE(has_kernel(opencl, "fused_ffn"));
  EXPECT_FALSE(has_kernel(opencl, "matmul_rmsnorm"));
  Target unknown;
  unknown.backend = "metal";
  EXPECT_FALSE(has_kernel(unknown, "add"));
}

TEST(SelectVariantsPassTest, CpuDispatchesRunTheirTablesVariants) {
  ir::Graph graph = parse(R"(symbol T <= 1
input %x : f32[T, 8]
weight %w : f32[8, 8]
weight %g : f32[8]
%h = matmul(%x, %w)
%y = rmsnorm(%h, %g)
%r = reshape(%y) {shape = [T, 2, 4]}
output %r
)");
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline("fuse,plan-memory,schedule,select-variants");
  ASSERT_TRUE(manager.ok()) << manager.status();
  PassContext context;
  absl::Status status = manager->run(graph, context);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(context.program->dispatches.size(), 1u);
  EXPECT_EQ(context.program->dispatches[0].kernel, "matmul_rmsnorm");
  EXPECT_EQ(context.program->dispatches[0].variant, "vector");  // cpu.fused.vector
}

TEST(SelectVariantsPassTest, RefusesABackendWithoutATable) {
  ir::Graph graph = parse("input %x : f32[4]\n%y = relu(%x)\noutput %y\n");
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline("plan-memory,schedule,select-variants");
  ASSERT_TRUE(manager.ok());
  PassContext context;
  context.target.backend = "metal";
  absl::Status status = manager->run(graph, context);
  EXPECT_EQ(status.message(), "select-variants: backend 'metal' has no kernel variant table; known: cpu, opencl, vulkan");
}

TEST(SelectVariantsPassTest, NeedsAProgram) {
  ir::Graph graph = parse("input %x : f32[4]\n%y = relu(%x)\noutput %y\n");
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline("select-variants");
  ASSERT_TRUE(manager.ok());
  PassContext context;
  EXPECT_EQ(manager->run(graph, context).message(),
            "select-variants: no Program: run schedule before select-variants");
}

}  // namespace
}  // namespace kiln::passes
