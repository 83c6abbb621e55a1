#include "frontend/ggml_type.h"

#include <algorithm>
#include <array>
#include <string>

#include "absl/strings/str_cat.h"
#include "frontend/checked_math.h"
#include "frontend/tensor_data.h"

namespace kiln::frontend {
namespace {

// From ggml's type_traits table. Sizes are kept for every type, not only the
// ones kiln reads, so that a file's layout can be checked in full.
constexpr auto kGgmlTypes = std::to_array<GgmlType>({
    {0, "f32", 1, 4, ir::DType::f32},       {1, "f16", 1, 2, ir::DType::f16},
    {2, "q4_0", 32, 18, std::nullopt},      {3, "q4_1", 32, 20, std::nullopt},
    {6, "q5_0", 32, 22, std::nullopt},      {7, "q5_1", 32, 24, std::nullopt},
    {8, "q8_0", 32, 34, std::nullopt},      {9, "q8_1", 32, 36, std::nullopt},
    {10, "q2_K", 256, 84, std::nullopt},    {11, "q3_K", 256, 110, std::nullopt},
    {12, "q4_K", 256, 144, std::nullopt},   {13, "q5_K", 256, 176, std::nullopt},
    {14, "q6_K", 256, 210, std::nullopt},   {15, "q8_K", 256, 292, std::nullopt},
    {16, "iq2_xxs", 256, 66, std::nullopt}, {17, "iq2_xs", 256, 74, std::nullopt},
    {18, "iq3_xxs", 256, 98, std::nullopt}, {19, "iq1_s", 256, 50, std::nullopt},
    {20, "iq4_nl", 32, 18, std::nullopt},   {21, "iq3_s", 256, 110, std::nullopt},
    {22, "iq2_s", 256, 82, std::nullopt},   {23, "iq4_xs", 256, 136, std::nullopt},
    {24, "i8", 1, 1, std::nullopt},         {25, "i16", 1, 2, std::nullopt},
    {26, "i32", 1, 4, ir::DType::i32},      {27, "i64", 1, 8, std::nullopt},
    {28, "f64", 1, 8, std::nullopt},        {29, "iq1_m", 256, 56, std::nullopt},
    {30, "bf16", 1, 2, ir::DType::bf16},    {34, "tq1_0", 256, 54, std::nullopt},
    {35, "tq2_0", 256, 66, std::nullopt},   {39, "mxfp4", 32, 17, std::nullopt},
});

}  // namespace

const GgmlType* find_ggml_type(uint32_t id) {
  const auto it = std::ranges::find(kGgmlTypes, id, &GgmlType::id);
  return it == kGgmlTypes.end() ? nullptr : &*it;
}

const GgmlType* ggml_type_of(ir::DType dtype) {
  const auto it = std::ranges::find(kGgmlTypes, std::optional(dtype), &GgmlType::dtype);
  return it == kGgmlTypes.end() ? nullptr : &*it;
}

absl::StatusOr<uint64_t> ggml_tensor_bytes(const GgmlType& type, std::span<const int64_t> shape) {
  const std::optional<int64_t> elements = element_count(shape);
  if (!elements) {
    return absl::InvalidArgumentError(
        absl::StrCat("shape ", shape_string(shape), " overflows int64"));
  }
  const int64_t row = shape.empty() ? 1 : shape.back();
  if (row % type.block_elements != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("innermost dim ", row, " is not a whole number of ", std::string(type.name),
                     " blocks (", type.block_elements, " elements)"));
  }
  const std::optional<uint64_t> bytes = checked_mul(
      static_cast<uint64_t>(*elements / type.block_elements), uint64_t{type.block_bytes});
  if (!bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("shape ", shape_string(shape), " of ", std::string(type.name), " overflows"));
  }
  return *bytes;
}

}  // namespace kiln::frontend
