// The cpu plugin's executable through the Backend wrapper and through the C
// ABI itself: step uniforms, region bounds, weights, counters, sharing, and
// the errors each refuses with. The Programs are written by hand, so these
// tests hold whatever the passes emit.

#include <cstring>
#include <vector>

#include "backends/backend_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "passes/program_json.h"
#include "tests/backends/backend_test_support.h"

namespace kiln::backends {
namespace {

using ::testing::HasSubstr;
using passes::Region;

const ir::Dim kT = ir::Dim::symbol("T");
const ir::Dim kP = ir::Dim::symbol("P");

template <typename T>
std::span<const uint8_t> bytes_of(const std::vector<T>& values) {
  return {reinterpret_cast<const uint8_t*>(values.data()), values.size() * sizeof(T)};
}

template <typename T>
std::span<uint8_t> bytes_of(std::vector<T>& values) {
  return {reinterpret_cast<uint8_t*>(values.data()), values.size() * sizeof(T)};
}

passes::Dispatch dispatch(std::string kernel, std::string node, ir::Attributes constants,
                          std::vector<passes::TensorRef> inputs, std::vector<passes::TensorRef> outputs) {
  passes::Dispatch d;
  d.kernel = std::move(kernel);
  d.node = std::move(node);
  d.constants = std::move(constants);
  d.inputs = std::move(inputs);
  d.outputs = std::move(outputs);
  d.work_size = d.outputs[0].shape;
  return d;
}

// y = scale(x) {scale = 2.0}, x: f32[T, 5] at arena 0, y at arena 256.
passes::Program scale_program() {
  passes::Program p;
  p.arena_bytes = 512;
  p.arena_lower_bound_bytes = 320;
  p.symbols = {{"T", 8}};
  const passes::TensorRef x{Region::arena, 0, -1, ir::DType::f32, {kT, 5}};
  const passes::TensorRef y{Region::arena, 256, -1, ir::DType::f32, {kT, 5}};
  p.inputs = {{"x", x}};
  p.outputs = {{"y", y}};
  p.dispatches = {dispatch("scale", "y", {{"scale", 2.0}}, {x}, {y})};
  p.dispatches[0].uniforms = {"T"};
  return p;
}

// h = matmul(x, w) {transpose_b}, x: f32[T, 5], w: f32[3, 5];
// c = kv_write(cache, h viewed as [T, 1, 3]), cache: f32[8, 1, 3] state.
passes::Program cache_program() {
  passes::Program p;
  p.arena_bytes = 512;
  p.arena_lower_bound_bytes = 96;
  p.state_bytes = 256;
  p.symbols = {{"P", 8}, {"T", 4}};
  p.weights = {{"w", ir::DType::f32, {3, 5}, 60, "test"}};
  const passes::TensorRef x{Region::arena, 0, -1, ir::DType::f32, {kT, 5}};
  const passes::TensorRef w{Region::weight, 0, 0, ir::DType::f32, {3, 5}};
  const passes::TensorRef h{Region::arena, 256, -1, ir::DType::f32, {kT, 3}};
  const passes::TensorRef h3{Region::arena, 256, -1, ir::DType::f32, {kT, 1, 3}};
  const passes::TensorRef cache{Region::state, 0, -1, ir::DType::f32, {8, 1, 3}};
  p.inputs = {{"x", x}};
  p.states = {{"cache", cache}};
  p.outputs = {{"h", h}};
  p.dispatches = {dispatch("matmul", "h", {{"transpose_b", true}}, {x, w}, {h}),
                  dispatch("kv_write", "c", {}, {cache, h3}, {cache})};
  return p;
}

const std::vector<float> kW = {1, 0, 0, 0, 0,  // row 0 picks x[:, 0]
                               0, 0, 0, 0, 1,  // row 1 picks x[:, 4]
                               1, 1, 1, 1, 1};  // row 2 sums the row

TEST(ExecutableTest, ReportsTheCpuDevice) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  EXPECT_EQ(cpu.name(), "cpu");
  EXPECT_EQ(cpu.capabilities().backend, "cpu");
  EXPECT_TRUE(cpu.capabilities().has_f16);
  EXPECT_EQ(cpu.capabilities().subgroup_size, 0);
  EXPECT_EQ(cpu.capabilities().shared_memory_bytes, 0);
  EXPECT_THAT(cpu.device_name(), HasSubstr("thread"));
}

TEST(ExecutableTest, RunsWithoutAllocatingAndCountsItsWork) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Executable> exe = cpu.compile(scale_program());
  ASSERT_TRUE(exe.ok()) << exe.status();
  EXPECT_EQ(exe->counters().allocations, 1u);  // the arena: no state, no weights

