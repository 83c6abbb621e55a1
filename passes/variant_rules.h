#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "passes/fusion_condition.h"
#include "passes/fusion_pattern.h"
#include "passes/target.h"

namespace kiln::passes {

// Kernel-variant selection uses the fusion rules' row shape and the same
// matcher (STYLE.md §6): name · pattern · conditions · variant · why. The
// pattern is usually one node with any operands ("y:matmul"), so the
// conditions can read its result (decode("y"), dtype_is("y", f16)) next to
// the target's capabilities (target_has_subgroups(), target_has_f16()).
struct VariantRule {
  std::string name = {};     // "vulkan.matmul.gemv_subgroup"
  std::string pattern = {};  // fusion_pattern.h
  std::vector<Condition> when = {};
  std::string variant = {};  // Dispatch::variant: the kernel file's suffix, "{op}_{variant}.comp"
  std::string why = {};
};

// One backend's rules, in priority order: the first that matches a
// dispatch's node wins.
struct VariantTable {
  std::string backend;  // Target::backend
  std::vector<VariantRule> rules;
};

struct CompiledVariantRule {
  VariantRule row;
  Pattern pattern;
};

struct CompiledVariantTable {
  std::string backend;
  std::vector<CompiledVariantRule> rules;
};

// Parses every pattern and checks that conditions read only names the
// pattern binds. Errors name the backend and the rule.
absl::StatusOr<CompiledVariantTable> compile_variant_table(const VariantTable& table);

// The variant `table` gives the kernel that runs `node`. When no rule
// matches, the error lists each rule's refusal.
absl::StatusOr<const CompiledVariantRule*> select_variant(const CompiledVariantTable& table, const ir::Graph& graph,
                                                          ir::Node& node, const Target& target);

// The built-in tables, one per backend. Each backend owns its table in its
// kernel folder (kernels/<backend>/variant_rules.cc), compiled into this
// library so the compiler targets a backend whose plugin is not loaded.
std::vector<VariantTable> builtin_variant_tables();
VariantTable cpu_variant_table();

// Whether `target`'s table has a kernel for `op`: a row whose pattern's
// root is `op`, or any op ("*"). A fusion rule fires only where it does.
bool has_kernel(const Target& target, std::string_view op);

}  // namespace kiln::passes
