// The OpenCL plugin's kernels against the device's own ceilings, through
// the plugin's C ABI with hand-built Programs (bench/README.md, "OpenCL
// kernels (H100)"):
//   BM_CopyBandwidth    clEnqueueCopyBuffer of 1 GiB (less where
//                       CL_DEVICE_MAX_MEM_ALLOC_SIZE says so), GB/s
//                       counting read + write: the roofline;
//   BM_KernelCopy       the plugin's own copy kernel (cast f32 -> f32), read
//                       + write: a kernel's copy, like with like;
//   BM_Gemv             f16 gemv (weights [N, K], transpose_b, one row),
//                       rotating over weight copies well past the L2;
//   BM_DispatchChain    1,000 tiny dispatches in one step through the
//                       in-order queue, microseconds per dispatch.
// Every figure is wall time over many runs of one step (one clFinish), the
// step long enough that its one wait is under 1 % of it. The plugin's queue
// is in order, so every dispatch already waits for the one before: there is
// no barrier-free variant to measure, unlike bench/vulkan_bench.cc.
// KILN_BENCH_SMALL=1 (or --small) shrinks every size for PoCL.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <CL/cl.h>

#include "bench/plugin_bench.h"

namespace kiln::bench {

Plugin& plugin() {
  static Plugin p = open_plugin("opencl", "OpenCL");
  return p;
}

namespace {

// ---- (a) Device copy bandwidth ------------------------------------------------

// The device the plugin opens, found again through OpenCL: KILN_OPENCL_DEVICE
// (platform:device), else the first GPU, else the first device that is not
// a CPU, else the first device (backends/opencl/device_list.cc's order).
bool pick_device(cl_platform_id* out_platform, cl_device_id* out_device) {
  cl_uint platform_count = 0;
  if (clGetPlatformIDs(0, nullptr, &platform_count) != CL_SUCCESS || platform_count == 0) return false;
  std::vector<cl_platform_id> platforms(platform_count);
  clGetPlatformIDs(platform_count, platforms.data(), nullptr);
  int wanted_platform = -1, wanted_device = -1;
  if (const char* choice = std::getenv("KILN_OPENCL_DEVICE"); choice != nullptr && *choice != '\0') {
    if (std::sscanf(choice, "%d:%d", &wanted_platform, &wanted_device) != 2) return false;
  }
  int best_rank = 3;
  for (cl_uint p = 0; p < platform_count; ++p) {
    cl_uint count = 0;
    if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, nullptr, &count) != CL_SUCCESS) continue;
    std::vector<cl_device_id> devices(count);
    clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, count, devices.data(), nullptr);
    for (cl_uint d = 0; d < count; ++d) {
      cl_device_type type = 0;
      clGetDeviceInfo(devices[d], CL_DEVICE_TYPE, sizeof type, &type, nullptr);
      int rank = (type & CL_DEVICE_TYPE_GPU) ? 0 : (type & CL_DEVICE_TYPE_CPU) ? 2 : 1;
      if (wanted_platform >= 0) {
        rank = static_cast<int>(p) == wanted_platform && static_cast<int>(d) == wanted_device ? 0 : 3;
      }
      if (rank < best_rank) {
        best_rank = rank;
        *out_platform = platforms[p];
        *out_device = devices[d];
      }
    }
  }
  return best_rank < 3;
}

// Bytes each of the two copy buffers gets: 1 GiB (64 MiB small), at most
// CL_DEVICE_MAX_MEM_ALLOC_SIZE and a quarter of the device's memory.
uint64_t copy_bytes(cl_device_id device) {
  cl_ulong max_alloc = 0, global = 0;
  clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, nullptr);
  clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, nullptr);
  uint64_t bytes = g_small ? (64ull << 20) : (1ull << 30);
  if (max_alloc > 0) bytes = std::min<uint64_t>(bytes, max_alloc);
  if (global > 0) bytes = std::min<uint64_t>(bytes, global / 4);
  return bytes / 4096 * 4096;
}

struct CopyFigure {
  double gbps = 0;
  uint64_t bytes = 0;
  std::string error;
};

