#include "frontend/mapped_file.h"

#include <cstdint>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/frontend/scratch_dir.h"
#include "tests/frontend/status_matchers.h"

namespace kiln::frontend {
namespace {

using ::kiln::testing::IsOk;
using ::kiln::testing::ScratchDir;
using ::kiln::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(MappedFileTest, MapsTheWholeFile) {
  ScratchDir dir;
  const std::string path = dir.write("bytes.bin", std::vector<uint8_t>{1, 2, 3});
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::open(path);
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ((*file)->path(), path);
  EXPECT_THAT((*file)->bytes(), ElementsAre(1, 2, 3));
}

TEST(MappedFileTest, EmptyFileHasNoBytes) {
  ScratchDir dir;
  const std::string path = dir.write("empty.bin", {});
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::open(path);
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ((*file)->size(), 0u);
}

TEST(MappedFileTest, MissingFileIsNotFound) {
  ScratchDir dir;
  const std::string path = dir.file("absent.gguf");
  EXPECT_THAT(MappedFile::open(path),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path + ": cannot open")));
}

TEST(MappedFileTest, DirectoryIsRefused) {
  ScratchDir dir;
  const std::string path = dir.file("");
  EXPECT_THAT(MappedFile::open(path),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a regular file")));
}

TEST(MappedFileTest, CheckRangeNamesWhatLiesOutside) {
  const auto file = MappedFile::from_bytes("model.gguf", std::vector<uint8_t>(2048));
  EXPECT_THAT(file->check_range(1024, 1024, "tensor 'a'"), IsOk());
  EXPECT_THAT(file->check_range(1024, 4096, "tensor 'blk.0.attn_q.weight'"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "model.gguf: tensor 'blk.0.attn_q.weight': data [offset 1024, 4096 "
                       "bytes) lies outside the file (2048 bytes)"));
}

TEST(MappedFileTest, CheckRangeRefusesAnOverflowingEnd) {
  const auto file = MappedFile::from_bytes("x.bin", std::vector<uint8_t>(16));
  EXPECT_THAT(file->check_range(8, std::numeric_limits<uint64_t>::max() - 4, "tensor 'w'"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lies outside the file")));
}

}  // namespace
}  // namespace kiln::frontend
