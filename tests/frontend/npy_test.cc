#include "frontend/npy.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
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
using ::testing::IsEmpty;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr auto kUnimplemented = absl::StatusCode::kUnimplemented;

// A version 1.0 .npy image: the header dict exactly as given (no padding),
// then `data`.
std::vector<uint8_t> npy_image(std::string_view dict, std::vector<uint8_t> data = {}) {
  ByteWriter out;
  out.put_bytes("\x93NUMPY");
  out.put<uint8_t>(1);
  out.put<uint8_t>(0);
  out.put<uint16_t>(static_cast<uint16_t>(dict.size()));
  out.put_bytes(dict);
  out.put_bytes(data);
  return std::move(out).bytes();
}

absl::StatusOr<TensorData> read_image(std::vector<uint8_t> bytes) {
  return read_npy(MappedFile::from_bytes("x.npy", std::move(bytes)));
}

// The bytes of a fixture file.
std::vector<uint8_t> fixture_bytes(std::string_view name) {
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::open(fixture_path(name));
  EXPECT_THAT(file, IsOk());
  if (!file.ok()) return {};
  return {(*file)->bytes().begin(), (*file)->bytes().end()};
}

// ---- NumPy-written fixtures -------------------------------------------------

TEST(NpyTest, ReadsNumpyF32AndNamesTheTensorAfterTheFile) {
  absl::StatusOr<TensorData> tensor = read_npy(fixture_path("arange_f32.npy"));
  ASSERT_THAT(tensor, IsOk());
  EXPECT_EQ(tensor->name, "arange_f32");
  EXPECT_EQ(tensor->dtype, ir::DType::f32);
  EXPECT_THAT(tensor->shape, ElementsAre(2, 3));
  EXPECT_THAT(floats_of(*tensor), ElementsAre(0.0f, 0.25f, 0.5f, 0.75f, 1.0f, 1.25f));
}

TEST(NpyTest, ReadsNumpyF16) {
  absl::StatusOr<TensorData> tensor = read_npy(fixture_path("values_f16.npy"));
  ASSERT_THAT(tensor, IsOk());
  EXPECT_EQ(tensor->dtype, ir::DType::f16);
  EXPECT_THAT(floats_of(*tensor), ElementsAre(1.0f, -2.5f, 65504.0f));
}

TEST(NpyTest, ReadsNumpyI32) {
  absl::StatusOr<TensorData> tensor = read_npy(fixture_path("ints_i32.npy"));
  ASSERT_THAT(tensor, IsOk());
  EXPECT_EQ(tensor->dtype, ir::DType::i32);
  EXPECT_THAT(tensor->shape, ElementsAre(2, 2));
  EXPECT_THAT(ints_of(*tensor), ElementsAre(1, -2, 3, 2147483647));
}

TEST(NpyTest, ReadsScalarAndEmptyArrays) {
  absl::StatusOr<TensorData> scalar = read_npy(fixture_path("scalar_f32.npy"));
  ASSERT_THAT(scalar, IsOk());
  EXPECT_THAT(scalar->shape, IsEmpty());
  EXPECT_THAT(floats_of(*scalar), ElementsAre(3.5f));

  absl::StatusOr<TensorData> empty = read_npy(fixture_path("empty_f32.npy"));
  ASSERT_THAT(empty, IsOk());
  EXPECT_THAT(empty->shape, ElementsAre(0, 4));
  EXPECT_EQ(empty->bytes, 0u);
}

TEST(NpyTest, ReadsFormatVersions2And3) {
  for (const char* name : {"version2_i32.npy", "version3_i32.npy"}) {
    absl::StatusOr<TensorData> tensor = read_npy(fixture_path(name));
    ASSERT_THAT(tensor, IsOk()) << name;
    EXPECT_THAT(ints_of(*tensor), ElementsAre(7, 8, 9)) << name;
  }
}

TEST(NpyTest, RefusesF64NamingTheDescr) {
  EXPECT_THAT(read_npy(fixture_path("doubles_f64.npy")),
              StatusIs(kUnimplemented, HasSubstr("doubles_f64.npy: dtype '<f8' is not supported: "
                                                 "kiln reads '<f4' (f32), '<f2' (f16) and '<i4' "
                                                 "(i32)")));
}

TEST(NpyTest, RefusesBigEndian) {
  EXPECT_THAT(read_npy(fixture_path("big_endian_f32.npy")),
              StatusIs(kUnimplemented, HasSubstr("dtype '>f4' is not supported")));
}

