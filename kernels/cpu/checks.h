#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "kernels/cpu/kernel.h"

namespace kiln::kernels::cpu {

// What a kernel checks before it indexes. The plugin's compile step has
// already placed every view inside its region for the symbols' bounds, so a
// kernel that checks its operands' shapes against each other and stays
// within each view's elements() never touches memory it does not own, even
// for a hand-written Program.

// A kernel's failure, naming its dispatch as the IR prints the node:
// "%y = matmul: <message>".
absl::Status kernel_error(const KernelArgs& args, const std::string& message);

// Input count within [min_inputs, max_inputs] and exactly `outputs` outputs.
absl::Status expect_arity(const KernelArgs& args, size_t min_inputs, size_t max_inputs, size_t outputs);

// `view` (called `what` in the message: "output 0") has exactly `expected`.
absl::Status expect_shape(const KernelArgs& args, const std::string& what, const TensorView& view,
                          const std::vector<int64_t>& expected);

// "[2, 3, 4]", for messages.
std::string dims_string(const std::vector<int64_t>& dims);

}  // namespace kiln::kernels::cpu
