// A plugin broken on purpose, one way per build (tests/backends/CMakeLists.txt):
//   FAKE_NAME           the name in its table, matching its file name
//   FAKE_ABI_VERSION    the ABI it claims to be built for
//   FAKE_NO_ENTRY_POINT exports no kiln_backend_get_api
// Its create_device always fails, as on a machine without the device, so
// a build with the right ABI and entry point tests that failure.

#include <cstdio>

#include "backends/backend.h"

namespace {

int32_t create_device(kiln_device** out_device, kiln_capabilities*, kiln_error* error) {
  *out_device = nullptr;
  error->code = KILN_ERROR_UNAVAILABLE;
  std::snprintf(error->message, sizeof error->message, "no fake GPU in this machine");
  return KILN_ERROR_UNAVAILABLE;
}

void destroy_device(kiln_device*) {}

int32_t compile(kiln_device*, const char*, size_t, kiln_executable*, kiln_executable**, kiln_error*) {
  return KILN_ERROR_UNIMPLEMENTED;
}

void destroy_executable(kiln_executable*) {}
int32_t upload_weight(kiln_executable*, uint32_t, const void*, uint64_t, kiln_error*) { return KILN_ERROR_UNIMPLEMENTED; }
int32_t write(kiln_executable*, int32_t, uint64_t, const void*, uint64_t, kiln_error*) { return KILN_ERROR_UNIMPLEMENTED; }
int32_t read(kiln_executable*, int32_t, uint64_t, void*, uint64_t, kiln_error*) { return KILN_ERROR_UNIMPLEMENTED; }
int32_t run(kiln_executable*, const kiln_uniform*, size_t, kiln_error*) { return KILN_ERROR_UNIMPLEMENTED; }
void get_counters(const kiln_executable*, kiln_counters*) {}

const kiln_backend_api kApi = {
    FAKE_ABI_VERSION, sizeof(kiln_backend_api), FAKE_NAME, create_device, destroy_device, compile,
    destroy_executable, upload_weight, write, read, run, get_counters,
};

}  // namespace

#ifndef FAKE_NO_ENTRY_POINT
extern "C" __attribute__((visibility("default"))) const kiln_backend_api* kiln_backend_get_api(void) { return &kApi; }
#else
extern "C" __attribute__((visibility("default"))) const kiln_backend_api* kiln_get_api_misspelt(void) { return &kApi; }
#endif
