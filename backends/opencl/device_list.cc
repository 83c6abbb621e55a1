#include "backends/opencl/device_list.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "backends/opencl/cl_error.h"

namespace kiln::backends::opencl {
namespace {

std::vector<cl_platform_id> platforms() {
  cl_uint count = 0;
  if (clGetPlatformIDs(0, nullptr, &count) != CL_SUCCESS || count == 0) return {};
  std::vector<cl_platform_id> ids(count);
  if (clGetPlatformIDs(count, ids.data(), nullptr) != CL_SUCCESS) return {};
  return ids;
}

std::vector<cl_device_id> devices(cl_platform_id platform) {
  cl_uint count = 0;
  if (clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, nullptr, &count) != CL_SUCCESS || count == 0) return {};
  std::vector<cl_device_id> ids(count);
  if (clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, count, ids.data(), nullptr) != CL_SUCCESS) return {};
  return ids;
}

std::string device_string(cl_device_id device, cl_device_info what) {
  size_t size = 0;
  if (clGetDeviceInfo(device, what, 0, nullptr, &size) != CL_SUCCESS || size == 0) return {};
  std::string text(size, '\0');
  clGetDeviceInfo(device, what, size, text.data(), nullptr);
  text.resize(std::strlen(text.c_str()));
  return text;
}

std::string platform_string(cl_platform_id platform, cl_platform_info what) {
  size_t size = 0;
  if (clGetPlatformInfo(platform, what, 0, nullptr, &size) != CL_SUCCESS || size == 0) return {};
  std::string text(size, '\0');
  clGetPlatformInfo(platform, what, size, text.data(), nullptr);
  text.resize(std::strlen(text.c_str()));
  return text;
}

template <typename T>
T device_value(cl_device_id device, cl_device_info what) {
  T value{};
  clGetDeviceInfo(device, what, sizeof value, &value, nullptr);
  return value;
}

cl_device_type device_type(cl_device_id device) { return device_value<cl_device_type>(device, CL_DEVICE_TYPE); }

// Listing order: GPUs, then everything but CPUs, then CPUs.
int rank(cl_device_type type) {
  if (type & CL_DEVICE_TYPE_GPU) return 0;
  if (type & CL_DEVICE_TYPE_CPU) return 2;
  return 1;
}

absl::StatusOr<std::vector<DeviceEntry>> every_device() {
  const std::vector<cl_platform_id> found = platforms();
  if (found.empty()) {
    return absl::UnavailableError("no OpenCL platform found (is an ICD installed under /etc/OpenCL/vendors?)");
  }
  std::vector<DeviceEntry> entries;
  for (uint32_t p = 0; p < found.size(); ++p) {
    const std::vector<cl_device_id> ids = devices(found[p]);
    for (uint32_t d = 0; d < ids.size(); ++d) entries.push_back({found[p], ids[d], p, d});
  }
  if (entries.empty()) {
    return absl::UnavailableError(absl::StrCat(found.size(), " OpenCL platform(s) found, but no device"));
  }
  return entries;
}

absl::StatusOr<DeviceEntry> chosen_device(const std::vector<DeviceEntry>& entries, const std::string& choice) {
  const std::vector<std::string> parts = absl::StrSplit(choice, ':');
  uint32_t platform = 0, device = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &platform) || !absl::SimpleAtoi(parts[1], &device)) {
    return absl::InvalidArgumentError(
        absl::StrCat("KILN_OPENCL_DEVICE=", choice, ": expected platform:device, e.g. 0:1"));
  }
  for (const DeviceEntry& entry : entries) {
    if (entry.platform_index == platform && entry.device_index == device) return entry;
  }
  return absl::NotFoundError(absl::StrCat("KILN_OPENCL_DEVICE=", choice, ": no device ", device, " on platform ",
                                          platform, " (", entries.size(), " devices found)"));
}

}  // namespace

