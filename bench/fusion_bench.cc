// Per-op kernels at Llama-3.2-1B decode shapes on one backend, through the
// real compiler and plugin ABI: each case is a text-IR graph, compiled by
// the default pipeline (or the same without `fuse`), bound with random
// weights, and timed at the plugin's step call (bench/bench_graph.h).
//   BM_RmsNorm/N                 rmsnorm of one f32 row, f32 gain;
//   BM_AttentionDecode/D/L       one query row over L cached rows (32 query
//                                heads, 8 KV heads of 64), cache dtype D;
//   BM_Fusion/CASE/fused|unfused every fused op of the `convert` and
//                                `decode` tables (docs/fusion.md) beside the
//                                primitive ops it replaces, f16 weights.
// GBps counts the bytes the op must move (below, per case), the same for
// the fused and the unfused form, so their ratio is the fusion's speedup;
// GBps_net the same over the time less the step's fixed cost (floor_us,
// step_floor_us), which is what the kernels themselves take.
// gemv and matmul alone are vulkan_bench's and opencl_bench's.
//
// The backend: --backend NAME, else KILN_BENCH_BACKEND, else cpu. --small
// (or KILN_BENCH_SMALL=1): shapes for a CPU or a CPU driver (lavapipe,
// PoCL; lavapipe needs it: its largest buffer, 128 MB, is below the 525 MB
// lm head). The exit status is 1 when any benchmark failed.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/substitute.h"
#include "backends/backend_client.h"
#include "bench/bench_graph.h"
#include "benchmark/benchmark.h"
#include "passes/pass_manager.h"
#include "passes/variant_rules.h"

namespace kiln::bench {
namespace {

// ---- Shapes -------------------------------------------------------------------

struct Shapes {
  int64_t hidden;
  int64_t heads;
  int64_t kv_heads;
  int64_t head_dim;
  int64_t ffn;
  int64_t vocab;
  std::vector<int64_t> kv_lengths;  // attention's, the largest the caches' rows
  std::vector<int64_t> norm_rows;   // BM_RmsNorm's

