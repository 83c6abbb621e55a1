// The cpu plugin through the Backend wrapper and through the C ABI itself:
// compile, weights imported in place, a state both executables bind, one
// call per step (step values, inputs and outputs), the device's counters,
// and the errors each entry refuses with. The Programs are written by hand,
// so these tests hold whatever the passes emit.

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/backend_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "program/program_json.h"
#include "tests/backends/backend_test_support.h"

namespace kiln::backends {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using program::Constant;
using program::Dim;
using program::DType;
using program::Region;
using program::TensorRef;

template <typename T>
kiln_input input_of(uint32_t binding, const std::vector<T>& values) {
  return {binding, 0, values.data(), values.size() * sizeof(T)};
}

template <typename T>
kiln_output output_of(uint32_t binding, std::vector<T>& values) {
  return {binding, 0, values.data(), values.size() * sizeof(T)};
}

template <typename T>
std::span<const uint8_t> bytes_of(const std::vector<T>& values) {
  return {reinterpret_cast<const uint8_t*>(values.data()), values.size() * sizeof(T)};
}

Constant real(std::string name, double value) {
  Constant c;
  c.name = std::move(name);
  c.type = Constant::Type::real;
  c.real = value;
  return c;
}

Constant boolean(std::string name, bool value) {
  Constant c;
  c.name = std::move(name);
  c.type = Constant::Type::boolean;
  c.integer = value ? 1 : 0;
  return c;
}

program::Dispatch dispatch(std::string kernel, std::string node, std::vector<Constant> constants,
                           std::vector<TensorRef> inputs, std::vector<TensorRef> outputs) {
  program::Dispatch d;
  d.kernel = std::move(kernel);
  d.variant = "reference";
  d.node = std::move(node);
  d.constants = std::move(constants);
  d.inputs = std::move(inputs);
  d.outputs = std::move(outputs);
  d.launch = d.outputs[0].shape;
  return d;
}

program::StepSlot given_slot(std::string name, int64_t bound) {
  program::StepSlot slot;
  slot.name = std::move(name);
  slot.bound = bound;
  return slot;
}

// y = scale(x) {scale = 2.0}, x: f32[T, 5] at arena 0, y at arena 256;
// T (slot 0) at most 8. No weights, no state.
program::Program scale_program() {
  program::Program p;
  p.arena_bytes = 512;
  p.arena_lower_bound_bytes = 320;
  p.slots = {given_slot("T", 8)};
  const Dim t = Dim::of_slot(0);
  const TensorRef x{Region::arena, 0, -1, DType::f32, {t, Dim::fixed(5)}};
  const TensorRef y{Region::arena, 256, -1, DType::f32, {t, Dim::fixed(5)}};
  p.inputs = {{"x", x}};
  p.outputs = {{"y", y}};
  p.dispatches = {dispatch("scale", "y", {real("scale", 2.0)}, {x}, {y})};
  return p;
}

// h = matmul(x, w) {transpose_b}, x: f32[T, 5], w: f32[3, 5];
// c = kv_write(cache, h viewed as [T, 1, 3]) at row P, cache: f32[8, 1, 3]
// state. Slots: P (at most 8), T (at most 4).
program::Program cache_program() {
  program::Program p;
  p.arena_bytes = 512;
  p.arena_lower_bound_bytes = 128;
  p.state_bytes = 256;
  p.slots = {given_slot("P", 8), given_slot("T", 4)};
  p.weight_chunks = {256};
  p.weights = {{"w", DType::f32, {3, 5}, 60, 0, 0, "test"}};
  const Dim t = Dim::of_slot(1);
  const TensorRef x{Region::arena, 0, -1, DType::f32, {t, Dim::fixed(5)}};
  const TensorRef w{Region::weight, 0, 0, DType::f32, {Dim::fixed(3), Dim::fixed(5)}};
  const TensorRef h{Region::arena, 256, -1, DType::f32, {t, Dim::fixed(3)}};
  const TensorRef h3{Region::arena, 256, -1, DType::f32, {t, Dim::fixed(1), Dim::fixed(3)}};
  const TensorRef cache{Region::state, 0, -1, DType::f32, {Dim::fixed(8), Dim::fixed(1), Dim::fixed(3)}};
  p.inputs = {{"x", x}};
  p.states = {{"cache", cache}};
  p.outputs = {{"h", h}};
  program::Dispatch write = dispatch("kv_write", "c", {}, {cache, h3}, {cache});
  write.launch = h3.shape;
  write.step_params = {{"past", 0}};
  write.after = {0};
  p.dispatches = {dispatch("matmul", "h", {boolean("transpose_b", true)}, {x, w}, {h}), write};
  return p;
}

const std::vector<float> kW = {1, 0, 0, 0, 0,   // row 0 picks x[:, 0]
                               0, 0, 0, 0, 1,   // row 1 picks x[:, 4]
                               1, 1, 1, 1, 1};  // row 2 sums the row

// An executable of `program` on `backend` with its weights and state
// bound. The Program has one weight, imported from `weight` (which the
// plugin reads in place, so it must outlive the executable), or none.
struct Bound {
  std::optional<Executable> executable;
  std::optional<Weights> weights;
  std::optional<State> state;
};

absl::StatusOr<Bound> compile_and_bind(const Backend& backend, const program::Program& program,
                                       const std::vector<float>* weight) {
  Bound bound;
  absl::StatusOr<Executable> executable = backend.compile(program);
  if (!executable.ok()) return executable.status();
  bound.executable = *std::move(executable);
  absl::StatusOr<Weights> made = bound.executable->create_weights();
  if (!made.ok()) return made.status();
  bound.weights = *std::move(made);
  if (weight != nullptr) {
    if (absl::Status s = bound.weights->import(0, bytes_of(*weight)); !s.ok()) return s;
  }
  if (program.state_bytes > 0) {
    absl::StatusOr<State> state = bound.executable->create_state();
    if (!state.ok()) return state.status();
    bound.state = *std::move(state);
  }
  if (absl::Status s = bound.executable->bind(*bound.weights, bound.state ? &*bound.state : nullptr); !s.ok()) {
    return s;
  }
  return bound;
}

Step step_of(std::vector<int64_t> values, std::vector<kiln_input> inputs = {},
             std::vector<kiln_output> outputs = {}) {
  return Step{std::move(values), std::move(inputs), std::move(outputs)};
}

TEST(ExecutableTest, ReportsTheCpuDevice) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  EXPECT_EQ(cpu.name(), "cpu");
  EXPECT_EQ(cpu.capabilities().backend, "cpu");
  EXPECT_TRUE(cpu.capabilities().has_f16);
  EXPECT_EQ(cpu.capabilities().subgroup_size, 0);
  EXPECT_EQ(cpu.capabilities().shared_memory_bytes, 0);
  EXPECT_THAT(cpu.device_name(), HasSubstr("thread"));
  EXPECT_EQ(cpu.device_info().caps.device_type, static_cast<uint32_t>(KILN_DEVICE_CPU));
}

