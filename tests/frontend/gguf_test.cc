#include "frontend/gguf.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/byte_writer.h"
#include "frontend/mapped_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/frontend/format_fixtures.h"
#include "tests/frontend/status_matchers.h"

namespace kiln::frontend {
namespace {

using ::kiln::testing::fixture_path;
using ::kiln::testing::floats_of;
using ::kiln::testing::IsOk;
using ::kiln::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr uint32_t kF32 = 0;
constexpr uint32_t kQ4_0 = 2;

// GGUF images built field by field, so that a test can put any value where
// the format expects another.
void put_string(ByteWriter& out, std::string_view text) {
  out.put<uint64_t>(text.size());
  out.put_bytes(text);
}

ByteWriter preamble(uint64_t tensor_count, uint64_t kv_count, uint32_t version = 3) {
  ByteWriter out;
  out.put_bytes("GGUF");
  out.put<uint32_t>(version);
  out.put<uint64_t>(tensor_count);
  out.put<uint64_t>(kv_count);
  return out;
}

// `ne` innermost first, as the file lists it.
void put_tensor_info(ByteWriter& out, std::string_view name, const std::vector<uint64_t>& ne,
                     uint32_t type, uint64_t offset) {
  put_string(out, name);
  out.put<uint32_t>(static_cast<uint32_t>(ne.size()));
  for (const uint64_t dim : ne) out.put<uint64_t>(dim);
  out.put<uint32_t>(type);
  out.put<uint64_t>(offset);
}

absl::StatusOr<GgufFile> open_image(std::vector<uint8_t> bytes) {
  return GgufFile::from_file(MappedFile::from_bytes("x.gguf", std::move(bytes)));
}

absl::StatusOr<GgufFile> open_image(ByteWriter out) { return open_image(std::move(out).bytes()); }

// One tensor info and enough data for it at offset 0.
std::vector<uint8_t> one_tensor(const std::vector<uint64_t>& ne, uint32_t type, uint64_t offset = 0,
                                size_t data_bytes = 32) {
  ByteWriter out = preamble(1, 0);
  put_tensor_info(out, "w", ne, type, offset);
  out.pad_to(32);
  out.put_bytes(std::vector<uint8_t>(data_bytes));
  return std::move(out).bytes();
}

// ---- The reference file -------------------------------------------------------

TEST(GgufFileTest, ReadsReferenceFileHeaderAndMetadata) {
  absl::StatusOr<GgufFile> file = GgufFile::open(fixture_path("tiny.gguf"));
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ(file->version(), 3u);
  EXPECT_EQ(file->alignment(), 32u);
  EXPECT_EQ(file->metadata().size(), 9u);
  EXPECT_EQ(*file->get_string("general.architecture"), "llama");
  EXPECT_EQ(*file->get_u64("llama.context_length"), 2048u);
  EXPECT_EQ(*file->get_f64("llama.rope.freq_base"), 10000.0);
  EXPECT_EQ(*file->get_f64("llama.attention.layer_norm_rms_epsilon"), 1e-5);
  EXPECT_EQ(*file->get_bool("general.quantized"), true);
  EXPECT_THAT(*file->get_string_array("tokenizer.ggml.tokens"),
              ElementsAre("<s>", "</s>", "hello"));
  EXPECT_THAT(*file->get_f32_array("tokenizer.ggml.scores"), ElementsAre(0.0f, -1.0f, -2.5f));
  EXPECT_EQ(*file->get_i64("tokenizer.ggml.bos_token_id"), 1);
  EXPECT_EQ(*file->get_u64("general.file_type"), 1u);
}

TEST(GgufFileTest, ReadsReferenceTensorsOutermostFirst) {
  absl::StatusOr<GgufFile> file = GgufFile::open(fixture_path("tiny.gguf"));
  ASSERT_THAT(file, IsOk());
  ASSERT_EQ(file->tensors().size(), 4u);
  const GgufTensorInfo& embed_info = file->tensors()[0];
  EXPECT_EQ(embed_info.name, "token_embd.weight");
  EXPECT_THAT(embed_info.shape, ElementsAre(2, 3));
  EXPECT_EQ(embed_info.type.name, "f32");
  EXPECT_EQ(embed_info.bytes, 24u);
  EXPECT_EQ(file->tensors()[3].type.name, "q8_0");
  EXPECT_EQ(file->tensors()[3].offset, 96u);

  absl::StatusOr<TensorData> embed = file->tensor("token_embd.weight");
  ASSERT_THAT(embed, IsOk());
  EXPECT_EQ(embed->dtype, ir::DType::f32);
  EXPECT_THAT(embed->shape, ElementsAre(2, 3));
  EXPECT_THAT(floats_of(*embed), ElementsAre(0, 2, 4, 6, 8, 10));

  absl::StatusOr<TensorData> norm = file->tensor("output_norm.weight");
  ASSERT_THAT(norm, IsOk());
  EXPECT_EQ(norm->dtype, ir::DType::f16);
  EXPECT_THAT(floats_of(*norm), ElementsAre(1.0f, 0.5f, -1.0f));

  absl::StatusOr<TensorData> attn_norm = file->tensor("blk.0.attn_norm.weight");
  ASSERT_THAT(attn_norm, IsOk());
  EXPECT_EQ(attn_norm->dtype, ir::DType::bf16);
  EXPECT_THAT(floats_of(*attn_norm), ElementsAre(3.0f, -0.5f));
}

TEST(GgufFileTest, RefusesQuantisedTensorByTypeName) {
  absl::StatusOr<GgufFile> file = GgufFile::open(fixture_path("tiny.gguf"));
  ASSERT_THAT(file, IsOk());
  EXPECT_THAT(file->tensor("blk.0.attn_q.weight"),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("tiny.gguf: tensor 'blk.0.attn_q.weight' has type q8_0, which "
                                 "kiln does not support yet")));
}

TEST(GgufFileTest, MissingTensorIsNotFound) {
  absl::StatusOr<GgufFile> file = GgufFile::open(fixture_path("tiny.gguf"));
  ASSERT_THAT(file, IsOk());
  EXPECT_THAT(
      file->tensor("output.weight"),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("tiny.gguf: no tensor 'output.weight'")));
}