absl::StatusOr<std::vector<DeviceEntry>> list_devices() {
  absl::StatusOr<std::vector<DeviceEntry>> entries = every_device();
  if (!entries.ok()) return entries.status();
  if (const char* choice = std::getenv("KILN_OPENCL_DEVICE"); choice != nullptr && *choice != '\0') {
    absl::StatusOr<DeviceEntry> entry = chosen_device(*entries, choice);
    if (!entry.ok()) return entry.status();
    return std::vector<DeviceEntry>{*entry};
  }
  std::stable_sort(entries->begin(), entries->end(), [](const DeviceEntry& a, const DeviceEntry& b) {
    return rank(device_type(a.device)) < rank(device_type(b.device));
  });
  return entries;
}

bool DeviceInfo::has_extension(const char* name) const {
  for (absl::string_view word : absl::StrSplit(extensions, ' ', absl::SkipEmpty())) {
    if (word == name) return true;
  }
  return false;
}

DeviceInfo device_info(const DeviceEntry& entry) {
  const cl_device_id d = entry.device;
  DeviceInfo info;
  info.name = device_string(d, CL_DEVICE_NAME);
  info.platform = platform_string(entry.platform, CL_PLATFORM_NAME);
  info.vendor = device_string(d, CL_DEVICE_VENDOR);
  info.version = device_string(d, CL_DEVICE_VERSION);
  info.driver_version = device_string(d, CL_DRIVER_VERSION);
  info.extensions = device_string(d, CL_DEVICE_EXTENSIONS);
  info.type = device_type(d);
  info.compute_units = device_value<cl_uint>(d, CL_DEVICE_MAX_COMPUTE_UNITS);
  info.global_memory_bytes = device_value<cl_ulong>(d, CL_DEVICE_GLOBAL_MEM_SIZE);
  info.max_alloc_bytes = device_value<cl_ulong>(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
  info.max_workgroup_size = device_value<size_t>(d, CL_DEVICE_MAX_WORK_GROUP_SIZE);
  info.local_memory_bytes = device_value<cl_ulong>(d, CL_DEVICE_LOCAL_MEM_SIZE);
  info.base_address_alignment_bytes = device_value<cl_uint>(d, CL_DEVICE_MEM_BASE_ADDR_ALIGN) / 8;
  info.host_unified_memory = device_value<cl_bool>(d, CL_DEVICE_HOST_UNIFIED_MEMORY) == CL_TRUE;
  info.subgroups = device_subgroups(entry.platform, d);
  return info;
}

namespace {

template <size_t N>
void copy_text(char (&out)[N], const std::string& text) {
  const size_t length = std::min(text.size(), N - 1);
  std::memcpy(out, text.data(), length);
  out[length] = '\0';
}

uint32_t kiln_device_type(cl_device_type type, bool host_unified_memory) {
  if (type & CL_DEVICE_TYPE_GPU) return host_unified_memory ? KILN_DEVICE_INTEGRATED_GPU : KILN_DEVICE_DISCRETE_GPU;
  if (type & CL_DEVICE_TYPE_CPU) return KILN_DEVICE_CPU;
  return KILN_DEVICE_OTHER;
}

}  // namespace

kiln_capabilities capabilities(const DeviceInfo& info) {
  kiln_capabilities caps{};
  caps.struct_size = sizeof caps;
  copy_text(caps.device_name, info.name);
  copy_text(caps.driver, absl::StrCat(info.platform, " ", info.driver_version));
  caps.device_type = kiln_device_type(info.type, info.host_unified_memory);
  caps.compute_units = info.compute_units;
  caps.device_memory_bytes = info.global_memory_bytes;
  caps.max_buffer_bytes = info.max_alloc_bytes;
  caps.max_workgroup_size = static_cast<uint32_t>(std::min<uint64_t>(info.max_workgroup_size, UINT32_MAX));
  caps.shared_memory_bytes = static_cast<uint32_t>(std::min<uint64_t>(info.local_memory_bytes, UINT32_MAX));
  caps.storage_offset_alignment = info.base_address_alignment_bytes;
  caps.f16_storage = 1;
  caps.f16_arithmetic = info.has_extension("cl_khr_fp16") ? 1 : 0;
  caps.subgroup_size_min = info.subgroups.size_min;
  caps.subgroup_size_max = info.subgroups.size_max;
  caps.bf16 = 1;
  caps.timestamps = 1;
  return caps;
}

}  // namespace kiln::backends::opencl