TEST(ExecutableTest, TheThreadsOptionIsTheDevicesThreadCount) {
  ASSERT_TRUE(testing::open_backend("cpu").ok());  // points KILN_PLUGIN_PATH at the build
  BackendOptions options;
  options.threads = 3;
  absl::StatusOr<Backend> three = Backend::open("cpu", options);
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_THAT(three->device_name(), HasSubstr("(3 threads)"));
  EXPECT_EQ(three->device_info().caps.compute_units, 3u);
}

TEST(ExecutableTest, OneCallWritesRunsAndReadsAndIsCounted) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Bound> scale = compile_and_bind(cpu, scale_program(), nullptr);
  ASSERT_TRUE(scale.ok()) << scale.status();
  EXPECT_EQ(cpu.counters().allocations, 1u);  // the arena: no state, weights read in place

  const std::vector<float> x = {1, 2, 3, 4, 5, -1, -2, -3, -4, -5.5f, 0.25f, 0, 0, 0, 7};
  std::vector<float> y(15);
  ASSERT_TRUE(scale->executable->run(step_of({3}, {input_of(0, x)}, {output_of(0, y)})).ok());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], 2 * x[i]) << i;
  // A step that reads nothing back is not a readback.
  ASSERT_TRUE(scale->executable->run(step_of({1}, {input_of(0, std::vector<float>(5))})).ok());

  const kiln_counters counters = cpu.counters();
  EXPECT_EQ(counters.steps, 2u);
  EXPECT_EQ(counters.submits, 2u);
  EXPECT_EQ(counters.dispatches, 2u);  // one per step: the Program has one
  EXPECT_EQ(counters.allocations, 1u);
  EXPECT_EQ(counters.builds, 0u);
  EXPECT_EQ(counters.bytes_to_device, 60u + 20u);
  EXPECT_EQ(counters.bytes_from_device, 60u);
  EXPECT_EQ(counters.readbacks, 1u);
}

