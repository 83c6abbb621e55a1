#include "kernels/cpu/constants.h"

namespace kiln::kernels::cpu {

int64_t int_constant(const KernelArgs& args, const std::string& name) {
  return std::get<int64_t>(args.dispatch.constants.at(name));
}

double real_constant(const KernelArgs& args, const std::string& name) {
  return std::get<double>(args.dispatch.constants.at(name));
}

bool bool_constant(const KernelArgs& args, const std::string& name) {
  return std::get<bool>(args.dispatch.constants.at(name));
}

const std::string& string_constant(const KernelArgs& args, const std::string& name) {
  return std::get<std::string>(args.dispatch.constants.at(name));
}

const std::vector<int64_t>& ints_constant(const KernelArgs& args, const std::string& name) {
  return std::get<std::vector<int64_t>>(args.dispatch.constants.at(name));
}

}  // namespace kiln::kernels::cpu
