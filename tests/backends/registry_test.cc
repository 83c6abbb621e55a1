#include "backends/registry.h"

#include <dlfcn.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "backends/backend_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "program/program.h"

namespace kiln::backends {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kBuiltPlugins = KILN_BINARY_DIR "/backends";
const std::string kFakePlugins = FAKE_PLUGIN_DIR;

// Registry::global() (what Backend::open reads) sees the fake plugins
// before the built ones, so a test can open the small-table fake. The
// global registry is scanned on first use, after this runs.
class FakePluginPath : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* path = getenv("KILN_PLUGIN_PATH");
    setenv("KILN_PLUGIN_PATH", (kFakePlugins + ":" + (path != nullptr ? path : kBuiltPlugins)).c_str(), 1);
  }
};
[[maybe_unused]] ::testing::Environment* const kFakePluginPath =
    ::testing::AddGlobalTestEnvironment(new FakePluginPath);

const PluginInfo* plugin_named(const Registry& registry, const std::string& name) {
  for (const PluginInfo& plugin : registry.plugins()) {
    if (plugin.name == name) return &plugin;
  }
  return nullptr;
}

// Whether the library at `path` is loaded in this process (dlopen with
// RTLD_NOLOAD loads nothing).
bool is_loaded(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  dlclose(handle);  // drops the reference NOLOAD added
  return true;
}

// How often the fake plugin at `path` (already loaded) was probed and
// asked to create a device.
struct FakeCalls {
  uint64_t probe = 0;
  uint64_t create_device = 0;
};
FakeCalls fake_calls(const std::string& path) {
  FakeCalls calls;
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return calls;
  using Fn = void (*)(uint64_t*, uint64_t*);
  if (auto fn = reinterpret_cast<Fn>(dlsym(handle, "kiln_fake_calls")); fn != nullptr) {
    fn(&calls.probe, &calls.create_device);
  }
  dlclose(handle);
  return calls;
}

