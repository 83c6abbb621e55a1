#include "kernels/cpu/constants.h"

namespace kiln::kernels::cpu {
namespace {

const program::Constant& constant(const KernelArgs& args, const std::string& name) {
  return *args.dispatch.find_constant(name);
}

}  // namespace

int64_t int_constant(const KernelArgs& args, const std::string& name) { return constant(args, name).integer; }

double real_constant(const KernelArgs& args, const std::string& name) { return constant(args, name).real; }

bool bool_constant(const KernelArgs& args, const std::string& name) { return constant(args, name).integer != 0; }

const std::string& enum_constant(const KernelArgs& args, const std::string& name) {
  return constant(args, name).symbol;
}

}  // namespace kiln::kernels::cpu
