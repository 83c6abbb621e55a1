// The vulkan plugin's C ABI (backends/backend.h): each entry checks its
// arguments, runs under support::guarded, and fails with any Vulkan
// validation message received meanwhile.
#include <memory>

#include "absl/strings/str_cat.h"
#include "backends/backend.h"
#include "backends/support/guard.h"
#include "backends/support/program_checks.h"
#include "backends/vulkan/device.h"
#include "backends/vulkan/executable.h"
#include "backends/vulkan/instance.h"
#include "backends/vulkan/resources.h"

namespace kiln::backends::vulkan {
namespace {

using support::guarded;
using support::require;

int32_t probe(kiln_capabilities* out_devices, uint32_t capacity, uint32_t* out_count, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(out_count != nullptr, "out_count"); !s.ok()) return s;
    if (absl::Status s = require(capacity == 0 || out_devices != nullptr, "out_devices"); !s.ok()) return s;
    absl::StatusOr<Instance*> instance = Instance::get();
    if (!instance.ok()) return instance.status();
    const std::vector<VkPhysicalDevice>& devices = (*instance)->devices();
    *out_count = static_cast<uint32_t>(devices.size());
    for (uint32_t i = 0; i < capacity && i < devices.size(); ++i) describe_device(devices[i], &out_devices[i]);
    return (*instance)->take_validation_messages();
  });
}

int32_t create_device(uint32_t index, const kiln_device_options* options, kiln_device** out_device,
                      kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(out_device != nullptr, "out_device"); !s.ok()) return s;
    *out_device = nullptr;
    absl::StatusOr<std::unique_ptr<kiln_device>> device = kiln_device::open(index, support::read_options(options));
    if (!device.ok()) return device.status();
    *out_device = device->release();
    return absl::OkStatus();
  });
}

void destroy_device(kiln_device* device) { delete device; }

void get_counters(const kiln_device* device, kiln_counters* out_counters) {
  if (device == nullptr || out_counters == nullptr) return;
  support::copy_fitting(const_cast<kiln_device*>(device)->counters(), out_counters);
}

int32_t compile(kiln_device* device, const char* program_json, size_t length, kiln_executable** out_executable,
                kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(device != nullptr, "device"); !s.ok()) return s;
    if (absl::Status s = require(out_executable != nullptr, "out_executable"); !s.ok()) return s;
    *out_executable = nullptr;
    absl::StatusOr<program::Program> program = support::read_program(program_json, length);
    if (!program.ok()) return program.status();
    absl::StatusOr<std::unique_ptr<kiln_executable>> executable = compile_program(device, *std::move(program));
    if (!executable.ok()) return executable.status();
    *out_executable = executable->release();
    return absl::OkStatus();
  });
}

void destroy_executable(kiln_executable* executable) { delete executable; }

int32_t create_weights(kiln_executable* executable, kiln_weights** out_weights, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(executable != nullptr, "executable"); !s.ok()) return s;
    if (absl::Status s = require(out_weights != nullptr, "out_weights"); !s.ok()) return s;
    *out_weights = nullptr;
    auto weights = std::make_unique<kiln_weights>();
    weights->device = executable->device;
    weights->program = executable->program;
    weights->imported.assign(executable->program.weights.size(), false);
    const uint64_t limit = executable->device->properties().limits.maxStorageBufferRange;
    for (size_t i = 0; i < executable->program.weight_chunks.size(); ++i) {
      const uint64_t bytes = static_cast<uint64_t>(executable->program.weight_chunks[i]);
      if (bytes > limit) {
        return absl::OutOfRangeError(absl::StrCat("weight chunk ", i, " of ", bytes,
                                                  " bytes exceeds the device's largest binding (", limit, " bytes)"));
      }
      absl::StatusOr<kiln_device::Buffer> chunk = executable->device->create_buffer(
          bytes, Memory::device_local, absl::StrCat("weight chunk ", i));
      if (!chunk.ok()) return chunk.status();
      weights->chunks.push_back(*chunk);
    }
    *out_weights = weights.release();
    return executable->device->check_validation();
  });
}

int32_t import_weight(kiln_weights* weights, uint32_t index, const void* data, uint64_t bytes, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(weights != nullptr, "weights"); !s.ok()) return s;
    if (absl::Status s = support::check_import(weights->program, index, data, bytes); !s.ok()) return s;
    const program::WeightEntry& entry = weights->program.weights[index];
    if (absl::Status s = weights->device->upload(weights->chunks[entry.chunk], entry.offset, data, bytes,
                                                 absl::StrCat("uploading weight '", entry.name, "'"));
        !s.ok()) {
      return s;
    }
    weights->imported[index] = true;
    return absl::OkStatus();
  });
}