TEST(GgufFileTest, AcceptsVersion2AndAFileOfNoTensors) {
  absl::StatusOr<GgufFile> file = open_image(preamble(0, 0, 2));
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ(file->version(), 2u);
  EXPECT_TRUE(file->tensors().empty());
}

// ---- Header -----------------------------------------------------------------------

TEST(GgufFileTest, RefusesEmptyFile) {
  EXPECT_THAT(open_image(std::vector<uint8_t>{}),
              StatusIs(kInvalid,
                       "x.gguf: truncated reading the magic at offset 0: needs 4 bytes, "
                       "0 remain"));
}

TEST(GgufFileTest, RefusesWrongMagic) {
  ByteWriter out;
  out.put_bytes("GGML");
  out.put<uint32_t>(3);
  EXPECT_THAT(open_image(std::move(out)),
              StatusIs(kInvalid,
                       "x.gguf: not a GGUF file: the magic is \"GGML\", expected "
                       "\"GGUF\""));
}

TEST(GgufFileTest, RefusesUnsupportedVersions) {
  EXPECT_THAT(open_image(preamble(0, 0, 1)),
              StatusIs(absl::StatusCode::kUnimplemented,
                       "x.gguf: GGUF version 1 is not supported (expected 2 or 3)"));
  EXPECT_THAT(open_image(preamble(0, 0, 0x03000000)),
              StatusIs(absl::StatusCode::kUnimplemented,
                       "x.gguf: a big-endian GGUF file; kiln reads little-endian ones only"));
}

TEST(GgufFileTest, RefusesTruncatedCounts) {
  ByteWriter out;
  out.put_bytes("GGUF");
  out.put<uint32_t>(3);
  out.put<uint32_t>(0);
  EXPECT_THAT(open_image(std::move(out)),
              StatusIs(kInvalid,
                       "x.gguf: truncated reading the tensor count at offset 8: needs 8 "
                       "bytes, 4 remain"));
}

TEST(GgufFileTest, RefusesCountsTheFileCannotHold) {
  EXPECT_THAT(open_image(preamble(uint64_t{1} << 60, 0)),
              StatusIs(kInvalid,
                       "x.gguf: the tensor count is 1152921504606846976, but the 8 "
                       "bytes left hold at most 0"));
  ByteWriter out = preamble(0, 3);
  out.put_bytes(std::vector<uint8_t>(30));
  EXPECT_THAT(open_image(std::move(out)),
              StatusIs(kInvalid,
                       "x.gguf: the metadata count is 3, but the 30 bytes left hold "
                       "at most 2"));
}