TEST(ExecutableTest, AnOutputRangeReadsPartOfTheBinding) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Bound> scale = compile_and_bind(cpu, scale_program(), nullptr);
  ASSERT_TRUE(scale.ok()) << scale.status();
  const std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  std::vector<float> last_row(5);
  ASSERT_TRUE(scale->executable->run(step_of({2}, {input_of(0, x)}, {{0, 20, last_row.data(), 20}})).ok());
  EXPECT_THAT(last_row, ElementsAre(12, 14, 16, 18, 20));
  EXPECT_EQ(cpu.counters().bytes_from_device, 20u);
}

TEST(ExecutableTest, ADecodeStepAllocatesNothingAndDispatchesTheProgram) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  const program::Program program = cache_program();
  absl::StatusOr<Bound> decode = compile_and_bind(cpu, program, &kW);
  ASSERT_TRUE(decode.ok()) << decode.status();
  const kiln_counters before = cpu.counters();
  EXPECT_EQ(before.allocations, 2u);  // arena and state; the weight is read in place
  EXPECT_EQ(before.bytes_to_device, 0u);
  const std::vector<float> x(5, 1.0f);
  std::vector<float> h(3);
  for (int64_t p = 0; p < 4; ++p) {
    ASSERT_TRUE(decode->executable->run(step_of({p, 1}, {input_of(0, x)}, {output_of(0, h)})).ok());
  }
  const kiln_counters after = cpu.counters();
  EXPECT_EQ(after.allocations, before.allocations);
  EXPECT_EQ(after.steps - before.steps, 4u);
  EXPECT_EQ(after.submits - before.submits, 4u);
  EXPECT_EQ(after.readbacks - before.readbacks, 4u);
  EXPECT_EQ(after.dispatches - before.dispatches, 4 * program.dispatches.size());
}

TEST(ExecutableTest, StateRowsPersistBetweenSteps) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Bound> exe = compile_and_bind(cpu, cache_program(), &kW);
  ASSERT_TRUE(exe.ok()) << exe.status();
  const std::vector<float> prompt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  ASSERT_TRUE(exe->executable->run(step_of({0, 2}, {input_of(0, prompt)})).ok());
  const std::vector<float> next = {-1, 0, 0, 0, 2};
  ASSERT_TRUE(exe->executable->run(step_of({2, 1}, {input_of(0, next)})).ok());
  std::vector<float> cache(9);
  ASSERT_TRUE(exe->state->read(0, {reinterpret_cast<uint8_t*>(cache.data()), 36}).ok());
  EXPECT_THAT(cache, ElementsAre(1, 5, 15, 6, 10, 40, -1, 2, 1));
}