// A directory holding one file that is named like a plugin but is not a
// library (none when `name` is empty).
class GarbagePluginDir {
 public:
  explicit GarbagePluginDir(const std::string& name) {
    std::string pattern = ::testing::TempDir() + "kiln-plugins-XXXXXX";
    path_ = mkdtemp(pattern.data());
    if (!name.empty()) std::ofstream(path_ + "/" + plugin_file_name(name)) << "not a shared library";
  }
  ~GarbagePluginDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(RegistryTest, PluginFilesAreNamedAfterTheBackend) {
  EXPECT_EQ(plugin_file_name("vulkan"), "libkiln-vulkan.so");
}

TEST(RegistryTest, FindsTheCpuPluginWithItsDevice) {
  const Registry registry = Registry::scan({kBuiltPlugins});
  absl::StatusOr<const PluginInfo*> cpu = registry.find("cpu");
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_EQ((*cpu)->path, kBuiltPlugins + "/libkiln-cpu.so");
  ASSERT_EQ((*cpu)->devices.size(), 1u);
  const DeviceInfo& device = (*cpu)->devices[0];
  EXPECT_EQ(device.target.backend, "cpu");
  EXPECT_TRUE(device.target.has_f16);
  EXPECT_EQ(device.target.subgroup_size, 0);
  EXPECT_GT(device.target.max_buffer_bytes, 0);
  EXPECT_EQ(device.caps.device_type, static_cast<uint32_t>(KILN_DEVICE_CPU));
  EXPECT_THAT(device.name, HasSubstr("thread"));
}

TEST(RegistryTest, BrokenPluginsAreUnavailableWithTheirReasonAndCpuStillLoads) {
  GarbagePluginDir garbage("garbage");
  const Registry registry = Registry::scan({kFakePlugins, garbage.path(), kBuiltPlugins});

  const PluginInfo* wrong_abi = plugin_named(registry, "wrongabi");
  ASSERT_NE(wrong_abi, nullptr);
  EXPECT_FALSE(wrong_abi->available());
  EXPECT_EQ(wrong_abi->unavailable_reason, "libkiln-wrongabi.so was built for ABI 1; this kiln expects 2");

  const PluginInfo* no_entry = plugin_named(registry, "noentry");
  ASSERT_NE(no_entry, nullptr);
  EXPECT_FALSE(no_entry->available());
  EXPECT_EQ(no_entry->unavailable_reason, "libkiln-noentry.so does not export kiln_backend_get_api");

  const PluginInfo* probe_fails = plugin_named(registry, "probefails");
  ASSERT_NE(probe_fails, nullptr);
  EXPECT_FALSE(probe_fails->available());
  EXPECT_EQ(probe_fails->unavailable_reason, "no fake GPU in this machine");
  EXPECT_TRUE(probe_fails->devices.empty());

  const PluginInfo* no_device = plugin_named(registry, "nodevice");
  ASSERT_NE(no_device, nullptr);
  EXPECT_FALSE(no_device->available());
  EXPECT_EQ(no_device->unavailable_reason, "no device");

  const PluginInfo* not_a_library = plugin_named(registry, "garbage");
  ASSERT_NE(not_a_library, nullptr);
  EXPECT_FALSE(not_a_library->available());
  EXPECT_THAT(not_a_library->unavailable_reason, StartsWith("cannot load libkiln-garbage.so: "));

  EXPECT_TRUE(registry.find("cpu").ok()) << registry.find("cpu").status();
}

TEST(RegistryTest, FindExplainsAnUnavailableBackend) {
  const Registry registry = Registry::scan({kFakePlugins});
  absl::StatusOr<const PluginInfo*> found = registry.find("wrongabi");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(found.status().message(),
            "backend 'wrongabi' is unavailable: libkiln-wrongabi.so was built for ABI 1; this kiln expects 2");
  absl::StatusOr<const PluginInfo*> no_driver = registry.find("probefails");
  EXPECT_EQ(no_driver.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(no_driver.status().message(), "backend 'probefails' is unavailable: no fake GPU in this machine");
}

// Finding one plugin loads that plugin alone: `--backend cpu` never runs a
// broken (or merely slow) plugin's initialisation. The broken plugin is a
// fresh copy, so no earlier test in this process has loaded that file.
TEST(RegistryTest, FindLoadsOnlyThePluginItNames) {
  GarbagePluginDir dir("");
  const std::string broken = dir.path() + "/libkiln-wrongabi.so";
  std::filesystem::copy_file(kFakePlugins + "/libkiln-wrongabi.so", broken);
  const Registry registry = Registry::scan({dir.path(), kBuiltPlugins});
  ASSERT_FALSE(is_loaded(broken));

  ASSERT_TRUE(registry.find("cpu").ok()) << registry.find("cpu").status();
  EXPECT_FALSE(is_loaded(broken));

  // Listing every plugin loads it, and records why it is unavailable.
  const PluginInfo* wrong_abi = plugin_named(registry, "wrongabi");
  EXPECT_TRUE(is_loaded(broken));
  ASSERT_NE(wrong_abi, nullptr);
  EXPECT_THAT(wrong_abi->unavailable_reason, HasSubstr("was built for ABI 1"));
}

// Listing a plugin's devices is its probe: no device (context) is created.
TEST(RegistryTest, ProbeListsDevicesWithoutCreatingOne) {
  const std::string path = kFakePlugins + "/libkiln-counting.so";
  const FakeCalls before = fake_calls(path);
  const Registry registry = Registry::scan({kFakePlugins});
  absl::StatusOr<const PluginInfo*> counting = registry.find("counting");
  ASSERT_TRUE(counting.ok()) << counting.status();
  ASSERT_EQ((*counting)->devices.size(), 2u);
  EXPECT_EQ((*counting)->devices[0].name, "fake device 0");
  EXPECT_EQ((*counting)->devices[1].name, "fake device 1");
  EXPECT_EQ((*counting)->devices[1].target.backend, "counting");
  EXPECT_EQ((*counting)->devices[1].target.max_buffer_bytes, 1 << 20);
  const FakeCalls listed = fake_calls(path);
  EXPECT_EQ(listed.probe, before.probe + 2);  // the count, then the list
  EXPECT_EQ(listed.create_device, before.create_device);

  // The counter does count: opening device 1 is one call.
  const kiln_backend_api* api = (*counting)->api;
  kiln_device* device = nullptr;
  kiln_error error{};
  ASSERT_EQ(api->create_device(1, nullptr, &device, &error), KILN_OK) << error.message;
  api->destroy_device(device);
  EXPECT_EQ(fake_calls(path).create_device, before.create_device + 1);
}

// A plugin built for the smallest version-2 table (before get_profile was
// appended) loads and runs; asked to profile, the host says it can't
// rather than calling past the plugin's table.
TEST(RegistryTest, APluginWithTheSmallestTableLoadsAndCannotProfile) {
  const Registry registry = Registry::scan({kFakePlugins});
  absl::StatusOr<const PluginInfo*> small = registry.find("small");
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ((*small)->api->struct_size, KILN_BACKEND_API_V2_SIZE);

  absl::StatusOr<Backend> backend = Backend::open("small");
  ASSERT_TRUE(backend.ok()) << backend.status();
  absl::StatusOr<Executable> executable = backend->compile(program::Program{});
  ASSERT_TRUE(executable.ok()) << executable.status();
  absl::StatusOr<std::vector<kiln_profile_entry>> profile = executable->profile();
  EXPECT_EQ(profile.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(profile.status().message()), HasSubstr("small: "));
  EXPECT_THAT(std::string(profile.status().message()), HasSubstr("before profiling existed"));
}

TEST(RegistryTest, AFullTablePluginIsAskedForItsProfile) {
  absl::StatusOr<Backend> backend = Backend::open("counting");
  ASSERT_TRUE(backend.ok()) << backend.status();
  absl::StatusOr<Executable> executable = backend->compile(program::Program{});
  ASSERT_TRUE(executable.ok()) << executable.status();
  EXPECT_TRUE(executable->profile().ok()) << executable->profile().status();
}

TEST(RegistryTest, FindNamesTheFileAndDirectoriesOfAMissingBackend) {
  const Registry registry = Registry::scan({kFakePlugins, "/nonexistent/kiln"});
  absl::StatusOr<const PluginInfo*> found = registry.find("opencl");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(found.status().message(),
            "no backend 'opencl': libkiln-opencl.so is in none of " + kFakePlugins + ", /nonexistent/kiln");
}

TEST(RegistryTest, TheFirstDirectoryHoldingANameWins) {
  GarbagePluginDir shadow("cpu");
  EXPECT_FALSE(Registry::scan({shadow.path(), kBuiltPlugins}).find("cpu").ok());
  EXPECT_TRUE(Registry::scan({kBuiltPlugins, shadow.path()}).find("cpu").ok());
}

TEST(RegistryTest, FilesNotNamedLikePluginsAreIgnored) {
  GarbagePluginDir dir("cpu");
  std::filesystem::rename(dir.path() + "/libkiln-cpu.so", dir.path() + "/libkiln-CPU.so");
  std::ofstream(dir.path() + "/libkiln-.so") << "x";
  std::ofstream(dir.path() + "/kiln-cpu.so") << "x";
  EXPECT_TRUE(Registry::scan({dir.path()}).plugins().empty());
}

// Sets (or, with nullptr, unsets) an environment variable for one scope and
// restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* saved = getenv(name);
    if (saved != nullptr) saved_ = saved;
    had_value_ = saved != nullptr;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (had_value_) {
      setenv(name_.c_str(), saved_.c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_, saved_;
  bool had_value_ = false;
};

TEST(PluginPathTest, SearchesKilnPluginPathFirstThenBesideTheBinaryThenTheInstallPrefix) {
  ScopedEnv path("KILN_PLUGIN_PATH", "/first:/second::/third");
  const std::vector<std::string> dirs = plugin_search_path();
  const std::string exe_dir = std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
  const std::filesystem::path up = std::filesystem::path(exe_dir).parent_path();
  EXPECT_THAT(dirs, ::testing::ElementsAre("/first", "/second", "/third", exe_dir, (up / "backends").string(),
                                           (up / "lib" / "kiln").string(), KILN_INSTALL_PLUGIN_DIR));
}

TEST(PluginPathTest, KilnPluginPathFindsPlugins) {
  ScopedEnv path("KILN_PLUGIN_PATH", (kFakePlugins + ":" + kBuiltPlugins).c_str());
  const Registry registry = Registry::scan(plugin_search_path());
  EXPECT_NE(plugin_named(registry, "wrongabi"), nullptr);
  EXPECT_TRUE(registry.find("cpu").ok());
}

TEST(PluginPathTest, WithoutKilnPluginPathTheFakesAreNotFound) {
  ScopedEnv path("KILN_PLUGIN_PATH", nullptr);
  EXPECT_EQ(plugin_named(Registry::scan(plugin_search_path()), "wrongabi"), nullptr);
}

TEST(RequiredBackendsTest, ReadsACommaSeparatedList) {
  ScopedEnv required("KILN_REQUIRE_BACKENDS", "cpu, vulkan");
  EXPECT_TRUE(backend_required("cpu"));
  EXPECT_TRUE(backend_required("vulkan"));
  EXPECT_FALSE(backend_required("opencl"));
  EXPECT_FALSE(backend_required("vulk"));
}

TEST(RequiredBackendsTest, NothingIsRequiredWhenUnset) {
  ScopedEnv required("KILN_REQUIRE_BACKENDS", nullptr);
  EXPECT_FALSE(backend_required("cpu"));
}

}  // namespace
}  // namespace kiln::backends
