#include "backends/registry.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "backends/capabilities.h"

namespace kiln::backends {
namespace {

namespace fs = std::filesystem;

constexpr absl::string_view kPrefix = "libkiln-";
constexpr absl::string_view kSuffix = ".so";

bool valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// The plugin name a file claims ("libkiln-cpu.so" -> "cpu"), or "".
std::string name_of_file(absl::string_view file) {
  if (!absl::ConsumePrefix(&file, kPrefix) || !absl::ConsumeSuffix(&file, kSuffix)) return "";
  return valid_name(std::string_view(file.data(), file.size())) ? std::string(file) : "";
}

// (name, path) of each plugin file in `dir`, sorted by name.
std::vector<std::pair<std::string, std::string>> plugin_files(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    std::string name = name_of_file(entry.path().filename().string());
    if (!name.empty()) files.emplace_back(std::move(name), entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The api table's problem, as a sentence, or "" when it is usable.
std::string check_api(const kiln_backend_api* api, const std::string& file, const std::string& name) {
  if (api == nullptr) return absl::StrCat(file, ": ", KILN_BACKEND_ENTRY_POINT, " returned null");
  if (api->abi_version != KILN_BACKEND_ABI_VERSION) {
    return absl::StrCat(file, " was built for ABI ", api->abi_version, "; this kiln expects ",
                        KILN_BACKEND_ABI_VERSION);
  }
  if (api->struct_size < sizeof(kiln_backend_api)) {
    return absl::StrCat(file, ": its api table has ", api->struct_size, " bytes; this kiln needs ",
                        sizeof(kiln_backend_api));
  }
  if (api->name == nullptr || name != api->name) {
    return absl::StrCat(file, " calls itself '", api->name ? api->name : "", "'; its file name says '", name, "'");
  }
  const bool complete = api->create_device && api->destroy_device && api->compile && api->destroy_executable &&
                        api->upload_weight && api->write && api->read && api->run && api->get_counters;
  return complete ? "" : absl::StrCat(file, ": its api table has a null entry");
}

// Creates and destroys a device to learn its capabilities, or why there is
// no usable one.
void probe(PluginInfo& info) {
  kiln_device* device = nullptr;
  kiln_capabilities caps = empty_capabilities();
  kiln_error error{};
  if (info.api->create_device(&device, &caps, &error) != KILN_OK) {
    info.unavailable_reason = absl::StrCat("no usable device: ",
                                           std::string(error.message, strnlen(error.message, sizeof error.message)));
    info.api = nullptr;
    return;
  }
  info.api->destroy_device(device);
  info.target = to_target(info.name, caps);
  info.device_name = device_name(caps);
}

// Plugins stay loaded for the life of the process, even when refused: their
// tables, devices and executables may be in use anywhere, and unloading a
// library that started threads is not safe.
PluginInfo load(const std::string& name, const std::string& path) {
  PluginInfo info;
  info.name = name;
  info.path = path;
  const std::string file = fs::path(path).filename().string();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = dlerror();
    info.unavailable_reason = absl::StrCat("cannot load ", file, ": ", reason ? reason : "unknown dlopen error");
    return info;
  }
  auto get_api = reinterpret_cast<kiln_backend_get_api_fn>(dlsym(handle, KILN_BACKEND_ENTRY_POINT));
  if (get_api == nullptr) {
    info.unavailable_reason = absl::StrCat(file, " does not export ", KILN_BACKEND_ENTRY_POINT);
    return info;
  }
  const kiln_backend_api* api = get_api();
  info.unavailable_reason = check_api(api, file, name);
  if (!info.unavailable_reason.empty()) return info;
  info.api = api;
  probe(info);
  return info;
}

std::string executable_dir() {
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  return error ? "" : exe.parent_path().string();
}

}  // namespace

std::string plugin_file_name(std::string_view name) { return absl::StrCat(kPrefix, std::string(name), kSuffix); }

std::vector<std::string> plugin_search_path() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("KILN_PLUGIN_PATH")) {
    for (absl::string_view dir : absl::StrSplit(env, ':', absl::SkipEmpty())) dirs.emplace_back(dir);
  }
  if (const std::string exe_dir = executable_dir(); !exe_dir.empty()) {
    dirs.push_back(exe_dir);
    dirs.push_back((fs::path(exe_dir) / ".." / "backends").lexically_normal().string());
    dirs.push_back((fs::path(exe_dir) / ".." / "lib" / "kiln").lexically_normal().string());
  }
  dirs.push_back(KILN_INSTALL_PLUGIN_DIR);
  return dirs;
}

const Registry& Registry::global() {
  static const Registry* registry = new Registry(scan(plugin_search_path()));
  return *registry;
}

Registry Registry::scan(const std::vector<std::string>& dirs) {
  Registry registry;
  registry.searched_ = dirs;
  std::set<std::string> seen;
  for (const std::string& dir : dirs) {
    for (const auto& [name, path] : plugin_files(dir)) {
      if (seen.insert(name).second) registry.plugins_.push_back(load(name, path));
    }
  }
  std::sort(registry.plugins_.begin(), registry.plugins_.end(),
            [](const PluginInfo& a, const PluginInfo& b) { return a.name < b.name; });
  return registry;
}

absl::StatusOr<const PluginInfo*> Registry::find(std::string_view name) const {
  for (const PluginInfo& plugin : plugins_) {
    if (plugin.name != name) continue;
    if (!plugin.available()) {
      return absl::UnavailableError(
          absl::StrCat("backend '", std::string(name), "' is unavailable: ", plugin.unavailable_reason));
    }
    return &plugin;
  }
  return absl::NotFoundError(absl::StrCat("no backend '", std::string(name), "': ", plugin_file_name(name),
                                          " is in none of ", absl::StrJoin(searched_, ", ")));
}

bool backend_required(std::string_view name) {
  const char* required = std::getenv("KILN_REQUIRE_BACKENDS");
  if (required == nullptr) return false;
  for (absl::string_view entry : absl::StrSplit(required, ',')) {
    if (absl::StripAsciiWhitespace(entry) == absl::string_view(name.data(), name.size())) return true;
  }
  return false;
}

}  // namespace kiln::backends