// The zero-copy contract: the cpu plugin keeps the pointer it was given
// and reads the host's bytes at each step, so changing them (which a
// caller must not do) changes the result. A copy would not see it.
TEST(ExecutableTest, ImportedWeightsAreReadInPlace) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  std::vector<float> w = kW;
  absl::StatusOr<Executable> exe = cpu.compile(cache_program());
  ASSERT_TRUE(exe.ok()) << exe.status();
  absl::StatusOr<Weights> weights = exe->create_weights();
  ASSERT_TRUE(weights.ok()) << weights.status();
  ASSERT_TRUE(weights->import(0, bytes_of(w)).ok());
  absl::StatusOr<State> state = exe->create_state();
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_TRUE(exe->bind(*weights, &*state).ok());

  const std::vector<float> x = {3, 0, 0, 0, 4};
  std::vector<float> h(3);
  ASSERT_TRUE(exe->run(step_of({0, 1}, {input_of(0, x)}, {output_of(0, h)})).ok());
  EXPECT_THAT(h, ElementsAre(3, 4, 7));
  w[0] = 10;  // row 0 now picks 10 * x[:, 0]
  ASSERT_TRUE(exe->run(step_of({1, 1}, {input_of(0, x)}, {output_of(0, h)})).ok());
  EXPECT_THAT(h, ElementsAre(30, 4, 7));
  EXPECT_EQ(cpu.counters().bytes_to_device, 40u);  // the inputs only
}

// A session's prefill and decode executables bind one set of weights and
// one state: what one writes to the KV cache, the other sees.
TEST(ExecutableTest, TwoExecutablesBindOneWeightsAndOneState) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Executable> prefill = cpu.compile(cache_program());
  ASSERT_TRUE(prefill.ok()) << prefill.status();
  absl::StatusOr<Executable> decode = cpu.compile(cache_program());
  ASSERT_TRUE(decode.ok()) << decode.status();
  absl::StatusOr<Weights> weights = prefill->create_weights();
  ASSERT_TRUE(weights.ok()) << weights.status();
  ASSERT_TRUE(weights->import(0, bytes_of(kW)).ok());
  absl::StatusOr<State> state = prefill->create_state();
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_TRUE(prefill->bind(*weights, &*state).ok());
  ASSERT_TRUE(decode->bind(*weights, &*state).ok());
  EXPECT_EQ(cpu.counters().allocations, 3u);  // two arenas, one state

  const std::vector<float> prompt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  ASSERT_TRUE(prefill->run(step_of({0, 2}, {input_of(0, prompt)})).ok());
  const std::vector<float> x = {3, 0, 0, 0, 4};
  ASSERT_TRUE(decode->run(step_of({2, 1}, {input_of(0, x)})).ok());
  std::vector<float> cache(9);
  ASSERT_TRUE(state->read(0, {reinterpret_cast<uint8_t*>(cache.data()), 36}).ok());
  EXPECT_THAT(cache, ElementsAre(1, 5, 15, 6, 10, 40, 3, 4, 7));
}

// ---- errors -------------------------------------------------------------------

TEST(ExecutableErrorTest, RunBeforeBind) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Executable> exe = cpu.compile(scale_program());
  ASSERT_TRUE(exe.ok()) << exe.status();
  const absl::Status status = exe->run(step_of({1}));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "cpu: run before bind: no weights are bound");
  EXPECT_EQ(cpu.counters().steps, 0u);
}

TEST(ExecutableErrorTest, BindNeedsEveryWeightImported) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Executable> exe = cpu.compile(cache_program());
  ASSERT_TRUE(exe.ok()) << exe.status();
  absl::StatusOr<Weights> weights = exe->create_weights();
  ASSERT_TRUE(weights.ok()) << weights.status();
  absl::StatusOr<State> state = exe->create_state();
  ASSERT_TRUE(state.ok()) << state.status();
  const absl::Status status = exe->bind(*weights, &*state);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "cpu: weight 0 ('w') has not been imported");
  EXPECT_EQ(exe->run(step_of({0, 1})).message(), "cpu: run before bind: no weights are bound");
}

