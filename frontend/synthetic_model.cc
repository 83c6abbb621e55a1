#include "frontend/synthetic_model.h"

#include <cmath>
#include <numbers>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::frontend {
namespace {

// The released models' config.json values; the vocabularies are their
// tokenizers' sizes (Qwen2.5's embedding is padded past its tokenizer).
const SyntheticShape kPresets[] = {
    {.name = "llama-3.2-1b", .architecture = "LlamaForCausalLM", .hidden = 2048, .layers = 16, .heads = 32,
     .kv_heads = 8, .ffn = 8192, .vocab = 128256, .max_context = 131072, .tied = true, .rope_theta = 500000.0,
     .rms_norm_eps = 1e-5, .llama3_factor = 32.0},
    {.name = "llama-3.1-8b", .architecture = "LlamaForCausalLM", .hidden = 4096, .layers = 32, .heads = 32,
     .kv_heads = 8, .ffn = 14336, .vocab = 128256, .max_context = 131072, .tied = false, .rope_theta = 500000.0,
     .rms_norm_eps = 1e-5, .llama3_factor = 8.0},
    {.name = "qwen2.5-0.5b", .architecture = "Qwen2ForCausalLM", .hidden = 896, .layers = 24, .heads = 14,
     .kv_heads = 2, .ffn = 4864, .vocab = 151936, .max_context = 32768, .tied = true, .qkv_bias = true,
     .rope_theta = 1000000.0, .rms_norm_eps = 1e-6},
    {.name = "smollm-135m", .architecture = "LlamaForCausalLM", .hidden = 576, .layers = 30, .heads = 9,
     .kv_heads = 3, .ffn = 1536, .vocab = 49152, .max_context = 2048, .tied = true, .rope_theta = 10000.0,
     .rms_norm_eps = 1e-5},
};

constexpr double kWeightStd = 0.02;

// Llama 3 scaling's fixed parameters (every 3.x release).
constexpr double kLlama3LowFreqFactor = 1.0;
constexpr double kLlama3HighFreqFactor = 4.0;
constexpr double kLlama3OriginalContext = 8192.0;

// splitmix64: a full-period generator whose every output is well mixed, so
// seeding it from (seed, stream, row) gives independent rows.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// One draw from 64 random bits: the sum of four 16-bit uniforms (Irwin-Hall,
// close to normal, bounded at 3.46 standard deviations) scaled to kWeightStd.
float approximately_normal(uint64_t bits) {
  constexpr double kMean = 4 * 32767.5;
  constexpr double kStd = 65536.0 / 3.4641016151377544;  // sqrt(4 / 12) in units of 1/65536
  const double sum = static_cast<double>((bits & 0xFFFF) + ((bits >> 16) & 0xFFFF) + ((bits >> 32) & 0xFFFF) +
                                         (bits >> 48));
  return static_cast<float>((sum - kMean) / kStd * kWeightStd);
}

float rounded_to(ir::DType dtype, float value) {
  if (dtype == ir::DType::f16) return program::f16_to_f32(program::f32_to_f16(value));
  if (dtype == ir::DType::bf16) return program::bf16_to_f32(program::f32_to_bf16(value));
  return value;
}

// llama.cpp's rope_freqs.weight for Llama 3 scaling: the wavelength
// multiplier of frequency pair i (transformers' _compute_llama3_parameters).
float llama3_factor(const SyntheticShape& shape, int64_t pair) {
  const double freq = std::pow(shape.rope_theta, -2.0 * static_cast<double>(pair) / shape.head_dim());
  const double wavelength = 2 * std::numbers::pi / freq;
  if (wavelength < kLlama3OriginalContext / kLlama3HighFreqFactor) return 1.0f;
  if (wavelength > kLlama3OriginalContext / kLlama3LowFreqFactor) return static_cast<float>(shape.llama3_factor);
  const double smooth = (kLlama3OriginalContext / wavelength - kLlama3LowFreqFactor) /
                        (kLlama3HighFreqFactor - kLlama3LowFreqFactor);
  return static_cast<float>(1.0 / ((1 - smooth) / shape.llama3_factor + smooth));
}

// The HF row that GGUF row `row` of a permuted q or k holds: llama.cpp's
// permute reshapes each head's rows [2, d/2] and swaps the two axes.
int64_t hf_row(const SyntheticTensor& tensor, int64_t row) {
  if (tensor.permuted_heads == 0) return row;
  const int64_t head_rows = tensor.shape[0] / tensor.permuted_heads;
  const int64_t head = row / head_rows, within = row % head_rows;
  return head * head_rows + (within % 2) * (head_rows / 2) + within / 2;
}

// One layer's tensors: {HF name, GGUF name, shape, init, rows permuted over heads}.
struct LayerTensor {
  std::string_view hf, gguf;
  std::vector<int64_t> shape;
  SyntheticInit init;
  int64_t permuted_heads;
};

std::vector<LayerTensor> layer_tensors(const SyntheticShape& s) {
  const int64_t q = s.heads * s.head_dim(), kv = s.kv_heads * s.head_dim();
  const bool llama = s.architecture != "Qwen2ForCausalLM";  // the converter permutes only llama's q and k
  std::vector<LayerTensor> out = {
      {"input_layernorm.weight", "attn_norm.weight", {s.hidden}, SyntheticInit::ones, 0},
      {"self_attn.q_proj.weight", "attn_q.weight", {q, s.hidden}, SyntheticInit::normal, llama ? s.heads : 0},
      {"self_attn.k_proj.weight", "attn_k.weight", {kv, s.hidden}, SyntheticInit::normal, llama ? s.kv_heads : 0},
      {"self_attn.v_proj.weight", "attn_v.weight", {kv, s.hidden}, SyntheticInit::normal, 0},
  };
  if (s.qkv_bias) {
    out.push_back({"self_attn.q_proj.bias", "attn_q.bias", {q}, SyntheticInit::normal, 0});
    out.push_back({"self_attn.k_proj.bias", "attn_k.bias", {kv}, SyntheticInit::normal, 0});
    out.push_back({"self_attn.v_proj.bias", "attn_v.bias", {kv}, SyntheticInit::normal, 0});
  }
  out.push_back({"self_attn.o_proj.weight", "attn_output.weight", {s.hidden, q}, SyntheticInit::normal, 0});
  out.push_back({"post_attention_layernorm.weight", "ffn_norm.weight", {s.hidden}, SyntheticInit::ones, 0});
  out.push_back({"mlp.gate_proj.weight", "ffn_gate.weight", {s.ffn, s.hidden}, SyntheticInit::normal, 0});
  out.push_back({"mlp.up_proj.weight", "ffn_up.weight", {s.ffn, s.hidden}, SyntheticInit::normal, 0});
  out.push_back({"mlp.down_proj.weight", "ffn_down.weight", {s.hidden, s.ffn}, SyntheticInit::normal, 0});
  return out;
}

}  // namespace

