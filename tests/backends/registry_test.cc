#include "backends/registry.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::backends {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kBuiltPlugins = KILN_BINARY_DIR "/backends";
const std::string kFakePlugins = FAKE_PLUGIN_DIR;

const PluginInfo* plugin_named(const Registry& registry, const std::string& name) {
  for (const PluginInfo& plugin : registry.plugins()) {
    if (plugin.name == name) return &plugin;
  }
  return nullptr;
}

// A directory holding one file that is named like a plugin but is not a
// library.
class GarbagePluginDir {
 public:
  explicit GarbagePluginDir(const std::string& name) {
    std::string pattern = ::testing::TempDir() + "kiln-plugins-XXXXXX";
    path_ = mkdtemp(pattern.data());
    std::ofstream(path_ + "/" + plugin_file_name(name)) << "not a shared library";
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
  EXPECT_EQ((*cpu)->target.backend, "cpu");
  EXPECT_TRUE((*cpu)->target.has_f16);
  EXPECT_EQ((*cpu)->target.subgroup_size, 0);
  EXPECT_GT((*cpu)->target.max_buffer_bytes, 0);
  EXPECT_THAT((*cpu)->device_name, HasSubstr("thread"));
}

TEST(RegistryTest, BrokenPluginsAreUnavailableWithTheirReasonAndCpuStillLoads) {
  GarbagePluginDir garbage("garbage");
  const Registry registry = Registry::scan({kFakePlugins, garbage.path(), kBuiltPlugins});

  const PluginInfo* wrong_abi = plugin_named(registry, "wrongabi");
  ASSERT_NE(wrong_abi, nullptr);
  EXPECT_FALSE(wrong_abi->available());
  EXPECT_EQ(wrong_abi->unavailable_reason, "libkiln-wrongabi.so was built for ABI 2; this kiln expects 1");

  const PluginInfo* no_entry = plugin_named(registry, "noentry");
  ASSERT_NE(no_entry, nullptr);
  EXPECT_FALSE(no_entry->available());
  EXPECT_EQ(no_entry->unavailable_reason, "libkiln-noentry.so does not export kiln_backend_get_api");

  const PluginInfo* no_device = plugin_named(registry, "nodevice");
  ASSERT_NE(no_device, nullptr);
  EXPECT_FALSE(no_device->available());
  EXPECT_EQ(no_device->unavailable_reason, "no usable device: no fake GPU in this machine");

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
            "backend 'wrongabi' is unavailable: libkiln-wrongabi.so was built for ABI 2; this kiln expects 1");
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
