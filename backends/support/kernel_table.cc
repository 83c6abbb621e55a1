#include "backends/support/kernel_table.h"

#include "absl/strings/str_cat.h"

namespace kiln::backends::support {

int64_t rope_pair_count(const program::Dispatch& dispatch) {
  const auto constant = [&](std::string_view name) -> int64_t {
    const program::Constant* value = dispatch.find_constant(name);
    return value == nullptr ? 0 : value->integer;
  };
  const int64_t head_dim = constant("head_dim"), rotary = constant("rotary_dim");
  if (head_dim <= 0) return 0;
  const int64_t heads = (constant("nq") + constant("nk") + constant("nv")) / head_dim;
  return heads * (rotary / 2 + (head_dim - rotary + 1) / 2);
}

std::string dispatch_label(const program::Program& program, size_t index) {
  const program::Dispatch& d = program.dispatches[index];
  return absl::StrCat("dispatches[", index, "] (%", d.node, " = ", d.kernel, ".", d.variant, ")");
}

absl::Status missing_kernel(const program::Program& program, size_t index, std::string_view backend) {
  const program::Dispatch& d = program.dispatches[index];
  return absl::UnimplementedError(absl::StrCat(dispatch_label(program, index), ": the ", std::string(backend),
                                               " backend has no kernel '", d.kernel, "' with variant '", d.variant,
                                               "'"));
}

}  // namespace kiln::backends::support
