#include "frontend/safetensors.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/byte_writer.h"
#include "frontend/mapped_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/frontend/format_fixtures.h"
#include "tests/frontend/scratch_dir.h"
#include "tests/frontend/status_matchers.h"

namespace kiln::frontend {
namespace {

using ::kiln::testing::fixture_path;
using ::kiln::testing::floats_of;
using ::kiln::testing::ints_of;
using ::kiln::testing::IsOk;
using ::kiln::testing::ScratchDir;
using ::kiln::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

// The u64 header length, `header` verbatim, then `data`.
std::vector<uint8_t> image(std::string_view header, const std::vector<uint8_t>& data = {}) {
  ByteWriter out;
  out.put<uint64_t>(header.size());
  out.put_bytes(header);
  out.put_bytes(data);
  return std::move(out).bytes();
}

// A well-formed file of f32 tensors laid out back to back, as the reference
// writer lays them out.
std::vector<uint8_t> f32_file(
    const std::vector<std::pair<std::string, std::vector<float>>>& tensors) {
  json header = json::object();
  std::vector<uint8_t> data;
  for (const auto& [name, values] : tensors) {
    const size_t begin = data.size();
    data.resize(begin + values.size() * sizeof(float));
    std::memcpy(data.data() + begin, values.data(), values.size() * sizeof(float));
    header[name] = {
        {"dtype", "F32"}, {"shape", {values.size()}}, {"data_offsets", {begin, data.size()}}};
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return image(text, data);
}

absl::StatusOr<SafetensorsFile> open_image(std::vector<uint8_t> bytes) {
  return SafetensorsFile::from_file(MappedFile::from_bytes("x.safetensors", std::move(bytes)));
}

// ---- One file ---------------------------------------------------------------

TEST(SafetensorsFileTest, ReadsReferenceFileOfEveryDType) {
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::open(fixture_path("model.safetensors"));
  ASSERT_THAT(file, IsOk());
  EXPECT_THAT(file->names(), ElementsAre("bias", "embed", "ids", "norm"));

  absl::StatusOr<TensorData> embed = file->tensor("embed");
  ASSERT_THAT(embed, IsOk());
  EXPECT_EQ(embed->dtype, ir::DType::f32);
  EXPECT_THAT(embed->shape, ElementsAre(2, 3));
  EXPECT_THAT(floats_of(*embed), ElementsAre(0, 1, 2, 3, 4, 5));

  absl::StatusOr<TensorData> norm = file->tensor("norm");
  ASSERT_THAT(norm, IsOk());
  EXPECT_EQ(norm->dtype, ir::DType::f16);
  EXPECT_THAT(floats_of(*norm), ElementsAre(0.5f, 1.0f, 2.0f));

  absl::StatusOr<TensorData> bias = file->tensor("bias");
  ASSERT_THAT(bias, IsOk());
  EXPECT_EQ(bias->dtype, ir::DType::bf16);
  EXPECT_THAT(floats_of(*bias), ElementsAre(1.0f, -2.0f));

  absl::StatusOr<TensorData> ids = file->tensor("ids");
  ASSERT_THAT(ids, IsOk());
  EXPECT_EQ(ids->dtype, ir::DType::i32);
  EXPECT_THAT(ints_of(*ids), ElementsAre(3, -4));
}

TEST(SafetensorsFileTest, ViewsOutliveTheFileObject) {
  absl::StatusOr<TensorData> tensor;
  {
    absl::StatusOr<SafetensorsFile> file = open_image(f32_file({{"w", {1.5f, 2.5f}}}));
    ASSERT_THAT(file, IsOk());
    tensor = file->tensor("w");
  }
  ASSERT_THAT(tensor, IsOk());
  EXPECT_THAT(floats_of(*tensor), ElementsAre(1.5f, 2.5f));
}

TEST(SafetensorsFileTest, MissingTensorIsNotFound) {
  absl::StatusOr<SafetensorsFile> file = open_image(f32_file({{"w", {1}}}));
  ASSERT_THAT(file, IsOk());
  EXPECT_THAT(file->tensor("nope"),
              StatusIs(absl::StatusCode::kNotFound, "x.safetensors: no tensor 'nope'"));
}

TEST(SafetensorsFileTest, ListsButRefusesUnsupportedDTypes) {
  absl::StatusOr<SafetensorsFile> file = open_image(
      image(R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", std::vector<uint8_t>(8)));
  ASSERT_THAT(file, IsOk());
  EXPECT_THAT(file->names(), ElementsAre("w"));
  EXPECT_THAT(file->tensor("w"),
              StatusIs(absl::StatusCode::kUnimplemented,
                       "x.safetensors: tensor 'w' has dtype F64, which kiln does not support "
                       "yet (it reads F32, F16, BF16 and I32)"));
}

TEST(SafetensorsFileTest, AcceptsAnEmptyFileOfNoTensors) {
  absl::StatusOr<SafetensorsFile> file = open_image(image(R"({"__metadata__":{"a":"b"}})"));
  ASSERT_THAT(file, IsOk());
  EXPECT_TRUE(file->names().empty());
}

// ---- Malformed files ----------------------------------------------------------

TEST(SafetensorsFileTest, RefusesTruncatedHeaderLength) {
  EXPECT_THAT(open_image({1, 2, 3}),
              StatusIs(kInvalid,
                       "x.safetensors: truncated reading the header length at offset "
                       "0: needs 8 bytes, 3 remain"));
}

TEST(SafetensorsFileTest, RefusesHeaderLengthPastTheFile) {
  ByteWriter out;
  out.put<uint64_t>(uint64_t{1} << 63);
  out.put_bytes("{}");
  EXPECT_THAT(open_image(std::move(out).bytes()),
              StatusIs(kInvalid,
                       "x.safetensors: truncated reading the header at offset 8: needs "
                       "9223372036854775808 bytes, 2 remain"));
}

TEST(SafetensorsFileTest, RefusesHeaderThatIsNotAJsonObject) {
  EXPECT_THAT(open_image(image("{\"w\": ")),
              StatusIs(kInvalid, HasSubstr("x.safetensors: the header is not valid JSON: "
                                           "[json.exception.parse_error.101]")));
  EXPECT_THAT(open_image(image("[1, 2]")),
              StatusIs(kInvalid, "x.safetensors: the header is not a JSON object"));
}

TEST(SafetensorsFileTest, RefusesMalformedTensorEntries) {
  EXPECT_THAT(open_image(image(R"({"w": 3})")),
              StatusIs(kInvalid,
                       "x.safetensors: tensor 'w': expected an object of dtype, "
                       "shape and data_offsets"));
  EXPECT_THAT(open_image(image(R"({"w": {"shape": [], "data_offsets": [0, 0]}})")),
              StatusIs(kInvalid, "x.safetensors: tensor 'w': 'dtype' must be a string"));
  EXPECT_THAT(
      open_image(image(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}})")),
      StatusIs(kInvalid,
               "x.safetensors: tensor 'w': 'shape' must be an array of "
               "non-negative integers"));
  EXPECT_THAT(
      open_image(image(R"({"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 0]}})")),
      StatusIs(kInvalid, HasSubstr("'shape' must be an array of non-negative integers")));
  EXPECT_THAT(open_image(image(R"({"w": {"dtype": "F32", "shape": [], "data_offsets": [4, 0]}})")),
              StatusIs(kInvalid,
                       "x.safetensors: tensor 'w': 'data_offsets' must be [begin, end] "
                       "with begin <= end"));
  EXPECT_THAT(open_image(image(R"({"w": {"dtype": "F32", "shape": [], "data_offsets": [0]}})")),
              StatusIs(kInvalid, HasSubstr("'data_offsets' must be [begin, end]")));
}

TEST(SafetensorsFileTest, RefusesUnknownDType) {
  EXPECT_THAT(open_image(image(R"({"w": {"dtype": "F3", "shape": [], "data_offsets": [0, 0]}})")),
              StatusIs(kInvalid, "x.safetensors: tensor 'w' has unknown dtype 'F3'"));
}

TEST(SafetensorsFileTest, RefusesOffsetsThatDisagreeWithTheShape) {
  EXPECT_THAT(open_image(image(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})",
                               std::vector<uint8_t>(4))),
              StatusIs(kInvalid,
                       "x.safetensors: tensor 'w': data_offsets [0, 4) hold 4 bytes, "
                       "but shape [2] of F32 needs 8"));
}

