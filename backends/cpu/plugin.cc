// The cpu plugin's ABI surface: the exported entry point and its table.
// Every entry runs inside support::guarded, so absl::Status and exceptions
// become a kiln_error and nothing but C types crosses.

#include <memory>

#include "backends/backend.h"
#include "backends/cpu/compile.h"
#include "backends/cpu/device.h"
#include "backends/cpu/executable.h"
#include "backends/support/guard.h"
#include "backends/support/program_checks.h"

struct kiln_device {
  kiln::backends::cpu::Device device;
};

struct kiln_executable {
  kiln_device* device;
  std::unique_ptr<kiln::backends::cpu::Executable> executable;
};

struct kiln_weights {
  std::unique_ptr<kiln::backends::cpu::Weights> weights;
};

struct kiln_state {
  std::unique_ptr<kiln::backends::cpu::State> state;
};

namespace kiln::backends::cpu {
namespace {

using support::guarded;
using support::require;

int32_t probe(kiln_capabilities* out_devices, uint32_t capacity, uint32_t* out_count, kiln_error* error) {
  return guarded(error, [&] {
    if (absl::Status s = require(out_count != nullptr && (out_devices != nullptr || capacity == 0), "out_devices");
        !s.ok()) {
      return s;
    }
    *out_count = 1;
    if (capacity > 0) support::copy_fitting(capabilities(kernels::cpu::default_threads()), out_devices);
    return absl::OkStatus();
  });
}

int32_t create_device(uint32_t index, const kiln_device_options* options, kiln_device** out_device,
                      kiln_error* error) {
  return guarded(error, [&] {
    if (absl::Status s = require(out_device != nullptr, "out_device"); !s.ok()) return s;
    *out_device = nullptr;
    if (index != 0) return absl::OutOfRangeError("the cpu plugin has one device, index 0");
    absl::StatusOr<Device> device = open_device(support::read_options(options));
    if (!device.ok()) return device.status();
    *out_device = new kiln_device{*std::move(device)};
    return absl::OkStatus();
  });
}

void destroy_device(kiln_device* device) { delete device; }

void get_device_capabilities(const kiln_device* device, kiln_capabilities* out_capabilities) {
  if (device == nullptr || out_capabilities == nullptr) return;
  support::copy_fitting(capabilities(device->device.pool->threads()), out_capabilities);
}

void get_counters(const kiln_device* device, kiln_counters* out_counters) {
  if (device == nullptr || out_counters == nullptr) return;
  support::copy_fitting(device->device.counters, out_counters);
}

int32_t compile_program(kiln_device* device, const char* program_json, size_t length,
                        kiln_executable** out_executable, kiln_error* error) {
  return guarded(error, [&] {
    if (absl::Status s = require(device != nullptr && out_executable != nullptr, "device or out_executable"); !s.ok()) {
      return s;
    }
    *out_executable = nullptr;
    absl::StatusOr<std::unique_ptr<Executable>> executable = compile(device->device, program_json, length);
    if (!executable.ok()) return executable.status();
    *out_executable = new kiln_executable{device, *std::move(executable)};
    return absl::OkStatus();
  });
}

void destroy_executable(kiln_executable* executable) { delete executable; }

int32_t create_weights(kiln_executable* executable, kiln_weights** out_weights, kiln_error* error) {
  return guarded(error, [&] {
    if (absl::Status s = require(executable != nullptr && out_weights != nullptr, "executable or out_weights");
        !s.ok()) {
      return s;
    }
    *out_weights = new kiln_weights{make_weights(*executable->executable)};
    return absl::OkStatus();
  });
}

// In place: the pointer is kept, the bytes are never copied.
int32_t import_weight(kiln_weights* weights, uint32_t index, const void* data, uint64_t bytes, kiln_error* error) {
  return guarded(error, [&] {
    if (absl::Status s = require(weights != nullptr, "weights"); !s.ok()) return s;
    Weights& w = *weights->weights;
    if (absl::Status s = support::check_import(w.made_for, index, data, bytes); !s.ok()) return s;
    w.data[index] = static_cast<const uint8_t*>(data);
    return absl::OkStatus();
  });
}

void destroy_weights(kiln_weights* weights) { delete weights; }

int32_t create_state(kiln_executable* executable, kiln_state** out_state, kiln_error* error) {
  return guarded(error, [&] {
    if (absl::Status s = require(executable != nullptr && out_state != nullptr, "executable or out_state"); !s.ok()) {
      return s;
    }
    absl::StatusOr<std::unique_ptr<State>> state = make_state(executable->device->device, *executable->executable);
    if (!state.ok()) return state.status();
    *out_state = new kiln_state{*std::move(state)};
    return absl::OkStatus();
  });
}

int32_t read_state(kiln_state* state, uint64_t offset, void* out_data, uint64_t bytes, kiln_error* error) {
  return guarded(error, [&] {
    if (absl::Status s = require(state != nullptr && (out_data != nullptr || bytes == 0), "state or out_data");
        !s.ok()) {
      return s;
    }
    const State& s = *state->state;
    if (absl::Status check = support::check_state_range(s.made_for, offset, bytes); !check.ok()) return check;
    if (bytes > 0) std::memcpy(out_data, s.buffer.data() + offset, bytes);
    return absl::OkStatus();
  });
}

void destroy_state(kiln_state* state) { delete state; }

int32_t bind(kiln_executable* executable, kiln_weights* weights, kiln_state* state, kiln_error* error) {
  return guarded(error, [&] {
    if (absl::Status s = require(executable != nullptr && weights != nullptr, "executable or weights"); !s.ok()) {
      return s;
    }
    return executable->executable->bind(*weights->weights, state != nullptr ? state->state.get() : nullptr);
  });
}

int32_t run(kiln_executable* executable, const kiln_step* step, kiln_error* error) {
  return guarded(error, [&] {
    if (absl::Status s = require(executable != nullptr && step != nullptr, "executable or step"); !s.ok()) return s;
    return executable->executable->run(*step);
  });
}

// The cpu plugin has no device timer: profiling is a GPU plugin's.
int32_t get_profile(kiln_executable*, kiln_profile_entry*, uint32_t, uint32_t*, kiln_error* error) {
  return support::fail(error, KILN_ERROR_FAILED_PRECONDITION, "the cpu plugin does not profile dispatches");
}

constexpr kiln_backend_api kApi = {
    .abi_version = KILN_BACKEND_ABI_VERSION,
    .struct_size = sizeof(kiln_backend_api),
    .name = "cpu",
    .probe = probe,
    .create_device = create_device,
    .destroy_device = destroy_device,
    .get_counters = get_counters,
    .compile = compile_program,
    .destroy_executable = destroy_executable,
    .create_weights = create_weights,
    .import_weight = import_weight,
    .destroy_weights = destroy_weights,
    .create_state = create_state,
    .read_state = read_state,
    .destroy_state = destroy_state,
    .bind = bind,
    .run = run,
    .get_profile = get_profile,
    .get_device_capabilities = get_device_capabilities,
};

}  // namespace
}  // namespace kiln::backends::cpu

extern "C" __attribute__((visibility("default"))) const kiln_backend_api* kiln_backend_get_api(void) {
  return &kiln::backends::cpu::kApi;
}
