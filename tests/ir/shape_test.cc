#include <cmath>

#include "gtest/gtest.h"
#include "ir/dtype.h"
#include "ir/shape.h"

namespace kiln::ir {
namespace {

TEST(ShapeTest, SymbolicSizesEvaluateFromStepValues) {
  TensorType type{DType::f16, {Dim::symbol("T"), Dim(64)}};
  EXPECT_EQ(*byte_size(type, {{"T", 3}}), 3 * 64 * 2);
  EXPECT_FALSE(byte_size(type, {}).ok());
}

TEST(ShapeTest, ElementCountComparesSymbolsAsFactors) {
  EXPECT_TRUE(same_element_count({Dim::symbol("T"), Dim(64)}, {Dim::symbol("T"), Dim(4), Dim(16)}));
  EXPECT_FALSE(same_element_count({Dim::symbol("T"), Dim(64)}, {Dim::symbol("P"), Dim(64)}));
}

TEST(DTypeTest, HalfConversionsMatchHandComputedBits) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(1e6f), 0x7c00);
  EXPECT_EQ(f32_to_f16(5.960464477539063e-08f), 0x0001);  // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x0001), 5.960464477539063e-08f);
  EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7e00)));
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x4049), 3.140625f);
  for (uint32_t bits = 0; bits < 0x7c00; ++bits) {
    ASSERT_EQ(f32_to_f16(f16_to_f32(static_cast<uint16_t>(bits))), bits);
  }
}

}  // namespace
}  // namespace kiln::ir
