#include "ir/shape.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::ir {

Dim Dim::symbol(std::string name) {
  Dim dim;
  dim.symbol_ = std::move(name);
  return dim;
}

std::string Dim::to_string() const {
  return is_static() ? std::to_string(value_) : symbol_;
}

std::string shape_to_string(const Shape& shape) {
  return absl::StrCat(
      "[", absl::StrJoin(shape, ", ", [](std::string* out, const Dim& d) { out->append(d.to_string()); }),
      "]");
}

absl::StatusOr<int64_t> eval_dim(const Dim& dim, const SymbolValues& symbols) {
  if (dim.is_static()) return dim.value();
  auto it = symbols.find(dim.name());
  if (it == symbols.end()) {
    return absl::InvalidArgumentError(absl::StrCat("symbolic dim '", dim.name(), "' has no value"));
  }
  return it->second;
}

absl::StatusOr<int64_t> element_count(const Shape& shape, const SymbolValues& symbols) {
  int64_t count = 1;
  for (const Dim& dim : shape) {
    absl::StatusOr<int64_t> extent = eval_dim(dim, symbols);
    if (!extent.ok()) return extent.status();
    if (*extent < 0 || __builtin_mul_overflow(count, *extent, &count)) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", shape_to_string(shape), " has too many elements"));
    }
  }
  return count;
}

bool same_element_count(const Shape& a, const Shape& b) {
  auto split = [](const Shape& shape, int64_t& product, std::vector<std::string>& symbols) {
    product = 1;
    for (const Dim& dim : shape) {
      if (dim.is_static()) {
        product *= dim.value();
      } else {
        symbols.push_back(dim.name());
      }
    }
    std::sort(symbols.begin(), symbols.end());
  };
  int64_t product_a, product_b;
  std::vector<std::string> symbols_a, symbols_b;
  split(a, product_a, symbols_a);
  split(b, product_b, symbols_b);
  return product_a == product_b && symbols_a == symbols_b;
}

std::string TensorType::to_string() const {
  return absl::StrCat(std::string(dtype_name(dtype)), shape_to_string(shape));
}

absl::StatusOr<int64_t> byte_size(const TensorType& type, const SymbolValues& symbols) {
  absl::StatusOr<int64_t> count = element_count(type.shape, symbols);
  if (!count.ok()) return count.status();
  return dtype_bytes(type.dtype, *count);
}

}  // namespace kiln::ir
