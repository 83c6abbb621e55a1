#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cpu/kernel.h"

namespace kiln::kernels::cpu {

// A dispatch's constants, typed. The plugin's compile step guarantees that
// every attribute of the op's schema is present with the schema's type
// (defaults filled in), so a kernel reads them without checks; a kernel
// called directly must be given the same.
int64_t int_constant(const KernelArgs& args, const std::string& name);
double real_constant(const KernelArgs& args, const std::string& name);
bool bool_constant(const KernelArgs& args, const std::string& name);
const std::string& string_constant(const KernelArgs& args, const std::string& name);
const std::vector<int64_t>& ints_constant(const KernelArgs& args, const std::string& name);

}  // namespace kiln::kernels::cpu
