/* The kiln backend plugin ABI. C only: a plugin is a shared library that
 * exports `kiln_backend_get_api`, returning a pointer to a const table of
 * function pointers. Nothing but C types crosses this boundary; no entry lets
 * an exception escape. A host refuses a table whose abi_version differs from
 * its own, and checks struct_size before calling an entry appended later. */
#ifndef KILN_BACKENDS_BACKEND_H_
#define KILN_BACKENDS_BACKEND_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_BACKEND_ABI_VERSION 1u

/* Error codes, mirroring absl::StatusCode where one exists. */
enum {
  KILN_OK = 0,
  KILN_ERROR_INVALID_ARGUMENT = 3,
  KILN_ERROR_NOT_FOUND = 5,
  KILN_ERROR_OUT_OF_RANGE = 11,
  KILN_ERROR_UNIMPLEMENTED = 12,
  KILN_ERROR_INTERNAL = 13,
  KILN_ERROR_UNAVAILABLE = 14,
  KILN_ERROR_RESOURCE_EXHAUSTED = 8,
};

/* Filled by a failing entry: the code and a sentence naming the kernel, op
 * or offset at fault. Caller-owned. */
typedef struct kiln_error {
  int32_t code;
  char message[1024];
} kiln_error;

/* What the device offers; the compiler's fusion and variant tables read it.
 * Set struct_size before calling probe; a plugin fills only the fields that
 * fit. */
typedef struct kiln_capabilities {
  uint32_t struct_size;
  char device_name[256];
  int32_t has_f16;               /* f16 arithmetic in kernels */
  int32_t subgroup_size;         /* 0: no subgroup operations */
  uint64_t shared_memory_bytes;  /* per workgroup; 0 for the cpu plugin */
  uint64_t max_buffer_bytes;     /* largest single buffer or binding */
} kiln_capabilities;

/* Monotonic totals since the executable was created. */
typedef struct kiln_counters {
  uint32_t struct_size;
  uint64_t runs;
  uint64_t submits;
  uint64_t dispatches;
  uint64_t allocations;
  uint64_t readbacks;
  uint64_t pipeline_creations;
  uint64_t bytes_uploaded;
  uint64_t bytes_read;
} kiln_counters;

/* One step symbol's value for a run: {"T", 7}, {"P", 120}. */
typedef struct kiln_uniform {
  const char* name;
  int64_t value;
} kiln_uniform;

enum { KILN_REGION_ARENA = 0, KILN_REGION_STATE = 1 };

typedef struct kiln_device kiln_device;         /* one opened device */
typedef struct kiln_executable kiln_executable; /* one compiled Program */

typedef struct kiln_backend_api {
  uint32_t abi_version; /* KILN_BACKEND_ABI_VERSION the plugin was built for */
  uint32_t struct_size; /* sizeof(kiln_backend_api) the plugin was built with */
  const char* name;     /* "cpu", "vulkan", "opencl"; static storage */

  /* Opens the plugin's default device and reports its capabilities. Fails
   * with KILN_ERROR_UNAVAILABLE and the reason when no usable device or
   * driver exists. The caller destroys the device. Blocks. */
  int32_t (*create_device)(kiln_device** out_device, kiln_capabilities* out_caps, kiln_error* error);
  void (*destroy_device)(kiln_device* device);

  /* Builds kernels and allocates the arena for a Program given as JSON bytes
   * (passes/program_json.h). When |share_with| is not null, the new
   * executable uses |share_with|'s weights and state instead of allocating
   * its own: both Programs must have equal weight and state tables, and
   * |share_with| must outlive it. Blocks. */
  int32_t (*compile)(kiln_device* device, const char* program_json, size_t length,
                     kiln_executable* share_with, kiln_executable** out_executable, kiln_error* error);
  void (*destroy_executable)(kiln_executable* executable);

  /* Copies weight |index| of the Program's weight table (|bytes| must equal
   * its size). The data is not retained. Blocks until copied. */
  int32_t (*upload_weight)(kiln_executable* executable, uint32_t index, const void* data, uint64_t bytes,
                           kiln_error* error);

  /* Copies to or from a region (KILN_REGION_*) at a byte offset. Blocks. */
  int32_t (*write)(kiln_executable* executable, int32_t region, uint64_t offset, const void* data, uint64_t bytes,
                   kiln_error* error);
  int32_t (*read)(kiln_executable* executable, int32_t region, uint64_t offset, void* out_data, uint64_t bytes,
                  kiln_error* error);

  /* Runs every dispatch once with these step symbol values. Every symbol of
   * the Program must be given, within its bound. Blocks until done. */
  int32_t (*run)(kiln_executable* executable, const kiln_uniform* uniforms, size_t count, kiln_error* error);

  void (*get_counters)(const kiln_executable* executable, kiln_counters* out_counters);
} kiln_backend_api;

/* The one exported symbol. */
typedef const kiln_backend_api* (*kiln_backend_get_api_fn)(void);
#define KILN_BACKEND_ENTRY_POINT "kiln_backend_get_api"

#ifdef __cplusplus
}
#endif

#endif /* KILN_BACKENDS_BACKEND_H_ */