TEST(ExecutableErrorTest, ImportChecksTheIndexAndTheSize) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Executable> exe = cpu.compile(cache_program());
  ASSERT_TRUE(exe.ok()) << exe.status();
  absl::StatusOr<Weights> weights = exe->create_weights();
  ASSERT_TRUE(weights.ok()) << weights.status();
  const std::vector<float> two(2);
  const absl::Status size = weights->import(0, bytes_of(two));
  EXPECT_EQ(size.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(size.message(), "cpu: weight 0 ('w', f32): expected 60 bytes, got 8");
  const absl::Status index = weights->import(1, bytes_of(kW));
  EXPECT_EQ(index.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(index.message(), "cpu: weight index 1 is outside the weight table (1 entries)");
}

TEST(ExecutableErrorTest, WeightsAndStateMadeForAnotherProgramDoNotBind) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  program::Program renamed = cache_program();
  renamed.weights[0].name = "w2";
  renamed.states[0].name = "other_cache";
  absl::StatusOr<Executable> other = cpu.compile(renamed);
  ASSERT_TRUE(other.ok()) << other.status();
  absl::StatusOr<Weights> other_weights = other->create_weights();
  ASSERT_TRUE(other_weights.ok()) << other_weights.status();
  ASSERT_TRUE(other_weights->import(0, bytes_of(kW)).ok());
  absl::StatusOr<State> other_state = other->create_state();
  ASSERT_TRUE(other_state.ok()) << other_state.status();

  absl::StatusOr<Bound> exe = compile_and_bind(cpu, cache_program(), &kW);
  ASSERT_TRUE(exe.ok()) << exe.status();
  const absl::Status weights = exe->executable->bind(*other_weights, &*exe->state);
  EXPECT_EQ(weights.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(weights.message(),
            "cpu: these weights were made for a Program whose weight table differs from this one's");
  const absl::Status state = exe->executable->bind(*exe->weights, &*other_state);
  EXPECT_EQ(state.message(), "cpu: this state was made for a Program whose state table differs from this one's");
  EXPECT_EQ(exe->executable->bind(*exe->weights, nullptr).message(),
            "cpu: this Program has a state, and none was given");
}

TEST(ExecutableErrorTest, AStepValueOutOfBoundsNamesTheSlot) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  program::Program program = cache_program();
  // A derived slot (the valid KV rows) is checked against its bound too.
  program::StepSlot valid_rows;
  valid_rows.name = "P+T";
  valid_rows.bound = 8;
  valid_rows.terms = {0, 1};
  program.slots.push_back(valid_rows);
  absl::StatusOr<Bound> exe = compile_and_bind(cpu, program, &kW);
  ASSERT_TRUE(exe.ok()) << exe.status();
  const struct {
    std::vector<int64_t> values;
    absl::StatusCode code;
    std::string message;
  } cases[] = {
      {{0, 5}, absl::StatusCode::kOutOfRange, "cpu: step value T = 5 is outside [0, 4]"},
      {{-1, 1}, absl::StatusCode::kOutOfRange, "cpu: step value P = -1 is outside [0, 8]"},
      {{6, 3}, absl::StatusCode::kOutOfRange, "cpu: step value P+T = 9 is outside [0, 8]"},
      {{1}, absl::StatusCode::kInvalidArgument, "cpu: expected 2 step values (P, T), got 1"},
  };
  for (const auto& c : cases) {
    const absl::Status status = exe->executable->run(step_of(c.values));
    EXPECT_EQ(status.code(), c.code) << status;
    EXPECT_EQ(status.message(), c.message);
  }
  EXPECT_EQ(cpu.counters().steps, 0u);
}

