#pragma once

// What the kernel benches (vulkan_bench, opencl_bench) share: their plugin,
// opened once through its C ABI; Programs of static shapes built by hand;
// a compiled, bound Program to run; f16 test data; the --small switch.
// Each bench defines plugin() with open_plugin for its backend.

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/registry.h"
#include "benchmark/benchmark.h"
#include "program/dtype.h"
#include "program/program.h"
#include "program/program_json.h"
#include "program/step.h"

namespace kiln::bench {

using program::Constant;
using program::Dim;
using program::DType;
using program::TensorRef;

// --small (or KILN_BENCH_SMALL=1): sizes for a CPU driver (lavapipe, PoCL).
inline bool g_small = false;

inline bool env_flag(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && std::strcmp(value, "1") == 0;
}

// Benchmarks that erred (a compile or step error, a failed measurement);
// run_benchmarks exits 1 when there are any, so the smoke tests fail.
inline int g_failures = 0;

inline void fail(benchmark::State& state, const std::string& why) {
  ++g_failures;
  state.SkipWithError(why.c_str());
}

// ---- The plugin --------------------------------------------------------------

// One device of the plugin, opened once for the process. Profiling is off,
// so nothing sits between dispatches, unless KILN_BENCH_PROFILE=1 asks for
// each dispatch's GPU time (Loaded::dispatch_microseconds): wall time minus
// that is what the queue spends between kernels.
struct Plugin {
  std::string backend;  // "vulkan", "opencl"
  const kiln_backend_api* api = nullptr;
  kiln_device* device = nullptr;
  kiln_capabilities caps{};
  std::string error;
};

// Loads <build>/backends/libkiln-<backend>.so and opens its device 0 (the
// plugin's own choice: a GPU first, its device variable honoured); `label`
// names the API in errors ("no Vulkan device").
inline Plugin open_plugin(const std::string& backend, const std::string& label) {
  Plugin out;
  out.backend = backend;
  const std::string file = "libkiln-" + backend + ".so";
  void* library = dlopen((std::string(KILN_BINARY_DIR "/backends/") + file).c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    out.error = "cannot load " + file + ": " + dlerror();
    return out;
  }
  auto get = reinterpret_cast<kiln_backend_get_api_fn>(dlsym(library, KILN_BACKEND_ENTRY_POINT));
  out.api = get == nullptr ? nullptr : get();
  kiln_error error{};
  uint32_t count = 0;
  out.caps.struct_size = sizeof out.caps;
  if (out.api == nullptr || out.api->probe(&out.caps, 1, &count, &error) != KILN_OK || count == 0) {
    out.error = "no " + label + " device: " + error.message;
    return out;
  }
  kiln_device_options options{};
  options.struct_size = sizeof options;
  options.profile = env_flag("KILN_BENCH_PROFILE") ? 1 : 0;
  if (out.api->create_device(0, &options, &out.device, &error) != KILN_OK) out.error = error.message;
  return out;
}

// The bench's plugin, opened on first use; each bench defines it.
Plugin& plugin();

inline Constant boolean(std::string name, bool value) {
  return {std::move(name), Constant::Type::boolean, value ? 1 : 0, 0, ""};
}
inline Constant real(std::string name, double value) {
  return {std::move(name), Constant::Type::real, 0, value, ""};
}

// A Program of static shapes: arena tensors back to back, each weight in a
// chunk of its own (so none passes the device's largest buffer).
class Builder {
 public:
  TensorRef arena(DType dtype, std::vector<int64_t> shape) {
    TensorRef ref;
    ref.region = program::Region::arena;
    ref.offset = program_.arena_bytes;
    ref.dtype = dtype;
    for (int64_t d : shape) ref.shape.push_back(Dim::fixed(d));
    program_.arena_bytes += (program::byte_size(ref, {}) + 255) / 256 * 256;
    program_.arena_lower_bound_bytes = program_.arena_bytes;
    return ref;
  }
  TensorRef weight(DType dtype, std::vector<int64_t> shape) {
    int64_t elements = 1;
    for (int64_t d : shape) elements *= d;
    const std::string name = "w" + std::to_string(program_.weights.size());
    const int64_t bytes = program::dtype_bytes(dtype, elements);
    program_.weight_chunks.push_back(bytes);
    program_.weights.push_back({name, dtype, shape, bytes, static_cast<int32_t>(program_.weight_chunks.size() - 1), 0,
                                name});
    TensorRef ref;
    ref.region = program::Region::weight;
    ref.weight = static_cast<int32_t>(program_.weights.size() - 1);
    ref.dtype = dtype;
    for (int64_t d : shape) ref.shape.push_back(Dim::fixed(d));
    return ref;
  }
  void output(const TensorRef& ref) { program_.outputs.push_back({"y" + std::to_string(program_.outputs.size()), ref}); }
  // |after|: the dispatch it must follow (a barrier before it), or -1 (an
  // in-order queue, OpenCL's, orders every dispatch anyway).
  void dispatch(std::string kernel, std::string variant, std::vector<Constant> constants, std::vector<TensorRef> inputs,
                std::vector<TensorRef> outputs, int32_t after = -1) {
    program::Dispatch d;
    d.kernel = std::move(kernel);
    d.variant = std::move(variant);
    d.node = "%y" + std::to_string(program_.dispatches.size());
    std::sort(constants.begin(), constants.end(), [](const Constant& a, const Constant& b) { return a.name < b.name; });
    d.constants = std::move(constants);
    d.inputs = std::move(inputs);
    d.outputs = std::move(outputs);
    d.launch = d.outputs[0].shape;
    if (after >= 0) d.after.push_back(after);
    program_.dispatches.push_back(std::move(d));
  }
  std::string json() const { return program::program_to_json(program_); }
  size_t weight_count() const { return program_.weights.size(); }

