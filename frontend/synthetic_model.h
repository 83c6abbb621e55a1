#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/dtype.h"

namespace kiln::frontend {

// The hyper-parameters of a Llama-family decoder that a synthetic model
// copies from a released one: the shapes decide speed, so a random-weight
// model of the same shapes measures what the real one would.
struct SyntheticShape {
  std::string name;          // the preset: "llama-3.2-1b"
  std::string architecture;  // the HF class: "LlamaForCausalLM", "Qwen2ForCausalLM"
  int64_t hidden = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t ffn = 0;
  int64_t vocab = 0;
  int64_t max_context = 0;
  bool tied = false;      // the lm head is the token embedding
  bool qkv_bias = false;  // q, k and v carry biases (Qwen2)
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-5;
  double llama3_factor = 0;  // Llama 3 rope scaling's factor (low 1, high 4, original 8192); 0: none

  int64_t head_dim() const { return hidden / heads; }
};

// The presets, in the order --help lists them.
std::span<const SyntheticShape> synthetic_presets();
// The preset `name`; the error lists them all.
absl::StatusOr<SyntheticShape> find_synthetic_preset(std::string_view name);

// How one tensor's values are drawn.
enum class SyntheticInit : uint8_t {
  normal,      // approximately N(0, 0.02): matrices, embeddings, biases
  ones,        // norm weights
  rope_freqs,  // GGUF only: llama.cpp's Llama 3 per-frequency factors (f32)
};

// One tensor of a synthetic model, in the file's layout.
struct SyntheticTensor {
  std::string name;            // as the format names it: "model.layers.0.mlp.up_proj.weight", "blk.0.ffn_up.weight"
  std::vector<int64_t> shape;  // outermost first
  SyntheticInit init = SyntheticInit::normal;
  uint64_t stream = 0;         // which random stream: equal in both formats, so one seed is one model
  // GGUF q and k: llama.cpp's converter permutes each head's rows for its
  // interleaved rope; row r of the file is row gguf_source_row(r) of HF's.
  int64_t permuted_heads = 0;
  bool stored_f32 = false;  // GGUF keeps 1-D tensors (norms, biases, rope_freqs) in f32

  int64_t rows() const { return shape.size() == 1 ? 1 : shape[0]; }
  int64_t row_elements() const { return shape.back(); }
};

enum class SyntheticFormat : uint8_t { hf, gguf };

// Every tensor of `shape`'s model, in the order the file holds them.
std::vector<SyntheticTensor> synthetic_tensors(const SyntheticShape& shape, SyntheticFormat format);

// The values of rows [first_row, first_row + out.size() / row_elements())
// of `tensor`, in f32 and already rounded to `dtype` (so that a GGUF tensor
// kept in f32 holds the values its HF twin holds in f16). Row r's values
// depend only on (seed, tensor.stream, the HF row), never on how the rows
// are split into calls, so the HF folder and the GGUF file of one seed
// are the same model.
void synthetic_rows(const SyntheticShape& shape, const SyntheticTensor& tensor, ir::DType dtype, uint64_t seed,
                    int64_t first_row, std::span<float> out);

}  // namespace kiln::frontend
