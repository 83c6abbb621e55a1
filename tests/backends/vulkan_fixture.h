#pragma once

// The vulkan plugin's tests drive it through its C ABI (backends/backend.h)
// with Programs written in the test, and compare with values the test
// computes. The Khronos validation layer is on (KILN_VULKAN_VALIDATION=1)
// when installed: the plugin fails any entry after a validation message, so
// a message fails the test.

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "gtest/gtest.h"
#include "program/dtype.h"
#include "program/program.h"
#include "program/program_json.h"
#include "program/step.h"

namespace kiln::backends::vulkan::testing {

using program::Constant;
using program::Dim;
using program::DType;
using program::Program;
using program::TensorRef;

inline const kiln_backend_api* plugin_api() {
  static const kiln_backend_api* api = [] {
    if (std::getenv("KILN_VULKAN_VALIDATION") == nullptr &&
        std::system("test -f /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json") == 0) {
      setenv("KILN_VULKAN_VALIDATION", "1", 0);
    }
    void* library = dlopen(KILN_BINARY_DIR "/backends/libkiln-vulkan.so", RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) return static_cast<const kiln_backend_api*>(nullptr);
    auto get = reinterpret_cast<kiln_backend_get_api_fn>(dlsym(library, KILN_BACKEND_ENTRY_POINT));
    return get == nullptr ? nullptr : get();
  }();
  return api;
}

inline Constant integer(std::string name, int64_t value) { return {std::move(name), Constant::Type::integer, value, 0, ""}; }
inline Constant boolean(std::string name, bool value) { return {std::move(name), Constant::Type::boolean, value, 0, ""}; }
inline Constant real(std::string name, double value) { return {std::move(name), Constant::Type::real, 0, value, ""}; }

inline std::vector<float> random_values(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-scale, scale);
  std::vector<float> out(n);
  for (float& v : out) v = uniform(rng);
  return out;
}

// Rounds through f16, as a weight stored in f16 is read.
inline std::vector<float> through_f16(std::vector<float> values) {
  for (float& v : values) v = program::f16_to_f32(program::f32_to_f16(v));
  return values;
}

inline std::vector<uint8_t> bytes_of(const std::vector<float>& values, DType dtype) {
  std::vector<uint8_t> out;
  if (dtype == DType::f16) {
    out.resize(values.size() * 2);
    for (size_t i = 0; i < values.size(); ++i) {
      uint16_t h = program::f32_to_f16(values[i]);
      std::memcpy(&out[2 * i], &h, 2);
    }
  } else {
    out.resize(values.size() * 4);
    std::memcpy(out.data(), values.data(), out.size());
  }
  return out;
}

// Builds a one-or-more-dispatch Program: tensors are placed as they are
// declared (arena, state or weights), each at an aligned offset.
class ProgramBuilder {
 public:
  ProgramBuilder() { program_.slots = {}; }

  // A given slot; returns its index.
  int32_t slot(std::string name, int64_t bound) {
    program_.slots.push_back({std::move(name), bound, {}, 1, 0});
    return static_cast<int32_t>(program_.slots.size() - 1);
  }

  TensorRef arena(DType dtype, program::Shape shape) { return place(program_.arena_bytes, dtype, std::move(shape), program::Region::arena); }
  TensorRef state(DType dtype, program::Shape shape) { return place(program_.state_bytes, dtype, std::move(shape), program::Region::state); }
  TensorRef weight(std::string name, DType dtype, std::vector<int64_t> shape) {
    if (program_.weight_chunks.empty()) program_.weight_chunks.push_back(0);
    int64_t elements = 1;
    for (int64_t d : shape) elements *= d;
    program::WeightEntry entry{name, dtype, shape, program::dtype_bytes(dtype, elements), 0,
                               program_.weight_chunks[0], name};
    program_.weight_chunks[0] += (entry.bytes + 255) / 256 * 256;
    program_.weights.push_back(entry);
    TensorRef ref;
    ref.region = program::Region::weight;
    ref.weight = static_cast<int32_t>(program_.weights.size() - 1);
    ref.dtype = dtype;
    for (int64_t d : shape) ref.shape.push_back(Dim::fixed(d));
    return ref;
  }
  void input(std::string name, const TensorRef& ref) { program_.inputs.push_back({std::move(name), ref}); }
  void output(std::string name, const TensorRef& ref) { program_.outputs.push_back({std::move(name), ref}); }
  void state_binding(std::string name, const TensorRef& ref) { program_.states.push_back({std::move(name), ref}); }

  void dispatch(std::string kernel, std::string variant, std::vector<Constant> constants, std::vector<TensorRef> inputs,
                std::vector<TensorRef> outputs, std::vector<program::StepParam> step_params = {}) {
    program::Dispatch d;
    d.kernel = std::move(kernel);
    d.variant = std::move(variant);
    d.node = "%y" + std::to_string(program_.dispatches.size());
    std::sort(constants.begin(), constants.end(), [](const Constant& a, const Constant& b) { return a.name < b.name; });
    d.constants = std::move(constants);
    d.step_params = std::move(step_params);
    d.inputs = std::move(inputs);
    d.outputs = std::move(outputs);
    d.launch = d.outputs[0].shape;
    for (int32_t i = 0; i < static_cast<int32_t>(program_.dispatches.size()); ++i) d.after.push_back(i);
    program_.dispatches.push_back(std::move(d));
  }

