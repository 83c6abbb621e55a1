// The cpu vector kernels (kernels/cpu/vector) on one thread: gemv at the
// SmolLM-135M projection shapes, rated in GB/s of weight bytes, beside the
// machine's copy bandwidth measured in the same run, so that a gemv's share
// of the roofline is GB/s over copy GB/s; and the prefill matmul (64 rows)
// in GFLOP/s beside a naive loop.
//
// gemv reads weights from memory, as decode of a model larger than the
// caches does: each iteration takes the next of enough copies to fill
// kColdBytes, several times the last-level cache. matmul reuses one weight,
// as prefill does.
//
// Every benchmark runs on one thread, so rates are over CPU time: on a
// shared machine, time spent descheduled would otherwise count as the
// kernel's.

#include <cstdint>
#include <cstring>
#include <vector>

#include "benchmark/benchmark.h"
#include "kernels/cpu/vector/gemv.h"
#include "kernels/cpu/vector/matmul.h"
#include "kernels/cpu/vector/targets.h"

namespace kiln::kernels::cpu::vector {
namespace {

constexpr size_t kColdBytes = size_t{256} << 20;

enum class WeightType { f32, f16, bf16 };

size_t element_bytes(WeightType type) { return type == WeightType::f32 ? 4 : 2; }

// `count` weights of `type` with values in [0.5, 1), the same in every copy.
std::vector<uint8_t> weights(WeightType type, size_t count, size_t copies) {
  std::vector<uint8_t> bytes(count * copies * element_bytes(type));
  for (size_t i = 0; i < count * copies; ++i) {
    const uint32_t mantissa = static_cast<uint32_t>(i % count) * 2654435761u;
    if (type == WeightType::f32) {
      const uint32_t word = 0x3f000000u | (mantissa >> 9);
      std::memcpy(&bytes[i * 4], &word, 4);
    } else {
      const uint16_t half = type == WeightType::f16 ? static_cast<uint16_t>(0x3800u | (mantissa >> 22))
                                                    : static_cast<uint16_t>(0x3f00u | (mantissa >> 25));
      std::memcpy(&bytes[i * 2], &half, 2);
    }
  }
  return bytes;
}

void report_gb_per_s(benchmark::State& state, double bytes_per_iteration) {
  state.counters["GB/s"] = benchmark::Counter(bytes_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// memcpy of 256 MB: rated by the bytes read plus the bytes written.
void BM_Copy(benchmark::State& state) {
  std::vector<uint8_t> from(kColdBytes, 1), to(kColdBytes, 0);
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), kColdBytes);
    benchmark::ClobberMemory();
  }
  report_gb_per_s(state, 2.0 * kColdBytes);
}
BENCHMARK(BM_Copy)->Unit(benchmark::kMillisecond);

void gemv(WeightType type, const GemvArgs& args) {
  switch (type) {
    case WeightType::f32: return gemv_f32(args, 0, args.n);
    case WeightType::f16: return gemv_f16(args, 0, args.n);
    case WeightType::bf16: return gemv_bf16(args, 0, args.n);
  }
}

// Args: n, k (W is n x k in the HF sense: n outputs of k inputs).
template <WeightType kType, WeightLayout kLayout>
void BM_Gemv(benchmark::State& state) {
  const int64_t n = state.range(0), k = state.range(1);
  const size_t matrix_bytes = static_cast<size_t>(n * k) * element_bytes(kType);
  const size_t copies = (kColdBytes + matrix_bytes - 1) / matrix_bytes;
  const std::vector<uint8_t> w = weights(kType, static_cast<size_t>(n * k), copies);
  std::vector<float> x(k, 0.5f), bias(n, 0.25f), y(n);
  size_t copy = 0;
  for (auto _ : state) {
    gemv(kType, GemvArgs{x.data(), w.data() + copy * matrix_bytes, bias.data(), y.data(), n, k, kLayout});
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % copies;
  }
  report_gb_per_s(state, static_cast<double>(matrix_bytes));
}

void smollm_shapes(benchmark::internal::Benchmark* b) {
  b->Args({576, 576})->Args({1536, 576})->Args({576, 1536})->Args({49152, 576});
}
BENCHMARK(BM_Gemv<WeightType::f32, WeightLayout::n_by_k>)->Apply(smollm_shapes);
BENCHMARK(BM_Gemv<WeightType::f16, WeightLayout::n_by_k>)->Apply(smollm_shapes);
BENCHMARK(BM_Gemv<WeightType::bf16, WeightLayout::n_by_k>)->Apply(smollm_shapes);
BENCHMARK(BM_Gemv<WeightType::f32, WeightLayout::k_by_n>)->Apply(smollm_shapes);
BENCHMARK(BM_Gemv<WeightType::f16, WeightLayout::k_by_n>)->Apply(smollm_shapes);

void report_gflop_per_s(benchmark::State& state, int64_t m, int64_t n, int64_t k) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(2e-9 * static_cast<double>(m * n * k), benchmark::Counter::kIsIterationInvariantRate);
}