// ---- Metadata ---------------------------------------------------------------------

TEST(GgufFileTest, RefusesStringLengthPastTheFile) {
  ByteWriter out = preamble(0, 1);
  out.put<uint64_t>(uint64_t{1} << 63);
  out.put_bytes("key");
  out.put_bytes(std::vector<uint8_t>(10));
  EXPECT_THAT(open_image(std::move(out)),
              StatusIs(kInvalid,
                       "x.gguf: truncated reading the key of metadata entry 0 at offset "
                       "32: needs 9223372036854775808 bytes, 13 remain"));
}

TEST(GgufFileTest, RefusesUnknownValueType) {
  ByteWriter out = preamble(0, 1);
  put_string(out, "k");
  out.put<uint32_t>(13);
  out.put<uint8_t>(0);
  EXPECT_THAT(open_image(std::move(out)),
              StatusIs(kInvalid,
                       "x.gguf: the type of 'k' is 13, expected a GGUF value type (0 "
                       "to 12)"));
}

TEST(GgufFileTest, RefusesTruncatedValue) {
  ByteWriter out = preamble(0, 1);
  put_string(out, "llama.block_count");
  out.put<uint32_t>(static_cast<uint32_t>(GgufType::u64));
  out.put<uint32_t>(32);
  EXPECT_THAT(open_image(std::move(out)),
              StatusIs(kInvalid,
                       "x.gguf: truncated reading the value of 'llama.block_count' at "
                       "offset 53: needs 8 bytes, 4 remain"));
}

TEST(GgufFileTest, RefusesBoolOtherThanZeroOrOne) {
  ByteWriter out = preamble(0, 1);
  put_string(out, "k");
  out.put<uint32_t>(static_cast<uint32_t>(GgufType::boolean));
  out.put<uint8_t>(2);
  EXPECT_THAT(open_image(std::move(out)),
              StatusIs(kInvalid, "x.gguf: the value of 'k' is 2, expected a bool (0 or 1)"));
}

TEST(GgufFileTest, RefusesArrayLengthTheFileCannotHold) {
  ByteWriter out = preamble(0, 1);
  put_string(out, "tokens");
  out.put<uint32_t>(static_cast<uint32_t>(GgufType::array));
  out.put<uint32_t>(static_cast<uint32_t>(GgufType::string));
  out.put<uint64_t>(uint64_t{1} << 62);
  out.put_bytes(std::vector<uint8_t>(16));
  EXPECT_THAT(open_image(std::move(out)),
              StatusIs(kInvalid,
                       "x.gguf: the length of the value of 'tokens' is "
                       "4611686018427387904, but the 16 bytes left hold at most 2"));
}

TEST(GgufFileTest, ReadsNestedArraysButBoundsTheirDepth) {
  const auto nested = [](int depth) {
    ByteWriter out = preamble(0, 1);
    put_string(out, "k");
    out.put<uint32_t>(static_cast<uint32_t>(GgufType::array));
    for (int i = 1; i < depth; ++i) {
      out.put<uint32_t>(static_cast<uint32_t>(GgufType::array));
      out.put<uint64_t>(1);
    }
    out.put<uint32_t>(static_cast<uint32_t>(GgufType::u8));
    out.put<uint64_t>(1);
    out.put<uint8_t>(7);
    return open_image(std::move(out));
  };
  absl::StatusOr<GgufFile> file = nested(16);
  ASSERT_THAT(file, IsOk());
  const GgufValue* value = file->find("k");
  for (int i = 1; i < 16; ++i) value = &value->as_array()->at(0);
  EXPECT_EQ(value->as_array()->at(0).as_u64(), 7u);
  EXPECT_THAT(nested(17),
              StatusIs(kInvalid, "x.gguf: the value of 'k' nests arrays more than 16 deep"));
}

