#pragma once

#include <concepts>
#include <cstdint>
#include <optional>

// Overflow-checked arithmetic for sizes and offsets read from files: a file
// can claim any value, so every sum and product of such values goes through
// these and an overflow becomes an error instead of a wrapped size.

namespace kiln::frontend {

template <std::unsigned_integral T>
std::optional<T> checked_add(T a, T b) {
  T sum;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

template <std::unsigned_integral T>
std::optional<T> checked_mul(T a, T b) {
  T product;
  if (__builtin_mul_overflow(a, b, &product)) return std::nullopt;
  return product;
}

// Rounds `value` up to a multiple of `alignment`, a power of two.
inline std::optional<uint64_t> align_up(uint64_t value, uint64_t alignment) {
  const std::optional<uint64_t> bumped = checked_add(value, alignment - 1);
  if (!bumped) return std::nullopt;
  return *bumped & ~(alignment - 1);
}

}  // namespace kiln::frontend