// clEnqueueCopyBuffer between two buffers on its own context and in-order
// queue: 8 copies back and forth per clFinish, best of 5 after a warm-up.
CopyFigure measure_copy() {
  CopyFigure out;
  cl_platform_id platform = nullptr;
  cl_device_id device = nullptr;
  if (!pick_device(&platform, &device)) {
    out.error = "no OpenCL device (or KILN_OPENCL_DEVICE names none)";
    return out;
  }
  out.bytes = copy_bytes(device);
  const cl_context_properties properties[] = {CL_CONTEXT_PLATFORM, reinterpret_cast<cl_context_properties>(platform),
                                              0};
  cl_int status = CL_SUCCESS;
  cl_context context = clCreateContext(properties, 1, &device, nullptr, nullptr, &status);
  if (status != CL_SUCCESS) {
    out.error = "clCreateContext failed: " + std::to_string(status);
    return out;
  }
  cl_command_queue queue = clCreateCommandQueue(context, device, 0, &status);
  cl_mem buffers[2] = {nullptr, nullptr};
  for (cl_mem& buffer : buffers) {
    if (status == CL_SUCCESS) buffer = clCreateBuffer(context, CL_MEM_READ_WRITE, out.bytes, nullptr, &status);
  }
  if (status == CL_SUCCESS) {  // first touch: the driver may allocate lazily
    const cl_uint zero = 0;
    for (cl_mem buffer : buffers) {
      clEnqueueFillBuffer(queue, buffer, &zero, sizeof zero, 0, out.bytes, 0, nullptr, nullptr);
    }
    status = clFinish(queue);
  }
  constexpr int kCopies = 8;
  for (int rep = 0; rep < 6 && status == CL_SUCCESS; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kCopies && status == CL_SUCCESS; ++i) {
      status = clEnqueueCopyBuffer(queue, buffers[i % 2], buffers[1 - i % 2], 0, 0, out.bytes, 0, nullptr, nullptr);
    }
    if (status == CL_SUCCESS) status = clFinish(queue);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (rep > 0) out.gbps = std::max(out.gbps, 2.0 * static_cast<double>(out.bytes) * kCopies / seconds / 1e9);
  }
  if (status != CL_SUCCESS) {
    out.error = "copying " + std::to_string(out.bytes) + " bytes failed: OpenCL error " + std::to_string(status);
    out.gbps = 0;
  }
  for (cl_mem buffer : buffers) {
    if (buffer != nullptr) clReleaseMemObject(buffer);
  }
  if (queue != nullptr) clReleaseCommandQueue(queue);
  clReleaseContext(context);
  return out;
}

// Measured once per process, by whichever benchmark asks first.
const CopyFigure& copy_figure() {
  static const CopyFigure figure = measure_copy();
  return figure;
}