  int64_t q_dim() const { return heads * head_dim; }
  int64_t kv_dim() const { return kv_heads * head_dim; }
  int64_t cache_rows() const { return kv_lengths.back(); }
};

// Llama-3.2-1B.
const Shapes kLlama1B{2048, 32, 8, 64, 8192, 128256, {128, 1024, 4096}, {2048, 4096}};
// A few MB of weights: the cpu smoke test and CPU drivers.
const Shapes kSmall{256, 4, 2, 64, 1024, 4096, {16, 128, 512}, {256, 512}};

// Llama 3's rope (theta 500000, frequencies scaled for a 128K context).
constexpr const char* kRope =
    "rotary_dim = $0, theta = 500000.0, scaling_factor = 32.0, scaling_low_freq_factor = 1.0, "
    "scaling_high_freq_factor = 4.0, scaling_original_context = 8192";

// ---- Running ------------------------------------------------------------------

std::optional<backends::Backend> g_backend;
int g_failures = 0;
constexpr int kWarmUpSteps = 3;

void fail(benchmark::State& state, const absl::Status& status) {
  ++g_failures;
  state.SkipWithError(status.ToString().c_str());
}

// The default pipeline without `fuse`: every primitive op of the graph is
// its own dispatch.
std::string unfused_pipeline() {
  std::vector<std::string> passes = absl::StrSplit(std::string(passes::kDefaultPipeline), ',');
  std::erase(passes, "fuse");
  return absl::StrJoin(passes, ",");
}

// The fixed cost of a step, measured once: the median of 201 calls of a
// one-element `scale` (writing the input, the submit, the wait, the
// readback). On the H100 it is tens of microseconds, as long as most decode
// kernels themselves, so each benchmark also reports its time less this
// floor (`us_net`) and the bytes over that (`GBps_net`): the kernels' share.
double step_floor_us() {
  static const double floor = [] {
    absl::StatusOr<BenchGraph> graph = BenchGraph::create(
        *g_backend, "step floor", "symbol T <= 1\ninput %x : f32[T, 1]\n%y = scale(%x) {scale = 2.0}\noutput %y\n",
        passes::kDefaultPipeline);
    if (!graph.ok() || !graph->prepare({{"T", 1}}).ok()) return 0.0;
    std::vector<double> times;
    for (int i = 0; i < 201 + kWarmUpSteps; ++i) {
      const auto start = std::chrono::steady_clock::now();
      if (!graph->run().ok()) return 0.0;
      const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
      if (i >= kWarmUpSteps) times.push_back(us);
    }
    std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
    return times[times.size() / 2];
  }();
  return floor;
}

// Warms up (the first steps build pipelines and touch every buffer), then
// times the step. `bytes`: what one call moves.
void time_steps(benchmark::State& state, BenchGraph& graph, const ir::SymbolValues& step, double bytes) {
  const double floor_us = step_floor_us();
  absl::Status status = graph.prepare(step);
  for (int i = 0; i < kWarmUpSteps && status.ok(); ++i) status = graph.run();
  if (!status.ok()) return fail(state, status);
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (status = graph.run(); !status.ok()) {
      fail(state, status);
      break;
    }
  }
  state.counters["GBps"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["us_per_call"] =
      benchmark::Counter(1e-6, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["bytes"] = bytes;
  state.counters["dispatches"] = static_cast<double>(graph.program().dispatches.size());
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
                    static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
  state.counters["floor_us"] = floor_us;
  state.counters["us_net"] = us - floor_us;
  state.counters["GBps_net"] = us > floor_us ? bytes / ((us - floor_us) * 1e3) : 0.0;
}

// ---- rmsnorm ------------------------------------------------------------------

// Reads x and g, writes y: 3 n f32.
void BM_RmsNorm(benchmark::State& state, int64_t n) {
  const std::string graph = absl::Substitute(R"(symbol T <= 1
input %x : f32[T, $0]
weight %g : f32[$0]
%y = rmsnorm(%x, %g) {eps = 1e-05}
output %y
)",
                                             n);
  absl::StatusOr<BenchGraph> bench = BenchGraph::create(*g_backend, "rmsnorm", graph, passes::kDefaultPipeline);
  if (!bench.ok()) return fail(state, bench.status());
  time_steps(state, *bench, {{"T", 1}}, 3.0 * 4 * n);
  state.SetLabel(kernel_list(bench->program()));
}

// ---- attention ----------------------------------------------------------------

// The caches both graphs declare, so the attention graph binds the state
// the fill graph wrote.
std::string cache_states(const Shapes& s, const std::string& dtype) {
  return absl::Substitute("state %k_cache : $0[$1, $2, $3]\nstate %v_cache : $0[$1, $2, $3]\n", dtype,
                          s.cache_rows(), s.kv_heads, s.head_dim);
}

// Writes random rows into the whole cache: zeros could read faster than
// data (compressed memory).
std::string fill_graph(const Shapes& s, const std::string& dtype) {
  return absl::Substitute(R"(symbol T <= $0
input %k : f32[T, $1, $2]
input %v : f32[T, $1, $2]
$3%kc = kv_write(%k_cache, %k)
%vc = kv_write(%v_cache, %v)
)",
                          s.cache_rows(), s.kv_heads, s.head_dim, cache_states(s, dtype));
}

// One query row at position P attends to cache rows [0, P + 1).
std::string attention_graph(const Shapes& s, const std::string& dtype) {
  return absl::Substitute(R"(symbol T <= 1
symbol P <= $0
input %q : f32[T, $1, $2]
$3%att = attention(%q, %k_cache, %v_cache) {scale = $4}
output %att
)",
                          s.cache_rows() - 1, s.heads, s.head_dim, cache_states(s, dtype),
                          1.0 / std::sqrt(static_cast<double>(s.head_dim)));
}

