#include "passes/variant_rules.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::passes {
namespace {

// cpu: every op and fused op has one plain reference kernel (kernels/cpu).
// A faster CPU kernel, if one is written, becomes a row above this one.
//
// The vulkan and opencl tables join builtin_variant_tables() with their
// plugins. Their rows key gemv vs tiled matmul on decode("y"), subgroup vs
// not on target_has_subgroups(), and f16 vs f32 on dtype_is("y", f16) with
// target_has_f16(); specific rows first, a catch-all "y:*" row last.
VariantTable cpu_table() {
  return {"cpu",
          {
              {.name = "cpu.reference", .pattern = "y:*", .when = {}, .variant = "reference",
               .why = "the cpu plugin runs one plain reference kernel per op"},
          }};
}

}  // namespace

absl::StatusOr<CompiledVariantTable> compile_variant_table(const VariantTable& table) {
  CompiledVariantTable compiled{table.backend, {}};
  for (const VariantRule& row : table.rules) {
    auto fail = [&](const absl::Status& status) {
      return absl::InvalidArgumentError(
          absl::StrCat("variant table ", table.backend, ", rule ", row.name, ": ", status.message()));
    };
    absl::StatusOr<Pattern> pattern = Pattern::parse(row.pattern);
    if (!pattern.ok()) return fail(pattern.status());
    for (const Condition& condition : row.when) {
      for (const std::string& name : condition.names) {
        if (!pattern->binds(name)) {
          return fail(absl::InvalidArgumentError(
              absl::StrCat("condition '", condition.text, "' reads '", name, "', which the pattern does not bind")));
        }
      }
    }
    compiled.rules.push_back({row, *std::move(pattern)});
  }
  return compiled;
}

absl::StatusOr<const CompiledVariantRule*> select_variant(const CompiledVariantTable& table, const ir::Graph& graph,
                                                          ir::Node& node, const Target& target) {
  std::vector<std::string> refusals;
  for (const CompiledVariantRule& rule : table.rules) {
    const RuleVerdict verdict = evaluate_rule(rule.pattern, rule.row.when, graph, node, target, nullptr);
    if (verdict.match) return &rule;
    refusals.push_back(absl::StrCat(rule.row.name, ": ", verdict.refusal));
  }
  return absl::NotFoundError(absl::StrCat(node.label(), ": no ", table.backend, " kernel variant: ",
                                          absl::StrJoin(refusals, "; ")));
}

std::vector<VariantTable> builtin_variant_tables() { return {cpu_table()}; }

}  // namespace kiln::passes
