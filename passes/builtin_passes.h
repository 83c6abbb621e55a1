#pragma once

#include "passes/pass_manager.h"

namespace kiln::passes {

// One factory per built-in pass, each defined in the file named after its
// pass (`plan_memory.cc` defines plan_memory_pass(), which registers
// `plan-memory`).
PassInfo canonicalize_pass();
PassInfo cse_pass();
PassInfo dce_pass();
PassInfo fuse_pass();
PassInfo infer_shapes_pass();
PassInfo plan_memory_pass();
PassInfo schedule_pass();
PassInfo select_variants_pass();

// Adds every row of the built-in table to `registry`; PassRegistry's
// constructor calls it.
void register_builtin_passes(PassRegistry& registry);

}  // namespace kiln::passes