// Bytes: the K and V rows read (q and the output row are 1/L of that).
void BM_AttentionDecode(benchmark::State& state, const Shapes& s, std::string dtype, int64_t length) {
  absl::StatusOr<BenchGraph> fill =
      BenchGraph::create(*g_backend, "fill", fill_graph(s, dtype), passes::kDefaultPipeline);
  if (!fill.ok()) return fail(state, fill.status());
  absl::Status filled = fill->prepare({{"T", s.cache_rows()}});
  if (filled.ok()) filled = fill->run();
  if (!filled.ok()) return fail(state, filled);
  absl::StatusOr<BenchGraph> bench = BenchGraph::create(*g_backend, "attention", attention_graph(s, dtype),
                                                        passes::kDefaultPipeline, &fill->state());
  if (!bench.ok()) return fail(state, bench.status());
  const double element = dtype == "f32" ? 4 : 2;
  time_steps(state, *bench, {{"T", 1}, {"P", length - 1}}, 2.0 * length * s.kv_dim() * element);
  state.SetLabel(kernel_list(bench->program()));
}

// ---- Fused ops ----------------------------------------------------------------

struct FusionCase {
  std::string name;  // the benchmark's: BM_Fusion/<name>/fused
  std::string op;    // the fused op the fused Program must dispatch
  // A row of the `decode` table: fires only on a target that spreads a
  // product over workgroups (a GPU), never on the cpu plugin.
  bool needs_workgroups;
  std::string graph;
  ir::SymbolValues step;
  double bytes;  // weights read, activations read and written, once each
  // Where the table's rule refuses the case (lm_head), the fused form is
  // this graph, the fused op written out, to measure what the rule avoids.
  std::string fused_graph = "";
};

// The norm in the product's prologue; rope and the cache writes in its
// epilogue. Bytes: x, g, Wq Wk Wv, the rotated q, one K and one V row.
FusionCase rmsnorm_qkv_rope(const Shapes& s) {
  const std::string rope = absl::Substitute(kRope, s.head_dim);
  const std::string graph = absl::Substitute(R"(symbol T <= 1
symbol P <= $0
input %x : f32[T, $1]
weight %attn_norm : f16[$1]
weight %wq : f16[$2, $1]
weight %wk : f16[$3, $1]
weight %wv : f16[$3, $1]
$4%n = rmsnorm(%x, %attn_norm) {eps = 1e-05}
%q = matmul(%n, %wq) {transpose_b = true}
%k = matmul(%n, %wk) {transpose_b = true}
%v = matmul(%n, %wv) {transpose_b = true}
%q3 = reshape(%q) {shape = [T, $5, $7]}
%k3 = reshape(%k) {shape = [T, $6, $7]}
%v3 = reshape(%v) {shape = [T, $6, $7]}
%qr = rope(%q3) {$8}
%kr = rope(%k3) {$8}
%kc = kv_write(%k_cache, %kr)
%vc = kv_write(%v_cache, %v3)
output %qr
)",
                                             s.cache_rows() - 1, s.hidden, s.q_dim(), s.kv_dim(),
                                             cache_states(s, "f32"), s.heads, s.kv_heads, s.head_dim, rope);
  const double weights = 2.0 * (s.q_dim() + 2 * s.kv_dim()) * s.hidden;
  return {.name = "rmsnorm_qkv_rope",
          .op = "rmsnorm_qkv_rope",
          .needs_workgroups = true,
          .graph = graph,
          .step = {{"T", 1}, {"P", 127}},
          .bytes = 4.0 * s.hidden + 2.0 * s.hidden + weights + 4.0 * s.q_dim() + 2 * 4.0 * s.kv_dim()};
}

// The norm in the product's prologue, the activation and the product of
// gate and up in its epilogue. Bytes: x, g, W_gate, W_up, act(gate) * up.
FusionCase rmsnorm_gate_up(const Shapes& s) {
  const std::string graph = absl::Substitute(R"(symbol T <= 1
input %x : f32[T, $0]
weight %ffn_norm : f16[$0]
weight %w_gate : f16[$1, $0]
weight %w_up : f16[$1, $0]
%n = rmsnorm(%x, %ffn_norm) {eps = 1e-05}
%gate = matmul(%n, %w_gate) {transpose_b = true}
%act = silu(%gate)
%up = matmul(%n, %w_up) {transpose_b = true}
%m = mul(%act, %up)
output %m
)",
                                             s.hidden, s.ffn);
  return {.name = "rmsnorm_gate_up",
          .op = "rmsnorm_gate_up",
          .needs_workgroups = true,
          .graph = graph,
          .step = {{"T", 1}},
          .bytes = 4.0 * s.hidden + 2.0 * s.hidden + 2 * 2.0 * s.ffn * s.hidden + 4.0 * s.ffn};
}

