// The typed metadata accessors of GgufFile, and GgufValue's conversions.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "frontend/gguf.h"
#include "frontend/gguf_value.h"
#include "frontend/gguf_writer.h"
#include "frontend/mapped_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/frontend/status_matchers.h"

namespace kiln::frontend {
namespace {

using ::kiln::testing::IsOk;
using ::kiln::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

class GgufMetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GgufWriter writer;
    writer.set("u8", GgufValue::u8(200));
    writer.set("u16", GgufValue::u16(60000));
    writer.set("u32", GgufValue::u32(4000000000));
    writer.set("u64", GgufValue::u64(uint64_t{1} << 63));
    writer.set("i8", GgufValue::i8(-100));
    writer.set("i16", GgufValue::i16(30000));
    writer.set("i32", GgufValue::i32(-3));
    writer.set("i64", GgufValue::i64(std::numeric_limits<int64_t>::min()));
    writer.set("f32", GgufValue::f32(0.25f));
    writer.set("f64", GgufValue::f64(1e300));
    writer.set("bool", GgufValue::boolean(true));
    writer.set("string", GgufValue::string("hello"));
    writer.set("strings", GgufValue::string_array({"a", "", "ccc"}));
    writer.set("f32s", GgufValue::f32_array({1.5f, -2.0f}));
    writer.set("i32s", GgufValue::i32_array({-1, 7}));
    writer.set("u8s", GgufValue::array(GgufType::u8, {GgufValue::u8(1), GgufValue::u8(255)}));
    writer.set("f64s",
               GgufValue::array(GgufType::f64, {GgufValue::f64(0.5), GgufValue::f64(1e300)}));
    writer.set("u32s",
               GgufValue::array(GgufType::u32, {GgufValue::u32(1), GgufValue::u32(3000000000)}));
    absl::StatusOr<std::vector<uint8_t>> bytes = writer.serialize();
    ASSERT_THAT(bytes, IsOk());
    absl::StatusOr<GgufFile> file =
        GgufFile::from_file(MappedFile::from_bytes("m.gguf", *std::move(bytes)));
    ASSERT_THAT(file, IsOk());
    file_.emplace(*std::move(file));
  }

  const GgufFile& file() const { return *file_; }

 private:
  std::optional<GgufFile> file_;
};

TEST_F(GgufMetadataTest, FindReturnsTheStoredValueOrNull) {
  const GgufValue* value = file().find("u16");
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(value->type(), GgufType::u16);
  EXPECT_EQ(file().find("absent"), nullptr);
}

TEST_F(GgufMetadataTest, MissingKeyIsNotFound) {
  EXPECT_THAT(file().get_u64("llama.block_count"),
              StatusIs(absl::StatusCode::kNotFound, "m.gguf: no metadata key 'llama.block_count'"));
  EXPECT_THAT(file().get_string_array("tokens"),
              StatusIs(absl::StatusCode::kNotFound, "m.gguf: no metadata key 'tokens'"));
}

TEST_F(GgufMetadataTest, GetU64AcceptsEveryIntegerWidthThatFits) {
  EXPECT_EQ(*file().get_u64("u8"), 200u);
  EXPECT_EQ(*file().get_u64("u16"), 60000u);
  EXPECT_EQ(*file().get_u64("u32"), 4000000000u);
  EXPECT_EQ(*file().get_u64("u64"), uint64_t{1} << 63);
  EXPECT_EQ(*file().get_u64("i16"), 30000u);
  EXPECT_THAT(file().get_u64("i32"), StatusIs(kInvalid,
                                              "m.gguf: metadata key 'i32' holds i32 -3, expected a "
                                              "non-negative integer"));
  EXPECT_THAT(file().get_u64("f32"),
              StatusIs(kInvalid,
                       "m.gguf: metadata key 'f32' holds f32 0.25, expected a "
                       "non-negative integer"));
}