TEST(SafetensorsFileTest, RefusesShapeWhoseSizeOverflows) {
  EXPECT_THAT(
      open_image(image(
          R"({"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]}})")),
      StatusIs(kInvalid,
               "x.safetensors: tensor 'w': shape [4611686018427387904, 4] of F32 "
               "overflows"));
  EXPECT_THAT(
      open_image(image(
          R"({"w": {"dtype": "F32", "shape": [9223372036854775808], "data_offsets": [0, 0]}})")),
      StatusIs(kInvalid, HasSubstr("'shape' must be an array of non-negative integers")));
}

TEST(SafetensorsFileTest, RefusesPartialBytes) {
  EXPECT_THAT(open_image(image(R"({"w": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}})",
                               std::vector<uint8_t>(2))),
              StatusIs(kInvalid,
                       "x.safetensors: tensor 'w': shape [3] of F4 is not a whole "
                       "number of bytes"));
}

TEST(SafetensorsFileTest, RefusesGapsAndOverlaps) {
  EXPECT_THAT(open_image(image(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                   "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})",
                               std::vector<uint8_t>(12))),
              StatusIs(kInvalid,
                       "x.safetensors: tensor 'b': data_offsets begin at 8, expected 4 "
                       "(the end of the previous tensor)"));
  EXPECT_THAT(open_image(image(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                   "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                               std::vector<uint8_t>(12))),
              StatusIs(kInvalid, HasSubstr("tensor 'b': data_offsets begin at 4, expected 8")));
}

TEST(SafetensorsFileTest, RefusesDataSectionOfTheWrongSize) {
  EXPECT_THAT(
      open_image(image(R"({"w": {"dtype": "F32", "shape": [250], "data_offsets": [0, 1000]}})",
                       std::vector<uint8_t>(8))),
      StatusIs(kInvalid,
               "x.safetensors: the tensors hold 1000 bytes, but the data "
               "section has 8"));
  EXPECT_THAT(
      open_image(image(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
                       std::vector<uint8_t>(6))),
      StatusIs(kInvalid, HasSubstr("the tensors hold 4 bytes, but the data section has 6")));
}

TEST(SafetensorsFileTest, CopiesMisalignedTensors) {
  // The reference writer orders tensors by falling dtype size, so they come
  // out aligned; a writer that does not leaves the i32 at data offset 2.
  std::string header = R"({"h": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]},
                           "i": {"dtype": "I32", "shape": [1], "data_offsets": [2, 6]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  absl::StatusOr<SafetensorsFile> file = open_image(image(header, {0, 0, 7, 0, 0, 0}));
  ASSERT_THAT(file, IsOk());
  absl::StatusOr<TensorData> tensor = file->tensor("i");
  ASSERT_THAT(tensor, IsOk());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(tensor->data) % alignof(int32_t), 0u);
  EXPECT_THAT(ints_of(*tensor), ElementsAre(7));
}

// ---- Folders --------------------------------------------------------------------

TEST(SafetensorsCollectionTest, OpensASingleFileFolder) {
  ScratchDir dir;
  std::filesystem::copy_file(fixture_path("model.safetensors"), dir.file("model.safetensors"));
  absl::StatusOr<SafetensorsCollection> model = SafetensorsCollection::open(dir.file(""));
  ASSERT_THAT(model, IsOk());
  EXPECT_THAT(model->names(), ElementsAre("bias", "embed", "ids", "norm"));
  absl::StatusOr<TensorData> ids = model->tensor("ids");
  ASSERT_THAT(ids, IsOk());
  EXPECT_THAT(ints_of(*ids), ElementsAre(3, -4));
}

TEST(SafetensorsCollectionTest, FindsTensorsAcrossShards) {
  ScratchDir dir;
  dir.write("model-00001-of-00002.safetensors", f32_file({{"a", {1, 2}}, {"b", {3}}}));
  dir.write("model-00002-of-00002.safetensors", f32_file({{"c", {4, 5, 6}}}));
  dir.write_text("model.safetensors.index.json", R"({"metadata": {"total_size": 24}, "weight_map": {
              "a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
              "c": "model-00002-of-00002.safetensors"}})");
  absl::StatusOr<SafetensorsCollection> model = SafetensorsCollection::open(dir.file(""));
  ASSERT_THAT(model, IsOk());
  EXPECT_THAT(model->names(), ElementsAre("a", "b", "c"));
  absl::StatusOr<TensorData> c = model->tensor("c");
  ASSERT_THAT(c, IsOk());
  EXPECT_THAT(floats_of(*c), ElementsAre(4, 5, 6));
  absl::StatusOr<TensorData> b = model->tensor("b");
  ASSERT_THAT(b, IsOk());
  EXPECT_THAT(floats_of(*b), ElementsAre(3));
  EXPECT_THAT(model->tensor("d"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(": no tensor 'd'")));
}

