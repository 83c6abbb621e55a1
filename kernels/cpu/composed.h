#pragma once

// Building blocks of the fused ops' reference kernels that run the primitive
// kernels they replace (kernels/cpu/fused_decode.cc, fused_embedding.cc):
// the intermediates the unfused graph would have stored, and a primitive
// kernel run as one step of the fused dispatch (it reads the dispatch's
// constants and parameters by the names they share).

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "kernels/cpu/kernel.h"

namespace kiln::kernels::cpu {

// An intermediate the unfused graph would have stored: its own bytes.
class Temporary {
 public:
  Temporary(program::DType dtype, std::vector<int64_t> shape) {
    view_.dtype = dtype;
    view_.shape = std::move(shape);
    bytes_.resize(program::dtype_bytes(dtype, view_.elements()));
    view_.data = bytes_.data();
  }
  // Moving keeps the bytes where view_ points; a copy would not.
  Temporary(const Temporary&) = delete;
  Temporary(Temporary&&) = default;
  const TensorView& view() const { return view_; }
  // The same bytes under another shape of as many elements (reshape).
  TensorView reshaped(std::vector<int64_t> shape) const {
    TensorView view = view_;
    view.shape = std::move(shape);
    return view;
  }

 private:
  std::vector<uint8_t> bytes_;
  TensorView view_;
};

// Runs `kernel` as one step of `args`' dispatch, over other operands.
inline absl::Status run_part(const KernelArgs& args, KernelFn kernel, std::vector<TensorView> inputs,
                             std::vector<TensorView> outputs) {
  const KernelArgs part{args.dispatch, inputs, outputs, args.step};
  return kernel(part);
}

}  // namespace kiln::kernels::cpu
