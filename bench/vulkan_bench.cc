// The Vulkan plugin's kernels against the device's own ceilings, through
// the plugin's C ABI with hand-built Programs (bench/README.md, "Vulkan
// kernels (H100)"):
//   BM_CopyBandwidth    vkCmdCopyBuffer of 1 GiB, GB/s counting read + write;
//   BM_KernelCopy       the plugin's own copy kernel (cast f32 -> f32), read
//                       + write: the roofline decode competes with;
//   BM_Gemv             f16 gemv (weights [N, K], transpose_b, one row),
//                       rotating over weight copies well past the L2;
//   BM_Matmul           prefill matmul, coopmat beside tiled, TFLOP/s;
//   BM_DispatchChain    1,000 tiny dispatches replayed from one command
//                       buffer, microseconds per dispatch.
// Every figure is wall time over many runs of one step (one submission),
// the step long enough that its one submit is under 1 % of it.
// KILN_BENCH_SMALL=1 (or --small) shrinks every size for lavapipe.

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <vulkan/vulkan.h>

#include "bench/plugin_bench.h"

namespace kiln::bench {

Plugin& plugin() {
  static Plugin p = open_plugin("vulkan", "Vulkan");
  return p;
}

namespace {

// ---- (a) Device copy bandwidth ------------------------------------------------

// vkCmdCopyBuffer between two device-local buffers on the device the plugin
// opens (discrete GPUs first, KILN_VULKAN_DEVICE honoured), through Vulkan
// directly: the plugin has no copy op. Returns GB/s counting read + write,
// the best of five submissions of 8 copies; 0 with |error| set on failure.
class CopyBench {
 public:
  ~CopyBench() {
    if (device_ == VK_NULL_HANDLE) return;
    vkDeviceWaitIdle(device_);
    for (int i = 0; i < 2; ++i) {
      if (buffers_[i] != VK_NULL_HANDLE) vkDestroyBuffer(device_, buffers_[i], nullptr);
      if (memory_[i] != VK_NULL_HANDLE) vkFreeMemory(device_, memory_[i], nullptr);
    }
    if (fence_ != VK_NULL_HANDLE) vkDestroyFence(device_, fence_, nullptr);
    if (pool_ != VK_NULL_HANDLE) vkDestroyCommandPool(device_, pool_, nullptr);
    vkDestroyDevice(device_, nullptr);
    vkDestroyInstance(instance_, nullptr);
  }

  double measure(uint64_t bytes, std::string* error) {
    if (!open(error) || !allocate(bytes, error)) return 0;
    constexpr int kCopies = 8;
    VkCommandBufferAllocateInfo allocate{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, nullptr, pool_,
                                         VK_COMMAND_BUFFER_LEVEL_PRIMARY, 1};
    VkCommandBuffer commands = VK_NULL_HANDLE;
    vkAllocateCommandBuffers(device_, &allocate, &commands);
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO, nullptr, 0, nullptr};
    vkBeginCommandBuffer(commands, &begin);
    for (int i = 0; i < kCopies; ++i) {
      const VkBufferCopy region{0, 0, bytes};
      vkCmdCopyBuffer(commands, buffers_[i % 2], buffers_[1 - i % 2], 1, &region);
      VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER, nullptr, VK_ACCESS_TRANSFER_WRITE_BIT,
                              VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
      vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &barrier, 0,
                           nullptr, 0, nullptr);
    }
    vkEndCommandBuffer(commands);
    double best = 0;
    for (int rep = 0; rep < 6; ++rep) {
      const auto start = std::chrono::steady_clock::now();
      VkSubmitInfo submit{};
      submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
      submit.commandBufferCount = 1;
      submit.pCommandBuffers = &commands;
      if (vkQueueSubmit(queue_, 1, &submit, fence_) != VK_SUCCESS ||
          vkWaitForFences(device_, 1, &fence_, VK_TRUE, UINT64_MAX) != VK_SUCCESS) {
        *error = "copy submission failed";
        return 0;
      }
      vkResetFences(device_, 1, &fence_);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (rep > 0) best = std::max(best, 2.0 * static_cast<double>(bytes) * kCopies / seconds / 1e9);  // rep 0 warms up
    }
    vkFreeCommandBuffers(device_, pool_, 1, &commands);
    return best;
  }

