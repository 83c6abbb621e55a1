#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "ir/dtype.h"
#include "ir/shape.h"
#include "passes/program.h"

namespace kiln::kernels::cpu {

// One tensor of a dispatch, resolved for this step: its bytes in the host
// arena, state or weight buffer, and its concrete shape (symbols evaluated).
struct TensorView {
  uint8_t* data = nullptr;
  ir::DType dtype = ir::DType::f32;
  std::vector<int64_t> shape;

  int64_t elements() const;
  int64_t dim(int64_t i) const { return shape[i < 0 ? shape.size() + i : i]; }
  // Element i converted to / from float, whatever the dtype.
  float load(int64_t i) const;
  void store(int64_t i, float value) const;
};

struct KernelArgs {
  const passes::Dispatch& dispatch;
  std::span<const TensorView> inputs;
  std::span<const TensorView> outputs;
  const ir::SymbolValues& step;  // this run's step symbol values (T, P, ...)

  int64_t step_value(const std::string& symbol, int64_t fallback = 0) const;
};

// A reference kernel: plain, obviously correct code. Accumulates in f32, or
// in f64 where a reduction needs it to stay the reference. Errors name the
// dispatch's node.
using KernelFn = absl::Status (*)(const KernelArgs& args);

struct KernelEntry {
  std::string_view kernel;  // Dispatch::kernel, i.e. the op name
  KernelFn run;
};

// Every op the cpu plugin runs: one row per op (kernel_table.cc).
std::span<const KernelEntry> kernel_table();
const KernelEntry* find_kernel(std::string_view kernel);

}  // namespace kiln::kernels::cpu
