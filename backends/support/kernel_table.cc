#include "backends/support/kernel_table.h"

#include "absl/strings/str_cat.h"

namespace kiln::backends::support {

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
