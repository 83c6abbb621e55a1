// select-variants: after schedule, fills each Dispatch::variant of
// PassContext::program from the target backend's variant table
// (variant_rules.cc), or from PassContext::force_variants for the ops it
// names. The graph is unchanged; it is read to match each dispatch's node,
// found by the dispatch's first result name.

#include <ostream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "passes/builtin_passes.h"
#include "passes/variant_rules.h"

namespace kiln::passes {
namespace {

absl::StatusOr<CompiledVariantTable> table_for(const std::string& backend) {
  std::vector<std::string> known;
  for (const VariantTable& table : builtin_variant_tables()) {
    if (table.backend == backend) return compile_variant_table(table);
    known.push_back(table.backend);
  }
  return absl::NotFoundError(absl::StrCat("backend '", backend, "' has no kernel variant table; known: ",
                                          absl::StrJoin(known, ", ")));
}

// A forced op that no dispatch runs is most likely a misspelt name: say so
// rather than compile as if nothing had been asked.
absl::Status check_forced_ops(const program::Program& program, const std::map<std::string, std::string>& forced) {
  std::set<std::string> kernels;
  for (const program::Dispatch& dispatch : program.dispatches) kernels.insert(dispatch.kernel);
  for (const auto& [op, variant] : forced) {
    if (kernels.contains(op)) continue;
    return absl::InvalidArgumentError(absl::StrCat("forced variant ", op, "=", variant, ": no dispatch runs ", op,
                                                   "; the Program runs ", absl::StrJoin(kernels, ", ")));
  }
  return absl::OkStatus();
}

absl::Status select_variants(ir::Graph& graph, PassContext& context) {
  if (!context.program) return absl::FailedPreconditionError("no Program: run schedule before select-variants");
  absl::StatusOr<CompiledVariantTable> table = table_for(context.target.backend);
  if (!table.ok()) return table.status();
  for (program::Dispatch& dispatch : context.program->dispatches) {
    ir::Value* value = graph.find_value(dispatch.node);
    if (value == nullptr || value->producer() == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("dispatch ", dispatch.kernel, " for %", dispatch.node,
                                                        ": no such node; run select-variants right after schedule"));
    }
    if (auto forced = context.force_variants.find(dispatch.kernel); forced != context.force_variants.end()) {
      dispatch.variant = forced->second;
      if (context.explain != nullptr) {
        *context.explain << "select-variants: " << value->producer()->label() << ": " << dispatch.variant
                         << " (forced)\n";
      }
      continue;
    }
    absl::StatusOr<const CompiledVariantRule*> rule = select_variant(*table, graph, *value->producer(), context.target);
    if (!rule.ok()) return rule.status();
    dispatch.variant = (*rule)->row.variant;
    if (context.explain != nullptr) {
      *context.explain << "select-variants: " << value->producer()->label() << ": " << dispatch.variant << " ("
                       << (*rule)->row.name << ": " << (*rule)->row.why << ")\n";
    }
  }
  return check_forced_ops(*context.program, context.force_variants);
}

}  // namespace

PassInfo select_variants_pass() {
  return {"select-variants", "fills each dispatch's kernel variant from the backend's first-match variant table",
          select_variants};
}

}  // namespace kiln::passes