void matmul(WeightType type, const MatmulArgs& args) {
  switch (type) {
    case WeightType::f32: return matmul_f32(args, 0, args.n);
    case WeightType::f16: return matmul_f16(args, 0, args.n);
    case WeightType::bf16: return matmul_bf16(args, 0, args.n);
  }
}

// Args: m, n, k.
template <WeightType kType, WeightLayout kLayout>
void BM_Matmul(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const std::vector<uint8_t> w = weights(kType, static_cast<size_t>(n * k), 1);
  std::vector<float> x(m * k, 0.5f), bias(n, 0.25f), y(m * n);
  for (auto _ : state) {
    matmul(kType, MatmulArgs{x.data(), w.data(), bias.data(), y.data(), m, n, k, kLayout});
    benchmark::DoNotOptimize(y.data());
  }
  report_gflop_per_s(state, m, n, k);
}

// As BM_Matmul, but each iteration takes the next of enough copies of W to
// fill kColdBytes, as prefill of a model larger than the caches reads every
// weight from memory once per prompt chunk.
template <WeightType kType>
void BM_MatmulColdWeights(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const size_t matrix_bytes = static_cast<size_t>(n * k) * element_bytes(kType);
  const size_t copies = (kColdBytes + matrix_bytes - 1) / matrix_bytes;
  const std::vector<uint8_t> w = weights(kType, static_cast<size_t>(n * k), copies);
  std::vector<float> x(m * k, 0.5f), bias(n, 0.25f), y(m * n);
  size_t copy = 0;
  for (auto _ : state) {
    matmul(kType, MatmulArgs{x.data(), w.data() + copy * matrix_bytes, bias.data(), y.data(), m, n, k,
                             WeightLayout::n_by_k});
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % copies;
  }
  report_gflop_per_s(state, m, n, k);
}

// The baseline: the plain loop a reference kernel writes, one f64 sum per
// output over an f32 weight row in the n_by_k layout.
void BM_MatmulNaive(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const std::vector<uint8_t> bytes = weights(WeightType::f32, static_cast<size_t>(n * k), 1);
  std::vector<float> w(n * k), x(m * k, 0.5f), y(m * n);
  std::memcpy(w.data(), bytes.data(), bytes.size());
  for (auto _ : state) {
    for (int64_t row = 0; row < m; ++row) {
      for (int64_t col = 0; col < n; ++col) {
        double sum = 0.0;
        for (int64_t i = 0; i < k; ++i) sum += static_cast<double>(x[row * k + i]) * w[col * k + i];
        y[row * n + col] = static_cast<float>(sum);
      }
    }
    benchmark::DoNotOptimize(y.data());
  }
  report_gflop_per_s(state, m, n, k);
}

void prefill_shape(benchmark::internal::Benchmark* b) { b->Args({64, 576, 576}); }
BENCHMARK(BM_MatmulNaive)->Apply(prefill_shape);
BENCHMARK(BM_Matmul<WeightType::f32, WeightLayout::n_by_k>)->Apply(prefill_shape);
BENCHMARK(BM_Matmul<WeightType::f16, WeightLayout::n_by_k>)->Apply(prefill_shape);
BENCHMARK(BM_Matmul<WeightType::bf16, WeightLayout::n_by_k>)->Apply(prefill_shape);
BENCHMARK(BM_Matmul<WeightType::f32, WeightLayout::k_by_n>)->Apply(prefill_shape);
BENCHMARK(BM_MatmulColdWeights<WeightType::f32>)->Args({64, 1536, 576})->Args({64, 576, 1536});
BENCHMARK(BM_MatmulColdWeights<WeightType::f16>)->Args({64, 1536, 576})->Args({64, 576, 1536});
BENCHMARK(BM_Matmul<WeightType::f16, WeightLayout::k_by_n>)->Apply(prefill_shape);

}  // namespace
}  // namespace kiln::kernels::cpu::vector

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("highway_target", kiln::kernels::cpu::vector::active_target());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
