#include "kernels/cpu/checks.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::kernels::cpu {

absl::Status kernel_error(const KernelArgs& args, const std::string& message) {
  return absl::InvalidArgumentError(
      absl::StrCat("%", args.dispatch.node, " = ", args.dispatch.kernel, ": ", message));
}

absl::Status expect_arity(const KernelArgs& args, size_t min_inputs, size_t max_inputs, size_t outputs) {
  const size_t inputs = args.inputs.size();
  if (inputs < min_inputs || inputs > max_inputs) {
    const std::string expected = min_inputs == max_inputs ? absl::StrCat(min_inputs)
                                                          : absl::StrCat(min_inputs, " to ", max_inputs);
    return kernel_error(args, absl::StrCat("expected ", expected, " inputs, got ", inputs));
  }
  if (args.outputs.size() != outputs) {
    return kernel_error(args, absl::StrCat("expected ", outputs, " outputs, got ", args.outputs.size()));
  }
  return absl::OkStatus();
}

absl::Status expect_shape(const KernelArgs& args, const std::string& what, const TensorView& view,
                          const std::vector<int64_t>& expected) {
  if (view.shape == expected) return absl::OkStatus();
  return kernel_error(args, absl::StrCat(what, " has shape ", dims_string(view.shape), ", expected ",
                                         dims_string(expected)));
}

std::string dims_string(const std::vector<int64_t>& dims) { return absl::StrCat("[", absl::StrJoin(dims, ", "), "]"); }

}  // namespace kiln::kernels::cpu
