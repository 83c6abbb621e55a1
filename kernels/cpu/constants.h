#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cpu/kernel.h"

namespace kiln::kernels::cpu {

// A dispatch's constants, typed. The compiler emits every attribute of the
// op's schema with its type (defaults filled in) and the plugin checks each
// constant a kernel reads at compile time (kernel_table.cc lists them), so
// a kernel reads them without checks.
int64_t int_constant(const KernelArgs& args, const std::string& name);
double real_constant(const KernelArgs& args, const std::string& name);
bool bool_constant(const KernelArgs& args, const std::string& name);
// An enumeration's name ("tanh").
const std::string& enum_constant(const KernelArgs& args, const std::string& name);

}  // namespace kiln::kernels::cpu