  const std::vector<float> x = {1, 2, 3, 4, 5, -1, -2, -3, -4, -5.5f, 0.25f, 0, 0, 0, 7};
  ASSERT_TRUE(exe->write(Region::arena, 0, bytes_of(x)).ok());
  ASSERT_TRUE(exe->run({{"T", 3}}).ok());
  std::vector<float> y(15);
  ASSERT_TRUE(exe->read(Region::arena, 256, bytes_of(y)).ok());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], 2 * x[i]) << i;
  ASSERT_TRUE(exe->run({{"T", 1}}).ok());

  const kiln_counters counters = exe->counters();
  EXPECT_EQ(counters.runs, 2u);
  EXPECT_EQ(counters.submits, 2u);
  EXPECT_EQ(counters.dispatches, 2u);  // one per run: the Program has one
  EXPECT_EQ(counters.allocations, 1u);
  EXPECT_EQ(counters.readbacks, 1u);
  EXPECT_EQ(counters.bytes_uploaded, 60u);
  EXPECT_EQ(counters.bytes_read, 60u);
  EXPECT_EQ(counters.pipeline_creations, 0u);
}

TEST(ExecutableTest, ADecodeStepAllocatesNothingAndDispatchesTheProgram) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  const passes::Program program = cache_program();
  absl::StatusOr<Executable> exe = cpu.compile(program);
  ASSERT_TRUE(exe.ok()) << exe.status();
  ASSERT_TRUE(exe->upload_weight(0, bytes_of(kW)).ok());
  const kiln_counters before = exe->counters();
  EXPECT_EQ(before.allocations, 3u);  // arena, state, one weight
  for (int64_t p = 0; p < 4; ++p) ASSERT_TRUE(exe->run({{"P", p}, {"T", 1}}).ok());
  const kiln_counters after = exe->counters();
  EXPECT_EQ(after.allocations, before.allocations);
  EXPECT_EQ(after.dispatches - before.dispatches, 4 * program.dispatches.size());
  EXPECT_EQ(after.submits - before.submits, 4u);
}

TEST(ExecutableTest, StateRowsPersistBetweenRuns) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Executable> exe = cpu.compile(cache_program());
  ASSERT_TRUE(exe.ok()) << exe.status();
  ASSERT_TRUE(exe->upload_weight(0, bytes_of(kW)).ok());
  const std::vector<float> prompt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  ASSERT_TRUE(exe->write(Region::arena, 0, bytes_of(prompt)).ok());
  ASSERT_TRUE(exe->run({{"P", 0}, {"T", 2}}).ok());
  const std::vector<float> next = {-1, 0, 0, 0, 2};
  ASSERT_TRUE(exe->write(Region::arena, 0, bytes_of(next)).ok());
  ASSERT_TRUE(exe->run({{"P", 2}, {"T", 1}}).ok());
  std::vector<float> cache(9);
  ASSERT_TRUE(exe->read(Region::state, 0, bytes_of(cache)).ok());
  EXPECT_THAT(cache, ::testing::ElementsAre(1, 5, 15, 6, 10, 40, -1, 2, 1));
}

TEST(ExecutableTest, RefusesMissingUnknownAndOutOfBoundUniforms) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Executable> exe = cpu.compile(scale_program());
  ASSERT_TRUE(exe.ok()) << exe.status();
  const struct {
    ir::SymbolValues step;
    absl::StatusCode code;
    std::string message;
  } cases[] = {
      {{}, absl::StatusCode::kInvalidArgument, "cpu: step symbol 'T' is not given; every run sets T"},
      {{{"T", 9}}, absl::StatusCode::kOutOfRange, "cpu: step symbol 'T' = 9 is outside [0, 8]"},
      {{{"T", -1}}, absl::StatusCode::kOutOfRange, "cpu: step symbol 'T' = -1 is outside [0, 8]"},
      {{{"T", 2}, {"Q", 1}}, absl::StatusCode::kInvalidArgument,
       "cpu: unknown step symbol 'Q'; this Program's symbols are: T"},
  };
  for (const auto& c : cases) {
    absl::Status status = exe->run(c.step);
    EXPECT_EQ(status.code(), c.code) << status;
    EXPECT_EQ(status.message(), c.message);
  }
  EXPECT_EQ(exe->counters().runs, 0u);
}