TEST(ExecutableErrorTest, AnInputOrOutputOutsideItsBindingIsRefused) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Bound> scale = compile_and_bind(cpu, scale_program(), nullptr);
  ASSERT_TRUE(scale.ok()) << scale.status();
  const std::vector<float> three_rows(15);
  std::vector<float> three_out(15);
  const absl::Status input = scale->executable->run(step_of({2}, {input_of(0, three_rows)}));
  EXPECT_EQ(input.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(input.message(), "cpu: input 'x': bytes [0, 60) are outside its 40 bytes at this step ([T, 5])");
  const absl::Status output = scale->executable->run(step_of({3}, {}, {{0, 40, three_out.data(), 40}}));
  EXPECT_EQ(output.message(), "cpu: output 'y': bytes [40, 80) are outside its 60 bytes at this step ([T, 5])");
  const absl::Status binding = scale->executable->run(step_of({3}, {input_of(1, three_rows)}));
  EXPECT_EQ(binding.message(), "cpu: input 0: binding 1 is not one of the Program's 1 inputs");
  EXPECT_EQ(cpu.counters().steps, 0u);
  EXPECT_EQ(cpu.counters().bytes_to_device, 0u);
}

TEST(ExecutableErrorTest, AKernelOrVariantThePluginLacksNamesBoth) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  program::Program variant = scale_program();
  variant.dispatches[0].variant = "gemv_subgroup";
  absl::StatusOr<Executable> exe = cpu.compile(variant);
  EXPECT_EQ(exe.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(exe.status().message(),
            "cpu: dispatches[0] (%y = scale.gemv_subgroup): the cpu backend has no kernel 'scale' with variant "
            "'gemv_subgroup'");
  program::Program kernel = scale_program();
  kernel.dispatches[0].kernel = "frobnicate";
  EXPECT_EQ(cpu.compile(kernel).status().message(),
            "cpu: dispatches[0] (%y = frobnicate.reference): the cpu backend has no kernel 'frobnicate' with "
            "variant 'reference'");
  EXPECT_EQ(cpu.counters().allocations, 0u);
}

TEST(ExecutableErrorTest, AKernelErrorNamesItsNode) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Bound> exe = compile_and_bind(cpu, cache_program(), &kW);
  ASSERT_TRUE(exe.ok()) << exe.status();
  const absl::Status status = exe->executable->run(step_of({6, 3}, {input_of(0, std::vector<float>(15))}));
  EXPECT_EQ(status.message(), "cpu: %c = kv_write: rows [6, 9) do not fit the cache's 8 rows");
  EXPECT_EQ(cpu.counters().dispatches, 1u);  // matmul ran; kv_write refused
}

TEST(ExecutableErrorTest, AStateReadOutsideTheStateIsRefused) {
  KILN_OPEN_BACKEND_OR_SKIP(cpu, "cpu");
  absl::StatusOr<Bound> exe = compile_and_bind(cpu, cache_program(), &kW);
  ASSERT_TRUE(exe.ok()) << exe.status();
  std::vector<uint8_t> bytes(16);
  const absl::Status status = exe->state->read(248, bytes);
  EXPECT_EQ(status.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(status.message(), "cpu: read of bytes [248, 264) is outside the state (256 bytes)");
}

// ---- the C ABI without the wrapper ---------------------------------------------

// Codes and messages in kiln_error, and what the wrapper cannot express (a
// malformed Program, an old kiln_step, a caller's smaller counters).
class CAbiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Backend> opened = testing::open_backend("cpu");  // points KILN_PLUGIN_PATH at the build
    ASSERT_TRUE(opened.ok()) << opened.status();
    absl::StatusOr<const PluginInfo*> plugin = Registry::global().find("cpu");
    ASSERT_TRUE(plugin.ok()) << plugin.status();
    api_ = (*plugin)->api;
    ASSERT_EQ(api_->create_device(0, nullptr, &device_, &error_), KILN_OK) << error_.message;
  }
  void TearDown() override {
    if (executable_ != nullptr) api_->destroy_executable(executable_);
    if (weights_ != nullptr) api_->destroy_weights(weights_);
    if (device_ != nullptr) api_->destroy_device(device_);
  }

  // Compiles scale_program() and binds its (empty) weights.
  void compile_scale() {
    const std::string json = program::program_to_json(scale_program(), -1);
    ASSERT_EQ(api_->compile(device_, json.data(), json.size(), &executable_, &error_), KILN_OK) << error_.message;
    ASSERT_EQ(api_->create_weights(executable_, &weights_, &error_), KILN_OK) << error_.message;
    ASSERT_EQ(api_->bind(executable_, weights_, nullptr, &error_), KILN_OK) << error_.message;
  }

  kiln_counters counters() const {
    kiln_counters c{};
    c.struct_size = sizeof c;
    api_->get_counters(device_, &c);
    return c;
  }

  const kiln_backend_api* api_ = nullptr;
  kiln_device* device_ = nullptr;
  kiln_executable* executable_ = nullptr;
  kiln_weights* weights_ = nullptr;
  kiln_error error_{};
};

