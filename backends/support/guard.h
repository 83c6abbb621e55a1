#pragma once

#include <algorithm>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "absl/status/status.h"
#include "backends/backend.h"

namespace kiln::backends::support {

// The C-ABI side of every plugin: absl::Status and exceptions become a
// kiln_error, in one place.

// The kiln_error code for an absl code; codes the ABI has no value for map
// to their nearest.
int32_t error_code(absl::StatusCode code);

// Fills |error| (when not null) and returns |code|. The message is cut to
// fit, always terminated.
int32_t fail(kiln_error* error, int32_t code, const std::string& message);

// KILN_OK for an ok status; otherwise fills |error| from it.
int32_t report(const absl::Status& status, kiln_error* error);

// Runs an entry's body (returning absl::Status); an escaping exception
// becomes an error, never a crash across the C boundary.
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

// InvalidArgument "<what> is null" unless |present|.
absl::Status require(bool present, const char* what);

// Copies the fields of |full| that fit in the caller's struct, whose
// struct_size says how many it has; struct_size itself is kept.
template <typename Struct>
void copy_fitting(const Struct& full, Struct* out) {
  const uint32_t size = out->struct_size;
  std::memcpy(out, &full, std::min<size_t>(size, sizeof full));
  out->struct_size = size;
}

// The caller's options, zero (the defaults) past its struct_size; a null
// pointer gives every default.
kiln_device_options read_options(const kiln_device_options* options);

}  // namespace kiln::backends::support
