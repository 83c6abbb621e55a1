#pragma once

#include <string>
#include <string_view>

#include "backends/backend.h"
#include "passes/target.h"

namespace kiln::backends {

// A plugin's kiln_capabilities in the compiler's terms. Fields an older
// plugin does not know stay zero (from empty_capabilities), which Target
// reads as its defaults.
passes::Target to_target(std::string_view backend, const kiln_capabilities& caps);

// The device name, even when the plugin left it unterminated.
std::string device_name(const kiln_capabilities& caps);

// A zeroed kiln_capabilities with struct_size set, to hand to probe.
kiln_capabilities empty_capabilities();

}  // namespace kiln::backends