TEST_F(CAbiTest, ProbeCountsThenListsTheOneDevice) {
  uint32_t count = 0;
  ASSERT_EQ(api_->probe(nullptr, 0, &count, &error_), KILN_OK) << error_.message;
  EXPECT_EQ(count, 1u);
  kiln_capabilities caps[2] = {};
  caps[0].struct_size = sizeof caps[0];
  caps[1].struct_size = sizeof caps[1];
  ASSERT_EQ(api_->probe(caps, 2, &count, &error_), KILN_OK) << error_.message;
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(caps[0].device_type, static_cast<uint32_t>(KILN_DEVICE_CPU));
  EXPECT_GT(caps[0].compute_units, 0u);
  EXPECT_EQ(caps[1].device_type, 0u);  // untouched
}

TEST_F(CAbiTest, ADeviceIndexPastTheListIsRefused) {
  kiln_device* device = nullptr;
  EXPECT_EQ(api_->create_device(1, nullptr, &device, &error_), KILN_ERROR_OUT_OF_RANGE);
  EXPECT_STREQ(error_.message, "the cpu plugin has one device, index 0");
  EXPECT_EQ(device, nullptr);
}

// Threads of this process (Linux's /proc/self/task), or -1 where that is
// not there to read.
int process_threads() {
  std::error_code error;
  int count = 0;
  for (std::filesystem::directory_iterator it("/proc/self/task", error), end; !error && it != end;
       it.increment(error)) {
    ++count;
  }
  return error ? -1 : count;
}

