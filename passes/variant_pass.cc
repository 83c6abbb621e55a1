// select-variants: after schedule, fills each Dispatch::variant of
// PassContext::program from the target backend's variant table
// (variant_rules.cc). The graph is unchanged; it is read to match each
// dispatch's node, found by the dispatch's first result name.

#include <ostream>

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
    absl::StatusOr<const CompiledVariantRule*> rule = select_variant(*table, graph, *value->producer(), context.target);
    if (!rule.ok()) return rule.status();
    dispatch.variant = (*rule)->row.variant;
    if (context.explain != nullptr) {
      *context.explain << "select-variants: " << value->producer()->label() << ": " << dispatch.variant << " ("
                       << (*rule)->row.name << ": " << (*rule)->row.why << ")\n";
    }
  }
  return absl::OkStatus();
}

}  // namespace

PassInfo select_variants_pass() {
  return {"select-variants", "fills each dispatch's kernel variant from the backend's first-match variant table",
          select_variants};
}

}  // namespace kiln::passes
