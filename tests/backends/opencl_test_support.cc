#include "tests/backends/opencl_test_support.h"

#include <dlfcn.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "program/program_json.h"

namespace kiln::backends::opencl_testing {
namespace {

int64_t align_up(int64_t value, int64_t alignment) { return (value + alignment - 1) / alignment * alignment; }

const kiln_backend_api* load_plugin(std::string* out_reason) {
  void* library = dlopen(KILN_OPENCL_PLUGIN, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    *out_reason = absl::StrCat("cannot load ", KILN_OPENCL_PLUGIN, ": ", dlerror());
    return nullptr;
  }
  auto get_api = reinterpret_cast<kiln_backend_get_api_fn>(dlsym(library, KILN_BACKEND_ENTRY_POINT));
  if (get_api == nullptr) {
    *out_reason = "the plugin exports no kiln_backend_get_api";
    return nullptr;
  }
  const kiln_backend_api* api = get_api();
  kiln_capabilities caps{};
  caps.struct_size = sizeof caps;
  uint32_t count = 0;
  kiln_error error{};
  if (api->probe(&caps, 1, &count, &error) != KILN_OK) {
    *out_reason = absl::StrCat("no OpenCL device: ", error.message);
  } else if (count == 0) {
    *out_reason = "no OpenCL device";
  }
  return api;
}

struct Loaded {
  const kiln_backend_api* api = nullptr;
  std::string reason;
};

const Loaded& loaded() {
  static const Loaded instance = [] {
    Loaded l;
    l.api = load_plugin(&l.reason);
    return l;
  }();
  return instance;
}

}  // namespace

const kiln_backend_api* plugin_api() { return loaded().api; }
std::string unavailable_reason() { return loaded().reason; }
std::string test_cache_dir() { return absl::StrCat(KILN_BINARY_DIR, "/opencl-test-cache"); }

absl::Status status_of(int32_t code, const kiln_error& error) {
  if (code == KILN_OK) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(code), error.message);
}

// ---- ProgramBuilder -------------------------------------------------------------

ProgramBuilder::ProgramBuilder() { program_.alignment = 256; }

int32_t ProgramBuilder::slot(const std::string& name, int64_t bound) {
  program::StepSlot slot;
  slot.name = name;
  slot.bound = bound;
  program_.slots.push_back(slot);
  return static_cast<int32_t>(program_.slots.size() - 1);
}

int32_t ProgramBuilder::derived_slot(const std::string& name, const std::vector<std::string>& terms) {
  program::StepSlot slot;
  slot.name = name;
  for (const std::string& term : terms) {
    const int32_t index = program_.find_slot(term);
    slot.terms.push_back(index);
    slot.bound += program_.slots[index].bound;
  }
  program_.slots.push_back(slot);
  return static_cast<int32_t>(program_.slots.size() - 1);
}

program::Dim ProgramBuilder::dim(const std::string& slot) const {
  return program::Dim::of_slot(program_.find_slot(slot));
}

int64_t ProgramBuilder::place(int64_t& end, const program::TensorRef& ref) const {
  const int64_t offset = end;
  end = align_up(offset + program::byte_size(ref, program::bound_step(program_)), program_.alignment);
  return offset;
}

program::TensorRef ProgramBuilder::arena(program::DType dtype, program::Shape shape) {
  program::TensorRef ref{.region = program::Region::arena, .dtype = dtype, .shape = std::move(shape)};
  ref.offset = place(program_.arena_bytes, ref);
  return ref;
}

program::TensorRef ProgramBuilder::state(const std::string& name, program::DType dtype, program::Shape shape) {
  program::TensorRef ref{.region = program::Region::state, .dtype = dtype, .shape = std::move(shape)};
  ref.offset = place(program_.state_bytes, ref);
  program_.states.push_back({name, ref});
  return ref;
}

program::TensorRef ProgramBuilder::weight(const std::string& name, program::DType dtype, std::vector<int64_t> shape) {
  if (program_.weight_chunks.empty()) program_.weight_chunks.push_back(0);
  int64_t elements = 1;
  for (int64_t d : shape) elements *= d;
  program::WeightEntry entry{.name = name, .dtype = dtype, .shape = shape, .bytes = program::dtype_bytes(dtype, elements),
                             .chunk = 0, .offset = program_.weight_chunks[0], .source = "test"};
  program_.weight_chunks[0] = align_up(entry.offset + entry.bytes, program_.alignment);
  program_.weights.push_back(entry);
  program::TensorRef ref;
  ref.region = program::Region::weight;
  ref.weight = static_cast<int32_t>(program_.weights.size() - 1);
  ref.dtype = dtype;
  for (int64_t d : shape) ref.shape.push_back(program::Dim::fixed(d));
  return ref;
}

