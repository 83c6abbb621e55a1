#include "frontend/atomic_write.h"

#include <cstdint>
#include <filesystem>
#include <iterator>
#include <vector>

#include "frontend/mapped_file.h"
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

TEST(AtomicWriteTest, ReplacesTheFileWithAllPieces) {
  ScratchDir dir;
  const std::string path = dir.write("out.bin", std::vector<uint8_t>{9, 9, 9, 9, 9});
  const std::vector<uint8_t> head = {1, 2};
  const std::vector<uint8_t> tail = {3};
  ASSERT_THAT(write_file_atomically(path, {head, tail}), IsOk());
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::open(path);
  ASSERT_THAT(file, IsOk());
  EXPECT_THAT((*file)->bytes(), ElementsAre(1, 2, 3));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.file("")),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(AtomicWriteTest, FailedRenameRemovesTheTemporaryFile) {
  ScratchDir dir;
  const std::string path = dir.file("a_directory");
  std::filesystem::create_directory(path);
  const std::vector<uint8_t> bytes = {1};
  EXPECT_THAT(write_file_atomically(path, {bytes}), StatusIs(absl::StatusCode::kFailedPrecondition,
                                                             HasSubstr(path + ": cannot replace")));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.file("")),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(AtomicWriteTest, UncreatableFileIsAnError) {
  ScratchDir dir;
  const std::string path = dir.file("missing_folder/out.bin");
  const std::vector<uint8_t> bytes = {1};
  EXPECT_THAT(write_file_atomically(path, {bytes}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path + ": cannot create")));
  EXPECT_TRUE(std::filesystem::is_empty(dir.file("")));
}

}  // namespace
}  // namespace kiln::frontend
