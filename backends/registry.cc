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
  if (api->struct_size < KILN_BACKEND_API_V2_SIZE) {
    return absl::StrCat(file, ": its api table has ", api->struct_size, " bytes; ABI ", KILN_BACKEND_ABI_VERSION,
                        " needs at least ", KILN_BACKEND_API_V2_SIZE);
  }
  if (api->name == nullptr || name != api->name) {
    return absl::StrCat(file, " calls itself '", api->name ? api->name : "", "'; its file name says '", name, "'");
  }
  const bool complete = api->probe && api->create_device && api->destroy_device && api->get_counters &&
                        api->compile && api->destroy_executable && api->create_weights && api->import_weight &&
                        api->destroy_weights && api->create_state && api->read_state && api->destroy_state &&
                        api->bind && api->run;
  return complete ? "" : absl::StrCat(file, ": its api table has a null entry");
}

// Lists the plugin's devices through probe, which creates no context, or
// records why there is none.
void probe(PluginInfo& info) {
  kiln_error error{};
  uint32_t count = 0;
  std::vector<kiln_capabilities> caps;
  int32_t code = info.api->probe(nullptr, 0, &count, &error);
  if (code == KILN_OK && count > 0) {
    caps.assign(count, empty_capabilities());
    code = info.api->probe(caps.data(), count, &count, &error);
  }
  if (code != KILN_OK || count == 0) {
    info.unavailable_reason =
        code != KILN_OK ? std::string(error.message, strnlen(error.message, sizeof error.message)) : "no device";
    info.api = nullptr;
    return;
  }
  caps.resize(std::min<size_t>(count, caps.size()));
  for (const kiln_capabilities& device : caps) {
    info.devices.push_back({device, to_target(info.name, device), device_name(device)});
  }
}

// Plugins stay loaded for the life of the process, even when refused: their
// tables, devices and executables may be in use anywhere, and unloading a
// library that started threads is not safe.
void load(PluginInfo& info) {
  const std::string file = fs::path(info.path).filename().string();
  void* handle = dlopen(info.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = dlerror();
    info.unavailable_reason = absl::StrCat("cannot load ", file, ": ", reason ? reason : "unknown dlopen error");
    return;
  }
  auto get_api = reinterpret_cast<kiln_backend_get_api_fn>(dlsym(handle, KILN_BACKEND_ENTRY_POINT));
  if (get_api == nullptr) {
    info.unavailable_reason = absl::StrCat(file, " does not export ", KILN_BACKEND_ENTRY_POINT);
    return;
  }
  const kiln_backend_api* api = get_api();
  info.unavailable_reason = check_api(api, file, info.name);
  if (!info.unavailable_reason.empty()) return;
  info.api = api;
  probe(info);
}

std::string executable_dir() {
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  return error ? "" : exe.parent_path().string();
}

}  // namespace

std::string plugin_file_name(std::string_view name) { return absl::StrCat(kPrefix, std::string(name), kSuffix); }

// Defined only in programs built against the installed CMake package
// (cmake/kiln_plugin_dir.cc, which kiln::kiln compiles into them): the
// package's plugin folder, located from where the package lies when the
// program is built, so a prefix moved after kiln's configure still works.
extern "C" const char* kiln_package_plugin_dir() __attribute__((weak));

// Besides the binary's own folders (above the install prefix's): the
// folder of a shared library holding this code, when it is not the binary,
// and its kiln/ (an installed lib/kiln beside lib/libkiln_*.so); and the
// installed package's plugin folder for a program linking kiln::kiln. Each
// is found at run time, relative to what was loaded, so an installed tree
// works wherever it is.
std::vector<std::string> plugin_search_path() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("KILN_PLUGIN_PATH")) {
    for (absl::string_view dir : absl::StrSplit(env, ':', absl::SkipEmpty())) dirs.emplace_back(dir);
  }
  const std::string exe_dir = executable_dir();
  if (!exe_dir.empty()) {
    dirs.push_back(exe_dir);
    dirs.push_back((fs::path(exe_dir) / ".." / "backends").lexically_normal().string());
    dirs.push_back((fs::path(exe_dir) / ".." / "lib" / "kiln").lexically_normal().string());
  }
  Dl_info self;
  if (dladdr(reinterpret_cast<const void*>(&plugin_search_path), &self) != 0 && self.dli_fname != nullptr) {
    std::error_code error;
    const fs::path library = fs::canonical(self.dli_fname, error);
    if (!error && library.parent_path() != fs::path(exe_dir)) {
      dirs.push_back(library.parent_path().string());
      dirs.push_back((library.parent_path() / "kiln").string());
    }
  }
  if (kiln_package_plugin_dir != nullptr) dirs.emplace_back(kiln_package_plugin_dir());
  dirs.push_back(KILN_INSTALL_PLUGIN_DIR);
  return dirs;
}

const Registry& Registry::global() {
  static const Registry* registry = new Registry(scan(plugin_search_path()));
  return *registry;
}

Registry::Registry(Registry&& other) noexcept
    : plugins_(std::move(other.plugins_)), loaded_(std::move(other.loaded_)), searched_(std::move(other.searched_)) {}

Registry Registry::scan(const std::vector<std::string>& dirs) {
  Registry registry;
  registry.searched_ = dirs;
  std::set<std::string> seen;
  for (const std::string& dir : dirs) {
    for (const auto& [name, path] : plugin_files(dir)) {
      if (seen.insert(name).second) registry.plugins_.push_back({name, path, nullptr, {}, ""});
    }
  }
  std::sort(registry.plugins_.begin(), registry.plugins_.end(),
            [](const PluginInfo& a, const PluginInfo& b) { return a.name < b.name; });
  registry.loaded_.assign(registry.plugins_.size(), false);
  return registry;
}

const PluginInfo& Registry::loaded(size_t index) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!loaded_[index]) {
    load(plugins_[index]);
    loaded_[index] = true;
  }
  return plugins_[index];
}

const std::vector<PluginInfo>& Registry::plugins() const {
  for (size_t i = 0; i < plugins_.size(); ++i) loaded(i);
  return plugins_;
}

absl::StatusOr<const PluginInfo*> Registry::find(std::string_view name) const {
  for (size_t i = 0; i < plugins_.size(); ++i) {
    if (plugins_[i].name != name) continue;
    const PluginInfo& plugin = loaded(i);
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
