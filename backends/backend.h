/* The kiln backend plugin ABI. C only: a plugin is a shared library that
 * exports `kiln_backend_get_api`, returning a pointer to a const table of
 * function pointers. Nothing but C types crosses this boundary; no entry lets
 * an exception escape.
 *
 * Versioning: a host refuses a table whose abi_version differs from its own
 * KILN_BACKEND_ABI_VERSION. Within one version, entries are only appended:
 * a plugin built for an older table (smaller struct_size) loads, and the
 * host checks struct_size before calling an entry past the first
 * KILN_BACKEND_API_V2_SIZE bytes. Structs the host fills (options, steps)
 * or the plugin fills (capabilities, counters) begin with struct_size too.
 *
 * Objects: a device (one opened GPU or the host), executables (one compiled
 * Program each), weights (the read-only weight region a Program plans) and
 * a state (its KV cache). A session's prefill and decode executables bind
 * the same weights and state. Every object belongs to the device that made
 * it and must be destroyed before it.
 *
 * Threading: entries on one device, or on objects of one device, must not
 * run at the same time; different devices are independent. probe may run
 * at any time from any thread. Every entry that takes a kiln_error* fills it
 * on failure (code + message naming the kernel, dispatch, weight or offset at
 * fault) and returns the code; the error may be null. */
#ifndef KILN_BACKENDS_BACKEND_H_
#define KILN_BACKENDS_BACKEND_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_BACKEND_ABI_VERSION 2u

/* Error codes, mirroring absl::StatusCode where one exists. */
enum {
  KILN_OK = 0,
  KILN_ERROR_INVALID_ARGUMENT = 3,
  KILN_ERROR_NOT_FOUND = 5,
  KILN_ERROR_RESOURCE_EXHAUSTED = 8, /* out of host or device memory */
  KILN_ERROR_FAILED_PRECONDITION = 9,
  KILN_ERROR_OUT_OF_RANGE = 11,
  KILN_ERROR_UNIMPLEMENTED = 12, /* a kernel or variant the plugin lacks */
  KILN_ERROR_INTERNAL = 13,
  KILN_ERROR_UNAVAILABLE = 14, /* no driver, no device, device lost */
};

/* Caller-owned; filled by a failing entry. */
typedef struct kiln_error {
  int32_t code;
  char message[1024];
} kiln_error;

enum {
  KILN_DEVICE_CPU = 0,
  KILN_DEVICE_DISCRETE_GPU = 1,
  KILN_DEVICE_INTEGRATED_GPU = 2,
  KILN_DEVICE_VIRTUAL_GPU = 3,
  KILN_DEVICE_OTHER = 4,
};

/* What a device offers; the compiler's fusion and variant tables read it.
 * The caller sets struct_size; a plugin fills the fields that fit and leaves
 * the others zero, which readers take as "absent". */
typedef struct kiln_capabilities {
  uint32_t struct_size;
  char device_name[256];
  char driver[128];                  /* driver name and version */
  uint32_t device_type;              /* KILN_DEVICE_* */
  uint32_t compute_units;            /* SMs, CUs, cores */
  uint64_t device_memory_bytes;      /* device-local memory (host memory for the cpu) */
  uint64_t max_buffer_bytes;         /* largest single buffer or binding */
  uint32_t max_workgroup_size;       /* invocations per workgroup */
  uint32_t shared_memory_bytes;      /* per workgroup; 0 without */
  uint32_t push_constant_bytes;      /* 0 without push constants */
  uint32_t storage_offset_alignment; /* of a bound range's offset, bytes */
  uint32_t subgroup_size_min;        /* 0: no subgroup operations */
  uint32_t subgroup_size_max;
  int32_t f16_storage;               /* f16 loads and stores in kernels */
  int32_t f16_arithmetic;            /* f16 math in kernels */
  int32_t bf16;                      /* bf16 weights readable by kernels */
  int32_t cooperative_matrix;        /* f16 cooperative-matrix multiply */
  int32_t timestamps;                /* per-dispatch GPU timestamps (--profile) */
} kiln_capabilities;

typedef struct kiln_device_options {
  uint32_t struct_size;
  /* Where the plugin keeps pipeline-cache and program binaries, or null for
   * none. The plugin creates it when missing and writes atomically. */
  const char* cache_dir;
  int32_t profile; /* nonzero: record per-dispatch times (get_profile) */
  int32_t threads; /* host threads for kernels; 0: the plugin's default */
} kiln_device_options;

/* Monotonic totals of one device since it was created. */
typedef struct kiln_counters {
  uint32_t struct_size;
  uint64_t steps;           /* run calls */
  uint64_t submits;         /* queue submissions (the cpu plugin: one per step) */
  uint64_t dispatches;      /* kernels launched */
  uint64_t allocations;     /* device or host buffers created */
  uint64_t builds;          /* pipelines or programs built from source (not from a cache) */
  uint64_t bytes_to_device; /* weights, inputs */
  uint64_t bytes_from_device;
  uint64_t readbacks;       /* steps that read outputs back */
} kiln_counters;

/* An input to write before a step: bytes at `offset` within the Program's
 * inputs[binding]. The data is read before run returns and not retained. */
typedef struct kiln_input {
  uint32_t binding;
  uint64_t offset;
  const void* data;
  uint64_t bytes;
} kiln_input;

/* An output to read after a step: bytes at `offset` within the Program's
 * outputs[binding]. Filled before run returns. */
typedef struct kiln_output {
  uint32_t binding;
  uint64_t offset;
  void* data;
  uint64_t bytes;
} kiln_output;

/* One step: the given step slots' values (Program slots [0, given), in
 * order), the inputs to write and the outputs to read. */
