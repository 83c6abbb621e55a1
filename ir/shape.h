#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/dtype.h"

namespace kiln::ir {

// A dimension is either a static extent or a named symbol (`T` tokens in this
// step, `P` past length) whose upper bound is declared on the graph. Symbols
// stay symbolic through every pass; backends evaluate them from the step
// uniforms at run time.
class Dim {
 public:
  Dim(int64_t value = 0) : value_(value) {}  // NOLINT: a static dim reads as its value
  static Dim symbol(std::string name);

  bool is_static() const { return symbol_.empty(); }
  int64_t value() const { return value_; }  // meaningful only when static
  const std::string& name() const { return symbol_; }
  std::string to_string() const;

  bool operator==(const Dim& other) const = default;

 private:
  int64_t value_ = 0;
  std::string symbol_;
};

using Shape = std::vector<Dim>;

// Symbol name -> value: the declared upper bounds at compile time, or one
// step's uniforms at run time.
using SymbolValues = std::map<std::string, int64_t>;

std::string shape_to_string(const Shape& shape);

// Evaluates `dim` under `symbols`; an unknown symbol is an error naming it.
absl::StatusOr<int64_t> eval_dim(const Dim& dim, const SymbolValues& symbols);
absl::StatusOr<int64_t> element_count(const Shape& shape, const SymbolValues& symbols);

// Two shapes hold the same number of elements for every symbol value: equal
// static products and equal multisets of symbols.
bool same_element_count(const Shape& a, const Shape& b);

struct TensorType {
  DType dtype = DType::f32;
  Shape shape;

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  std::string to_string() const;  // f32[T, 64]
  bool operator==(const TensorType& other) const = default;
};

// Bytes of `type` under `symbols` (bounds or step values).
absl::StatusOr<int64_t> byte_size(const TensorType& type, const SymbolValues& symbols);

}  // namespace kiln::ir
