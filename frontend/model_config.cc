#include "frontend/model_config.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::frontend {
namespace {

// The architecture support table. Mistral is Llama to kiln (its sliding
// window becomes the context limit); llama.cpp converts Mistral checkpoints
// to general.architecture "llama", so only Llama and Qwen2 name GGUF rows.
constexpr auto kArchitectures = std::to_array<ArchitectureInfo>({
    {.hf_name = "LlamaForCausalLM", .gguf_name = "llama", .qkv_bias = false, .gguf_rows_permuted = true},
    {.hf_name = "MistralForCausalLM", .gguf_name = "", .qkv_bias = false, .gguf_rows_permuted = true},
    {.hf_name = "Qwen2ForCausalLM", .gguf_name = "qwen2", .qkv_bias = true, .gguf_rows_permuted = false},
});

std::string supported_names(WeightFormat format) {
  std::vector<std::string> names;
  for (const ArchitectureInfo& arch : kArchitectures) {
    std::string_view name = format == WeightFormat::hf ? arch.hf_name : arch.gguf_name;
    if (!name.empty()) names.emplace_back(name);
  }
  return absl::StrJoin(names, ", ");
}

// The GGUF metadata key (after "<arch>.") each HF config field is read from
// (model_config_gguf.cc), so that a GGUF file's errors name its own keys.
constexpr std::pair<std::string_view, std::string_view> kGgufKeys[] = {
    {"vocab_size", "vocab_size"},
    {"hidden_size", "embedding_length"},
    {"intermediate_size", "feed_forward_length"},
    {"num_hidden_layers", "block_count"},
    {"num_attention_heads", "attention.head_count"},
    {"num_key_value_heads", "attention.head_count_kv"},
    {"head_dim", "attention.key_length"},
    {"max_position_embeddings", "context_length"},
    {"rms_norm_eps", "attention.layer_norm_rms_epsilon"},
    {"rope_theta", "rope.freq_base"},
};

// `hf_name` as the config's file spells it: the HF field, or for a GGUF
// file its key with the HF field after it ("llama.attention.head_count
// (num_attention_heads)").
std::string field(const ModelConfig& config, std::string_view hf_name) {
  if (config.format != WeightFormat::gguf) return std::string(hf_name);
  const auto arch = std::ranges::find(kArchitectures, config.architecture, &ArchitectureInfo::hf_name);
  const auto key = std::ranges::find(kGgufKeys, hf_name, &std::pair<std::string_view, std::string_view>::first);
  if (arch == kArchitectures.end() || arch->gguf_name.empty() || key == std::end(kGgufKeys)) {
    return std::string(hf_name);
  }
  return absl::StrCat(std::string(arch->gguf_name), ".", std::string(key->second), " (", std::string(hf_name), ")");
}

absl::Status invalid(const ModelConfig& config, std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(config.source, ": ", std::string(message)));
}

absl::Status validate_rope(const ModelConfig& config) {
  const RopeConfig& rope = config.rope;
  if (!(rope.theta > 0) || !std::isfinite(rope.theta)) {
    return invalid(config, absl::StrCat(field(config, "rope_theta"), " must be positive, found ", rope.theta));
  }
  if (rope.original_context == 0) return absl::OkStatus();
  if (rope.original_context < 0 || !(rope.scaling_factor > 0) || !(rope.low_freq_factor > 0) ||
      !(rope.high_freq_factor > rope.low_freq_factor)) {
    return invalid(config, absl::StrCat("llama3 rope scaling needs factor > 0, 0 < low_freq_factor < "
                                        "high_freq_factor and original_max_position_embeddings > 0; found "
                                        "factor ", rope.scaling_factor, ", low_freq_factor ",
                                        rope.low_freq_factor, ", high_freq_factor ", rope.high_freq_factor,
                                        ", original_max_position_embeddings ", rope.original_context));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<const ArchitectureInfo*> find_architecture(std::string_view name, WeightFormat format,
                                                          std::string_view source) {
  for (const ArchitectureInfo& arch : kArchitectures) {
    std::string_view candidate = format == WeightFormat::hf ? arch.hf_name : arch.gguf_name;
    if (!candidate.empty() && candidate == name) return &arch;
  }
  return absl::InvalidArgumentError(absl::StrCat(std::string(source), ": architecture '", std::string(name),
                                                 "' is not supported (supported: ", supported_names(format),
                                                 ")"));
}

absl::Status validate_config(const ModelConfig& config) {
  const std::pair<std::string_view, int64_t> sizes[] = {
      {"vocab_size", config.vocab_size},         {"hidden_size", config.hidden_size},
      {"intermediate_size", config.intermediate_size}, {"num_hidden_layers", config.num_layers},
      {"num_attention_heads", config.num_heads}, {"num_key_value_heads", config.num_kv_heads},
      {"head_dim", config.head_dim},             {"max_position_embeddings", config.max_context},
  };
  for (const auto& [name, value] : sizes) {
    if (value <= 0) return invalid(config, absl::StrCat(field(config, name), " must be positive, found ", value));
  }
  if (config.num_heads % config.num_kv_heads != 0) {
    return invalid(config, absl::StrCat(field(config, "num_attention_heads"), " ", config.num_heads,
                                        " is not a multiple of ", field(config, "num_key_value_heads"), " ",
                                        config.num_kv_heads));
  }
  if (config.head_dim % 2 != 0) {
    return invalid(config, absl::StrCat(field(config, "head_dim"), " must be even for rotary embeddings, found ",
                                        config.head_dim));
  }
  if (!(config.rms_norm_eps > 0) || !std::isfinite(config.rms_norm_eps)) {
    return invalid(config,
                   absl::StrCat(field(config, "rms_norm_eps"), " must be positive, found ", config.rms_norm_eps));
  }
  std::vector<int32_t> specials = config.eos_token_ids;
  if (config.bos_token_id) specials.push_back(*config.bos_token_id);
  for (int32_t id : specials) {
    if (id < 0 || id >= config.vocab_size) {
      return invalid(config, absl::StrCat("special token id ", id, " is outside the vocabulary [0, ",
                                          config.vocab_size, ")"));
    }
  }
  return validate_rope(config);
}

}  // namespace kiln::frontend
