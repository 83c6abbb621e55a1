#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "frontend/model_config.h"
#include "frontend/model_weights.h"
#include "ir/graph.h"

namespace kiln::frontend {

// Which of a session's two graphs to build. Both read and write the same
// KV-cache state and the same weights, so their Programs share one weight
// table and one state table (compile(decode, share_with = prefill)).
enum class LlamaStep : uint8_t {
  // T tokens at once, T a symbol bounded by `prefill_tokens`; logits for
  // the last row, or for every row with all_logits (perplexity and
  // --dump-logits).
  prefill,
  // Exactly one token: T is the static extent 1, so decode-only fusion rules
  // (rows == 1) can match.
  decode,
};

// The device sampling op that ends a graph (top_k, ir/ops.cc): the k most
// likely tokens after the repetition penalty. k = 0: none; the graph ends
// in logits. A penalty other than 1 adds the `recent` input of `window`
// token ids.
struct SamplingOp {
  int64_t k = 0;
  double penalty = 1.0;
  int64_t window = 0;

  bool operator==(const SamplingOp&) const = default;
};

struct LlamaGraphOptions {
  int64_t context = 0;         // KV-cache rows; 1 <= context <= config.max_context
  int64_t prefill_tokens = 64; // the bound of T in the prefill graph
  // Prefill computes the output norm and the lm head for every row, not
  // only the last one.
  bool all_logits = false;
  SamplingOp sampling = {};
  // The KV cache's dtype (llama.cpp's -ctk/-ctv): f32, or f16 / bf16 for
  // half the bytes; k and v are rounded to it as they are written.
  ir::DType cache_dtype = ir::DType::f32;
};

// The names the graphs give their interface, which the runtime binds.
inline constexpr char kTokensInput[] = "tokens";  // i32[T] token ids
inline constexpr char kRecentInput[] = "recent";  // i32[window] ids the penalty sees; -1 pads
inline constexpr char kLogitsOutput[] = "logits"; // f32[T or 1, vocab]
inline constexpr char kIdsOutput[] = "ids";       // i32[k], most likely first
inline constexpr char kValuesOutput[] = "values"; // f32[k], their logits
// Per-layer KV-cache state: [context, kv_heads, head_dim] in cache_dtype.
std::string kv_cache_name(int64_t layer, char which /* 'k' or 'v' */);

// Builds the Llama-family decoder from primitive ops only (fusion is the
// passes' job). Symbols: P (tokens already in the cache, bound context - 1)
// and, for prefill, T. Weights are the files' memory-mapped bytes, named as
// the file names them; tied embeddings reuse one weight value for the
// embedding and the lm head. Activations are f32; weights stay in their
// stored dtype (matmul reads mixed dtypes).
//
// Per layer: rmsnorm → q/k/v matmul (+bias) → reshape to heads → rope on q
// and k (interleaved pairs for GGUF llama, halves otherwise) → kv_write of k
// and v into the cache at rows [P, P+T) → causal GQA attention over rows
// [0, P+T) → o matmul → residual add → rmsnorm → gate/up matmuls → silu(gate)
// * up → down matmul → residual add. Then (prefill: for the last row only,
// unless all_logits) the final rmsnorm and the lm head, and the sampling op.
absl::StatusOr<ir::Graph> build_llama_graph(const ModelConfig& config, const ModelWeights& weights,
                                            LlamaStep step, const LlamaGraphOptions& options);

}  // namespace kiln::frontend
