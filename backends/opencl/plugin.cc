// The OpenCL plugin's ABI surface: the exported entry point and its table.
// Every entry runs inside support::guarded, so absl::Status and exceptions
// become a kiln_error; nothing but C types crosses.

#include <memory>

#include "backends/backend.h"
#include "backends/opencl/compile.h"
#include "backends/opencl/device.h"
#include "backends/opencl/device_list.h"
#include "backends/opencl/executable.h"
#include "backends/opencl/state.h"
#include "backends/opencl/weights.h"
#include "backends/support/guard.h"
#include "backends/support/program_checks.h"

struct kiln_device {
  std::unique_ptr<kiln::backends::opencl::Device> device;
};
struct kiln_executable {
  std::unique_ptr<kiln::backends::opencl::Executable> executable;
};
struct kiln_weights {
  std::unique_ptr<kiln::backends::opencl::Weights> weights;
};
struct kiln_state {
  std::unique_ptr<kiln::backends::opencl::State> state;
};

namespace kiln::backends::opencl {
namespace {

using support::guarded;
using support::require;

int32_t probe(kiln_capabilities* out_devices, uint32_t capacity, uint32_t* out_count, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(out_count != nullptr, "out_count"); !s.ok()) return s;
    if (absl::Status s = require(capacity == 0 || out_devices != nullptr, "out_devices"); !s.ok()) return s;
    absl::StatusOr<std::vector<DeviceEntry>> entries = list_devices();
    if (!entries.ok()) return entries.status();
    *out_count = static_cast<uint32_t>(entries->size());
    for (uint32_t i = 0; i < capacity && i < entries->size(); ++i) {
      support::copy_fitting(capabilities(device_info((*entries)[i])), &out_devices[i]);
    }
    return absl::OkStatus();
  });
}

int32_t create_device(uint32_t index, const kiln_device_options* options, kiln_device** out_device,
                      kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(out_device != nullptr, "out_device"); !s.ok()) return s;
    *out_device = nullptr;
    absl::StatusOr<std::vector<DeviceEntry>> entries = list_devices();
    if (!entries.ok()) return entries.status();
    if (index >= entries->size()) {
      return absl::OutOfRangeError(absl::StrCat("device index ", index, " is outside the ", entries->size(),
                                                " OpenCL devices probe lists"));
    }
    absl::StatusOr<std::unique_ptr<Device>> device = Device::open((*entries)[index], support::read_options(options));
    if (!device.ok()) return device.status();
    *out_device = new kiln_device{*std::move(device)};
    return absl::OkStatus();
  });
}

void destroy_device(kiln_device* device) { delete device; }

void get_counters(const kiln_device* device, kiln_counters* out_counters) {
  if (device == nullptr || out_counters == nullptr) return;
  support::copy_fitting(device->device->counters(), out_counters);
}

int32_t compile_program(kiln_device* device, const char* program_json, size_t length,
                        kiln_executable** out_executable, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(device != nullptr, "device"); !s.ok()) return s;
    if (absl::Status s = require(out_executable != nullptr, "out_executable"); !s.ok()) return s;
    *out_executable = nullptr;
    absl::StatusOr<program::Program> program = support::read_program(program_json, length);
    if (!program.ok()) return program.status();
    absl::StatusOr<std::unique_ptr<Executable>> executable = compile(*device->device, *std::move(program));
    if (!executable.ok()) return executable.status();
    *out_executable = new kiln_executable{*std::move(executable)};
    return absl::OkStatus();
  });
}

void destroy_executable(kiln_executable* executable) { delete executable; }

int32_t create_weights(kiln_executable* executable, kiln_weights** out_weights, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(executable != nullptr, "executable"); !s.ok()) return s;
    if (absl::Status s = require(out_weights != nullptr, "out_weights"); !s.ok()) return s;
    *out_weights = nullptr;
    Executable& e = *executable->executable;
    absl::StatusOr<std::unique_ptr<Weights>> weights = Weights::create(e.device(), e.program());
    if (!weights.ok()) return weights.status();
    *out_weights = new kiln_weights{*std::move(weights)};
    return absl::OkStatus();
  });
}

int32_t import_weight(kiln_weights* weights, uint32_t index, const void* data, uint64_t bytes, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(weights != nullptr, "weights"); !s.ok()) return s;
    return weights->weights->import(index, data, bytes);
  });
}

void destroy_weights(kiln_weights* weights) { delete weights; }

int32_t create_state(kiln_executable* executable, kiln_state** out_state, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(executable != nullptr, "executable"); !s.ok()) return s;
    if (absl::Status s = require(out_state != nullptr, "out_state"); !s.ok()) return s;
    *out_state = nullptr;
    Executable& e = *executable->executable;
    absl::StatusOr<std::unique_ptr<State>> state = State::create(e.device(), e.program());
    if (!state.ok()) return state.status();
    *out_state = new kiln_state{*std::move(state)};
    return absl::OkStatus();
  });
}

int32_t read_state(kiln_state* state, uint64_t offset, void* out_data, uint64_t bytes, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(state != nullptr, "state"); !s.ok()) return s;
    return state->state->read(offset, out_data, bytes);
  });
}

void destroy_state(kiln_state* state) { delete state; }

int32_t bind(kiln_executable* executable, kiln_weights* weights, kiln_state* state, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(executable != nullptr, "executable"); !s.ok()) return s;
    return executable->executable->bind(weights == nullptr ? nullptr : weights->weights.get(),
                                        state == nullptr ? nullptr : state->state.get());
  });
}

int32_t run(kiln_executable* executable, const kiln_step* step, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(executable != nullptr, "executable"); !s.ok()) return s;
    if (absl::Status s = require(step != nullptr, "step"); !s.ok()) return s;
    return executable->executable->run(*step);
  });
}

int32_t get_profile(kiln_executable* executable, kiln_profile_entry* out_entries, uint32_t capacity,
                    uint32_t* out_count, kiln_error* error) {
  return guarded(error, [&]() -> absl::Status {
    if (absl::Status s = require(executable != nullptr, "executable"); !s.ok()) return s;
    return executable->executable->profile(out_entries, capacity, out_count);
  });
}

constexpr kiln_backend_api kApi = {
    .abi_version = KILN_BACKEND_ABI_VERSION,
    .struct_size = sizeof(kiln_backend_api),
    .name = "opencl",
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
    .get_device_capabilities = nullptr,  // the opened device is its probe entry
};

}  // namespace
}  // namespace kiln::backends::opencl

extern "C" __attribute__((visibility("default"))) const kiln_backend_api* kiln_backend_get_api(void) {
  return &kiln::backends::opencl::kApi;
}
