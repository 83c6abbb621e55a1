#include "passes/builtin_passes.h"

namespace kiln::passes {
namespace {

using PassFactory = PassInfo (*)();

// One row per built-in pass. A new pass adds its factory to
// builtin_passes.h and a row here; order is only the order of `kiln opt
// --help` (pipelines name passes explicitly).
constexpr PassFactory kBuiltinPasses[] = {
    infer_shapes_pass, canonicalize_pass, cse_pass,      dce_pass,
    fuse_pass,         plan_memory_pass,  schedule_pass, select_variants_pass,
};

}  // namespace

void register_builtin_passes(PassRegistry& registry) {
  for (PassFactory factory : kBuiltinPasses) {
    absl::Status status = registry.add(factory());
    (void)status;  // the built-in names are unique
  }
}

}  // namespace kiln::passes
