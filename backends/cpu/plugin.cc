// The cpu plugin's ABI surface: the exported entry point and its table.
// Every entry turns absl::Status and exceptions into kiln_error; nothing but
// C types crosses.

#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>

#include "absl/status/status.h"
#include "backends/backend.h"
#include "backends/cpu/compile.h"
#include "backends/cpu/device.h"
#include "backends/cpu/executable.h"

struct kiln_device {
  kiln::backends::cpu::Device device;
};

struct kiln_executable {
  std::unique_ptr<kiln::backends::cpu::Executable> executable;
};

namespace kiln::backends::cpu {
namespace {

// absl codes that kiln_error has no value for map to their nearest.
int32_t error_code(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
      return KILN_ERROR_INVALID_ARGUMENT;
    case absl::StatusCode::kNotFound: return KILN_ERROR_NOT_FOUND;
    case absl::StatusCode::kOutOfRange: return KILN_ERROR_OUT_OF_RANGE;
    case absl::StatusCode::kUnimplemented: return KILN_ERROR_UNIMPLEMENTED;
    case absl::StatusCode::kUnavailable: return KILN_ERROR_UNAVAILABLE;
    case absl::StatusCode::kResourceExhausted: return KILN_ERROR_RESOURCE_EXHAUSTED;
    default: return KILN_ERROR_INTERNAL;
  }
}

int32_t fail(kiln_error* error, int32_t code, const std::string& message) {
  if (error != nullptr) {
    error->code = code;
    const size_t length = std::min(message.size(), sizeof error->message - 1);
    std::memcpy(error->message, message.data(), length);
    error->message[length] = '\0';
  }
  return code;
}

int32_t report(const absl::Status& status, kiln_error* error) {
  if (status.ok()) return KILN_OK;
  return fail(error, error_code(status.code()), std::string(status.message()));
}

// Runs an entry's body; an escaping exception becomes an error, never a
// crash across the C boundary.
template <typename Body>
int32_t guarded(kiln_error* error, Body body) {
  try {
    return report(body(), error);
  } catch (const std::bad_alloc&) {
    return fail(error, KILN_ERROR_RESOURCE_EXHAUSTED, "out of host memory");
  } catch (const std::exception& e) {
    return fail(error, KILN_ERROR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(error, KILN_ERROR_INTERNAL, "internal error: unknown exception");
  }
}

absl::Status require(bool present, const char* what) {
  return present ? absl::OkStatus() : absl::InvalidArgumentError(std::string(what) + " is null");
}

// Copies the fields of `full` that fit in the caller's struct, whose
// struct_size says how many it has.
template <typename Struct>
void copy_fitting(const Struct& full, Struct* out) {
  const uint32_t size = out->struct_size;
  std::memcpy(out, &full, std::min<size_t>(size, sizeof full));
  out->struct_size = size;
}

int32_t create_device(kiln_device** out_device, kiln_capabilities* out_caps, kiln_error* error) {
  return guarded(error, [&] {
    if (absl::Status s = require(out_device != nullptr && out_caps != nullptr, "out_device or out_caps"); !s.ok()) {
      return s;
    }
    *out_device = nullptr;
    auto device = std::make_unique<kiln_device>(kiln_device{open_device()});
    copy_fitting(capabilities(device->device), out_caps);
    *out_device = device.release();
    return absl::OkStatus();
  });
}

void destroy_device(kiln_device* device) { delete device; }

int32_t compile_program(kiln_device* device, const char* program_json, size_t length, kiln_executable* share_with,
                        kiln_executable** out_executable, kiln_error* error) {
  return guarded(error, [&] {
    const bool present = device != nullptr && out_executable != nullptr && (program_json != nullptr || length == 0);
    if (absl::Status s = require(present, "device, program_json or out_executable"); !s.ok()) return s;
    *out_executable = nullptr;
    absl::StatusOr<std::unique_ptr<Executable>> executable =
        compile(std::string_view(program_json, length), share_with ? share_with->executable.get() : nullptr);
    if (!executable.ok()) return executable.status();
    *out_executable = new kiln_executable{*std::move(executable)};
    return absl::OkStatus();
  });
}

void destroy_executable(kiln_executable* executable) { delete executable; }

int32_t upload_weight(kiln_executable* executable, uint32_t index, const void* data, uint64_t bytes,
                      kiln_error* error) {
  return guarded(error, [&] {
    if (absl::Status s = require(executable != nullptr, "executable"); !s.ok()) return s;
    return executable->executable->upload_weight(index, data, bytes);
  });
}

int32_t write_region(kiln_executable* executable, int32_t region, uint64_t offset, const void* data, uint64_t bytes,
                     kiln_error* error) {
  return guarded(error, [&] {
    if (absl::Status s = require(executable != nullptr && (data != nullptr || bytes == 0), "executable or data");
        !s.ok()) {
      return s;
    }
    return executable->executable->write(region, offset, data, bytes);
  });
}

int32_t read_region(kiln_executable* executable, int32_t region, uint64_t offset, void* out_data, uint64_t bytes,
                    kiln_error* error) {
  return guarded(error, [&] {
    if (absl::Status s = require(executable != nullptr && (out_data != nullptr || bytes == 0), "executable or out_data");
        !s.ok()) {
      return s;
    }
    return executable->executable->read(region, offset, out_data, bytes);
  });
}

int32_t run(kiln_executable* executable, const kiln_uniform* uniforms, size_t count, kiln_error* error) {
  return guarded(error, [&] {
    if (absl::Status s = require(executable != nullptr && (uniforms != nullptr || count == 0), "executable or uniforms");
        !s.ok()) {
      return s;
    }
    return executable->executable->run(std::span<const kiln_uniform>(uniforms, count));
  });
}

void get_counters(const kiln_executable* executable, kiln_counters* out_counters) {
  if (executable == nullptr || out_counters == nullptr) return;
  copy_fitting(executable->executable->counters(), out_counters);
}

constexpr kiln_backend_api kApi = {
    .abi_version = KILN_BACKEND_ABI_VERSION,
    .struct_size = sizeof(kiln_backend_api),
    .name = "cpu",
    .create_device = create_device,
    .destroy_device = destroy_device,
    .compile = compile_program,
    .destroy_executable = destroy_executable,
    .upload_weight = upload_weight,
    .write = write_region,
    .read = read_region,
    .run = run,
    .get_counters = get_counters,
};

}  // namespace
}  // namespace kiln::backends::cpu

extern "C" __attribute__((visibility("default"))) const kiln_backend_api* kiln_backend_get_api(void) {
  return &kiln::backends::cpu::kApi;
}