void BM_CopyBandwidth(benchmark::State& state) {
  const CopyFigure& copy = copy_figure();
  if (copy.gbps == 0) {
    fail(state, copy.error);
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(copy.gbps);
  state.counters["GBps"] = copy.gbps;
  state.counters["bytes_per_copy"] = static_cast<double>(copy.bytes);
}
BENCHMARK(BM_CopyBandwidth)->Iterations(1);

// The copy a kernel makes: the plugin's cast f32 -> f32 (one work-item per
// element) over 512 MiB (8 MiB small; less where the arena of three such
// tensors passes the largest buffer), read + write counted, 8 dispatches per
// step. A gemv is a kernel too: this is the like-with-like figure beside
// clEnqueueCopyBuffer, which the driver may run another way.
struct KernelCopyFigure {
  double gbps = 0;
  std::string error;
};

KernelCopyFigure measure_kernel_copy() {
  KernelCopyFigure out;
  int64_t n = g_small ? (2 << 20) : (128 << 20);
  const uint64_t limit = plugin().caps.max_buffer_bytes;
  if (limit > 0) n = std::min<int64_t>(n, static_cast<int64_t>(limit / 12 / 1024 * 1024));
  constexpr int kDispatches = 8;
  Builder b;
  const TensorRef x = b.arena(DType::f32, {n});
  const TensorRef ys[2] = {b.arena(DType::f32, {n}), b.arena(DType::f32, {n})};
  const Constant dtype{"dtype", Constant::Type::integer, 0, 0, "f32"};
  for (int i = 0; i < kDispatches; ++i) b.dispatch("cast", "elementwise", {dtype}, {x}, {ys[i % 2]});
  b.output(x);
  Loaded loaded;
  if (std::string e = loaded.load(b, {}); !e.empty()) {
    out.error = e;
    return out;
  }
  const double seconds = best_step_seconds(loaded, 5, &out.error);
  if (seconds > 0) out.gbps = 2.0 * 4.0 * static_cast<double>(n) * kDispatches / seconds / 1e9;
  return out;
}

const KernelCopyFigure& kernel_copy_figure() {
  static const KernelCopyFigure figure = measure_kernel_copy();
  return figure;
}

void BM_KernelCopy(benchmark::State& state) {
  if (skip_without_device(state)) return;
  const KernelCopyFigure& copy = kernel_copy_figure();
  if (copy.gbps == 0) {
    fail(state, copy.error);
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(copy.gbps);
  state.counters["GBps"] = copy.gbps;
}
BENCHMARK(BM_KernelCopy)->Iterations(1);

// ---- (b) f16 gemv -------------------------------------------------------------

// y_i = x @ W_{i % copies}^T for i < dispatches, W [N, K] f16, x [1, K] f32,
// y [1, N] f32, in the variant kernels/opencl/variant_rules.cc picks for one
// row: gemv_subgroup where the device reports subgroups, else gemv. Copies
// make the working set at least 256 MB (5x the H100's 50 MB L2);
// dispatches make a step read at least 8 GiB, so its one wait is noise.
// share = GBps / copy_GBps (clEnqueueCopyBuffer, the roofline).
void BM_Gemv(benchmark::State& state) {
  if (skip_without_device(state)) return;
  const int64_t n = state.range(0) / (g_small ? 32 : 1), k = state.range(1) / (g_small ? 16 : 1);
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
    b.dispatch("matmul", variant, {boolean("transpose_b", true)}, {x, weights[i % copies]},
               {b.arena(DType::f32, {1, n})});
  }
  b.output(x);
  Loaded loaded;
  const double seconds = time_steps(state, loaded, b, random_f16(n * k));
  if (seconds < 0) return;
  const double step_bytes = static_cast<double>(bytes) * dispatches;
  const double gbps = step_bytes * static_cast<double>(state.iterations()) / seconds / 1e9;
  const double copy = copy_figure().gbps;
  state.counters["GBps"] = benchmark::Counter(step_bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["us_per_gemv"] =
      benchmark::Counter(dispatches / 1e6, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["copy_GBps"] = copy;
  state.counters["kernel_copy_GBps"] = kernel_copy_figure().gbps;
  state.counters["share"] = copy > 0 ? gbps / copy : 0;
  state.counters["copies"] = copies;
  state.counters["dispatches"] = dispatches;
  if (const double us = loaded.dispatch_microseconds(); us > 0) state.counters["kernel_us"] = us;
  state.SetLabel(variant);
}
BENCHMARK(BM_Gemv)
    ->ArgNames({"N", "K"})
    ->Args({14336, 4096})
    ->Args({28672, 8192})
    ->Args({128256, 2048})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);

// ---- (c) Per-dispatch overhead ------------------------------------------------

// 1,000 scale dispatches over 64 floats in one step, each reading its
// predecessor's output in place. The step's one clFinish is included:
// divide by 1,000.
void BM_DispatchChain(benchmark::State& state) {
  if (skip_without_device(state)) return;
  constexpr int kDispatches = 1000;
  Builder b;
  const TensorRef x = b.arena(DType::f32, {1, 64});
  for (int i = 0; i < kDispatches; ++i) b.dispatch("scale", "elementwise", {real("scale", 1.0)}, {x}, {x});
  b.output(x);
  Loaded loaded;
  if (time_steps(state, loaded, b, {}) < 0) return;
  state.counters["us_per_dispatch"] = benchmark::Counter(
      kDispatches / 1e6, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_DispatchChain)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

}  // namespace kiln::bench

int main(int argc, char** argv) { return kiln::bench::run_benchmarks(argc, argv); }
