// A plugin for the registry tests, built once per way it differs
// (tests/backends/CMakeLists.txt):
//   FAKE_NAME           the name in its table, matching its file name
//   FAKE_ABI_VERSION    the ABI it claims to be built for
//   FAKE_NO_ENTRY_POINT exports no kiln_backend_get_api
//   FAKE_PROBE_FAILS    probe fails as on a machine without its driver
//   FAKE_DEVICE_COUNT   how many devices probe lists (default 1)
//   FAKE_SMALL_TABLE    struct_size is KILN_BACKEND_API_V2_SIZE: built
//                       before get_profile was appended
// Its objects hold nothing: compile hands back an executable that runs
// nothing. It exports how often probe and create_device were called
// (kiln_fake_calls), so a test can see whether listing created a device.

#include <cstdio>

#include "backends/backend.h"

#ifndef FAKE_DEVICE_COUNT
#define FAKE_DEVICE_COUNT 1
#endif

struct kiln_device {
  int unused;
};
struct kiln_executable {
  int unused;
};

namespace {

struct Calls {
  uint64_t probe;
  uint64_t create_device;
};
Calls calls = {0, 0};

int32_t fail(kiln_error* error, int32_t code, const char* message) {
  if (error != nullptr) {
    error->code = code;
    std::snprintf(error->message, sizeof error->message, "%s", message);
  }
  return code;
}

int32_t probe(kiln_capabilities* out_devices, uint32_t capacity, uint32_t* out_count, kiln_error* error) {
  ++calls.probe;
#ifdef FAKE_PROBE_FAILS
  (void)out_devices;
  (void)capacity;
  (void)out_count;
  return fail(error, KILN_ERROR_UNAVAILABLE, "no fake GPU in this machine");
#else
  (void)error;
  *out_count = FAKE_DEVICE_COUNT;
  for (uint32_t i = 0; i < capacity && i < FAKE_DEVICE_COUNT; ++i) {
    kiln_capabilities& caps = out_devices[i];
    std::snprintf(caps.device_name, sizeof caps.device_name, "fake device %u", i);
    caps.device_type = KILN_DEVICE_OTHER;
    caps.max_buffer_bytes = 1 << 20;
  }
  return KILN_OK;
#endif
}

int32_t create_device(uint32_t index, const kiln_device_options*, kiln_device** out_device, kiln_error* error) {
  ++calls.create_device;
  *out_device = nullptr;
  if (index >= FAKE_DEVICE_COUNT) return fail(error, KILN_ERROR_OUT_OF_RANGE, "no such fake device");
  *out_device = new kiln_device{0};
  return KILN_OK;
}

void destroy_device(kiln_device* device) { delete device; }
void get_counters(const kiln_device*, kiln_counters*) {}

int32_t compile(kiln_device*, const char*, size_t, kiln_executable** out_executable, kiln_error*) {
  *out_executable = new kiln_executable{0};
  return KILN_OK;
}

void destroy_executable(kiln_executable* executable) { delete executable; }

int32_t create_weights(kiln_executable*, kiln_weights**, kiln_error* error) {
  return fail(error, KILN_ERROR_UNIMPLEMENTED, "fake");
}
int32_t import_weight(kiln_weights*, uint32_t, const void*, uint64_t, kiln_error* error) {
  return fail(error, KILN_ERROR_UNIMPLEMENTED, "fake");
}
void destroy_weights(kiln_weights*) {}
int32_t create_state(kiln_executable*, kiln_state**, kiln_error* error) {
  return fail(error, KILN_ERROR_UNIMPLEMENTED, "fake");
}
int32_t read_state(kiln_state*, uint64_t, void*, uint64_t, kiln_error* error) {
  return fail(error, KILN_ERROR_UNIMPLEMENTED, "fake");
}
void destroy_state(kiln_state*) {}
int32_t bind(kiln_executable*, kiln_weights*, kiln_state*, kiln_error* error) {
  return fail(error, KILN_ERROR_UNIMPLEMENTED, "fake");
}
int32_t run(kiln_executable*, const kiln_step*, kiln_error* error) {
  return fail(error, KILN_ERROR_UNIMPLEMENTED, "fake");
}

// Succeeds with no entries. A small-table build keeps it in its table
// but says the table ends before it: a host that called it regardless
// would get a profile instead of "cannot profile".
int32_t get_profile(kiln_executable*, kiln_profile_entry*, uint32_t, uint32_t* out_count, kiln_error*) {
  *out_count = 0;
  return KILN_OK;
}

#ifdef FAKE_SMALL_TABLE
constexpr uint32_t kTableSize = KILN_BACKEND_API_V2_SIZE;
#else
constexpr uint32_t kTableSize = sizeof(kiln_backend_api);
#endif

const kiln_backend_api kApi = {
    .abi_version = FAKE_ABI_VERSION,
    .struct_size = kTableSize,
    .name = FAKE_NAME,
    .probe = probe,
    .create_device = create_device,
    .destroy_device = destroy_device,
    .get_counters = get_counters,
    .compile = compile,
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
    .get_device_capabilities = nullptr,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) void kiln_fake_calls(uint64_t* out_probe,
                                                                      uint64_t* out_create_device) {
  *out_probe = calls.probe;
  *out_create_device = calls.create_device;
}

#ifndef FAKE_NO_ENTRY_POINT
extern "C" __attribute__((visibility("default"))) const kiln_backend_api* kiln_backend_get_api(void) { return &kApi; }
#else
extern "C" __attribute__((visibility("default"))) const kiln_backend_api* kiln_get_api_misspelt(void) { return &kApi; }
#endif