TEST(GgufFileTest, RefusesRepeatedKey) {
  ByteWriter out = preamble(0, 2);
  for (int i = 0; i < 2; ++i) {
    put_string(out, "general.name");
    out.put<uint32_t>(static_cast<uint32_t>(GgufType::string));
    put_string(out, "tiny");
  }
  EXPECT_THAT(open_image(std::move(out)),
              StatusIs(kInvalid, "x.gguf: metadata key 'general.name' repeats"));
}

TEST(GgufFileTest, RefusesAlignmentThatIsNotAPowerOfTwo) {
  ByteWriter out = preamble(0, 1);
  put_string(out, "general.alignment");
  out.put<uint32_t>(static_cast<uint32_t>(GgufType::u32));
  out.put<uint32_t>(24);
  EXPECT_THAT(open_image(std::move(out)),
              StatusIs(kInvalid, "x.gguf: general.alignment is u32 24, expected a power of two"));
}

// ---- Tensor infos -----------------------------------------------------------------

TEST(GgufFileTest, RefusesTooManyDims) {
  EXPECT_THAT(open_image(one_tensor({1, 1, 1, 1, 1}, kF32)),
              StatusIs(kInvalid, "x.gguf: tensor 'w' has 5 dims, GGUF allows at most 4"));
}

TEST(GgufFileTest, RefusesDimPast2To63) {
  EXPECT_THAT(open_image(one_tensor({uint64_t{1} << 63}, kF32)),
              StatusIs(kInvalid,
                       "x.gguf: tensor 'w' has a dim of 9223372036854775808, expected "
                       "below 2^63"));
}

TEST(GgufFileTest, RefusesDimsWhoseProductOverflows) {
  EXPECT_THAT(open_image(one_tensor({uint64_t{1} << 32, uint64_t{1} << 32}, kF32)),
              StatusIs(kInvalid,
                       "x.gguf: tensor 'w': shape [4294967296, 4294967296] overflows "
                       "int64"));
  EXPECT_THAT(open_image(one_tensor({uint64_t{1} << 61, 3}, kF32)),
              StatusIs(kInvalid,
                       "x.gguf: tensor 'w': shape [3, 2305843009213693952] of f32 "
                       "overflows"));
}

TEST(GgufFileTest, RefusesUnknownTensorType) {
  EXPECT_THAT(open_image(one_tensor({4}, 99)),
              StatusIs(kInvalid, "x.gguf: tensor 'w' has unknown type id 99"));
  EXPECT_THAT(open_image(one_tensor({4}, 4)),  // q4_2, long removed from ggml
              StatusIs(kInvalid, "x.gguf: tensor 'w' has unknown type id 4"));
}

TEST(GgufFileTest, RefusesPartialQuantisedBlock) {
  EXPECT_THAT(open_image(one_tensor({33}, kQ4_0)),
              StatusIs(kInvalid,
                       "x.gguf: tensor 'w': innermost dim 33 is not a whole number of "
                       "q4_0 blocks (32 elements)"));
}

TEST(GgufFileTest, RefusesMisalignedOffset) {
  EXPECT_THAT(open_image(one_tensor({4}, kF32, 4)),
              StatusIs(kInvalid,
                       "x.gguf: tensor 'w': data offset 4 is not a multiple of the "
                       "alignment 32"));
}

TEST(GgufFileTest, RefusesDataOutsideTheFile) {
  // The tensor info ends at 57, so the data section starts at 64 and holds 32 bytes.
  EXPECT_THAT(open_image(one_tensor({16}, kF32)),
              StatusIs(kInvalid,
                       "x.gguf: tensor 'w': data [offset 64, 64 bytes) lies outside "
                       "the file (96 bytes)"));
  EXPECT_THAT(open_image(one_tensor({4}, kF32, 32)),
              StatusIs(kInvalid, HasSubstr("data [offset 96, 16 bytes) lies outside")));
}

TEST(GgufFileTest, RefusesOffsetThatOverflows) {
  EXPECT_THAT(open_image(one_tensor({4}, kF32, ~uint64_t{31})),
              StatusIs(kInvalid,
                       "x.gguf: tensor 'w': data offset 18446744073709551584 "
                       "overflows"));
}

TEST(GgufFileTest, RefusesRepeatedTensorName) {
  ByteWriter out = preamble(2, 0);
  put_tensor_info(out, "w", {4}, kF32, 0);
  put_tensor_info(out, "w", {4}, kF32, 32);
  out.pad_to(32);
  out.put_bytes(std::vector<uint8_t>(64));
  EXPECT_THAT(open_image(std::move(out)), StatusIs(kInvalid, "x.gguf: tensor 'w' appears twice"));
}