TEST(NpyTest, RefusesFortranOrder) {
  EXPECT_THAT(read_npy(fixture_path("fortran_f32.npy")),
              StatusIs(kUnimplemented,
                       HasSubstr("fortran_f32.npy: the array is stored in Fortran order; kiln "
                                 "reads C order only")));
}

// ---- Writing ----------------------------------------------------------------

TEST(NpyTest, RoundTripsEachDType) {
  ScratchDir dir;
  const std::vector<float> f32 = {1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, 7.0f};
  const std::vector<uint16_t> f16 = {ir::f32_to_f16(0.5f), ir::f32_to_f16(-4.0f)};
  const std::vector<int32_t> i32 = {-7, 0, 2147483647};

  ASSERT_THAT(write_npy(dir.file("a.npy"), ir::DType::f32, {2, 3}, f32.data()), IsOk());
  ASSERT_THAT(write_npy(dir.file("b.npy"), ir::DType::f16, {2}, f16.data()), IsOk());
  ASSERT_THAT(write_npy(dir.file("c.npy"), ir::DType::i32, {3}, i32.data()), IsOk());

  absl::StatusOr<TensorData> a = read_npy(dir.file("a.npy"));
  ASSERT_THAT(a, IsOk());
  EXPECT_THAT(a->shape, ElementsAre(2, 3));
  EXPECT_EQ(floats_of(*a), f32);
  absl::StatusOr<TensorData> b = read_npy(dir.file("b.npy"));
  ASSERT_THAT(b, IsOk());
  EXPECT_THAT(floats_of(*b), ElementsAre(0.5f, -4.0f));
  absl::StatusOr<TensorData> c = read_npy(dir.file("c.npy"));
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(ints_of(*c), i32);
}

TEST(NpyTest, WritesTheHeaderNumpyWrites) {
  ScratchDir dir;
  const std::vector<float> values = {0, 0.25f, 0.5f, 0.75f, 1, 1.25f};
  ASSERT_THAT(write_npy(dir.file("arange_f32.npy"), ir::DType::f32, {2, 3}, values.data()), IsOk());
  absl::StatusOr<std::shared_ptr<const MappedFile>> ours =
      MappedFile::open(dir.file("arange_f32.npy"));
  ASSERT_THAT(ours, IsOk());
  EXPECT_THAT((*ours)->bytes(), ::testing::ElementsAreArray(fixture_bytes("arange_f32.npy")));
}

TEST(NpyTest, NumpyLoadsWhatKilnWrites) {
  const std::string python = KILN_PYTHON;
  if (python.empty() || std::system((python + " -c 'import numpy'").c_str()) != 0) {
    GTEST_SKIP() << "no Python with NumPy";
  }
  ScratchDir dir;
  const std::vector<uint16_t> f16 = {ir::f32_to_f16(1.0f), ir::f32_to_f16(-0.5f),
                                     ir::f32_to_f16(2.0f)};
  const std::vector<int32_t> scalar = {42};
  ASSERT_THAT(write_npy(dir.file("h.npy"), ir::DType::f16, {3, 1}, f16.data()), IsOk());
  ASSERT_THAT(write_npy(dir.file("s.npy"), ir::DType::i32, {}, scalar.data()), IsOk());
  const std::string check = absl::StrCat(
      python, " -c 'import numpy as np, sys; h = np.load(sys.argv[1]); s = np.load(sys.argv[2]); ",
      "assert h.dtype == \"<f2\" and h.shape == (3, 1) and h.ravel().tolist() == [1, -0.5, 2]; ",
      "assert s.dtype == \"<i4\" and s.shape == () and s == 42' ", dir.file("h.npy"), " ",
      dir.file("s.npy"));
  EXPECT_EQ(std::system(check.c_str()), 0);
}