 private:
  program::Program program_;
};

// A compiled, bound Program; every weight filled with the same bytes.
class Loaded {
 public:
  ~Loaded() {
    const kiln_backend_api* api = plugin().api;
    if (executable_ != nullptr) api->destroy_executable(executable_);
    if (weights_ != nullptr) api->destroy_weights(weights_);
    if (state_ != nullptr) api->destroy_state(state_);
  }
  // "" on success, else the plugin's message.
  std::string load(const Builder& builder, const std::vector<uint8_t>& weight_bytes) {
    const kiln_backend_api* api = plugin().api;
    const std::string json = builder.json();
    kiln_error e{};
    if (api->compile(plugin().device, json.data(), json.size(), &executable_, &e) != KILN_OK) return e.message;
    // A Program without weights runs unbound (both plugins; the benches
    // warm up with a run before they time).
    if (builder.weight_count() == 0) return "";
    if (api->create_weights(executable_, &weights_, &e) != KILN_OK) return e.message;
    for (size_t i = 0; i < builder.weight_count(); ++i) {
      if (api->import_weight(weights_, static_cast<uint32_t>(i), weight_bytes.data(), weight_bytes.size(), &e) !=
          KILN_OK) {
        return e.message;
      }
    }
    if (api->create_state(executable_, &state_, &e) != KILN_OK) return e.message;
    if (api->bind(executable_, weights_, state_, &e) != KILN_OK) return e.message;
    return "";
  }
  // One step, no inputs or outputs copied: the dispatches and the wait.
  std::string run() {
    kiln_step step{sizeof(kiln_step), nullptr, 0, nullptr, 0, nullptr, 0};
    kiln_error e{};
    return plugin().api->run(executable_, &step, &e) == KILN_OK ? "" : e.message;
  }
  // Mean GPU time of one dispatch over the steps run so far, from the
  // plugin's profile; 0 when the device was opened without profiling.
  double dispatch_microseconds() const {
    const kiln_backend_api* api = plugin().api;
    uint32_t count = 0;
    kiln_error e{};
    if (api->get_profile(executable_, nullptr, 0, &count, &e) != KILN_OK) return 0;
    std::vector<kiln_profile_entry> entries(count);
    if (api->get_profile(executable_, entries.data(), count, &count, &e) != KILN_OK) return 0;
    uint64_t runs = 0, nanoseconds = 0;
    for (const kiln_profile_entry& entry : entries) {
      runs += entry.runs;
      nanoseconds += entry.nanoseconds;
    }
    return runs == 0 ? 0 : static_cast<double>(nanoseconds) / static_cast<double>(runs) / 1e3;
  }

 private:
  kiln_executable* executable_ = nullptr;
  kiln_weights* weights_ = nullptr;
  kiln_state* state_ = nullptr;
};

// Loads |builder|'s Program (every weight filled with |weight_bytes|), runs
// one untimed step (pipelines, first touch), then one step per benchmark
// iteration. Returns the timed steps' wall seconds, or -1 after skipping
// the benchmark with the plugin's message.
inline double time_steps(benchmark::State& state, Loaded& loaded, const Builder& builder,
                         const std::vector<uint8_t>& weight_bytes) {
  std::string error = loaded.load(builder, weight_bytes);
  if (error.empty()) error = loaded.run();
  if (!error.empty()) {
    fail(state, error);
    return -1;
  }
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (error = loaded.run(); !error.empty()) {
      fail(state, error);
      return -1;
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Runs |loaded| once to warm it (programs, first touch), then times |reps|
// more steps; returns the best step's seconds, or 0 with |error| set.
inline double best_step_seconds(Loaded& loaded, int reps, std::string* error) {
  double best = 0;
  for (int rep = 0; rep <= reps; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    if (std::string e = loaded.run(); !e.empty()) {
      *error = e;
      return 0;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (rep > 0 && (best == 0 || seconds < best)) best = seconds;
  }
  return best;
}

// f16 values in [-1, 1), never all zeros (zeros can run faster than data).
inline std::vector<uint8_t> random_f16(int64_t elements) {
  std::vector<uint8_t> out(static_cast<size_t>(elements) * 2);
  uint32_t x = 2463534242u;
  for (int64_t i = 0; i < elements; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    const float v = static_cast<float>(x & 0xffff) / 32768.0f - 1.0f;
    const uint16_t h = program::f32_to_f16(v);
    std::memcpy(&out[2 * i], &h, 2);
  }
  return out;
}

inline bool skip_without_device(benchmark::State& state) {
  if (plugin().error.empty()) return false;
  state.SkipWithError(plugin().error.c_str());
  return true;
}

// ctest's SKIP_RETURN_CODE for the smoke tests: the plugin has no device here.
constexpr int kExitSkipped = 77;

// Runs the benchmarks registered in the binary, taking --small (or
// KILN_BENCH_SMALL=1) out of the arguments first. Exits 1 when a benchmark
// erred, or when the plugin opened no device and KILN_REQUIRE_BACKENDS names
// it; kExitSkipped, saying why, when it opened none and is not required.
inline int run_benchmarks(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--small") == 0) {
      g_small = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  g_small = g_small || env_flag("KILN_BENCH_SMALL");
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (const Plugin& p = plugin(); !p.error.empty()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], p.error.c_str());
    return backends::backend_required(p.backend) ? 1 : kExitSkipped;
  }
  if (g_failures > 0) {
    std::fprintf(stderr, "%s: %d benchmark(s) failed\n", argv[0], g_failures);
    return 1;
  }
  return 0;
}

}  // namespace kiln::bench
