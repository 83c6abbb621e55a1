#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "passes/target.h"

namespace kiln::backends {

// Plugins are shared libraries named libkiln-<name>.so, <name> being
// lower-case letters, digits and '_' ("cpu", "vulkan"): the file name alone
// tells which backend a file claims to be, so the registry can list a
// plugin that fails to load under its name.
std::string plugin_file_name(std::string_view name);

// Where plugins are looked for, in order: each directory of
// KILN_PLUGIN_PATH (colon-separated), the running binary's directory, its
// ../backends (build/tools/kiln finds build/backends/) and ../lib/kiln (an
// installed tree), and the install prefix's plugin directory. Directories
// that do not exist are kept: they only find nothing.
std::vector<std::string> plugin_search_path();

// One device a plugin's probe reported.
struct DeviceInfo {
  kiln_capabilities caps{};
  passes::Target target;  // what the compiler reads of it
  std::string name;       // "NVIDIA H100 80GB HBM3"
};

// One plugin file and what became of it.
struct PluginInfo {
  std::string name;  // from the file name: "cpu"
  std::string path;  // the file loaded
  // The plugin's table, or null when unavailable. Plugins are never
  // unloaded, so the table lives as long as the process.
  const kiln_backend_api* api = nullptr;
  std::vector<DeviceInfo> devices;  // from probe, when available; the plugin's preferred first
  // Why it is unavailable, as a sentence: the dlopen error, a missing entry
  // point, "libkiln-vulkan.so was built for ABI 1; this kiln expects 2", or
  // the probe's error ("no Vulkan driver").
  std::string unavailable_reason;

  bool available() const { return api != nullptr; }
};

// The plugins found on a search path. A plugin is loaded (dlopened,
// checked: ABI version, table size, name, entries; probed: its devices
// listed without creating a context) only when asked for by name or when
// every plugin is listed, so `--backend cpu` never touches another
// plugin's driver; what fails is recorded against that plugin alone.
class Registry {
 public:
  // The registry for plugin_search_path(), scanned once on first use.
  // Thread-safe.
  static const Registry& global();

  // Lists the plugin files of `dirs` in order, loading none. When several
  // directories hold a plugin of one name, the first wins and the others
  // are never loaded.
  static Registry scan(const std::vector<std::string>& dirs);

  Registry() = default;
  Registry(Registry&& other) noexcept;

  // Every plugin found, sorted by name, each loaded.
  const std::vector<PluginInfo>& plugins() const;
  const std::vector<std::string>& searched() const { return searched_; }

  // The available plugin `name`, loading it alone: NotFound naming the
  // directories searched when no file has that name, Unavailable with the
  // reason when it failed to load.
  absl::StatusOr<const PluginInfo*> find(std::string_view name) const;

 private:
  // Loads plugins_[index] on first use.
  const PluginInfo& loaded(size_t index) const;

  mutable std::mutex mutex_;
  mutable std::vector<PluginInfo> plugins_;  // name and path from scan; the rest once loaded
  mutable std::vector<bool> loaded_;
  std::vector<std::string> searched_;
};

// Whether KILN_REQUIRE_BACKENDS (a comma-separated list of names, e.g.
// "cpu,vulkan") names `name`. Backend tests fail, rather than skip, when a
// required backend is unavailable, so CI machines that have a device prove
// it works.
bool backend_required(std::string_view name);

}  // namespace kiln::backends