TEST_F(GgufMetadataTest, GetI64AcceptsEveryIntegerWidthThatFits) {
  EXPECT_EQ(*file().get_i64("i8"), -100);
  EXPECT_EQ(*file().get_i64("i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(*file().get_i64("u32"), 4000000000);
  EXPECT_THAT(file().get_i64("u64"),
              StatusIs(kInvalid,
                       "m.gguf: metadata key 'u64' holds u64 9223372036854775808, "
                       "expected an integer below 2^63"));
}

TEST_F(GgufMetadataTest, GetF64AcceptsFloatsAndIntegers) {
  EXPECT_EQ(*file().get_f64("f32"), 0.25);
  EXPECT_EQ(*file().get_f64("f64"), 1e300);
  EXPECT_EQ(*file().get_f64("i32"), -3.0);
  EXPECT_THAT(file().get_f64("string"),
              StatusIs(kInvalid,
                       "m.gguf: metadata key 'string' holds a string, expected a "
                       "number"));
}

TEST_F(GgufMetadataTest, GetBoolAndGetStringWantTheirOwnType) {
  EXPECT_EQ(*file().get_bool("bool"), true);
  EXPECT_EQ(*file().get_string("string"), "hello");
  EXPECT_THAT(file().get_bool("u8"),
              StatusIs(kInvalid, "m.gguf: metadata key 'u8' holds u8 200, expected a bool"));
  EXPECT_THAT(file().get_string("strings"),
              StatusIs(kInvalid,
                       "m.gguf: metadata key 'strings' holds an array of 3 string, "
                       "expected a string"));
}

TEST_F(GgufMetadataTest, GetStringArray) {
  EXPECT_THAT(*file().get_string_array("strings"), ElementsAre("a", "", "ccc"));
  EXPECT_THAT(file().get_string_array("u8s"),
              StatusIs(kInvalid,
                       "m.gguf: metadata key 'u8s': element 0 holds u8 1, expected a "
                       "string"));
  EXPECT_THAT(file().get_string_array("string"),
              StatusIs(kInvalid,
                       "m.gguf: metadata key 'string' holds a string, expected an "
                       "array of strings"));
}

TEST_F(GgufMetadataTest, GetF32ArrayConvertsNumbersWithinRange) {
  EXPECT_THAT(*file().get_f32_array("f32s"), ElementsAre(1.5f, -2.0f));
  EXPECT_THAT(*file().get_f32_array("i32s"), ElementsAre(-1.0f, 7.0f));
  EXPECT_THAT(file().get_f32_array("f64s"),
              StatusIs(kInvalid,
                       "m.gguf: metadata key 'f64s': element 1 holds f64 1e+300, "
                       "expected a number within f32 range"));
}

TEST_F(GgufMetadataTest, GetI32ArrayConvertsIntegersWithinRange) {
  EXPECT_THAT(*file().get_i32_array("i32s"), ElementsAre(-1, 7));
  EXPECT_THAT(*file().get_i32_array("u8s"), ElementsAre(1, 255));
  EXPECT_THAT(file().get_i32_array("u32s"),
              StatusIs(kInvalid,
                       "m.gguf: metadata key 'u32s': element 1 holds u32 3000000000, "
                       "expected an integer within i32 range"));
  EXPECT_THAT(file().get_i32_array("f32s"),
              StatusIs(kInvalid, HasSubstr("element 0 holds f32 1.5")));
}

TEST(GgufValueTest, DescribesEachKind) {
  EXPECT_EQ(GgufValue::i16(-5).describe(), "i16 -5");
  EXPECT_EQ(GgufValue::boolean(false).describe(), "bool false");
  EXPECT_EQ(GgufValue::f64(0.5).describe(), "f64 0.5");
  EXPECT_EQ(GgufValue::string("x").describe(), "a string");
  EXPECT_EQ(GgufValue::array(GgufType::array, {}).describe(), "an array of 0 array");
}

TEST(GgufValueTest, ConversionsRespectRanges) {
  EXPECT_EQ(GgufValue::i8(-1).as_u64(), std::nullopt);
  EXPECT_EQ(GgufValue::u64(~uint64_t{0}).as_i64(), std::nullopt);
  EXPECT_EQ(GgufValue::u64(~uint64_t{0}).as_u64(), ~uint64_t{0});
  EXPECT_EQ(GgufValue::string("1").as_f64(), std::nullopt);
  EXPECT_EQ(GgufValue::u8(1).as_bool(), std::nullopt);
  EXPECT_EQ(GgufValue::u8(1).as_string(), nullptr);
  EXPECT_EQ(GgufValue::u8(1).as_array(), nullptr);
}

}  // namespace
}  // namespace kiln::frontend