typedef struct kiln_step {
  uint32_t struct_size;
  const int64_t* values;
  uint32_t value_count;
  const kiln_input* inputs;
  uint32_t input_count;
  const kiln_output* outputs;
  uint32_t output_count;
} kiln_step;

/* GPU time of one dispatch of an executable, summed over the steps run
 * since profiling began. */
typedef struct kiln_profile_entry {
  uint32_t dispatch; /* index into the Program's dispatch list */
  uint64_t runs;
  uint64_t nanoseconds;
} kiln_profile_entry;

typedef struct kiln_device kiln_device;         /* one opened device */
typedef struct kiln_executable kiln_executable; /* one compiled Program */
typedef struct kiln_weights kiln_weights;       /* a Program's weight region */
typedef struct kiln_state kiln_state;           /* a Program's state (KV cache) */

typedef struct kiln_backend_api {
  uint32_t abi_version; /* KILN_BACKEND_ABI_VERSION the plugin was built for */
  uint32_t struct_size; /* sizeof(kiln_backend_api) the plugin was built with */
  const char* name;     /* "cpu", "vulkan", "opencl"; static storage */

  /* Lists the devices this plugin can open without creating a context.
   * Writes at most |capacity| entries (each caller-initialised with its
   * struct_size) and sets *out_count to the number of devices. Fails with
   * KILN_ERROR_UNAVAILABLE and the reason when the driver is missing. */
  int32_t (*probe)(kiln_capabilities* out_devices, uint32_t capacity, uint32_t* out_count, kiln_error* error);

  /* Opens device |index| of probe's list. |options| may be null (defaults).
   * The caller destroys the device after every object made on it. Blocks. */
  int32_t (*create_device)(uint32_t index, const kiln_device_options* options, kiln_device** out_device,
                           kiln_error* error);
  void (*destroy_device)(kiln_device* device);
  /* Never fails; fills the fields of the caller's struct_size. */
  void (*get_counters)(const kiln_device* device, kiln_counters* out_counters);

  /* Checks a Program (JSON bytes, program/program_json.h), builds its
   * kernels and allocates its arena. Refuses a Program naming a kernel or
   * variant the plugin lacks, naming both. The bytes are not retained.
   * Blocks. */
  int32_t (*compile)(kiln_device* device, const char* program_json, size_t length, kiln_executable** out_executable,
                     kiln_error* error);
  void (*destroy_executable)(kiln_executable* executable);

  /* Creates the weight region |executable|'s Program plans (its weight
   * chunks), for every executable whose Program has the same weight table.
   * Blocks. */
  int32_t (*create_weights)(kiln_executable* executable, kiln_weights** out_weights, kiln_error* error);
  /* Provides weight |index| of the table: exactly its bytes. The caller keeps
   * |data| alive and unchanged until the weights are destroyed: a host
   * plugin may read it in place (a memory-mapped file), a GPU plugin copies
   * it to device memory through one bounded staging buffer before
   * returning. Blocks. */
  int32_t (*import_weight)(kiln_weights* weights, uint32_t index, const void* data, uint64_t bytes,
                           kiln_error* error);
  void (*destroy_weights)(kiln_weights* weights);

  /* Creates the zero-filled state |executable|'s Program declares, for every
   * executable whose Program has the same state table. Blocks. */
  int32_t (*create_state)(kiln_executable* executable, kiln_state** out_state, kiln_error* error);
  /* Copies state bytes [offset, offset + bytes) out (tests, debugging).
   * Blocks. */
  int32_t (*read_state)(kiln_state* state, uint64_t offset, void* out_data, uint64_t bytes, kiln_error* error);
  void (*destroy_state)(kiln_state* state);

  /* Binds weights (every entry imported) and state (may be null when the
   * Program has none) to an executable; checks that they match its
   * Program. Both must outlive the executable. Blocks. */
  int32_t (*bind)(kiln_executable* executable, kiln_weights* weights, kiln_state* state, kiln_error* error);

  /* One step: writes the inputs, runs every dispatch with the step values,
   * reads the outputs; a GPU plugin records it into one submission. Blocks
   * until the outputs are filled. */
  int32_t (*run)(kiln_executable* executable, const kiln_step* step, kiln_error* error);

  /* ---- Appended entries: call only when struct_size covers them. ---- */

  /* Per-dispatch times since the device was created with options.profile;
   * writes at most |capacity| entries and sets *out_count to the number of
   * dispatches. Fails with KILN_ERROR_FAILED_PRECONDITION when profiling is
   * off. Blocks. */
  int32_t (*get_profile)(kiln_executable* executable, kiln_profile_entry* out_entries, uint32_t capacity,
                         uint32_t* out_count, kiln_error* error);
  /* What |device| is as opened, where its options change what probe said
   * (the cpu plugin's name and compute_units count the threads of its
   * pool, which options.threads sets). Fills the fields of the caller's
   * struct_size. May be null: the device is then its probe entry. Never
   * fails; does not block. */
  void (*get_device_capabilities)(const kiln_device* device, kiln_capabilities* out_capabilities);
} kiln_backend_api;

/* The smallest version-2 table: every entry up to run. Entries appended
 * after it are called only when the plugin's struct_size covers them. */
#define KILN_BACKEND_API_V2_SIZE (offsetof(kiln_backend_api, get_profile))

/* The one exported symbol. */
typedef const kiln_backend_api* (*kiln_backend_get_api_fn)(void);
#define KILN_BACKEND_ENTRY_POINT "kiln_backend_get_api"

#ifdef __cplusplus
}
#endif

#endif /* KILN_BACKENDS_BACKEND_H_ */