TEST(NpyTest, WriteRefusesBf16) {
  ScratchDir dir;
  const uint16_t value = 0;
  EXPECT_THAT(write_npy(dir.file("x.npy"), ir::DType::bf16, {1}, &value),
              StatusIs(kInvalid, HasSubstr("x.npy: npy has no bf16 type")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.npy")));
}

TEST(NpyTest, WriteRefusesAnOverflowingShape) {
  ScratchDir dir;
  EXPECT_THAT(write_npy(dir.file("x.npy"), ir::DType::f32, {int64_t{1} << 62, 4}, nullptr),
              StatusIs(kInvalid, HasSubstr("cannot write shape [4611686018427387904, 4]")));
}

// ---- Malformed files ---------------------------------------------------------

TEST(NpyTest, RefusesWrongMagic) {
  EXPECT_THAT(read_image({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}),
              StatusIs(kInvalid, "x.npy: not a .npy file: the magic is not \"\\x93NUMPY\""));
}

TEST(NpyTest, RefusesTruncatedPreamble) {
  EXPECT_THAT(read_image({0x93, 'N', 'U', 'M', 'P', 'Y', 1}),
              StatusIs(kInvalid,
                       "x.npy: truncated reading the version at offset 6: needs 2 "
                       "bytes, 1 remain"));
}

TEST(NpyTest, RefusesUnknownVersion) {
  std::vector<uint8_t> bytes = fixture_bytes("arange_f32.npy");
  bytes[6] = 4;
  EXPECT_THAT(read_image(bytes),
              StatusIs(kUnimplemented, "x.npy: .npy format version 4.0, expected 1.0, 2.0 or 3.0"));
}

TEST(NpyTest, RefusesTruncatedHeader) {
  std::vector<uint8_t> bytes = fixture_bytes("arange_f32.npy");
  bytes.resize(40);
  EXPECT_THAT(read_image(bytes),
              StatusIs(kInvalid,
                       "x.npy: truncated reading the header at offset 10: needs 118 "
                       "bytes, 30 remain"));
}

TEST(NpyTest, RefusesDataShorterThanTheShape) {
  std::vector<uint8_t> bytes = fixture_bytes("arange_f32.npy");
  bytes.resize(bytes.size() - 4);
  EXPECT_THAT(read_image(bytes),
              StatusIs(kInvalid,
                       "x.npy: tensor 'x': data [offset 128, 24 bytes) lies outside "
                       "the file (148 bytes)"));
}

TEST(NpyTest, CopiesMisalignedData) {
  // A header without numpy's padding puts the data at offset 67.
  std::vector<uint8_t> data(4);
  const float value = 1.5f;
  std::memcpy(data.data(), &value, sizeof(value));
  absl::StatusOr<TensorData> tensor = read_image(
      npy_image("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", std::move(data)));
  ASSERT_THAT(tensor, IsOk());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(tensor->data) % alignof(float), 0u);
  EXPECT_THAT(floats_of(*tensor), ElementsAre(1.5f));
}

TEST(NpyTest, RefusesMissingKey) {
  EXPECT_THAT(read_image(npy_image("{'descr': '<f4', 'shape': (1,), }")),
              StatusIs(kInvalid, "x.npy: header has no 'fortran_order'"));
}

TEST(NpyTest, RefusesUnknownAndRepeatedKeys) {
  EXPECT_THAT(read_image(npy_image("{'descr': '<f4', 'order': 'C'}")),
              StatusIs(kInvalid,
                       "x.npy: header has key 'order', expected only 'descr', "
                       "'fortran_order', 'shape'"));
  EXPECT_THAT(read_image(npy_image("{'descr': '<f4', 'descr': '<f4'}")),
              StatusIs(kInvalid, "x.npy: header repeats 'descr'"));
}

TEST(NpyTest, RefusesMalformedDict) {
  EXPECT_THAT(read_image(npy_image("{'descr' '<f4'}")),
              StatusIs(kInvalid,
                       "x.npy: malformed header: expected ':' at character 9, found "
                       "'\\''"));
  EXPECT_THAT(read_image(npy_image("{'descr': '<f4', 'fortran_order': Maybe}")),
              StatusIs(kInvalid, HasSubstr("expected True or False at character 34, found 'M'")));
  EXPECT_THAT(read_image(npy_image("{'shape': (2, x)}")),
              StatusIs(kInvalid, HasSubstr("expected a dimension at character 14")));
  EXPECT_THAT(read_image(npy_image("{'descr': '<f4', 'fortran_order': False, 'shape': ()} x")),
              StatusIs(kInvalid, HasSubstr("expected the end of the header")));
}

TEST(NpyTest, RefusesDimensionPast2To63) {
  EXPECT_THAT(read_image(npy_image("{'shape': (9223372036854775808,)}")),
              StatusIs(kInvalid, HasSubstr("expected a dimension below 2^63 at character 11")));
}

TEST(NpyTest, RefusesShapeWhoseByteSizeOverflows) {
  EXPECT_THAT(
      read_image(npy_image(
          "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4)}    \n")),
      StatusIs(kInvalid, "x.npy: tensor 'x': shape [4611686018427387904, 4] of f32 overflows"));
}

}  // namespace
}  // namespace kiln::frontend
