// The OpenCL plugin's contracts beyond the kernels: probe, the counters of a
// decode-like step (1 submit, 0 allocations, 1 readback per step), the
// program cache (0 builds when warm, a corrupt entry rebuilt), profiling,
// and the errors (a missing kernel, a buffer past the device's largest,
// a build failure with its log, run before bind).

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/backends/opencl_test_support.h"

namespace kiln::backends::opencl_testing {
namespace {

using program::DType;
using ::testing::HasSubstr;

class OpenclPluginTest : public ::testing::Test {
 protected:
  void SetUp() override { KILN_REQUIRE_OPENCL(); }
};

// A one-layer decode step in miniature: embedding, rmsnorm, gemv, argmax.
ProgramBuilder decode_program() {
  ProgramBuilder b;
  b.slot("T", 1);
  const auto ids = b.arena(DType::i32, {b.dim("T")});
  const auto table = b.weight("table", DType::f16, {50, 24});
  const auto g = b.weight("g", DType::f32, {24});
  const auto head = b.weight("head", DType::f16, {50, 24});
  const auto x = b.arena(DType::f32, {b.dim("T"), b.dim(24)});
  const auto h = b.arena(DType::f32, {b.dim("T"), b.dim(24)});
  const auto logits = b.arena(DType::f32, {b.dim("T"), b.dim(50)});
  const auto next = b.arena(DType::i32, {b.dim("T")});
  b.input("ids", ids);
  b.output("next", next);
  b.dispatch("embedding", "gather", {}, {table, ids}, {x});
  b.dispatch("rmsnorm", "workgroup", {real_constant("eps", 1e-5)}, {x, g}, {h});
  b.dispatch("matmul", "gemv", {bool_constant("transpose_b", true)}, {h, head}, {logits});
  b.dispatch("argmax", "workgroup", {}, {logits}, {next});
  return b;
}

std::vector<std::vector<uint8_t>> decode_weights() {
  return {encode(DType::f16, random_floats(1200, 80)), encode(DType::f32, random_floats(24, 81)),
          encode(DType::f16, random_floats(1200, 82))};
}

TEST_F(OpenclPluginTest, ProbeListsDevicesWithCapabilities) {
  const kiln_backend_api* api = plugin_api();
  EXPECT_STREQ(api->name, "opencl");
  EXPECT_EQ(api->abi_version, KILN_BACKEND_ABI_VERSION);
  kiln_capabilities caps[4]{};
  for (kiln_capabilities& c : caps) c.struct_size = sizeof c;
  uint32_t count = 0;
  kiln_error error{};
  ASSERT_EQ(api->probe(caps, 4, &count, &error), KILN_OK) << error.message;
  ASSERT_GE(count, 1u);
  EXPECT_GT(std::string(caps[0].device_name).size(), 0u);
  EXPECT_GT(caps[0].max_buffer_bytes, 0u);
  EXPECT_GE(caps[0].max_workgroup_size, 256u);
  EXPECT_EQ(caps[0].f16_storage, 1);
  EXPECT_LE(caps[0].subgroup_size_min, caps[0].subgroup_size_max);
}

TEST_F(OpenclPluginTest, DecodeStepsAllocateNothingAndReadBackOnce) {
  OpenclRun run;
  ASSERT_TRUE(run.compile(decode_program(), decode_weights()).ok());
  ASSERT_TRUE(run.run({1}, {encode(DType::i32, {7})}).ok());
  const kiln_counters before = run.counters();
  int32_t token = 7;
  for (int i = 0; i < 5; ++i) {
    auto out = run.run({1}, {encode(DType::i32, {static_cast<float>(token)})});
    ASSERT_TRUE(out.ok()) << out.status();
    token = static_cast<int32_t>(decode(DType::i32, (*out)[0])[0]);
    ASSERT_GE(token, 0);
    ASSERT_LT(token, 50);
  }
  const kiln_counters after = run.counters();
  EXPECT_EQ(after.steps - before.steps, 5u);
  EXPECT_EQ(after.submits - before.submits, 5u);
  EXPECT_EQ(after.readbacks - before.readbacks, 5u);
  EXPECT_EQ(after.allocations, before.allocations);
  EXPECT_EQ(after.builds, before.builds);
  EXPECT_EQ(after.dispatches - before.dispatches, 20u);
  EXPECT_EQ(after.bytes_from_device - before.bytes_from_device, 5u * 4);
  EXPECT_EQ(after.bytes_to_device - before.bytes_to_device, 5u * 4);
}

TEST_F(OpenclPluginTest, WarmCacheBuildsNothingAndACorruptEntryIsRebuilt) {
  const std::string dir = ::testing::TempDir() + "kiln-opencl-cache-test";
  std::filesystem::remove_all(dir);
  {
    OpenclRun cold(0, dir);
    ASSERT_TRUE(cold.compile(decode_program(), decode_weights()).ok());
    EXPECT_EQ(cold.counters().builds, 4u);
  }
  {
    OpenclRun warm(0, dir);
    ASSERT_TRUE(warm.compile(decode_program(), decode_weights()).ok());
    EXPECT_EQ(warm.counters().builds, 0u);
  }
  std::vector<std::filesystem::path> entries;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/opencl")) entries.push_back(entry.path());
  ASSERT_EQ(entries.size(), 4u);
  std::ofstream(entries[0], std::ios::binary | std::ios::trunc) << "KILNCL01 truncated";
  ::testing::internal::CaptureStderr();
  OpenclRun rebuilt(0, dir);
  ASSERT_TRUE(rebuilt.compile(decode_program(), decode_weights()).ok());
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("rebuilding"));
  EXPECT_EQ(rebuilt.counters().builds, 1u);
  auto out = rebuilt.run({1}, {encode(DType::i32, {3})});
  ASSERT_TRUE(out.ok()) << out.status();
  std::filesystem::remove_all(dir);
}

TEST_F(OpenclPluginTest, ProfileSumsEachDispatch) {
  OpenclRun run(1);
  ASSERT_TRUE(run.compile(decode_program(), decode_weights()).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(run.run({1}, {encode(DType::i32, {1})}).ok());
  kiln_profile_entry entries[4]{};
  uint32_t count = 0;
  kiln_error error{};
  ASSERT_EQ(run.api().get_profile(run.executable(), entries, 4, &count, &error), KILN_OK) << error.message;
  ASSERT_EQ(count, 4u);
  for (uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(entries[i].dispatch, i);
    EXPECT_EQ(entries[i].runs, 3u);
  }
}

TEST_F(OpenclPluginTest, ProfileIsRefusedWhenOff) {
  OpenclRun run;
  ASSERT_TRUE(run.compile(decode_program(), decode_weights()).ok());
  uint32_t count = 0;
  kiln_error error{};
  EXPECT_EQ(run.api().get_profile(run.executable(), nullptr, 0, &count, &error), KILN_ERROR_FAILED_PRECONDITION);
  EXPECT_THAT(std::string(error.message), HasSubstr("profiling is off"));
}

TEST_F(OpenclPluginTest, RefusesAKernelItLacksNamingKernelAndVariant) {
  ProgramBuilder b;
  const auto x = b.arena(DType::f32, {b.dim(4), b.dim(4)});
  const auto y = b.arena(DType::f32, {b.dim(4), b.dim(4)});
  b.input("x", x);
  b.output("y", y);
  b.dispatch("softmax", "subgroup", {int_constant("axis", -1)}, {x}, {y});
  OpenclRun run;
  const absl::Status status = run.compile(b);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(status.message()), HasSubstr("no kernel 'softmax' with variant 'subgroup'"));
}

// gemv_subgroup where the device reports subgroups: the product of one row,
// 40 outputs over 2 work-groups; elsewhere (NVIDIA's OpenCL, PoCL 3) a
// forced subgroup variant is refused naming the kernel.
TEST_F(OpenclPluginTest, ASubgroupVariantRunsOnlyWhereTheDeviceReportsSubgroups) {
  kiln_capabilities caps{};
  caps.struct_size = sizeof caps;
  uint32_t count = 0;
  kiln_error error{};
  ASSERT_EQ(plugin_api()->probe(&caps, 1, &count, &error), KILN_OK) << error.message;
  constexpr int64_t kN = 40, kK = 48;
  ProgramBuilder b;
  const auto x = b.arena(DType::f32, {b.dim(1), b.dim(kK)});
  const auto w = b.weight("w", DType::f32, {kN, kK});
  const auto y = b.arena(DType::f32, {b.dim(1), b.dim(kN)});
  b.input("x", x);
  b.output("y", y);
  b.dispatch("matmul", "gemv_subgroup", {bool_constant("transpose_b", true)}, {x, w}, {y});
  const std::vector<float> xs = random_floats(kK, 11), ws = random_floats(kN * kK, 12);
  OpenclRun run;
  const absl::Status status = run.compile(b, {encode(DType::f32, ws)});
  if (caps.subgroup_size_min == 0) {
    EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
    EXPECT_THAT(std::string(status.message()), HasSubstr("matmul_gemv_subgroup needs subgroups"));
    return;
  }
  ASSERT_TRUE(status.ok()) << status;
  auto out = run.run({}, {encode(DType::f32, xs)});
  ASSERT_TRUE(out.ok()) << out.status();
  const std::vector<float> ys = decode(DType::f32, (*out)[0]);
  for (int64_t n = 0; n < kN; ++n) {
    double expected = 0;
    for (int64_t k = 0; k < kK; ++k) expected += static_cast<double>(xs[k]) * ws[n * kK + k];
    EXPECT_NEAR(ys[n], expected, 1e-4) << "output " << n << ", subgroup size " << caps.subgroup_size_min;
  }
}

TEST_F(OpenclPluginTest, RefusesABufferLargerThanTheDevicesLargest) {
  ProgramBuilder b;
  const auto x = b.arena(DType::f32, {b.dim(4)});
  const auto y = b.arena(DType::f32, {b.dim(4)});
  b.input("x", x);
  b.output("y", y);
  b.dispatch("relu", "elementwise", {}, {x}, {y});
  b.program().arena_bytes = int64_t{1} << 50;
  OpenclRun run;
  const absl::Status status = run.compile(b);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(status.message()), HasSubstr("the arena needs"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("CL_DEVICE_MAX_MEM_ALLOC_SIZE"));
}

TEST_F(OpenclPluginTest, ABuildFailureCarriesTheKernelNameAndItsLog) {
  // rope without its step parameter 'past' stops at the kernel's #error.
  ProgramBuilder b;
  const auto x = b.arena(DType::f32, {b.dim(2), b.dim(1), b.dim(4)});
  b.input("x", x);
  b.output("x", x);
  b.dispatch("rope", "elementwise",
             {real_constant("theta", 1e4), int_constant("rotary_dim", 4), bool_constant("interleaved", false),
              real_constant("scaling_factor", 1), real_constant("scaling_low_freq_factor", 1),
              real_constant("scaling_high_freq_factor", 4), int_constant("scaling_original_context", 0)},
             {x}, {x});
  OpenclRun run(0, "");
  const absl::Status status = run.compile(b);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("rope_elementwise"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("needs the step parameter 'past'"));
}

TEST_F(OpenclPluginTest, RunBeforeBindIsRefused) {
  const std::string json = decode_program().json();
  const kiln_backend_api* api = plugin_api();
  kiln_device* device = nullptr;
  kiln_error error{};
  ASSERT_EQ(api->create_device(0, nullptr, &device, &error), KILN_OK) << error.message;
  kiln_executable* executable = nullptr;
  ASSERT_EQ(api->compile(device, json.data(), json.size(), &executable, &error), KILN_OK) << error.message;
  const int64_t t = 1;
  kiln_step step{};
  step.struct_size = sizeof step;
  step.values = &t;
  step.value_count = 1;
  EXPECT_EQ(api->run(executable, &step, &error), KILN_ERROR_FAILED_PRECONDITION);
  EXPECT_THAT(std::string(error.message), HasSubstr("bind"));
  api->destroy_executable(executable);
  api->destroy_device(device);
}

}  // namespace
}  // namespace kiln::backends::opencl_testing
