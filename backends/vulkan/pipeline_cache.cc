#include "backends/vulkan/pipeline_cache.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "backends/vulkan/vk_status.h"

namespace kiln::backends::vulkan {
namespace {

constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'V', 'K', 'P', 'C'};
struct FileHeader {
  char magic[8];
  uint64_t size;
  uint64_t hash;
};

uint64_t fnv1a(const uint8_t* data, size_t size) {
  uint64_t hash = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i) hash = (hash ^ data[i]) * 1099511628211ull;
  return hash;
}

std::string uuid_hex(const uint8_t* uuid) {
  std::string out;
  for (uint32_t i = 0; i < VK_UUID_SIZE; ++i) absl::StrAppend(&out, absl::Hex(uuid[i], absl::kZeroPad2));
  return out;
}

// The driver's data from |path|, or empty (with a warning when the file
// exists but cannot be used).
std::vector<uint8_t> read_cache_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  FileHeader header;
  if (bytes.size() >= sizeof header) std::memcpy(&header, bytes.data(), sizeof header);
  const bool valid = bytes.size() >= sizeof header && std::memcmp(header.magic, kMagic, sizeof kMagic) == 0 &&
                     header.size == bytes.size() - sizeof header &&
                     header.hash == fnv1a(bytes.data() + sizeof header, header.size);
  if (!valid) {
    std::fprintf(stderr, "kiln-vulkan: warning: ignoring the corrupt pipeline cache %s\n", path.c_str());
    return {};
  }
  return std::vector<uint8_t>(bytes.begin() + sizeof header, bytes.end());
}

}  // namespace

absl::StatusOr<PipelineCache> PipelineCache::open(VkDevice device, const VkPhysicalDeviceProperties& properties,
                                                  const std::string& cache_dir) {
  PipelineCache cache;
  cache.device_ = device;
  std::vector<uint8_t> data;
  if (!cache_dir.empty()) {
    cache.path_ = absl::StrCat(cache_dir, "/vulkan-", uuid_hex(properties.pipelineCacheUUID), ".bin");
    data = read_cache_file(cache.path_);
  }
  VkPipelineCacheCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO;
  info.initialDataSize = data.size();
  info.pInitialData = data.empty() ? nullptr : data.data();
  VkResult result = vkCreatePipelineCache(device, &info, nullptr, &cache.cache_);
  if (result != VK_SUCCESS && !data.empty()) {
    std::fprintf(stderr, "kiln-vulkan: warning: the driver refused the pipeline cache %s (%s); starting empty\n",
                 cache.path_.c_str(), vk_result_name(result));
    info.initialDataSize = 0;
    info.pInitialData = nullptr;
    result = vkCreatePipelineCache(device, &info, nullptr, &cache.cache_);
  }
  if (result != VK_SUCCESS) return vk_status(result, "creating the pipeline cache");
  return cache;
}

absl::Status PipelineCache::save() const {
  if (path_.empty() || cache_ == VK_NULL_HANDLE) return absl::OkStatus();
  size_t size = 0;
  KILN_VK_RETURN_IF_ERROR(vkGetPipelineCacheData(device_, cache_, &size, nullptr), "reading the pipeline cache");
  std::vector<uint8_t> data(size);
  KILN_VK_RETURN_IF_ERROR(vkGetPipelineCacheData(device_, cache_, &size, data.data()),
                          "reading the pipeline cache");
  data.resize(size);
  FileHeader header{};
  std::memcpy(header.magic, kMagic, sizeof kMagic);
  header.size = data.size();
  header.hash = fnv1a(data.data(), data.size());
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  if (ec) return absl::UnavailableError(absl::StrCat("creating the cache directory of ", path_, ": ", ec.message()));
  const std::string temporary = absl::StrCat(path_, ".", getpid(), ".tmp");
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(&header), sizeof header);
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    if (!out.flush()) return absl::UnavailableError(absl::StrCat("writing ", temporary));
  }
  std::filesystem::rename(temporary, path_, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("renaming ", temporary, " to ", path_, ": ", ec.message()));
  return absl::OkStatus();
}

void PipelineCache::destroy() {
  if (cache_ != VK_NULL_HANDLE) vkDestroyPipelineCache(device_, cache_, nullptr);
  cache_ = VK_NULL_HANDLE;
}

}  // namespace kiln::backends::vulkan
