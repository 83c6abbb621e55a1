#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/sampler.h"
#include "runtime/session.h"

namespace kiln::runtime {

// max_new_tokens that means "until EOS, a stop string or a full context".
inline constexpr int64_t kUntilContextFull = -1;

struct GenerateOptions {
  int64_t max_new_tokens = 128;  // or kUntilContextFull
  SamplingOptions sampling;
  std::vector<std::string> stop;  // stop strings; the text before one is kept
  bool stop_at_eos = true;
  // Ids that end generation as EOS does, whatever stop_at_eos says (a chat
  // template's end of turn, "<|im_end|>"); never part of the result.
  std::vector<int32_t> stop_tokens;
  // Feed the prompt after the tokens already in the session's KV cache (at
  // session.position()) instead of resetting it: a chat's next turn. The
  // prompt and the new tokens must fit in what is left of the context, and
  // the repetition penalty sees only this call's tokens.
  bool continue_context = false;
};

enum class StopReason : uint8_t { length, eos, stop_string, context_full, interrupted };
std::string_view stop_reason_name(StopReason reason);

struct GenerationResult {
  // Generated, EOS excluded. tokens[decode_steps:] (the last one, when
  // generation stopped for its length or a stop string) were never fed: a
  // caller continuing the context feeds them first.
  std::vector<int32_t> tokens;
  std::string text;             // everything on_text received: the continuation of the prompt
  StopReason stop_reason = StopReason::length;
  int64_t prompt_tokens = 0;
  double prefill_seconds = 0;   // feeding the prompt
  double decode_seconds = 0;    // feeding generated tokens back
  int64_t decode_steps = 0;     // tokens fed back (decode runs)
};

struct GenerateCallbacks {
  // Text as it is generated, in chunks of whole UTF-8 characters, stop
  // strings held back until settled. Needs the model's tokenizer.
  std::function<void(std::string_view)> on_text;
  // Logits of every token fed, in order: the prompt's rows at once, then
  // one row per generated token fed back (the last generated token is not
  // fed). `rows` rows of vocab_size() floats.
  std::function<void(std::span<const float> logits, int64_t rows)> on_logits;
  // Asked before each token is sampled; true stops generation there with
  // StopReason::interrupted (Ctrl-C, or a failed write of the text).
  std::function<bool()> interrupted;
};

// Generates from `prompt` (ids, BOS included if the model wants one) in a
// fresh context (unless options.continue_context): the session is reset,
// the prompt prefilled in chunks, then one token is sampled and fed back
// per decode run. Stops at EOS (unless disabled) or a stop token, at a stop
// string, after max_new_tokens, or when interrupted; with
// kUntilContextFull, also once the context is full
// (StopReason::context_full). A prompt that with max_new_tokens would pass
// the context fails before anything runs: "prompt of 600 tokens + 100 new
// exceeds the model's context of 512".
absl::StatusOr<GenerationResult> generate(Session& session, std::span<const int32_t> prompt,
                                          const GenerateOptions& options, const GenerateCallbacks& callbacks = {});

}  // namespace kiln::runtime
