// ModelConfig from GGUF metadata, as llama.cpp's convert_hf_to_gguf.py
// writes it for Llama (and Mistral, which it converts to "llama") and Qwen2.

#include "frontend/model_config.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "absl/strings/str_cat.h"
#include "frontend/gguf.h"

namespace kiln::frontend {
namespace {

// Llama 3.1's rope_scaling, the values every Llama 3.x release uses except
// for the factor. The converter stores only the resulting per-frequency
// factors (rope_freqs.weight), so kiln assumes these and checks the tensor.
constexpr double kLlama3LowFreqFactor = 1.0;
constexpr double kLlama3HighFreqFactor = 4.0;
constexpr int64_t kLlama3OriginalContext = 8192;

bool has_tensor(const GgufFile& gguf, std::string_view name) {
  for (const GgufTensorInfo& info : gguf.tensors()) {
    if (info.name == name) return true;
  }
  return false;
}

// The wavelength multiplier that llama3 scaling applies to frequency i
// (transformers' _compute_llama3_parameters; llama.cpp's rope_freqs).
double llama3_wavelength_factor(const RopeConfig& rope, int64_t i, int64_t head_dim) {
  const double freq = std::pow(rope.theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
  const double wavelength = 2 * std::numbers::pi / freq;
  const double context = static_cast<double>(rope.original_context);
  if (wavelength < context / rope.high_freq_factor) return 1.0;
  if (wavelength > context / rope.low_freq_factor) return rope.scaling_factor;
  const double smooth =
      (context / wavelength - rope.low_freq_factor) / (rope.high_freq_factor - rope.low_freq_factor);
  return 1.0 / ((1 - smooth) / rope.scaling_factor + smooth);
}

// Recovers llama3 scaling from rope_freqs.weight: the factor is its largest
// entry; the other parameters are Llama 3.1's (or the context the metadata
// names), and every entry must then match.
absl::Status read_rope_freqs(const GgufFile& gguf, const std::string& arch, ModelConfig& config) {
  absl::StatusOr<TensorData> tensor = gguf.tensor("rope_freqs.weight");
  if (!tensor.ok()) return tensor.status();
  const int64_t pairs = config.head_dim / 2;
  if (tensor->dtype != ir::DType::f32 || tensor->shape != std::vector<int64_t>{pairs}) {
    return absl::InvalidArgumentError(absl::StrCat(gguf.path(), ": tensor 'rope_freqs.weight': expected f32 shape [",
                                                   pairs, "], found ", std::string(ir::dtype_name(tensor->dtype)),
                                                   " ", shape_string(tensor->shape)));
  }
  const float* factors = reinterpret_cast<const float*>(tensor->data);
  RopeConfig& rope = config.rope;
  rope.scaling_factor = *std::max_element(factors, factors + pairs);
  if (rope.scaling_factor == 1.0) return absl::OkStatus();
  rope.low_freq_factor = kLlama3LowFreqFactor;
  rope.high_freq_factor = kLlama3HighFreqFactor;
  absl::StatusOr<int64_t> original = gguf.get_i64(arch + ".rope.scaling.original_context_length");
  rope.original_context = original.ok() ? *original : kLlama3OriginalContext;
  for (int64_t i = 0; i < pairs; ++i) {
    const double expected = llama3_wavelength_factor(rope, i, config.head_dim);
    if (std::abs(factors[i] - expected) > 1e-4 * expected) {
      return absl::UnimplementedError(absl::StrCat(
          gguf.path(), ": tensor 'rope_freqs.weight': entry ", i, " is ", factors[i],
          ", but llama3 scaling (factor ", rope.scaling_factor, ", low_freq_factor 1, high_freq_factor 4, "
          "original context ", rope.original_context, ") gives ", expected,
          "; other frequency factors are not supported yet"));
    }
  }
  return absl::OkStatus();
}

absl::Status read_gguf_rope(const GgufFile& gguf, const std::string& arch, ModelConfig& config) {
  if (absl::StatusOr<std::string> type = gguf.get_string(arch + ".rope.scaling.type");
      type.ok() && *type != "none") {
    return absl::InvalidArgumentError(absl::StrCat(gguf.path(), ": rope scaling type '", *type,
                                                   "' is not supported (supported: llama3 via rope_freqs.weight)"));
  }
  if (absl::StatusOr<int64_t> rotary = gguf.get_i64(arch + ".rope.dimension_count");
      rotary.ok() && *rotary != config.head_dim) {
    return absl::InvalidArgumentError(absl::StrCat(gguf.path(), ": ", arch, ".rope.dimension_count ", *rotary,
                                                   " differs from the head dim ", config.head_dim,
                                                   "; partial rotary embeddings are not supported"));
  }
  absl::StatusOr<double> theta = gguf.get_f64(arch + ".rope.freq_base");
  config.rope.theta = theta.ok() ? *theta : 10000.0;
  if (!has_tensor(gguf, "rope_freqs.weight")) return absl::OkStatus();
  return read_rope_freqs(gguf, arch, config);
}

// Required sizes, then those with defaults. The vocabulary is the embedding
// table's row count when the metadata does not state it (the converter
// leaves vocab_size out for most models).
absl::Status read_gguf_sizes(const GgufFile& gguf, const std::string& arch, ModelConfig& config) {
  const std::pair<const char*, int64_t*> required[] = {
      {".context_length", &config.max_context},       {".embedding_length", &config.hidden_size},
      {".block_count", &config.num_layers},           {".feed_forward_length", &config.intermediate_size},
      {".attention.head_count", &config.num_heads},
  };
  for (const auto& [key, field] : required) {
    absl::StatusOr<int64_t> value = gguf.get_i64(arch + key);
    if (!value.ok()) return value.status();
    *field = *value;
  }
  absl::StatusOr<double> eps = gguf.get_f64(arch + ".attention.layer_norm_rms_epsilon");
  if (!eps.ok()) return eps.status();
  config.rms_norm_eps = *eps;
  absl::StatusOr<int64_t> kv_heads = gguf.get_i64(arch + ".attention.head_count_kv");
  config.num_kv_heads = kv_heads.ok() ? *kv_heads : config.num_heads;
  absl::StatusOr<int64_t> head_dim = gguf.get_i64(arch + ".attention.key_length");
  config.head_dim = head_dim.ok() ? *head_dim : config.num_heads > 0 ? config.hidden_size / config.num_heads : 0;
  if (absl::StatusOr<int64_t> value_dim = gguf.get_i64(arch + ".attention.value_length");
      value_dim.ok() && *value_dim != config.head_dim) {
    return absl::InvalidArgumentError(absl::StrCat(gguf.path(), ": ", arch, ".attention.value_length ", *value_dim,
                                                   " differs from the key length ", config.head_dim));
  }
  absl::StatusOr<int64_t> vocab = gguf.get_i64(arch + ".vocab_size");
  if (vocab.ok()) {
    config.vocab_size = *vocab;
  } else if (absl::StatusOr<TensorData> embedding = gguf.tensor("token_embd.weight"); embedding.ok()) {
    config.vocab_size = embedding->shape.front();
  } else {
    return embedding.status();
  }
  return absl::OkStatus();
}

void read_gguf_special_tokens(const GgufFile& gguf, ModelConfig& config) {
  if (absl::StatusOr<int64_t> bos = gguf.get_i64("tokenizer.ggml.bos_token_id"); bos.ok()) {
    config.bos_token_id = static_cast<int32_t>(*bos);
  }
  if (absl::StatusOr<int64_t> eos = gguf.get_i64("tokenizer.ggml.eos_token_id"); eos.ok()) {
    config.eos_token_ids = {static_cast<int32_t>(*eos)};
  }
}

}  // namespace

absl::StatusOr<ModelConfig> config_from_gguf(const GgufFile& gguf) {
  absl::StatusOr<std::string> arch_name = gguf.get_string("general.architecture");
  if (!arch_name.ok()) return arch_name.status();
  absl::StatusOr<const ArchitectureInfo*> arch = find_architecture(*arch_name, WeightFormat::gguf, gguf.path());
  if (!arch.ok()) return arch.status();
  ModelConfig config;
  config.source = gguf.path();
  config.format = WeightFormat::gguf;
  config.architecture = std::string((*arch)->hf_name);
  if (absl::Status s = read_gguf_sizes(gguf, *arch_name, config); !s.ok()) return s;
  read_gguf_special_tokens(gguf, config);
  // The sizes must hold before the rope reads head_dim entries of a tensor.
  if (absl::Status s = validate_config(config); !s.ok()) return s;
  if (absl::Status s = read_gguf_rope(gguf, *arch_name, config); !s.ok()) return s;
  config.rope.interleaved = (*arch)->gguf_rows_permuted;
  // GGUF metadata has no flags for these: the tensors decide.
  config.qkv_bias = (*arch)->qkv_bias || has_tensor(gguf, "blk.0.attn_q.bias");
  config.o_bias = has_tensor(gguf, "blk.0.attn_output.bias");
  config.mlp_bias = has_tensor(gguf, "blk.0.ffn_gate.bias");
  config.tie_word_embeddings = !has_tensor(gguf, "output.weight");
  if (absl::Status s = validate_config(config); !s.ok()) return s;
  return config;
}

}  // namespace kiln::frontend
