#include "passes/variant_rules.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "kernels/opencl/variant_rules.h"
#include "kernels/vulkan/variant_rules.h"

namespace kiln::passes {

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

std::vector<VariantTable> builtin_variant_tables() {
  return {cpu_variant_table(), kernels::opencl::variant_table(), kernels::vulkan::variant_table()};
}

bool has_kernel(const Target& target, std::string_view op) {
  for (const VariantTable& table : builtin_variant_tables()) {
    if (table.backend != target.backend) continue;
    for (const VariantRule& rule : table.rules) {
      // The root's op: "y:matmul(...)", "y:add|mul", "y:*".
      const size_t colon = rule.pattern.find(':');
      const std::string root = rule.pattern.substr(colon + 1, rule.pattern.find('(') - colon - 1);
      for (absl::string_view alternative : absl::StrSplit(root, '|')) {
        if (alternative == "*" || alternative == absl::string_view(op.data(), op.size())) return true;
      }
    }
  }
  return false;
}

}  // namespace kiln::passes
