#include "backends/support/guard.h"

namespace kiln::backends::support {

int32_t error_code(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument: return KILN_ERROR_INVALID_ARGUMENT;
    case absl::StatusCode::kFailedPrecondition: return KILN_ERROR_FAILED_PRECONDITION;
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

absl::Status require(bool present, const char* what) {
  return present ? absl::OkStatus() : absl::InvalidArgumentError(std::string(what) + " is null");
}

kiln_device_options read_options(const kiln_device_options* options) {
  kiln_device_options out{};
  out.struct_size = sizeof out;
  if (options == nullptr) return out;
  std::memcpy(&out, options, std::min<size_t>(options->struct_size, sizeof out));
  out.struct_size = sizeof out;
  return out;
}

}  // namespace kiln::backends::support