std::span<const SyntheticShape> synthetic_presets() { return kPresets; }

absl::StatusOr<SyntheticShape> find_synthetic_preset(std::string_view name) {
  std::vector<std::string> names;
  for (const SyntheticShape& shape : kPresets) {
    if (shape.name == name) return shape;
    names.push_back(shape.name);
  }
  return absl::NotFoundError(
      absl::StrCat("no preset '", std::string(name), "'; the presets are ", absl::StrJoin(names, ", ")));
}

std::vector<SyntheticTensor> synthetic_tensors(const SyntheticShape& shape, SyntheticFormat format) {
  const bool gguf = format == SyntheticFormat::gguf;
  std::vector<SyntheticTensor> out;
  uint64_t stream = 0;
  auto add = [&](std::string hf, std::string gguf_name, std::vector<int64_t> dims, SyntheticInit init,
                 int64_t permuted_heads) {
    const bool one_dim = dims.size() == 1;
    out.push_back({.name = gguf ? std::move(gguf_name) : std::move(hf),
                   .shape = std::move(dims),
                   .init = init,
                   .stream = stream++,
                   .permuted_heads = gguf ? permuted_heads : 0,
                   .stored_f32 = gguf && one_dim});
  };
  add("model.embed_tokens.weight", "token_embd.weight", {shape.vocab, shape.hidden}, SyntheticInit::normal, 0);
  for (int64_t layer = 0; layer < shape.layers; ++layer) {
    for (const LayerTensor& t : layer_tensors(shape)) {
      add(absl::StrCat("model.layers.", layer, ".", std::string(t.hf)),
          absl::StrCat("blk.", layer, ".", std::string(t.gguf)), t.shape, t.init, t.permuted_heads);
    }
  }
  add("model.norm.weight", "output_norm.weight", {shape.hidden}, SyntheticInit::ones, 0);
  if (!shape.tied) add("lm_head.weight", "output.weight", {shape.vocab, shape.hidden}, SyntheticInit::normal, 0);
  if (gguf && shape.llama3_factor > 0) {
    add("", "rope_freqs.weight", {shape.head_dim() / 2}, SyntheticInit::rope_freqs, 0);
  }
  return out;
}

void synthetic_rows(const SyntheticShape& shape, const SyntheticTensor& tensor, ir::DType dtype, uint64_t seed,
                    int64_t first_row, std::span<float> out) {
  const int64_t cols = tensor.row_elements();
  const int64_t rows = static_cast<int64_t>(out.size()) / cols;
  for (int64_t r = 0; r < rows; ++r) {
    float* row = out.data() + r * cols;
    if (tensor.init == SyntheticInit::ones) {
      std::fill(row, row + cols, 1.0f);
      continue;
    }
    if (tensor.init == SyntheticInit::rope_freqs) {
      for (int64_t i = 0; i < cols; ++i) row[i] = llama3_factor(shape, i);
      continue;
    }
    uint64_t state = seed;
    state = splitmix64(state) ^ (tensor.stream * 0xD1B54A32D192ED03ull);
    state = splitmix64(state) ^ static_cast<uint64_t>(hf_row(tensor, first_row + r));
    for (int64_t i = 0; i < cols; ++i) row[i] = rounded_to(dtype, approximately_normal(splitmix64(state)));
  }
}

}  // namespace kiln::frontend
