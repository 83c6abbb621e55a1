#pragma once

#include <vector>

#include "passes/fusion_engine.h"

namespace kiln::passes {

// The built-in fusion tables, in the order `fuse` runs them
// (fusion_rules.cc; docs/fusion.md explains each rule).
std::vector<FusionTable> builtin_fusion_tables();

}  // namespace kiln::passes