void ProgramBuilder::input(const std::string& name, const program::TensorRef& ref) {
  program_.inputs.push_back({name, ref});
}

void ProgramBuilder::output(const std::string& name, const program::TensorRef& ref) {
  program_.outputs.push_back({name, ref});
}

void ProgramBuilder::dispatch(const std::string& kernel, const std::string& variant,
                              std::vector<program::Constant> constants, std::vector<program::TensorRef> inputs,
                              std::vector<program::TensorRef> outputs, std::map<std::string, std::string> step_params) {
  program::Dispatch d;
  d.kernel = kernel;
  d.variant = variant;
  d.node = absl::StrCat("n", program_.dispatches.size());
  std::sort(constants.begin(), constants.end(),
            [](const program::Constant& a, const program::Constant& b) { return a.name < b.name; });
  d.constants = std::move(constants);
  for (const auto& entry : step_params) d.step_params.push_back({entry.first, program_.find_slot(entry.second)});
  d.inputs = std::move(inputs);
  d.outputs = std::move(outputs);
  d.launch = d.outputs[0].shape;
  for (size_t i = 0; i < program_.dispatches.size(); ++i) d.after.push_back(static_cast<int32_t>(i));
  program_.dispatches.push_back(std::move(d));
}

std::string ProgramBuilder::json() const { return program::program_to_json(program_); }

program::Constant int_constant(const std::string& name, int64_t value) {
  program::Constant c;
  c.name = name;
  c.type = program::Constant::Type::integer;
  c.integer = value;
  return c;
}
program::Constant bool_constant(const std::string& name, bool value) {
  program::Constant c = int_constant(name, value ? 1 : 0);
  c.type = program::Constant::Type::boolean;
  return c;
}
program::Constant real_constant(const std::string& name, double value) {
  program::Constant c;
  c.name = name;
  c.type = program::Constant::Type::real;
  c.real = value;
  return c;
}

// ---- Values ---------------------------------------------------------------------

std::vector<float> random_floats(size_t count, uint32_t seed, float range) {
  std::vector<float> out(count);
  uint64_t state = 0x9e3779b97f4a7c15ull ^ seed;
  for (float& v : out) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    v = (static_cast<float>(state >> 40) / static_cast<float>(1 << 24) * 2.0f - 1.0f) * range;
  }
  return out;
}

std::vector<uint8_t> encode(program::DType dtype, const std::vector<float>& values) {
  std::vector<uint8_t> out(program::dtype_bytes(dtype, static_cast<int64_t>(values.size())));
  for (size_t i = 0; i < values.size(); ++i) {
    switch (dtype) {
      case program::DType::f32: std::memcpy(&out[4 * i], &values[i], 4); break;
      case program::DType::i32: {
        const auto v = static_cast<int32_t>(values[i]);
        std::memcpy(&out[4 * i], &v, 4);
        break;
      }
      case program::DType::f16: {
        const uint16_t v = program::f32_to_f16(values[i]);
        std::memcpy(&out[2 * i], &v, 2);
        break;
      }
      case program::DType::bf16: {
        const uint16_t v = program::f32_to_bf16(values[i]);
        std::memcpy(&out[2 * i], &v, 2);
        break;
      }
    }
  }
  return out;
}

std::vector<float> decode(program::DType dtype, const std::vector<uint8_t>& bytes) {
  const size_t size = program::dtype_info(dtype).block_bytes;
  std::vector<float> out(bytes.size() / size);
  for (size_t i = 0; i < out.size(); ++i) {
    switch (dtype) {
      case program::DType::f32: std::memcpy(&out[i], &bytes[4 * i], 4); break;
      case program::DType::i32: {
        int32_t v;
        std::memcpy(&v, &bytes[4 * i], 4);
        out[i] = static_cast<float>(v);
        break;
      }
      case program::DType::f16:
      case program::DType::bf16: {
        uint16_t v;
        std::memcpy(&v, &bytes[2 * i], 2);
        out[i] = dtype == program::DType::f16 ? program::f16_to_f32(v) : program::bf16_to_f32(v);
        break;
      }
    }
  }
  return out;
}

