#pragma once

#include "passes/variant_rules.h"

namespace kiln::kernels::opencl {

// The OpenCL backend's variant table: which kernel file runs which node,
// from the node's shapes and the device's capabilities (variant_rules.cc).
passes::VariantTable variant_table();

}  // namespace kiln::kernels::opencl
