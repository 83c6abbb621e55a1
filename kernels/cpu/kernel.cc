#include "kernels/cpu/kernel.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace kiln::kernels::cpu {
namespace {

uint16_t load_u16(const uint8_t* data, int64_t i) {
  uint16_t bits;
  std::memcpy(&bits, data + 2 * i, sizeof bits);
  return bits;
}

void store_u16(uint8_t* data, int64_t i, uint16_t bits) { std::memcpy(data + 2 * i, &bits, sizeof bits); }

// Float to i32 as NumPy's astype rounds (toward zero), saturating instead of
// leaving out-of-range values undefined; NaN becomes 0.
int32_t to_i32(float value) {
  if (std::isnan(value)) return 0;
  if (value <= static_cast<float>(std::numeric_limits<int32_t>::min())) return std::numeric_limits<int32_t>::min();
  if (value >= static_cast<float>(std::numeric_limits<int32_t>::max())) return std::numeric_limits<int32_t>::max();
  return static_cast<int32_t>(value);
}

}  // namespace

int64_t TensorView::elements() const {
  int64_t count = 1;
  for (int64_t extent : shape) count *= extent;
  return count;
}

float TensorView::load(int64_t i) const {
  switch (dtype) {
    case program::DType::f32: {
      float value;
      std::memcpy(&value, data + 4 * i, sizeof value);
      return value;
    }
    case program::DType::f16:
      return program::f16_to_f32(load_u16(data, i));
    case program::DType::bf16:
      return program::bf16_to_f32(load_u16(data, i));
    case program::DType::i32: {
      int32_t value;
      std::memcpy(&value, data + 4 * i, sizeof value);
      return static_cast<float>(value);
    }
  }
  return 0.0f;
}

void TensorView::store(int64_t i, float value) const {
  switch (dtype) {
    case program::DType::f32:
      std::memcpy(data + 4 * i, &value, sizeof value);
      return;
    case program::DType::f16:
      store_u16(data, i, program::f32_to_f16(value));
      return;
    case program::DType::bf16:
      store_u16(data, i, program::f32_to_bf16(value));
      return;
    case program::DType::i32: {
      const int32_t converted = to_i32(value);
      std::memcpy(data + 4 * i, &converted, sizeof converted);
      return;
    }
  }
}

int64_t KernelArgs::param(std::string_view name) const {
  for (const program::StepParam& p : dispatch.step_params) {
    if (p.name == name) return step[p.slot];
  }
  const program::Constant* constant = dispatch.find_constant(name);
  return constant == nullptr ? 0 : constant->integer;
}

}  // namespace kiln::kernels::cpu
