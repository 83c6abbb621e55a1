// `kiln backends`: every plugin found, its device and capabilities, or why
// it is unavailable.

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "backends/registry.h"
#include "tools/arg_parser.h"
#include "tools/commands.h"

namespace kiln::cli {
namespace {

const char* device_type(uint32_t type) {
  switch (type) {
    case KILN_DEVICE_CPU: return "cpu";
    case KILN_DEVICE_DISCRETE_GPU: return "discrete gpu";
    case KILN_DEVICE_INTEGRATED_GPU: return "integrated gpu";
    case KILN_DEVICE_VIRTUAL_GPU: return "virtual gpu";
    default: return "other";
  }
}

std::string mib(uint64_t bytes) { return absl::StrFormat("%.0f MiB", static_cast<double>(bytes) / (1 << 20)); }

// One device, as probe reported it (no context was created).
std::string describe(size_t index, const backends::DeviceInfo& device) {
  const kiln_capabilities& c = device.caps;
  const std::string subgroups = c.subgroup_size_min == 0 ? "none"
                                : c.subgroup_size_min == c.subgroup_size_max
                                    ? absl::StrCat(c.subgroup_size_min)
                                    : absl::StrCat(c.subgroup_size_min, "-", c.subgroup_size_max);
  return absl::StrFormat(
      "  [%d] %s (%s; %s)\n"
      "      memory %s, compute units %d, largest buffer %s, workgroup <= %d, shared memory %d bytes,\n"
      "      push constants %d bytes, offset alignment %d, subgroups %s, f16 storage %s, f16 math %s, bf16 %s,\n"
      "      cooperative matrix %s, timestamps %s\n",
      index, device.name, device_type(c.device_type), c.driver, mib(c.device_memory_bytes), c.compute_units,
      mib(c.max_buffer_bytes), c.max_workgroup_size, c.shared_memory_bytes, c.push_constant_bytes,
      c.storage_offset_alignment, subgroups, c.f16_storage ? "yes" : "no", c.f16_arithmetic ? "yes" : "no",
      c.bf16 ? "yes" : "no", c.cooperative_matrix ? "yes" : "no", c.timestamps ? "yes" : "no");
}

absl::Status list_backends(const ArgParser& args) {
  const backends::Registry& registry = backends::Registry::global();
  if (registry.plugins().empty()) {
    return absl::NotFoundError(
        absl::StrCat("no backend plugins found; searched: ", absl::StrJoin(registry.searched(), ":")));
  }
  for (const backends::PluginInfo& plugin : registry.plugins()) {
    if (!plugin.available()) {
      std::cout << absl::StrFormat("%-8s unavailable: %s\n", plugin.name, plugin.unavailable_reason);
    } else {
      std::cout << plugin.name << "\n";
      for (size_t i = 0; i < plugin.devices.size(); ++i) std::cout << describe(i, plugin.devices[i]);
    }
    if (args.has("verbose")) std::cout << "      file " << plugin.path << "\n";
  }
  if (args.has("verbose")) std::cout << "searched: " << absl::StrJoin(registry.searched(), ":") << "\n";
  return absl::OkStatus();
}

}  // namespace

int backends_command(std::span<char*> argv) {
  ArgParser args("backends", "[--verbose]",
                 "Lists the backend plugins kiln finds, each with its devices and their\n"
                 "capabilities (probed without creating a device), or the reason it is\n"
                 "unavailable. Plugins are searched in KILN_PLUGIN_PATH, next to the kiln binary\n"
                 "and in the install prefix.");
  args.flag("verbose", "v", "also print each plugin's file and the directories searched");
  return command_main(args, argv, list_backends);
}

}  // namespace kiln::cli
