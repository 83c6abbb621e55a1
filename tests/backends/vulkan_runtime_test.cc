// The plugin's runtime contracts: steady-state steps take one submit, no
// allocation and one readback; the pipeline cache persists and survives a
// corrupt file; --profile times every dispatch; refusals name what was
// asked for.

#include <filesystem>
#include <fstream>

#include "tests/backends/vulkan_fixture.h"

namespace kiln::backends::vulkan::testing {
namespace {

// A small decode-like Program: x -> rmsnorm -> matmul (gemv) -> argmax.
std::string decode_program(const std::string& matmul_variant = "gemv") {
  ProgramBuilder b;
  b.slot("T", 1);
  TensorRef x = b.arena(DType::f32, {Dim::fixed(1), Dim::fixed(45)});
  TensorRef g = b.weight("g", DType::f32, {45});
  TensorRef w = b.weight("w", DType::f16, {45, 101});
  TensorRef h = b.arena(DType::f32, {Dim::fixed(1), Dim::fixed(45)});
  TensorRef logits = b.arena(DType::f32, {Dim::fixed(1), Dim::fixed(101)});
  TensorRef id = b.arena(DType::i32, {Dim::fixed(1)});
  b.input("x", x);
  b.output("id", id);
  b.dispatch("rmsnorm", "reference", {real("eps", 1e-5)}, {x, g}, {h});
  b.dispatch("matmul", matmul_variant, {boolean("transpose_b", false)}, {h, w}, {logits});
  b.dispatch("argmax", "reference", {}, {logits}, {id});
  return b.json();
}

std::vector<std::vector<uint8_t>> decode_weights() {
  return {bytes_of(random_values(45, 1), DType::f32), bytes_of(random_values(45 * 101, 2), DType::f16)};
}

TEST_F(VulkanTest, SteadyStateStepIsOneSubmitNoAllocationOneReadback) {
  ASSERT_EQ(load(decode_program(), decode_weights()), KILN_OK) << error_.message;
  std::vector<std::vector<uint8_t>> out = {std::vector<uint8_t>(4)};
  ASSERT_EQ(step({1}, {bytes_of(random_values(45, 3), DType::f32)}, out), KILN_OK) << error_.message;
  const kiln_counters before = counters();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(step({1}, {bytes_of(random_values(45, 4 + i), DType::f32)}, out), KILN_OK) << error_.message;
  }
  const kiln_counters after = counters();
  EXPECT_EQ(after.steps - before.steps, 5u);
  EXPECT_EQ(after.submits - before.submits, 5u);
  EXPECT_EQ(after.allocations - before.allocations, 0u);
  EXPECT_EQ(after.readbacks - before.readbacks, 5u);
  EXPECT_EQ(after.dispatches - before.dispatches, 15u);
  EXPECT_EQ(after.bytes_from_device - before.bytes_from_device, 5u * 4);
  EXPECT_EQ(after.builds - before.builds, 0u);
}

TEST_F(VulkanTest, RefusesAKernelItLacksNamingKernelAndVariant) {
  EXPECT_EQ(load(decode_program("wmma")), KILN_ERROR_UNIMPLEMENTED);
  EXPECT_NE(std::string(error_.message).find("matmul"), std::string::npos) << error_.message;
  EXPECT_NE(std::string(error_.message).find("wmma"), std::string::npos) << error_.message;
}

TEST_F(VulkanTest, RefusesADispatchWithoutAConstantItsKernelReads) {
  ProgramBuilder b;
  TensorRef x = b.arena(DType::f32, {Dim::fixed(3), Dim::fixed(5)});
  TensorRef y = b.arena(DType::f32, {Dim::fixed(3), Dim::fixed(5)});
  b.input("x", x);
  b.output("y", y);
  b.dispatch("scale", "reference", {real("factor", 2)}, {x}, {y});
  EXPECT_EQ(load(b.json()), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(error_.message).find("'scale'"), std::string::npos) << error_.message;
}

TEST_F(VulkanTest, RunBeforeBindIsAnError) {
  const std::string json = decode_program();
  ASSERT_EQ(api_->compile(device_, json.data(), json.size(), &executable_, &error_), KILN_OK) << error_.message;
  std::vector<std::vector<uint8_t>> out = {std::vector<uint8_t>(4)};
  EXPECT_EQ(step({1}, {bytes_of(random_values(45, 3), DType::f32)}, out), KILN_ERROR_FAILED_PRECONDITION);
}

class VulkanCacheTest : public VulkanTest {
 protected:
  void SetUp() override {
    cache_dir_ = (std::filesystem::temp_directory_path() / ("kiln-vulkan-cache-" + std::to_string(getpid()))).string();
    std::filesystem::remove_all(cache_dir_);
    VulkanTest::SetUp();
  }
  void TearDown() override {
    VulkanTest::TearDown();
    std::filesystem::remove_all(cache_dir_);
  }
  std::vector<std::filesystem::path> cache_files() {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(cache_dir_)) files.push_back(entry.path());
    return files;
  }
};

TEST_F(VulkanCacheTest, PersistsAndIgnoresACorruptFile) {
  ASSERT_EQ(load(decode_program(), decode_weights()), KILN_OK) << error_.message;
  EXPECT_GT(counters().builds, 0u);
  std::vector<std::filesystem::path> files = cache_files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].filename().string().rfind("vulkan-", 0), 0u) << files[0];

  // A second device on the same cache directory loads it; a corrupt file is
  // ignored and the Program still runs.
  release();
  api_->destroy_device(device_);
  device_ = nullptr;
  std::ofstream(files[0], std::ios::binary | std::ios::trunc) << "not a pipeline cache";
  kiln_device_options options{sizeof options, cache_dir_.c_str(), 0, 0};
  ASSERT_EQ(api_->create_device(0, &options, &device_, &error_), KILN_OK) << error_.message;
  ASSERT_EQ(load(decode_program(), decode_weights()), KILN_OK) << error_.message;
  std::vector<std::vector<uint8_t>> out = {std::vector<uint8_t>(4)};
  EXPECT_EQ(step({1}, {bytes_of(random_values(45, 3), DType::f32)}, out), KILN_OK) << error_.message;
}

class VulkanProfileTest : public VulkanTest {
 protected:
  void SetUp() override {
    profile_ = 1;
    VulkanTest::SetUp();
  }
};

TEST_F(VulkanProfileTest, TimesEveryDispatch) {
  ASSERT_EQ(load(decode_program(), decode_weights()), KILN_OK) << error_.message;
  std::vector<std::vector<uint8_t>> out = {std::vector<uint8_t>(4)};
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(step({1}, {bytes_of(random_values(45, 3), DType::f32)}, out), KILN_OK) << error_.message;
  }
  kiln_profile_entry entries[8];
  uint32_t count = 0;
  ASSERT_EQ(api_->get_profile(executable_, entries, 8, &count, &error_), KILN_OK) << error_.message;
  ASSERT_EQ(count, 3u);
  for (uint32_t i = 0; i < count; ++i) {
    EXPECT_EQ(entries[i].dispatch, i);
    EXPECT_EQ(entries[i].runs, 3u);
  }
}

}  // namespace
}  // namespace kiln::backends::vulkan::testing