// A projection from `k` features with the residual added in its epilogue:
// the attention output (`which` wo, k = q_dim) or the FFN's down (k =
// ffn). Bytes: x, W, the residual, y.
FusionCase matmul_residual(const Shapes& s, const std::string& which, int64_t k) {
  const std::string graph = absl::Substitute(R"(symbol T <= 1
input %x : f32[T, $1]
input %r : f32[T, $0]
weight %w_$2 : f16[$0, $1]
%h = matmul(%x, %w_$2) {transpose_b = true}
%y = add(%r, %h)
output %y
)",
                                             s.hidden, k, which);
  return {.name = "matmul_residual_" + which,
          .op = "matmul_residual",
          .needs_workgroups = true,
          .graph = graph,
          .step = {{"T", 1}},
          .bytes = 4.0 * k + 2.0 * s.hidden * k + 2 * 4.0 * s.hidden};
}

// The output norm in a head's prologue, `columns` wide: `rmsnorm_matmul`
// at the widest the decode table fuses (32768), and `lm_head` at the
// vocabulary, where the rule keeps the norm apart and the fused form is
// the op written out. Bytes: x, g, W, the logits.
FusionCase rmsnorm_matmul(const Shapes& s, const std::string& name, int64_t columns) {
  constexpr const char* kGraph = R"(symbol T <= 1
input %x : f32[T, $0]
weight %output_norm : f16[$0]
weight %lm_head : f16[$1, $0]
$2
output %y
)";
  const bool refused = columns > 32768;
  return {.name = name,
          .op = "rmsnorm_matmul",
          .needs_workgroups = true,
          .graph = absl::Substitute(kGraph, s.hidden, columns,
                                    "%n = rmsnorm(%x, %output_norm) {eps = 1e-05}\n"
                                    "%y = matmul(%n, %lm_head) {transpose_b = true}"),
          .step = {{"T", 1}},
          .bytes = 4.0 * s.hidden + 2.0 * s.hidden + 2.0 * columns * s.hidden + 4.0 * columns,
          .fused_graph = refused ? absl::Substitute(kGraph, s.hidden, columns,
                                                    "%y = rmsnorm_matmul(%x, %output_norm, %lm_head) "
                                                    "{eps = 1e-05, transpose_b = true}")
                                 : ""};
}

// The `convert` table: an f16 row gathered and converted to f32 in one
// dispatch, on every target. Bytes: the id, the f16 row, the f32 row.
FusionCase embedding_cast(const Shapes& s) {
  const std::string graph = absl::Substitute(R"(symbol T <= 1
input %ids : i32[T]
weight %embed : f16[$0, $1]
%e = embedding(%embed, %ids)
%x = cast(%e) {dtype = "f32"}
output %x
)",
                                             s.vocab, s.hidden);
  return {.name = "embedding_cast",
          .op = "embedding_cast",
          .needs_workgroups = false,
          .graph = graph,
          .step = {{"T", 1}},
          .bytes = 4.0 + 2.0 * s.hidden + 4.0 * s.hidden};
}

std::vector<FusionCase> fusion_cases(const Shapes& s) {
  return {rmsnorm_qkv_rope(s), rmsnorm_gate_up(s), matmul_residual(s, "wo", s.q_dim()),
          matmul_residual(s, "down", s.ffn), rmsnorm_matmul(s, "rmsnorm_matmul", std::min<int64_t>(s.vocab, 32768)),
          rmsnorm_matmul(s, "lm_head", s.vocab), embedding_cast(s)};
}

// Why the fused Program of `c` may lack its op on this target, or "" when
// it must have it.
std::string why_not_fused(const FusionCase& c) {
  const passes::Target& target = g_backend->capabilities();
  if (c.needs_workgroups && target.shared_memory_bytes == 0) {
    return absl::StrCat("the decode table needs workgroups: ", target.backend, " has none");
  }
  if (!passes::has_kernel(target, c.op)) return absl::StrCat(target.backend, " has no ", c.op, " kernel");
  return "";
}

