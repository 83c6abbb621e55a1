#include "frontend/atomic_write.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <sstream>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/frontend/scratch_dir.h"
#include "tests/frontend/status_matchers.h"

namespace kiln::frontend {
namespace {

namespace fs = std::filesystem;
using ::kiln::testing::IsOk;
using ::kiln::testing::ScratchDir;
using ::kiln::testing::StatusIs;
using ::testing::HasSubstr;

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

size_t entries(const ScratchDir& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir.file("")), fs::directory_iterator()));
}

TEST(AtomicWriteTest, ReplacesAFileWithAllPiecesKeepingItsPermissions) {
  ScratchDir dir;
  const std::string path = dir.write_text("out.bin", "old contents");
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  ASSERT_THAT(write_file_atomically(path, {bytes_of("ab"), bytes_of("c")}), IsOk());
  EXPECT_EQ(read_all(path), "abc");
  EXPECT_EQ(fs::status(path).permissions(), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(entries(dir), 1u);
}

TEST(AtomicWriteTest, CreatesAMissingFile) {
  ScratchDir dir;
  ASSERT_THAT(write_file_atomically(dir.file("new.bin"), {bytes_of("x")}), IsOk());
  EXPECT_EQ(read_all(dir.file("new.bin")), "x");
}

TEST(AtomicWriteTest, RefusesADirectoryAndCreatesNothing) {
  ScratchDir dir;
  const std::string path = dir.file("a_directory");
  fs::create_directory(path);
  EXPECT_THAT(write_file_atomically(path, {bytes_of("x")}),
              StatusIs(absl::StatusCode::kFailedPrecondition, path + ": is a directory; kiln writes regular files, "
                                                                     "character devices and FIFOs only"));
  EXPECT_THAT(check_writable(path), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is a directory")));
  EXPECT_TRUE(fs::is_directory(path));
  EXPECT_EQ(entries(dir), 1u);
}

TEST(AtomicWriteTest, UncreatableFileIsAnError) {
  ScratchDir dir;
  const std::string path = dir.file("missing_folder/out.bin");
  EXPECT_THAT(write_file_atomically(path, {bytes_of("x")}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path + ": cannot create")));
  EXPECT_THAT(check_writable(path), StatusIs(absl::StatusCode::kNotFound, HasSubstr(path + ": cannot create")));
  EXPECT_TRUE(fs::is_empty(dir.file("")));
}

// The README's `-o /dev/null` run as root once replaced the system's
// /dev/null with a regular file. As root, a null device made in the scratch
// folder stands in for it; otherwise /dev/null itself (which an ordinary
// user cannot replace anyway, so the test cannot harm it).
TEST(AtomicWriteTest, WritesACharacterDeviceInPlace) {
  ScratchDir dir;
  std::string device = "/dev/null";
  if (::geteuid() == 0) {
    device = dir.file("null");
    ASSERT_EQ(::mknod(device.c_str(), S_IFCHR | 0666, makedev(1, 3)), 0) << std::strerror(errno);
  }
  ASSERT_THAT(check_writable(device), IsOk());
  ASSERT_THAT(write_file_atomically(device, {bytes_of("discarded")}), IsOk());
  EXPECT_TRUE(fs::is_character_file(device));
  EXPECT_EQ(entries(dir), ::geteuid() == 0 ? 1u : 0u);  // no temporary file left beside it
}

TEST(AtomicWriteTest, WritesAFifoInPlace) {
  ScratchDir dir;
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::future<std::string> received = std::async(std::launch::async, [&fifo] { return read_all(fifo); });
  ASSERT_THAT(write_file_atomically(fifo, {bytes_of("through "), bytes_of("the pipe")}), IsOk());
  EXPECT_EQ(received.get(), "through the pipe");
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_EQ(entries(dir), 1u);
}

TEST(AtomicWriteTest, FollowsSymlinksAndKeepsThem) {
  ScratchDir dir;
  fs::create_directory(dir.file("real"));
  const std::string target = dir.write_text("real/out.json", "old");
  fs::create_symlink("real/out.json", dir.file("link"));  // relative, resolved from the link's folder
  fs::create_symlink(dir.file("link"), dir.file("link_to_link"));
  ASSERT_THAT(write_file_atomically(dir.file("link_to_link"), {bytes_of("new")}), IsOk());
  EXPECT_TRUE(fs::is_symlink(dir.file("link")));
  EXPECT_TRUE(fs::is_symlink(dir.file("link_to_link")));
  EXPECT_EQ(read_all(target), "new");
  EXPECT_EQ(entries(dir), 3u);

  fs::create_symlink("real/created.json", dir.file("dangling"));
  ASSERT_THAT(write_file_atomically(dir.file("dangling"), {bytes_of("made")}), IsOk());
  EXPECT_TRUE(fs::is_symlink(dir.file("dangling")));
  EXPECT_EQ(read_all(dir.file("real/created.json")), "made");
}

TEST(AtomicWriteTest, SymlinkLoopIsAnError) {
  ScratchDir dir;
  fs::create_symlink("b", dir.file("a"));
  fs::create_symlink("a", dir.file("b"));
  EXPECT_THAT(write_file_atomically(dir.file("a"), {bytes_of("x")}).message(),
              HasSubstr(dir.file("a") + ": cannot resolve"));
}

}  // namespace
}  // namespace kiln::frontend