std::vector<float> rounded(program::DType dtype, const std::vector<float>& values) {
  return decode(dtype, encode(dtype, values));
}

// ---- OpenclRun ------------------------------------------------------------------

OpenclRun::OpenclRun(int32_t profile, std::string cache_dir) : api_(plugin_api()) {
  kiln_device_options options{};
  options.struct_size = sizeof options;
  options.cache_dir = cache_dir.empty() ? nullptr : cache_dir.c_str();
  options.profile = profile;
  kiln_error error{};
  if (api_->create_device(0, &options, &device_, &error) != KILN_OK) device_ = nullptr;
}

OpenclRun::~OpenclRun() {
  if (executable_ != nullptr) api_->destroy_executable(executable_);
  if (weights_ != nullptr) api_->destroy_weights(weights_);
  if (state_ != nullptr) api_->destroy_state(state_);
  if (device_ != nullptr) api_->destroy_device(device_);
}

absl::Status OpenclRun::compile(const ProgramBuilder& builder, const std::vector<std::vector<uint8_t>>& weights) {
  if (device_ == nullptr) return absl::UnavailableError("no device");
  program_ = builder.program();
  const std::string json = builder.json();
  kiln_error error{};
  if (absl::Status s = status_of(api_->compile(device_, json.data(), json.size(), &executable_, &error), error);
      !s.ok()) {
    return s;
  }
  if (!program_.weights.empty()) {
    if (absl::Status s = status_of(api_->create_weights(executable_, &weights_, &error), error); !s.ok()) return s;
    for (size_t i = 0; i < weights.size(); ++i) {
      if (absl::Status s = status_of(api_->import_weight(weights_, static_cast<uint32_t>(i), weights[i].data(),
                                                          weights[i].size(), &error),
                                     error);
          !s.ok()) {
        return s;
      }
    }
  }
  if (program_.state_bytes > 0) {
    if (absl::Status s = status_of(api_->create_state(executable_, &state_, &error), error); !s.ok()) return s;
  }
  if (weights_ == nullptr && state_ == nullptr) return absl::OkStatus();
  return status_of(api_->bind(executable_, weights_, state_, &error), error);
}

absl::StatusOr<std::vector<std::vector<uint8_t>>> OpenclRun::run(const std::vector<int64_t>& values,
                                                                 const std::vector<std::vector<uint8_t>>& inputs) {
  std::vector<int64_t> given = values;
  absl::StatusOr<program::StepValues> step_values = program::evaluate_step(program_, given);
  if (!step_values.ok()) return step_values.status();
  std::vector<kiln_input> in;
  for (size_t i = 0; i < inputs.size(); ++i) {
    in.push_back({static_cast<uint32_t>(i), 0, inputs[i].data(), inputs[i].size()});
  }
  std::vector<std::vector<uint8_t>> results;
  std::vector<kiln_output> out;
  for (const program::Binding& binding : program_.outputs) {
    results.emplace_back(program::byte_size(binding.ref, *step_values));
  }
  for (size_t i = 0; i < results.size(); ++i) {
    out.push_back({static_cast<uint32_t>(i), 0, results[i].data(), results[i].size()});
  }
  kiln_step step{};
  step.struct_size = sizeof step;
  step.values = given.data();
  step.value_count = static_cast<uint32_t>(given.size());
  step.inputs = in.data();
  step.input_count = static_cast<uint32_t>(in.size());
  step.outputs = out.data();
  step.output_count = static_cast<uint32_t>(out.size());
  kiln_error error{};
  if (absl::Status s = status_of(api_->run(executable_, &step, &error), error); !s.ok()) return s;
  return results;
}

absl::StatusOr<std::vector<uint8_t>> OpenclRun::read_state(uint64_t offset, uint64_t bytes) {
  std::vector<uint8_t> out(bytes);
  kiln_error error{};
  if (absl::Status s = status_of(api_->read_state(state_, offset, out.data(), bytes, &error), error); !s.ok()) {
    return s;
  }
  return out;
}

kiln_counters OpenclRun::counters() const {
  kiln_counters c{};
  c.struct_size = sizeof c;
  api_->get_counters(device_, &c);
  return c;
}

}  // namespace kiln::backends::opencl_testing
