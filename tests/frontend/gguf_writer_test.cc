#include "frontend/gguf_writer.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "frontend/byte_writer.h"
#include "frontend/gguf.h"
#include "frontend/mapped_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/frontend/format_fixtures.h"
#include "tests/frontend/scratch_dir.h"
#include "tests/frontend/status_matchers.h"

namespace kiln::frontend {
namespace {

using ::kiln::testing::floats_of;
using ::kiln::testing::ints_of;
using ::kiln::testing::IsOk;
using ::kiln::testing::ScratchDir;
using ::kiln::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

absl::StatusOr<GgufFile> reopen(const GgufWriter& writer) {
  absl::StatusOr<std::vector<uint8_t>> bytes = writer.serialize();
  if (!bytes.ok()) return bytes.status();
  return GgufFile::from_file(MappedFile::from_bytes("w.gguf", *std::move(bytes)));
}

TEST(GgufWriterTest, LaysOutTheFileAsTheFormatSpecifies) {
  GgufWriter writer;
  writer.set("n", GgufValue::u32(7));
  const std::vector<float> values = {1.0f, 2.0f};
  ASSERT_THAT(writer.add_tensor("t", ir::DType::f32, {1, 2}, values.data()), IsOk());

  ByteWriter expected;
  expected.put_bytes("GGUF");
  expected.put<uint32_t>(3);
  expected.put<uint64_t>(1);  // tensors
  expected.put<uint64_t>(1);  // metadata
  expected.put<uint64_t>(1);
  expected.put_bytes("n");
  expected.put<uint32_t>(4);  // u32
  expected.put<uint32_t>(7);
  expected.put<uint64_t>(1);
  expected.put_bytes("t");
  expected.put<uint32_t>(2);  // dims, innermost first
  expected.put<uint64_t>(2);
  expected.put<uint64_t>(1);
  expected.put<uint32_t>(0);  // f32
  expected.put<uint64_t>(0);  // offset
  expected.pad_to(32);
  expected.put<float>(1.0f);
  expected.put<float>(2.0f);
  expected.pad_to(32);
  const absl::StatusOr<std::vector<uint8_t>> bytes = writer.serialize();
  ASSERT_THAT(bytes, IsOk());
  EXPECT_EQ(*bytes, expected.bytes());
}

TEST(GgufWriterTest, RoundTripsEveryValueType) {
  GgufWriter writer;
  writer.set("u8", GgufValue::u8(1));
  writer.set("i8", GgufValue::i8(-2));
  writer.set("u16", GgufValue::u16(3));
  writer.set("i16", GgufValue::i16(-4));
  writer.set("u32", GgufValue::u32(5));
  writer.set("i32", GgufValue::i32(-6));
  writer.set("f32", GgufValue::f32(7.5f));
  writer.set("bool", GgufValue::boolean(false));
  writer.set("string", GgufValue::string("nine"));
  writer.set("u64", GgufValue::u64(10));
  writer.set("i64", GgufValue::i64(-11));
  writer.set("f64", GgufValue::f64(12.25));
  writer.set("empty", GgufValue::array(GgufType::f32, {}));
  writer.set("nested", GgufValue::array(GgufType::array,
                                        {GgufValue::i32_array({1, 2}), GgufValue::i32_array({3})}));
  absl::StatusOr<GgufFile> file = reopen(writer);
  ASSERT_THAT(file, IsOk());
  for (const auto& [key, type] :
       std::vector<std::pair<std::string, GgufType>>{{"u8", GgufType::u8},
                                                     {"i8", GgufType::i8},
                                                     {"u16", GgufType::u16},
                                                     {"i16", GgufType::i16},
                                                     {"u32", GgufType::u32},
                                                     {"i32", GgufType::i32},
                                                     {"f32", GgufType::f32},
                                                     {"bool", GgufType::boolean},
                                                     {"string", GgufType::string},
                                                     {"u64", GgufType::u64},
                                                     {"i64", GgufType::i64},
                                                     {"f64", GgufType::f64}}) {
    ASSERT_NE(file->find(key), nullptr) << key;
    EXPECT_EQ(file->find(key)->type(), type) << key;
  }
  EXPECT_EQ(*file->get_i64("i8"), -2);
  EXPECT_EQ(*file->get_i64("i16"), -4);
  EXPECT_EQ(*file->get_i64("i64"), -11);
  EXPECT_EQ(*file->get_u64("u16"), 3u);
  EXPECT_EQ(*file->get_f64("f32"), 7.5);
  EXPECT_EQ(*file->get_f64("f64"), 12.25);
  EXPECT_EQ(*file->get_bool("bool"), false);
  EXPECT_EQ(*file->get_string("string"), "nine");
  EXPECT_THAT(*file->get_f32_array("empty"), ::testing::IsEmpty());
  EXPECT_EQ(file->find("empty")->element_type(), GgufType::f32);
  const std::vector<GgufValue>& nested = *file->find("nested")->as_array();
  ASSERT_EQ(nested.size(), 2u);
  EXPECT_EQ(nested[0].as_array()->at(1).as_i64(), 2);
  EXPECT_EQ(nested[1].as_array()->at(0).as_i64(), 3);
}

TEST(GgufWriterTest, SetReplacesAndKeepsFirstPosition) {
  GgufWriter writer;
  writer.set("a", GgufValue::u32(1));
  writer.set("b", GgufValue::u32(2));
  writer.set("a", GgufValue::string("again"));
  absl::StatusOr<GgufFile> file = reopen(writer);
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ(file->metadata().size(), 2u);
  EXPECT_EQ(*file->get_string("a"), "again");
}

TEST(GgufWriterTest, RoundTripsTensorsAtACustomAlignmentInVersion2) {
  GgufWriter writer(2);
  writer.set(std::string(kGgufAlignmentKey), GgufValue::u32(64));
  const std::vector<float> f32 = {1, 2, 3, 4, 5, 6};
  const std::vector<uint16_t> f16 = {ir::f32_to_f16(0.5f), ir::f32_to_f16(-1.5f),
                                     ir::f32_to_f16(8.0f)};
  const std::vector<uint16_t> bf16 = {ir::f32_to_bf16(2.0f)};
  const std::vector<int32_t> i32 = {-9, 9};
  ASSERT_THAT(writer.add_tensor("a", ir::DType::f32, {3, 2}, f32.data()), IsOk());
  ASSERT_THAT(writer.add_tensor("b", ir::DType::f16, {3}, f16.data()), IsOk());
  ASSERT_THAT(writer.add_tensor("c", ir::DType::bf16, {1, 1, 1}, bf16.data()), IsOk());
  ASSERT_THAT(writer.add_tensor("d", ir::DType::i32, {2}, i32.data()), IsOk());

  absl::StatusOr<GgufFile> file = reopen(writer);
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ(file->version(), 2u);
  EXPECT_EQ(file->alignment(), 64u);
  for (const GgufTensorInfo& info : file->tensors()) EXPECT_EQ(info.offset % 64, 0u) << info.name;
  absl::StatusOr<TensorData> a = file->tensor("a");
  ASSERT_THAT(a, IsOk());
  EXPECT_THAT(a->shape, ElementsAre(3, 2));
  EXPECT_EQ(floats_of(*a), f32);
  absl::StatusOr<TensorData> b = file->tensor("b");
  ASSERT_THAT(b, IsOk());
  EXPECT_THAT(floats_of(*b), ElementsAre(0.5f, -1.5f, 8.0f));
  absl::StatusOr<TensorData> c = file->tensor("c");
  ASSERT_THAT(c, IsOk());
  EXPECT_THAT(c->shape, ElementsAre(1, 1, 1));
  EXPECT_THAT(floats_of(*c), ElementsAre(2.0f));
  absl::StatusOr<TensorData> d = file->tensor("d");
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(ints_of(*d), i32);
}

TEST(GgufWriterTest, WritesQuantisedTensorsTheReaderListsAndRefuses) {
  GgufWriter writer;
  const std::vector<uint8_t> blocks(2 * 144);
  ASSERT_THAT(writer.add_tensor("q", *find_ggml_type(12), {2, 256}, blocks.data()), IsOk());
  absl::StatusOr<GgufFile> file = reopen(writer);
  ASSERT_THAT(file, IsOk());
  ASSERT_EQ(file->tensors().size(), 1u);
  EXPECT_EQ(file->tensors()[0].bytes, 288u);
  EXPECT_THAT(file->tensor("q"),
              StatusIs(absl::StatusCode::kUnimplemented,
                       "w.gguf: tensor 'q' has type q4_K, which kiln does not support yet"));
}

TEST(GgufWriterTest, WritesAFileGgufFileOpens) {
  ScratchDir dir;
  GgufWriter writer;
  writer.set("general.architecture", GgufValue::string("llama"));
  ASSERT_THAT(writer.write(dir.file("m.gguf")), IsOk());
  absl::StatusOr<GgufFile> file = GgufFile::open(dir.file("m.gguf"));
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ(*file->get_string("general.architecture"), "llama");
}

// ---- Refusals ---------------------------------------------------------------------

TEST(GgufWriterTest, RefusesRepeatedTensorAndBadShapes) {
  GgufWriter writer;
  const std::vector<float> values(64);
  ASSERT_THAT(writer.add_tensor("t", ir::DType::f32, {4}, values.data()), IsOk());
  EXPECT_THAT(writer.add_tensor("t", ir::DType::f32, {4}, values.data()),
              StatusIs(kInvalid, "tensor 't' is already added"));
  EXPECT_THAT(writer.add_tensor("u", ir::DType::f32, {1, 1, 1, 1, 1}, values.data()),
              StatusIs(kInvalid, "tensor 'u' has 5 dims, GGUF allows at most 4"));
  EXPECT_THAT(writer.add_tensor("v", *find_ggml_type(2), {33}, values.data()),
              StatusIs(kInvalid,
                       "tensor 'v': innermost dim 33 is not a whole number of q4_0 "
                       "blocks (32 elements)"));
  EXPECT_THAT(writer.add_tensor("w", ir::DType::f32, {-1}, values.data()),
              StatusIs(kInvalid, "tensor 'w': shape [-1] overflows int64"));
}

TEST(GgufWriterTest, RefusesBadAlignment) {
  for (const GgufValue& alignment :
       {GgufValue::u32(24), GgufValue::u64(uint64_t{1} << 20), GgufValue::string("32")}) {
    GgufWriter writer;
    writer.set(std::string(kGgufAlignmentKey), alignment);
    EXPECT_THAT(writer.serialize(),
                StatusIs(kInvalid, HasSubstr("general.alignment is " + alignment.describe() +
                                             ", expected a power of two up to 65536")));
  }
}

TEST(GgufWriterTest, RefusesArrayOfMixedTypes) {
  GgufWriter writer;
  writer.set("mixed", GgufValue::array(GgufType::u32, {GgufValue::u32(1), GgufValue::i32(2)}));
  EXPECT_THAT(writer.serialize(),
              StatusIs(kInvalid, "metadata key 'mixed': element 1 is i32 2 in an array of u32"));
}

TEST(GgufWriterTest, RefusesUnknownVersionAndWritesNothing) {
  ScratchDir dir;
  GgufWriter writer(4);
  EXPECT_THAT(writer.write(dir.file("m.gguf")),
              StatusIs(kInvalid, HasSubstr("m.gguf: GGUF version 4 cannot be written (expected 2 "
                                           "or 3)")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("m.gguf")));
}

}  // namespace
}  // namespace kiln::frontend