 private:
  bool open(std::string* error) {
    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO, nullptr, "vulkan_bench", 0, "kiln", 0,
                          VK_API_VERSION_1_2};
    VkInstanceCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
    info.pApplicationInfo = &app;
    if (vkCreateInstance(&info, nullptr, &instance_) != VK_SUCCESS) return fail(error, "no Vulkan instance");
    uint32_t count = 0;
    vkEnumeratePhysicalDevices(instance_, &count, nullptr);
    std::vector<VkPhysicalDevice> all(count);
    vkEnumeratePhysicalDevices(instance_, &count, all.data());
    if (all.empty()) return fail(error, "no Vulkan device");
    physical_ = pick(all);
    uint32_t families = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical_, &families, nullptr);
    std::vector<VkQueueFamilyProperties> family(families);
    vkGetPhysicalDeviceQueueFamilyProperties(physical_, &families, family.data());
    uint32_t chosen = 0;
    while (chosen < families && !(family[chosen].queueFlags & VK_QUEUE_COMPUTE_BIT)) ++chosen;
    if (chosen == families) return fail(error, "no compute queue");
    const float priority = 1.0f;
    VkDeviceQueueCreateInfo queue{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, nullptr, 0, chosen, 1, &priority};
    VkDeviceCreateInfo device{};
    device.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
    device.queueCreateInfoCount = 1;
    device.pQueueCreateInfos = &queue;
    if (vkCreateDevice(physical_, &device, nullptr, &device_) != VK_SUCCESS) return fail(error, "no VkDevice");
    vkGetDeviceQueue(device_, chosen, 0, &queue_);
    VkCommandPoolCreateInfo pool{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, nullptr, 0, chosen};
    VkFenceCreateInfo fence{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, nullptr, 0};
    if (vkCreateCommandPool(device_, &pool, nullptr, &pool_) != VK_SUCCESS ||
        vkCreateFence(device_, &fence, nullptr, &fence_) != VK_SUCCESS) {
      return fail(error, "no command pool or fence");
    }
    return true;
  }

  // The plugin's order: KILN_VULKAN_DEVICE, else the first discrete GPU,
  // else the first device.
  static VkPhysicalDevice pick(const std::vector<VkPhysicalDevice>& all) {
    if (const char* index = std::getenv("KILN_VULKAN_DEVICE"); index != nullptr && *index != '\0') {
      const size_t i = static_cast<size_t>(std::atoi(index));
      if (i < all.size()) return all[i];
    }
    for (VkPhysicalDevice d : all) {
      VkPhysicalDeviceProperties p;
      vkGetPhysicalDeviceProperties(d, &p);
      if (p.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU) return d;
    }
    return all[0];
  }

  bool allocate(uint64_t bytes, std::string* error) {
    VkPhysicalDeviceMemoryProperties memory;
    vkGetPhysicalDeviceMemoryProperties(physical_, &memory);
    for (int i = 0; i < 2; ++i) {
      VkBufferCreateInfo info{};
      info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
      info.size = bytes;
      info.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
      if (vkCreateBuffer(device_, &info, nullptr, &buffers_[i]) != VK_SUCCESS) return fail(error, "no buffer");
      VkMemoryRequirements needs;
      vkGetBufferMemoryRequirements(device_, buffers_[i], &needs);
      uint32_t type = 0;
      while (type < memory.memoryTypeCount &&
             !((needs.memoryTypeBits & (1u << type)) &&
               (memory.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT))) {
        ++type;
      }
      VkMemoryAllocateInfo allocate{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, nullptr, needs.size, type};
      if (type == memory.memoryTypeCount || vkAllocateMemory(device_, &allocate, nullptr, &memory_[i]) != VK_SUCCESS ||
          vkBindBufferMemory(device_, buffers_[i], memory_[i], 0) != VK_SUCCESS) {
        return fail(error, "cannot allocate the copy buffers");
      }
    }
    return true;
  }

  static bool fail(std::string* error, const char* what) {
    *error = what;
    return false;
  }

  VkInstance instance_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  VkBuffer buffers_[2] = {VK_NULL_HANDLE, VK_NULL_HANDLE};
  VkDeviceMemory memory_[2] = {VK_NULL_HANDLE, VK_NULL_HANDLE};
};

// Measured once per process, by whichever benchmark asks first.
double copy_gbps(std::string* error) {
  static std::string failure;
  static const double gbps = [] {
    CopyBench bench;
    return bench.measure(g_small ? (64ull << 20) : (1ull << 30), &failure);
  }();
  *error = failure;
  return gbps;
}

