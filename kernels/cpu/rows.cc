#include "kernels/cpu/rows.h"

#include <array>
#include <cstring>

namespace kiln::kernels::cpu {
namespace {

// Every f16 value as f32: a table lookup per element beats the bit-by-bit
// conversion several times over, and f16 weights are the common case.
const std::array<float, 65536>& f16_table() {
  static const std::array<float, 65536>* table = [] {
    auto* values = new std::array<float, 65536>;
    for (uint32_t bits = 0; bits < values->size(); ++bits) (*values)[bits] = program::f16_to_f32(static_cast<uint16_t>(bits));
    return values;
  }();
  return *table;
}

}  // namespace

int64_t row_length(const TensorView& view) { return view.shape.empty() ? 1 : view.shape.back(); }

int64_t row_count(const TensorView& view) {
  const int64_t length = row_length(view);
  return length == 0 ? 0 : view.elements() / length;
}

void load_floats(const TensorView& view, int64_t start, int64_t count, float* out) {
  switch (view.dtype) {
    case program::DType::f32:
      std::memcpy(out, view.data + 4 * start, 4 * count);
      return;
    case program::DType::f16: {
      const std::array<float, 65536>& table = f16_table();
      const uint8_t* bytes = view.data + 2 * start;
      for (int64_t i = 0; i < count; ++i) {
        uint16_t bits;
        std::memcpy(&bits, bytes + 2 * i, sizeof bits);
        out[i] = table[bits];
      }
      return;
    }
    default:
      for (int64_t i = 0; i < count; ++i) out[i] = view.load(start + i);
  }
}

}  // namespace kiln::kernels::cpu