TEST(SafetensorsCollectionTest, RefusesIndexThatPutsATensorInTheWrongShard) {
  ScratchDir dir;
  dir.write("one.safetensors", f32_file({{"a", {1}}}));
  dir.write_text("model.safetensors.index.json",
                 R"({"weight_map": {"a": "one.safetensors", "b": "one.safetensors"}})");
  EXPECT_THAT(SafetensorsCollection::open(dir.file("")),
              StatusIs(kInvalid, HasSubstr("model.safetensors.index.json: weight_map puts tensor "
                                           "'b' in 'one.safetensors', which does not hold it")));
}

TEST(SafetensorsCollectionTest, RefusesShardOutsideTheFolder) {
  ScratchDir dir;
  dir.write_text("model.safetensors.index.json",
                 R"({"weight_map": {"a": "../elsewhere.safetensors"}})");
  EXPECT_THAT(SafetensorsCollection::open(dir.file("")),
              StatusIs(kInvalid, HasSubstr("weight_map entry for 'a' must be the file name of a "
                                           "shard in the same folder, found "
                                           "\"../elsewhere.safetensors\"")));
}

TEST(SafetensorsCollectionTest, RefusesMalformedIndex) {
  ScratchDir dir;
  dir.write_text("model.safetensors.index.json", R"({"weights": {}})");
  EXPECT_THAT(SafetensorsCollection::open(dir.file("")),
              StatusIs(kInvalid, HasSubstr("model.safetensors.index.json: expected an object "
                                           "with a 'weight_map'")));
  dir.write_text("model.safetensors.index.json", "{");
  EXPECT_THAT(SafetensorsCollection::open(dir.file("")),
              StatusIs(kInvalid, HasSubstr("model.safetensors.index.json: the index is not valid "
                                           "JSON")));
}

TEST(SafetensorsCollectionTest, MissingShardIsNotFound) {
  ScratchDir dir;
  dir.write_text("model.safetensors.index.json", R"({"weight_map": {"a": "gone.safetensors"}})");
  EXPECT_THAT(SafetensorsCollection::open(dir.file("")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("gone.safetensors: cannot open")));
}

TEST(SafetensorsCollectionTest, EmptyFolderIsNotFound) {
  ScratchDir dir;
  EXPECT_THAT(SafetensorsCollection::open(dir.file("")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("holds neither model.safetensors nor "
                                                              "model.safetensors.index.json")));
}

TEST(SafetensorsCollectionTest, ReportsABrokenSingleFile) {
  ScratchDir dir;
  dir.write("model.safetensors", std::vector<uint8_t>{1, 2});
  EXPECT_THAT(SafetensorsCollection::open(dir.file("")),
              StatusIs(kInvalid, HasSubstr("model.safetensors: truncated reading the header "
                                           "length")));
}

}  // namespace
}  // namespace kiln::frontend