TEST(ExecutableTest, ReadsAndWritesOutsideARegionNameTheRegionAndRange) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Executable> exe = cpu.compile(scale_program());
  ASSERT_TRUE(exe.ok()) << exe.status();
  std::vector<float> four(4);
  absl::Status write = exe->write(Region::arena, 500, bytes_of(four));
  EXPECT_EQ(write.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(write.message(), "cpu: write of bytes [500, 516) is outside the arena (512 bytes)");
  absl::Status read = exe->read(Region::state, 0, bytes_of(four));
  EXPECT_EQ(read.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(read.message(), "cpu: read of bytes [0, 16) is outside the state region (0 bytes)");
  absl::Status weight = exe->write(Region::weight, 0, bytes_of(four));
  EXPECT_EQ(weight.message(), "weights are written with upload_weight, not write, and are never read back");
  EXPECT_TRUE(exe->write(Region::arena, 496, bytes_of(four)).ok());
  EXPECT_EQ(exe->counters().bytes_uploaded, 16u);
}

TEST(ExecutableTest, WeightsMustBeUploadedWhole) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Executable> exe = cpu.compile(cache_program());
  ASSERT_TRUE(exe.ok()) << exe.status();
  absl::Status early = exe->run({{"P", 0}, {"T", 1}});
  EXPECT_EQ(early.message(), "cpu: weight 0 ('w') has not been uploaded");
  const std::vector<float> two(2);
  EXPECT_EQ(exe->upload_weight(0, bytes_of(two)).message(), "cpu: weight 0 ('w', f32[3, 5]): expected 60 bytes, got 8");
  absl::Status index = exe->upload_weight(1, bytes_of(kW));
  EXPECT_EQ(index.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(index.message(), "cpu: weight index 1 is outside the weight table (1 entries)");
}

TEST(ExecutableTest, AKernelErrorNamesItsNode) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Executable> exe = cpu.compile(cache_program());
  ASSERT_TRUE(exe.ok()) << exe.status();
  ASSERT_TRUE(exe->upload_weight(0, bytes_of(kW)).ok());
  absl::Status status = exe->run({{"P", 6}, {"T", 3}});
  EXPECT_EQ(status.message(), "cpu: %c = kv_write: rows [6, 9) do not fit the cache's 8 rows");
  EXPECT_EQ(exe->counters().dispatches, 1u);  // matmul ran; kv_write refused
}

TEST(ExecutableTest, SharedExecutablesUseOneSetOfWeightsAndState) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Executable> prefill = cpu.compile(cache_program());
  ASSERT_TRUE(prefill.ok()) << prefill.status();
  absl::StatusOr<Executable> decode = cpu.compile(cache_program(), &*prefill);
  ASSERT_TRUE(decode.ok()) << decode.status();
  EXPECT_EQ(decode->counters().allocations, 1u);  // its own arena only
  ASSERT_TRUE(prefill->upload_weight(0, bytes_of(kW)).ok());
  const std::vector<float> x = {3, 0, 0, 0, 4};
  ASSERT_TRUE(decode->write(Region::arena, 0, bytes_of(x)).ok());
  ASSERT_TRUE(decode->run({{"P", 5}, {"T", 1}}).ok());
  std::vector<float> row(3);
  ASSERT_TRUE(prefill->read(Region::state, 5 * 3 * 4, bytes_of(row)).ok());
  EXPECT_THAT(row, ::testing::ElementsAre(3, 4, 7));
}

TEST(ExecutableTest, SharingNeedsEqualWeightTables) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Executable> first = cpu.compile(cache_program());
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<Executable> other = cpu.compile(scale_program(), &*first);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().message(), "cpu: share_with: its weight table differs from this Program's");
}