void BM_Fusion(benchmark::State& state, const FusionCase& c, bool fused) {
  const std::string pipeline = fused ? std::string(passes::kDefaultPipeline) : unfused_pipeline();
  const std::string& graph = fused && !c.fused_graph.empty() ? c.fused_graph : c.graph;
  absl::StatusOr<BenchGraph> bench = BenchGraph::create(*g_backend, c.name, graph, pipeline);
  if (!bench.ok()) return fail(state, bench.status());
  std::string label = kernel_list(bench->program());
  if (fused) {
    const std::string why = why_not_fused(c);
    if (why.empty() && !bench->dispatches(c.op)) {
      return fail(state, absl::InternalError(absl::StrCat("the fused Program has no ", c.op, " dispatch: ", label)));
    }
    if (!why.empty()) {
      absl::StatusOr<program::Program> unfused =
          compile_graph(g_backend->capabilities(), c.name, c.graph, unfused_pipeline());
      if (!unfused.ok()) return fail(state, unfused.status());
      const bool same = kernel_list(*unfused) == label;
      absl::StrAppend(&label, " (no ", c.op, ": ", why, same ? "; same dispatches as unfused)" : ")");
    }
  }
  time_steps(state, *bench, c.step, c.bytes);
  state.SetLabel(label);
}

// ---- main ---------------------------------------------------------------------

void register_benchmarks(const Shapes& s) {
  for (int64_t n : s.norm_rows) {
    benchmark::RegisterBenchmark(absl::StrCat("BM_RmsNorm/", n).c_str(), BM_RmsNorm, n)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  for (const char* dtype : {"f32", "f16"}) {
    for (int64_t length : s.kv_lengths) {
      benchmark::RegisterBenchmark(absl::StrCat("BM_AttentionDecode/", dtype, "/", length).c_str(),
                                   BM_AttentionDecode, s, std::string(dtype), length)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (const FusionCase& c : fusion_cases(s)) {
    for (bool fused : {true, false}) {
      benchmark::RegisterBenchmark(absl::StrCat("BM_Fusion/", c.name, fused ? "/fused" : "/unfused").c_str(),
                                   BM_Fusion, c, fused)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

struct Options {
  std::string backend = "cpu";
  bool small = false;
  std::vector<char*> benchmark_args;  // the rest, for benchmark::Initialize
};

Options parse_options(int argc, char** argv) {
  Options options;
  if (const char* name = std::getenv("KILN_BENCH_BACKEND"); name != nullptr && *name != '\0') options.backend = name;
  const char* small = std::getenv("KILN_BENCH_SMALL");
  options.small = small != nullptr && std::strcmp(small, "1") == 0;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--small") {
      options.small = true;
    } else if (arg == "--backend" && i + 1 < argc) {
      options.backend = argv[++i];
    } else if (arg.starts_with("--backend=")) {
      options.backend = std::string(arg.substr(10));
    } else {
      options.benchmark_args.push_back(argv[i]);
    }
  }
  return options;
}

int run(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  int count = static_cast<int>(options.benchmark_args.size());
  benchmark::Initialize(&count, options.benchmark_args.data());
  if (benchmark::ReportUnrecognizedArguments(count, options.benchmark_args.data())) return 1;
  backends::BackendOptions backend_options;
  backend_options.cache_dir = backends::default_cache_dir();
  absl::StatusOr<backends::Backend> backend = backends::Backend::open(options.backend, backend_options);
  if (!backend.ok()) {
    std::fprintf(stderr, "fusion_bench: %s\n", backend.status().ToString().c_str());
    return 1;
  }
  g_backend = *std::move(backend);
  benchmark::AddCustomContext("backend", g_backend->name());
  benchmark::AddCustomContext("device", g_backend->device_name());
  benchmark::AddCustomContext("shapes", options.small ? "small" : "Llama-3.2-1B");
  register_benchmarks(options.small ? kSmall : kLlama1B);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (g_failures > 0) {
    std::fprintf(stderr, "fusion_bench: %d benchmark(s) failed\n", g_failures);
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) { return kiln::bench::run(argc, argv); }