TEST(GgufFileTest, RefusesTensorsWhoseDataOverlap) {
  ByteWriter out = preamble(3, 0);
  put_tensor_info(out, "a", {8}, kF32, 0);   // [0, 32)
  put_tensor_info(out, "b", {16}, kF32, 64);  // [64, 128)
  put_tensor_info(out, "c", {4}, kF32, 96);   // [96, 112), inside b
  out.pad_to(32);
  out.put_bytes(std::vector<uint8_t>(128));
  EXPECT_THAT(open_image(std::move(out)),
              StatusIs(kInvalid, "x.gguf: the data of tensor 'b' [64, 128) and of tensor 'c' [96, 112) overlap"));
}

TEST(GgufFileTest, AcceptsTensorsBackToBackAndEmptyOnes) {
  ByteWriter out = preamble(3, 0);
  put_tensor_info(out, "a", {8}, kF32, 0);
  put_tensor_info(out, "empty", {0}, kF32, 0);
  put_tensor_info(out, "b", {8}, kF32, 32);
  out.pad_to(32);
  out.put_bytes(std::vector<uint8_t>(64));
  EXPECT_THAT(open_image(std::move(out)), IsOk());
}

// A flipped length byte can make a tensor name megabytes of binary: the
// message shows an escaped excerpt and the length, not the bytes.
TEST(GgufFileTest, ErrorsShowCorruptNamesEscapedAndShort) {
  std::string name(1 << 20, '\x01');
  name.replace(0, 3, "ab\n");
  ByteWriter out = preamble(1, 0);
  put_tensor_info(out, name, {4}, 999, 0);
  const absl::Status status = open_image(std::move(out)).status();
  EXPECT_THAT(status, StatusIs(kInvalid, HasSubstr("x.gguf: tensor 'ab\\n\\x01\\x01")));
  EXPECT_THAT(status.message(), HasSubstr("'... (1048576 bytes) has unknown type id 999"));
  EXPECT_LT(status.message().size(), 400u);
}

TEST(GgufFileTest, CopiesDataMisalignedForItsElements) {
  // With general.alignment 1, offsets may land anywhere; f32 data must still
  // reach its reader 4-byte aligned.
  ByteWriter out = preamble(1, 1);
  put_string(out, "general.alignment");
  out.put<uint32_t>(static_cast<uint32_t>(GgufType::u32));
  out.put<uint32_t>(1);
  const size_t data_start = out.size() + 8 + 1 + 4 + 8 + 4 + 8;  // after the tensor info
  const uint64_t offset = (4 - data_start % 4) % 4 + 1;
  put_tensor_info(out, "w", {1}, kF32, offset);
  out.put_bytes(std::vector<uint8_t>(offset));
  out.put<float>(2.5f);
  absl::StatusOr<GgufFile> file = open_image(std::move(out));
  ASSERT_THAT(file, IsOk());
  absl::StatusOr<TensorData> tensor = file->tensor("w");
  ASSERT_THAT(tensor, IsOk());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(tensor->data) % alignof(float), 0u);
  EXPECT_THAT(floats_of(*tensor), ElementsAre(2.5f));
}

TEST(GgufFileTest, TruncationAnywhereFailsCleanly) {
  absl::StatusOr<std::shared_ptr<const MappedFile>> whole =
      MappedFile::open(fixture_path("tiny.gguf"));
  ASSERT_THAT(whole, IsOk());
  const std::span<const uint8_t> bytes = (*whole)->bytes();
  // Only the last tensor's padding may go.
  const size_t needed = bytes.size() - 30;
  for (size_t size = 0; size < needed; ++size) {
    absl::StatusOr<GgufFile> file =
        open_image(std::vector<uint8_t>(bytes.begin(), bytes.begin() + size));
    EXPECT_THAT(file, StatusIs(kInvalid, HasSubstr("x.gguf: "))) << "size " << size;
  }
  EXPECT_THAT(open_image(std::vector<uint8_t>(bytes.begin(), bytes.begin() + needed)), IsOk());
}

}  // namespace
}  // namespace kiln::frontend
