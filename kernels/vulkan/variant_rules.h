#pragma once

#include "passes/variant_rules.h"

namespace kiln::kernels::vulkan {

// The Vulkan backend's variant table (variant_rules.cc): which
// kernels/vulkan/{op}_{variant}.comp runs each node.
passes::VariantTable variant_table();

}  // namespace kiln::kernels::vulkan
