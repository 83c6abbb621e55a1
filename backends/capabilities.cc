#include "backends/capabilities.h"

#include <cstring>
#include <limits>

namespace kiln::backends {
namespace {

int64_t clamp_to_int64(uint64_t value) {
  return value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                             : static_cast<int64_t>(value);
}

}  // namespace

passes::Target to_target(std::string_view backend, const kiln_capabilities& caps) {
  passes::Target target;
  target.backend = std::string(backend);
  target.has_f16 = caps.f16_storage != 0;
  target.subgroup_size = caps.subgroup_size_min;
  target.shared_memory_bytes = caps.shared_memory_bytes;
  target.max_buffer_bytes = clamp_to_int64(caps.max_buffer_bytes);
  target.compute_units = caps.compute_units;
  target.has_cooperative_matrix = caps.cooperative_matrix != 0;
  return target;
}

std::string device_name(const kiln_capabilities& caps) {
  return std::string(caps.device_name, strnlen(caps.device_name, sizeof caps.device_name));
}

kiln_capabilities empty_capabilities() {
  kiln_capabilities caps{};
  caps.struct_size = sizeof caps;
  return caps;
}

}  // namespace kiln::backends
