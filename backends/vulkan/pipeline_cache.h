#pragma once

#include <string>

#include <vulkan/vulkan.h>

#include "absl/status/statusor.h"

namespace kiln::backends::vulkan {

// The VkPipelineCache of one device, persisted as
// <cache_dir>/vulkan-<pipelineCacheUUID>.bin, so a second run of the same
// Program on the same driver creates its pipelines from the cache. The file
// is kiln's header (magic, size, FNV-1a hash of the data) then the driver's
// data; one whose header or hash does not match (truncated, corrupt, another
// driver) is ignored with a warning on stderr. Writes are atomic: a
// temporary file renamed over the old one.
class PipelineCache {
 public:
  // Loads the file under |cache_dir| (none when empty) and creates the
  // cache from it.
  static absl::StatusOr<PipelineCache> open(VkDevice device, const VkPhysicalDeviceProperties& properties,
                                            const std::string& cache_dir);

  VkPipelineCache handle() const { return cache_; }
  // Writes the cache's data to its file; a no-op without a cache_dir.
  absl::Status save() const;
  void destroy();

 private:
  VkDevice device_ = VK_NULL_HANDLE;
  VkPipelineCache cache_ = VK_NULL_HANDLE;
  std::string path_;  // empty: not persisted
};

}  // namespace kiln::backends::vulkan