void destroy_weights(kiln_weights* weights) { delete weights; }

int32_t create_state(kiln_executable* executable, kiln_state** out_state, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(executable != nullptr, "executable"); !s.ok()) return s;
    if (absl::Status s = require(out_state != nullptr, "out_state"); !s.ok()) return s;
    *out_state = nullptr;
    kiln_device* device = executable->device;
    auto state = std::make_unique<kiln_state>();
    state->device = device;
    state->program = executable->program;
    absl::StatusOr<kiln_device::Buffer> buffer =
        device->create_buffer(static_cast<uint64_t>(executable->program.state_bytes), Memory::device_local, "the state");
    if (!buffer.ok()) return buffer.status();
    state->buffer = *buffer;
    absl::StatusOr<VkCommandBuffer> commands = device->begin_one_time();
    if (!commands.ok()) return commands.status();
    vkCmdFillBuffer(*commands, state->buffer.buffer, 0, VK_WHOLE_SIZE, 0);
    if (absl::Status s = device->end_one_time(*commands, "zero-filling the state"); !s.ok()) return s;
    *out_state = state.release();
    return absl::OkStatus();
  });
}

int32_t read_state(kiln_state* state, uint64_t offset, void* out_data, uint64_t bytes, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(state != nullptr, "state"); !s.ok()) return s;
    if (absl::Status s = require(out_data != nullptr || bytes == 0, "out_data"); !s.ok()) return s;
    if (absl::Status s = support::check_state_range(state->program, offset, bytes); !s.ok()) return s;
    return state->device->download(state->buffer, offset, out_data, bytes, "reading the state");
  });
}

void destroy_state(kiln_state* state) { delete state; }

int32_t bind(kiln_executable* executable, kiln_weights* weights, kiln_state* state, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(executable != nullptr, "executable"); !s.ok()) return s;
    const program::Program& program = executable->program;
    if (!program.weights.empty() || !program.weight_chunks.empty()) {
      if (absl::Status s = require(weights != nullptr, "weights"); !s.ok()) return s;
    }
    if (weights != nullptr) {
      if (absl::Status s = support::check_same_weights(weights->program, program); !s.ok()) return s;
      for (size_t i = 0; i < weights->imported.size(); ++i) {
        if (!weights->imported[i]) {
          return absl::FailedPreconditionError(
              absl::StrCat("weight ", i, " ('", program.weights[i].name, "') was never imported"));
        }
      }
    }
    if (program.state_bytes > 0 || !program.states.empty()) {
      if (absl::Status s = require(state != nullptr, "state"); !s.ok()) return s;
    }
    if (state != nullptr) {
      if (absl::Status s = support::check_same_state(state->program, program); !s.ok()) return s;
    }
    executable->weights = weights;
    executable->state = state;
    return record_commands(*executable);
  });
}

int32_t run(kiln_executable* executable, const kiln_step* step, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(executable != nullptr, "executable"); !s.ok()) return s;
    if (absl::Status s = require(step != nullptr, "step"); !s.ok()) return s;
    return run_step(*executable, step);
  });
}

int32_t get_profile(kiln_executable* executable, kiln_profile_entry* out_entries, uint32_t capacity,
                    uint32_t* out_count, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(executable != nullptr, "executable"); !s.ok()) return s;
    if (absl::Status s = require(out_count != nullptr, "out_count"); !s.ok()) return s;
    if (absl::Status s = require(capacity == 0 || out_entries != nullptr, "out_entries"); !s.ok()) return s;
    return read_profile(*executable, out_entries, capacity, out_count);
  });
}

const kiln_backend_api kApi = {
    KILN_BACKEND_ABI_VERSION,
    sizeof(kiln_backend_api),
    "vulkan",
    probe,
    create_device,
    destroy_device,
    get_counters,
    compile,
    destroy_executable,
    create_weights,
    import_weight,
    destroy_weights,
    create_state,
    read_state,
    destroy_state,
    bind,
    run,
    get_profile,
    nullptr,  // get_device_capabilities: the opened device is its probe entry
};

}  // namespace
}  // namespace kiln::backends::vulkan

extern "C" __attribute__((visibility("default"))) const kiln_backend_api* kiln_backend_get_api(void) {
  return &kiln::backends::vulkan::kApi;
}