  Program& program() { return program_; }
  std::string json() { return program::program_to_json(program_); }

 private:
  TensorRef place(int64_t& end, DType dtype, program::Shape shape, program::Region region) {
    TensorRef ref;
    ref.region = region;
    ref.offset = end;
    ref.dtype = dtype;
    ref.shape = std::move(shape);
    program::StepValues bound;
    for (const program::StepSlot& s : program_.slots) bound.push_back(s.bound);
    end += (program::byte_size(ref, bound) + 255) / 256 * 256;
    if (region == program::Region::arena) program_.arena_lower_bound_bytes = end;
    return ref;
  }

  Program program_;
};

// One opened device, and helpers that compile and run a Program on it.
class VulkanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_ = plugin_api();
    if (api_ == nullptr) GTEST_SKIP() << "libkiln-vulkan.so is not built";
    kiln_error error{};
    uint32_t count = 0;
    if (api_->probe(nullptr, 0, &count, &error) != KILN_OK || count == 0) {
      GTEST_SKIP() << "no Vulkan device: " << error.message;
    }
    kiln_device_options options{};
    options.struct_size = sizeof options;
    options.cache_dir = cache_dir_.empty() ? nullptr : cache_dir_.c_str();
    options.profile = profile_;
    ASSERT_EQ(api_->create_device(0, &options, &device_, &error), KILN_OK) << error.message;
  }
  void TearDown() override {
    release();
    if (device_ != nullptr) api_->destroy_device(device_);
  }

  void release() {
    if (executable_ != nullptr) api_->destroy_executable(executable_);
    if (weights_ != nullptr) api_->destroy_weights(weights_);
    if (state_ != nullptr) api_->destroy_state(state_);
    executable_ = nullptr;
    weights_ = nullptr;
    state_ = nullptr;
  }

  // Compiles |program|, imports |weights| (by index, as bytes), creates the
  // state and binds. Returns the plugin's error code.
  int32_t load(const std::string& json, const std::vector<std::vector<uint8_t>>& weights = {}) {
    release();
    int32_t code = api_->compile(device_, json.data(), json.size(), &executable_, &error_);
    if (code != KILN_OK) return code;
    code = api_->create_weights(executable_, &weights_, &error_);
    for (size_t i = 0; code == KILN_OK && i < weights.size(); ++i) {
      code = api_->import_weight(weights_, static_cast<uint32_t>(i), weights[i].data(), weights[i].size(), &error_);
    }
    if (code == KILN_OK) code = api_->create_state(executable_, &state_, &error_);
    if (code == KILN_OK) code = api_->bind(executable_, weights_, state_, &error_);
    return code;
  }

  // Runs one step: |values| for the given slots, input i from inputs[i],
  // output j read into outputs[j] (sized by the caller).
  int32_t step(const std::vector<int64_t>& values, const std::vector<std::vector<uint8_t>>& inputs,
               std::vector<std::vector<uint8_t>>& outputs) {
    std::vector<kiln_input> in;
    for (size_t i = 0; i < inputs.size(); ++i) {
      in.push_back({static_cast<uint32_t>(i), 0, inputs[i].data(), inputs[i].size()});
    }
    std::vector<kiln_output> out;
    for (size_t j = 0; j < outputs.size(); ++j) {
      out.push_back({static_cast<uint32_t>(j), 0, outputs[j].data(), outputs[j].size()});
    }
    kiln_step s{sizeof(kiln_step), values.data(), static_cast<uint32_t>(values.size()), in.data(),
                static_cast<uint32_t>(in.size()), out.data(), static_cast<uint32_t>(out.size())};
    return api_->run(executable_, &s, &error_);
  }

  kiln_counters counters() {
    kiln_counters c{};
    c.struct_size = sizeof c;
    api_->get_counters(device_, &c);
    return c;
  }

  const kiln_backend_api* api_ = nullptr;
  kiln_device* device_ = nullptr;
  kiln_executable* executable_ = nullptr;
  kiln_weights* weights_ = nullptr;
  kiln_state* state_ = nullptr;
  kiln_error error_{};
  std::string cache_dir_;
  int32_t profile_ = 0;
};

inline std::vector<float> as_floats(const std::vector<uint8_t>& bytes, DType dtype = DType::f32) {
  std::vector<float> out;
  if (dtype == DType::f16) {
    for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
      uint16_t h;
      std::memcpy(&h, &bytes[i], 2);
      out.push_back(program::f16_to_f32(h));
    }
    return out;
  }
  out.resize(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

inline void expect_near_all(const std::vector<float>& got, const std::vector<double>& want, double tolerance,
                            const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  size_t failures = 0;
  for (size_t i = 0; i < got.size() && failures < 5; ++i) {
    const double bound = tolerance * (1.0 + std::abs(want[i]));
    if (!(std::abs(got[i] - want[i]) <= bound)) {
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", want " << want[i];
      ++failures;
    }
  }
}

}  // namespace kiln::backends::vulkan::testing