TEST(ExecutableTest, AnUnknownKernelFailsCompileNamingTheDispatch) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  passes::Program program = scale_program();
  program.dispatches[0].kernel = "frobnicate";
  absl::StatusOr<Executable> exe = cpu.compile(program);
  ASSERT_FALSE(exe.ok());
  EXPECT_EQ(exe.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(exe.status().message(), "cpu: dispatches[0] (%y = frobnicate): the cpu backend has no kernel 'frobnicate'");
}

TEST(ExecutableTest, ConstantsAreCheckedAgainstTheOpSchema) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  passes::Program missing = scale_program();
  missing.dispatches[0].constants.clear();
  EXPECT_EQ(cpu.compile(missing).status().message(), "cpu: dispatches[0] (%y = scale): missing constant 'scale'");
  passes::Program mistyped = scale_program();
  mistyped.dispatches[0].constants["scale"] = std::string("two");
  EXPECT_EQ(cpu.compile(mistyped).status().message(),
            "cpu: dispatches[0] (%y = scale): constant 'scale' must be a real");
  passes::Program integral = scale_program();
  integral.dispatches[0].constants["scale"] = int64_t{3};
  EXPECT_TRUE(cpu.compile(integral).ok());
}

// The C ABI without the wrapper: codes and messages in kiln_error, and what
// the wrapper cannot express (a malformed Program, a repeated uniform).
class CAbiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Backend> opened = testing::open_backend("cpu");
    ASSERT_TRUE(opened.ok()) << opened.status();
    absl::StatusOr<const PluginInfo*> plugin = Registry::global().find("cpu");
    ASSERT_TRUE(plugin.ok()) << plugin.status();
    api_ = (*plugin)->api;
    kiln_capabilities caps{};
    caps.struct_size = sizeof caps;
    ASSERT_EQ(api_->create_device(&device_, &caps, &error_), KILN_OK) << error_.message;
  }
  void TearDown() override {
    if (device_ != nullptr) api_->destroy_device(device_);
  }

  const kiln_backend_api* api_ = nullptr;
  kiln_device* device_ = nullptr;
  kiln_error error_{};
};

TEST_F(CAbiTest, AMalformedProgramIsAnErrorNotACrash) {
  kiln_executable* exe = nullptr;
  const char json[] = "{\"version\": 1, ";
  EXPECT_EQ(api_->compile(device_, json, sizeof json - 1, nullptr, &exe, &error_), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(error_.code, KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(error_.message, HasSubstr("malformed JSON"));
  EXPECT_EQ(exe, nullptr);
}

TEST_F(CAbiTest, ARepeatedUniformIsRefused) {
  const std::string json = passes::program_to_json(scale_program());
  kiln_executable* exe = nullptr;
  ASSERT_EQ(api_->compile(device_, json.data(), json.size(), nullptr, &exe, &error_), KILN_OK) << error_.message;
  const kiln_uniform twice[] = {{"T", 1}, {"T", 2}};
  EXPECT_EQ(api_->run(exe, twice, 2, &error_), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(error_.message, "step symbol 'T' is given twice");
  const kiln_uniform unnamed[] = {{nullptr, 1}};
  EXPECT_EQ(api_->run(exe, unnamed, 1, &error_), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(error_.message, "uniform 0 has no name");
  api_->destroy_executable(exe);
}

TEST_F(CAbiTest, CountersFillOnlyWhatTheCallerHasRoomFor) {
  const std::string json = passes::program_to_json(scale_program());
  kiln_executable* exe = nullptr;
  ASSERT_EQ(api_->compile(device_, json.data(), json.size(), nullptr, &exe, &error_), KILN_OK) << error_.message;
  kiln_counters counters;
  std::memset(&counters, 0xab, sizeof counters);
  counters.struct_size = offsetof(kiln_counters, submits);  // a caller that knows only `runs`
  api_->get_counters(exe, &counters);
  EXPECT_EQ(counters.struct_size, offsetof(kiln_counters, submits));
  EXPECT_EQ(counters.runs, 0u);
  EXPECT_EQ(counters.allocations, 0xababababababababu);
  api_->destroy_executable(exe);
}

}  // namespace
}  // namespace kiln::backends
