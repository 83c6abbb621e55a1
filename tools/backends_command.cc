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

std::string describe(const backends::PluginInfo& plugin) {
  if (!plugin.available()) return absl::StrFormat("unavailable: %s", plugin.unavailable_reason);
  const passes::Target& t = plugin.target;
  return absl::StrFormat("%s\n      f16 %s, subgroup size %d, shared memory %d bytes, max buffer %s",
                         plugin.device_name, t.has_f16 ? "yes" : "no", t.subgroup_size, t.shared_memory_bytes,
                         t.max_buffer_bytes == 0 ? "unlimited" : absl::StrFormat("%d bytes", t.max_buffer_bytes));
}

absl::Status list_backends(const ArgParser& args) {
  const backends::Registry& registry = backends::Registry::global();
  if (registry.plugins().empty()) {
    return absl::NotFoundError(
        absl::StrCat("no backend plugins found; searched: ", absl::StrJoin(registry.searched(), ":")));
  }
  for (const backends::PluginInfo& plugin : registry.plugins()) {
    std::cout << absl::StrFormat("%-8s %s\n", plugin.name, describe(plugin));
    if (args.has("verbose")) std::cout << "      file " << plugin.path << "\n";
  }
  if (args.has("verbose")) std::cout << "searched: " << absl::StrJoin(registry.searched(), ":") << "\n";
  return absl::OkStatus();
}

}  // namespace

int backends_command(std::span<char*> argv) {
  ArgParser args("backends", "[--verbose]",
                 "Lists the backend plugins kiln finds, each with its device and capabilities,\n"
                 "or the reason it is unavailable. Plugins are searched in KILN_PLUGIN_PATH, next\n"
                 "to the kiln binary and in the install prefix.");
  args.flag("verbose", "v", "also print each plugin's file and the directories searched");
  return command_main(args, argv, list_backends);
}

}  // namespace kiln::cli
