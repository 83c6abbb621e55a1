#include "tests/backends/backend_test_support.h"

#include <cstdlib>

namespace kiln::backends::testing {

bool must_open(const std::string& name) { return name == "cpu" || backend_required(name); }

absl::StatusOr<Backend> open_backend(const std::string& name) {
  setenv("KILN_PLUGIN_PATH", KILN_BINARY_DIR "/backends", /*overwrite=*/0);
  return Backend::open(name);
}

}  // namespace kiln::backends::testing
