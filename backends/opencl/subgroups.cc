#include "backends/opencl/subgroups.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "backends/opencl/cl_handle.h"

namespace kiln::backends::opencl {
namespace {

// OpenCL 2.1 and extension names the 1.2 headers the plugin targets lack.
constexpr cl_device_info kMaxNumSubGroups = 0x105C;           // CL_DEVICE_MAX_NUM_SUB_GROUPS
constexpr cl_device_info kSubGroupSizesIntel = 0x4108;        // CL_DEVICE_SUB_GROUP_SIZES_INTEL
constexpr cl_uint kMaxSubGroupSizeForNdrange = 0x2033;        // CL_KERNEL_MAX_SUB_GROUP_SIZE_FOR_NDRANGE(_KHR)
using GetKernelSubGroupInfo = cl_int(CL_API_CALL*)(cl_kernel, cl_device_id, cl_uint, size_t, const void*, size_t,
                                                   void*, size_t*);

constexpr size_t kProbeWorkgroup = 256;  // kernels/opencl/kernel_table.cc's gemv work-group
constexpr const char* kProbeSource =
    "#pragma OPENCL EXTENSION cl_khr_subgroups : enable\n"
    "__kernel void kiln_subgroup_probe(__global float* out) {\n"
    "  const float sum = sub_group_reduce_add(1.0f);\n"
    "  if (get_sub_group_local_id() == 0) out[get_group_id(0) * 64 + get_sub_group_id()] = sum;\n"
    "}\n";

std::string info_string(cl_device_id device, cl_device_info what) {
  size_t size = 0;
  if (clGetDeviceInfo(device, what, 0, nullptr, &size) != CL_SUCCESS || size == 0) return {};
  std::string text(size, '\0');
  clGetDeviceInfo(device, what, size, text.data(), nullptr);
  text.resize(std::strlen(text.c_str()));
  return text;
}

// "OpenCL 3.0 ..." / "OpenCL C 2.0 ..." -> 30 / 20; 0 when unreadable.
int version_after(const std::string& text, const char* prefix) {
  int major = 0, minor = 0;
  if (!absl::StartsWith(text, prefix)) return 0;
  if (std::sscanf(text.c_str() + std::strlen(prefix), "%d.%d", &major, &minor) != 2) return 0;
  return major * 10 + minor;
}

bool listed(const std::string& extensions, const char* name) {
  for (absl::string_view word : absl::StrSplit(extensions, ' ', absl::SkipEmpty())) {
    if (word == name) return true;
  }
  return false;
}

// The OpenCL C a subgroup kernel is built as, or "" when the device
// advertises no subgroups. A 3.0 device builds OpenCL C 3.0 (its
// CL_DEVICE_OPENCL_C_VERSION may still say 1.2); cl_khr_subgroups needs
// OpenCL C 2.0; cl_intel_subgroups works in 1.2.
std::string subgroup_cl_std(cl_device_id device) {
  const std::string extensions = info_string(device, CL_DEVICE_EXTENSIONS);
  const int api = version_after(info_string(device, CL_DEVICE_VERSION), "OpenCL ");
  const int c = version_after(info_string(device, CL_DEVICE_OPENCL_C_VERSION), "OpenCL C ");
  cl_uint core_subgroups = 0;
  if (api >= 21) clGetDeviceInfo(device, kMaxNumSubGroups, sizeof core_subgroups, &core_subgroups, nullptr);
  const bool khr = listed(extensions, "cl_khr_subgroups") || core_subgroups > 0;
  if (khr && api >= 30) return "CL3.0";
  if (khr && c >= 20) return "CL2.0";
  if (listed(extensions, "cl_intel_subgroups")) return "CL1.2";
  return {};
}

// clGetKernelSubGroupInfoKHR (cl_khr_subgroups), else the OpenCL 2.1 core
// entry of the ICD loader the plugin is linked against; null without either.
GetKernelSubGroupInfo subgroup_info_function(cl_platform_id platform) {
  if (void* f = clGetExtensionFunctionAddressForPlatform(platform, "clGetKernelSubGroupInfoKHR"); f != nullptr) {
    return reinterpret_cast<GetKernelSubGroupInfo>(f);
  }
  void* loader = dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (loader == nullptr) return nullptr;
  auto f = reinterpret_cast<GetKernelSubGroupInfo>(dlsym(loader, "clGetKernelSubGroupInfo"));
  dlclose(loader);  // the plugin's own link keeps it loaded
  return f;
}

// The probe kernel built as |cl_std| on a context of its own, and its
// subgroup size for a kProbeWorkgroup-wide range; 0 when it does not build
// or the driver does not say.
uint32_t probe_size(cl_platform_id platform, cl_device_id device, const std::string& cl_std) {
  const cl_context_properties properties[] = {CL_CONTEXT_PLATFORM, reinterpret_cast<cl_context_properties>(platform),
                                              0};
  cl_int status = CL_SUCCESS;
  ClContext context(clCreateContext(properties, 1, &device, nullptr, nullptr, &status));
  if (status != CL_SUCCESS) return 0;
  const char* source = kProbeSource;
  ClProgram program(clCreateProgramWithSource(context.get(), 1, &source, nullptr, &status));
  if (status != CL_SUCCESS) return 0;
  const std::string options = "-cl-std=" + cl_std;
  if (clBuildProgram(program.get(), 1, &device, options.c_str(), nullptr, nullptr) != CL_SUCCESS) return 0;
  ClKernel kernel(clCreateKernel(program.get(), "kiln_subgroup_probe", &status));
  const GetKernelSubGroupInfo info = subgroup_info_function(platform);
  if (status != CL_SUCCESS || info == nullptr) return 0;
  size_t size = 0;
  const size_t local = kProbeWorkgroup;
  if (info(kernel.get(), device, kMaxSubGroupSizeForNdrange, sizeof local, &local, sizeof size, &size, nullptr) !=
      CL_SUCCESS) {
    return 0;
  }
  return static_cast<uint32_t>(size);
}

Subgroups probe(cl_platform_id platform, cl_device_id device) {
  Subgroups out;
  const std::string cl_std = subgroup_cl_std(device);
  if (cl_std.empty()) return out;
  const uint32_t size = probe_size(platform, device, cl_std);
  if (size == 0) return out;
  out.cl_std = cl_std;
  out.size_min = out.size_max = size;
  // cl_intel_subgroups: the compiler picks one of these per kernel.
  size_t bytes = 0;
  if (clGetDeviceInfo(device, kSubGroupSizesIntel, 0, nullptr, &bytes) == CL_SUCCESS && bytes >= sizeof(size_t)) {
    std::vector<size_t> sizes(bytes / sizeof(size_t));
    clGetDeviceInfo(device, kSubGroupSizesIntel, bytes, sizes.data(), nullptr);
    out.size_min = static_cast<uint32_t>(*std::min_element(sizes.begin(), sizes.end()));
    out.size_max = static_cast<uint32_t>(*std::max_element(sizes.begin(), sizes.end()));
  }
  return out;
}

}  // namespace

Subgroups device_subgroups(cl_platform_id platform, cl_device_id device) {
  static std::mutex mutex;
  static std::map<cl_device_id, Subgroups> probed;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = probed.find(device);
  if (it == probed.end()) it = probed.emplace(device, probe(platform, device)).first;
  return it->second;
}

}  // namespace kiln::backends::opencl
