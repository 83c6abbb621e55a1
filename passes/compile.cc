#include "passes/compile.h"

#include "absl/strings/str_cat.h"

namespace kiln::passes {

absl::StatusOr<program::Program> compile(ir::Graph& graph, const CompileOptions& options) {
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline(options.pipeline, options.pass_options);
  if (!manager.ok()) return manager.status();
  PassContext context;
  context.target = options.target;
  context.explain = options.explain;
  context.force_variants = options.force_variants;
  if (absl::Status status = manager->run(graph, context); !status.ok()) return status;
  if (!context.program) {
    return absl::InvalidArgumentError(
        absl::StrCat("pipeline '", options.pipeline, "' emits no Program: it must end with 'schedule'"));
  }
  return *std::move(context.program);
}

}  // namespace kiln::passes
