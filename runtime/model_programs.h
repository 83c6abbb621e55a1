#pragma once

#include <cstdint>
#include <iosfwd>

#include "absl/status/statusor.h"
#include "frontend/model_config.h"
#include "frontend/llama_builder.h"
#include "frontend/model_weights.h"
#include "passes/pass_manager.h"
#include "program/program.h"
#include "passes/target.h"

namespace kiln::runtime {

// Contexts above this are opt-in (--ctx): a Llama 3.1 model declares
// 131072 tokens, whose f32 KV cache would not fit most devices.
inline constexpr int64_t kDefaultContextCap = 4096;
inline constexpr int64_t kDefaultPrefillChunk = 64;

struct ProgramOptions {
  int64_t context = 0;  // KV-cache rows; 0: the model's, capped at kDefaultContextCap
  int64_t prefill_chunk = kDefaultPrefillChunk;  // tokens per prefill run (the bound of T)
  bool all_logits = false;                       // prefill computes every row's logits
  frontend::SamplingOp sampling;                 // the device sampling op the Programs end in
  ir::DType cache_dtype = ir::DType::f32;        // the KV cache's (--cache-type)
  std::string pipeline = std::string(passes::kDefaultPipeline);
  passes::PassManagerOptions pass_options;  // --print-after, --timing
  std::ostream* explain = nullptr;          // --explain-fusion output; null: silent
};

// A session's two Programs. They have equal weight and state tables, so
// both executables bind one set of weights and one KV-cache state.
struct ModelPrograms {
  program::Program prefill;  // T tokens (T <= prefill_chunk) at positions [P, P + T)
  program::Program decode;   // one token at position P
  int64_t context = 0;      // the KV cache's rows
};

// The context a session gets: `requested`, or the model's capped at
// kDefaultContextCap when 0. A request above the model's context fails,
// naming both.
absl::StatusOr<int64_t> resolve_context(const frontend::ModelConfig& config, int64_t requested);

// Builds the prefill and decode graphs and runs the default pipeline over
// each for `target`.
absl::StatusOr<ModelPrograms> compile_model(const frontend::ModelConfig& config,
                                            const frontend::ModelWeights& weights,
                                            const passes::Target& target, const ProgramOptions& options);

}  // namespace kiln::runtime