void BM_CopyBandwidth(benchmark::State& state) {
  std::string error;
  const double gbps = copy_gbps(&error);
  if (gbps == 0) {
    fail(state, error);
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(gbps);
  state.counters["GBps"] = gbps;
  state.counters["bytes_per_copy"] = static_cast<double>(g_small ? (64ull << 20) : (1ull << 30));
}
BENCHMARK(BM_CopyBandwidth)->Iterations(1);

// The copy a kernel makes: the plugin's cast f32 -> f32 over 512 MiB (8
// MiB in small mode), read + write counted, several independent
// dispatches per step. This is the roofline decode competes with (kiln
// bench measures it the same way); vkCmdCopyBuffer above may take another
// engine and runs below it on NVIDIA. The step's one output is 16 bytes
// that no dispatch writes: the plugin copies every output binding to the
// host each step, and a copied tensor as output would time that readback
// (PCIe), not the kernel.
double kernel_copy_gbps(std::string* error) {
  static std::string failure;
  static const double gbps = [] {
    const int64_t n = g_small ? (2 << 20) : (128 << 20);
    const int dispatches = 8;
    Builder b;
    const TensorRef x = b.arena(DType::f32, {n});
    std::vector<TensorRef> ys;
    for (int i = 0; i < 2; ++i) ys.push_back(b.arena(DType::f32, {n}));
    Constant dtype{"dtype", Constant::Type::integer, 0, 0, "f32"};
    for (int i = 0; i < dispatches; ++i) b.dispatch("cast", "reference", {dtype}, {x}, {ys[i % 2]}, -1);
    b.output(b.arena(DType::f32, {4}));
    Loaded loaded;
    if (std::string e = loaded.load(b, {}); !e.empty()) {
      failure = e;
      return 0.0;
    }
    const double seconds = best_step_seconds(loaded, 5, &failure);
    return seconds > 0 ? 2.0 * 4.0 * static_cast<double>(n) * dispatches / seconds / 1e9 : 0.0;
  }();
  *error = failure;
  return gbps;
}

void BM_KernelCopy(benchmark::State& state) {
  if (skip_without_device(state)) return;
  std::string error;
  const double gbps = kernel_copy_gbps(&error);
  if (gbps == 0) {
    fail(state, error);
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(gbps);
  state.counters["GBps"] = gbps;
}
BENCHMARK(BM_KernelCopy)->Iterations(1);

// ---- (b) f16 gemv -------------------------------------------------------------

// y_i = x @ W_{i % copies}^T for i < dispatches, W [N, K] f16, x [1, K] f32,
// y [1, N] f32. Copies make the working set at least 4 x the H100's 50 MB
// L2; dispatches make a step read at least 8 GiB, so its one submit is
// noise. Arg 2: 1 puts a barrier before every dispatch (a decode step's
// chain), 0 lets independent dispatches overlap (the kernel's throughput).
void BM_Gemv(benchmark::State& state) {
  if (skip_without_device(state)) return;
  const int64_t n = state.range(0) / (g_small ? 32 : 1), k = state.range(1) / (g_small ? 16 : 1);
  const bool barriers = state.range(2) != 0;
  const std::string variant = plugin().caps.subgroup_size_min > 0 ? "gemv_subgroup" : "gemv";
  const uint64_t bytes = static_cast<uint64_t>(n * k * 2);
  const uint64_t working_set = g_small ? (8ull << 20) : (256ull << 20);
  const uint64_t per_step = g_small ? (64ull << 20) : (8ull << 30);
  const int copies = static_cast<int>(std::max<uint64_t>(2, (working_set + bytes - 1) / bytes));
  const int dispatches = static_cast<int>(std::max<uint64_t>(copies, (per_step + bytes - 1) / bytes));
  Builder b;
  const TensorRef x = b.arena(DType::f32, {1, k});
  std::vector<TensorRef> weights;
  for (int c = 0; c < copies; ++c) weights.push_back(b.weight(DType::f16, {n, k}));
  for (int i = 0; i < dispatches; ++i) {
    const TensorRef y = b.arena(DType::f32, {1, n});
    b.dispatch("matmul", variant, {boolean("transpose_b", true)}, {x, weights[i % copies]}, {y},
               barriers && i > 0 ? i - 1 : -1);
  }
  b.output(x);
  Loaded loaded;
  if (time_steps(state, loaded, b, random_f16(n * k)) < 0) return;
  std::string error;
  const double copy = copy_gbps(&error);
  const double kernel_copy = kernel_copy_gbps(&error);
  const double step_bytes = static_cast<double>(bytes) * dispatches;
  state.counters["GBps"] = benchmark::Counter(step_bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["us_per_gemv"] =
      benchmark::Counter(dispatches / 1e6, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["copy_GBps"] = copy;
  state.counters["kernel_copy_GBps"] = kernel_copy;
  state.counters["copies"] = copies;
  state.counters["dispatches"] = dispatches;
  if (const double us = loaded.dispatch_microseconds(); us > 0) state.counters["kernel_us"] = us;
  state.SetLabel(variant);
}
// GBps / copy_GBps is the share of the roofline (bench/README.md prints it).
BENCHMARK(BM_Gemv)
    ->ArgNames({"N", "K", "barriers"})
    ->Args({14336, 4096, 0})
    ->Args({28672, 8192, 0})
    ->Args({128256, 2048, 0})
    ->Args({14336, 4096, 1})
    ->Args({28672, 8192, 1})
    ->Args({128256, 2048, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);

// ---- (c) Prefill matmul: cooperative matrices beside tiles ---------------------

// y[M, N] f32 = x[M, K] f16 @ W[N, K]^T f16, repeated so a step runs >= 20
// ms (10 dispatches in small mode), independent dispatches. Arg 3: 1 runs
// the coopmat variant (skipped where the device reports no cooperative
// matrices), 0 the tiled one.
void BM_Matmul(benchmark::State& state) {
  if (skip_without_device(state)) return;
  const int64_t div = g_small ? 8 : 1;
  const int64_t m = state.range(0) / div, k = state.range(1) / div, n = state.range(2) / div;
  const bool coopmat = state.range(3) != 0;
  if (coopmat && plugin().caps.cooperative_matrix == 0) {
    state.SkipWithError("the device reports no cooperative matrices");
    return;
  }
  const std::string variant = coopmat ? "coopmat" : "tiled";
  const int dispatches = g_small ? 4 : 20;
  Builder b;
  const TensorRef x = b.arena(DType::f16, {m, k});
  const TensorRef w = b.weight(DType::f16, {n, k});
  for (int i = 0; i < dispatches; ++i) {
    b.dispatch("matmul", variant, {boolean("transpose_b", true)}, {x, w}, {b.arena(DType::f32, {m, n})}, -1);
  }
  b.output(x);
  Loaded loaded;
  if (time_steps(state, loaded, b, random_f16(n * k)) < 0) return;
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) * dispatches;
  state.counters["TFLOPs"] = benchmark::Counter(flops / 1e12, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(variant);
}
BENCHMARK(BM_Matmul)
    ->ArgNames({"M", "K", "N", "coopmat"})
    ->Args({512, 4096, 14336, 1})
    ->Args({512, 4096, 14336, 0})
    ->Args({512, 2048, 2048, 1})
    ->Args({512, 2048, 2048, 0})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// ---- (d) Per-dispatch overhead ------------------------------------------------

// 1,000 scale dispatches over 64 floats in one step. Arg 1: a barrier
// before each (a chain, each reading its predecessor's output in place), or
// none (independent). The one submit is included: divide by 1,000.
void BM_DispatchChain(benchmark::State& state) {
  if (skip_without_device(state)) return;
  constexpr int kDispatches = 1000;
  const bool barriers = state.range(0) != 0;
  Builder b;
  const TensorRef x = b.arena(DType::f32, {1, 64});
  for (int i = 0; i < kDispatches; ++i) {
    const TensorRef y = barriers ? x : b.arena(DType::f32, {1, 64});
    b.dispatch("scale", "reference", {real("scale", 1.0)}, {x}, {y}, barriers && i > 0 ? i - 1 : -1);
  }
  b.output(x);
  Loaded loaded;
  if (time_steps(state, loaded, b, {}) < 0) return;
  state.counters["us_per_dispatch"] = benchmark::Counter(
      kDispatches / 1e6, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_DispatchChain)->ArgNames({"barriers"})->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

}  // namespace kiln::bench

int main(int argc, char** argv) { return kiln::bench::run_benchmarks(argc, argv); }
