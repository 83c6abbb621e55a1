#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::frontend {

class GgufFile;

// How the weights of a model are named and laid out on disk: Hugging Face
// (config.json + safetensors) or GGUF as llama.cpp's converter writes it.
enum class WeightFormat : uint8_t { hf, gguf };

// Rotary position embedding. `interleaved` pairs features (2i, 2i+1) of each
// head; otherwise (i, i + head_dim/2) as HF's rotate_half does. llama.cpp's
// converter permutes the q/k rows of Llama models so that its interleaved
// rotation on the permuted rows equals rotate_half on the original ones; a
// GGUF llama therefore rotates interleaved pairs, while Qwen2 (never
// permuted) and every HF checkpoint rotate halves.
struct RopeConfig {
  double theta = 10000.0;
  bool interleaved = false;
  // Llama 3 frequency scaling; off when original_context is 0.
  double scaling_factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_context = 0;
};

// The typed, validated hyper-parameters of a Llama-family decoder, read from
// GGUF metadata or an HF config.json. Every size is positive and consistent
// (validate_config); nothing about the tensors is checked here, that is
// load_weights' job.
struct ModelConfig {
  std::string architecture;  // the HF class: "LlamaForCausalLM"
  std::string source;        // the file the config came from, for messages
  WeightFormat format = WeightFormat::hf;

  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;  // divides num_heads; 1 is multi-query attention
  int64_t head_dim = 0;      // need not be hidden_size / num_heads
  double rms_norm_eps = 1e-6;
  RopeConfig rope;

  bool qkv_bias = false;  // q, k and v projections carry biases (Qwen2)
  bool o_bias = false;    // the output projection does (Llama attention_bias)
  bool mlp_bias = false;  // gate, up and down do (Llama mlp_bias)
  bool tie_word_embeddings = false;  // the lm head reuses the token embedding

  // Tokens the model attends over at most (the KV cache's rows). For
  // sliding-window models this is the window, so that full attention over
  // the cache is exact.
  int64_t max_context = 0;
  std::optional<int32_t> bos_token_id;
  std::vector<int32_t> eos_token_ids;
};

// One supported architecture: its HF class and GGUF general.architecture,
// and what distinguishes it from plain Llama.
struct ArchitectureInfo {
  std::string_view hf_name;
  std::string_view gguf_name;
  bool qkv_bias;           // q/k/v biases are always present
  bool gguf_rows_permuted; // llama.cpp's converter permutes q/k rows (interleaved rope)
};

// Looks up an HF class or GGUF architecture name; the error names it and
// lists the supported ones.
absl::StatusOr<const ArchitectureInfo*> find_architecture(std::string_view name, WeightFormat format,
                                                          std::string_view source);

// Fails, naming `config.source` and the field, on any inconsistency.
absl::Status validate_config(const ModelConfig& config);

// Parses an HF config.json; `path` names it in messages.
absl::StatusOr<ModelConfig> config_from_hf_json(std::string_view json_text, const std::string& path);
absl::StatusOr<ModelConfig> config_from_hf_folder(const std::string& dir);

// Reads `{arch}.*` metadata; tensor presence decides the bias flags and tied
// embeddings, and Llama 3 scaling is recovered from `rope_freqs.weight`.
absl::StatusOr<ModelConfig> config_from_gguf(const GgufFile& gguf);

}  // namespace kiln::frontend