// A joined thread leaves /proc/self/task shortly after join returns.
bool threads_return_to(int count) {
  for (int wait = 0; wait < 200 && process_threads() != count; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return process_threads() == count;
}

// options.threads sizes the device's pool (threads - 1 workers beside the
// calling thread) and wins over KILN_CPU_THREADS, the fallback when it is
// 0; get_device_capabilities reports the count. A plugin that ignored the
// option would start the default's workers (KILN_CPU_THREADS = 4 here).
TEST_F(CAbiTest, TheThreadsOptionSizesTheDevicesPool) {
  const char* saved = std::getenv("KILN_CPU_THREADS");
  const std::string previous = saved != nullptr ? saved : "";
  ::setenv("KILN_CPU_THREADS", "4", 1);
  const int before = process_threads();
  for (const int32_t threads : {1, 2, 5, 0}) {
    kiln_device_options options{};
    options.struct_size = sizeof options;
    options.threads = threads;
    kiln_device* device = nullptr;
    ASSERT_EQ(api_->create_device(0, &options, &device, &error_), KILN_OK) << error_.message;
    const int expected = threads > 0 ? threads : 4;
    kiln_capabilities caps{};
    caps.struct_size = sizeof caps;
    api_->get_device_capabilities(device, &caps);
    EXPECT_EQ(caps.compute_units, static_cast<uint32_t>(expected)) << "threads = " << threads;
    EXPECT_THAT(caps.device_name, HasSubstr(absl::StrCat("(", expected, expected == 1 ? " thread)" : " threads)")));
    const int with_device = process_threads();
    api_->destroy_device(device);
    if (before > 0) {
      EXPECT_EQ(with_device, before + expected - 1) << "threads = " << threads;
      EXPECT_TRUE(threads_return_to(before)) << "the workers of threads = " << threads << " were not joined";
    }
  }
  saved != nullptr ? ::setenv("KILN_CPU_THREADS", previous.c_str(), 1) : ::unsetenv("KILN_CPU_THREADS");

  kiln_device_options negative{};
  negative.struct_size = sizeof negative;
  negative.threads = -2;
  kiln_device* device = nullptr;
  EXPECT_EQ(api_->create_device(0, &negative, &device, &error_), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(error_.message, "device option threads = -2: expected 1 to 1024, or 0 for the default");
  EXPECT_EQ(device, nullptr);
}

TEST_F(CAbiTest, AMalformedProgramIsAnErrorNotACrash) {
  kiln_executable* exe = nullptr;
  const char json[] = "{\"version\": 2, ";
  EXPECT_EQ(api_->compile(device_, json, sizeof json - 1, &exe, &error_), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(error_.code, KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(error_.message, HasSubstr("Program: "));
  EXPECT_EQ(exe, nullptr);
}

TEST_F(CAbiTest, OneRunCallCarriesValuesInputsAndOutputs) {
  compile_scale();
  const int64_t t = 1;
  const float x[5] = {1, 2, 3, 4, 5};
  float y[5] = {};
  const kiln_input input = {0, 0, x, sizeof x};
  const kiln_output output = {0, 0, y, sizeof y};
  const kiln_step step = {sizeof(kiln_step), &t, 1, &input, 1, &output, 1};
  ASSERT_EQ(api_->run(executable_, &step, &error_), KILN_OK) << error_.message;
  EXPECT_THAT(y, ElementsAre(2, 4, 6, 8, 10));
  const kiln_counters c = counters();
  EXPECT_EQ(c.steps, 1u);
  EXPECT_EQ(c.submits, 1u);
  EXPECT_EQ(c.readbacks, 1u);
  EXPECT_EQ(c.bytes_to_device, sizeof x);
  EXPECT_EQ(c.bytes_from_device, sizeof y);
}

TEST_F(CAbiTest, AStepOfAnUnknownSizeOrWithNullDataIsRefused) {
  compile_scale();
  const int64_t t = 1;
  kiln_step step = {offsetof(kiln_step, outputs), &t, 1, nullptr, 0, nullptr, 0};
  EXPECT_EQ(api_->run(executable_, &step, &error_), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(error_.message, HasSubstr("kiln_step has " + std::to_string(offsetof(kiln_step, outputs)) + " bytes"));
  step.struct_size = sizeof step;
  const kiln_input null_data = {0, 0, nullptr, 20};
  step.inputs = &null_data;
  step.input_count = 1;
  EXPECT_EQ(api_->run(executable_, &step, &error_), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(error_.message, "input 'x': data is null");
  EXPECT_EQ(api_->run(executable_, nullptr, &error_), KILN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(counters().steps, 0u);
}

TEST_F(CAbiTest, CountersFillOnlyWhatTheCallerHasRoomFor) {
  compile_scale();
  kiln_counters c;
  std::memset(&c, 0xab, sizeof c);
  c.struct_size = offsetof(kiln_counters, submits);  // a caller that knows only `steps`
  api_->get_counters(device_, &c);
  EXPECT_EQ(c.struct_size, offsetof(kiln_counters, submits));
  EXPECT_EQ(c.steps, 0u);
  EXPECT_EQ(c.submits, 0xababababababababu);
}

}  // namespace
}  // namespace kiln::backends
