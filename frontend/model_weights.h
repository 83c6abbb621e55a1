#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "frontend/model_config.h"
#include "frontend/tensor_data.h"

namespace kiln::frontend {

// What a tensor is to a Llama-family decoder, independent of how a file
// names it. Per-layer roles come with a layer index; the others take -1.
enum class WeightRole : uint8_t {
  token_embedding,
  output_norm,
  lm_head,  // absent when the embeddings are tied
  attn_norm,
  q, k, v, o,
  q_bias, k_bias, v_bias, o_bias,
  ffn_norm,
  gate, up, down,
  gate_bias, up_bias, down_bias,
};

// Where tensors come from: a GGUF file or an HF safetensors collection.
// `tensor` returns a memory-mapped view; nothing is copied.
struct TensorSource {
  std::string path;  // the file or folder, for messages
  std::function<bool(std::string_view)> contains;
  std::function<absl::StatusOr<TensorData>(std::string_view)> tensor;
};

// The tensors of one model by role, each checked against the config's
// shapes. Views keep their files mapped (TensorData::owner).
class ModelWeights {
 public:
  // The tensor for `role` (and `layer`); present whenever the config says
  // it must be (load_weights checked).
  const TensorData& get(WeightRole role, int64_t layer = -1) const;
  // Null when the model has no such tensor (a bias, an untied lm head).
  const TensorData* find(WeightRole role, int64_t layer = -1) const;
  const std::string& path() const { return path_; }  // the file or folder, for messages
  // Every tensor, in load order (the globals, then layer by layer).
  std::vector<const TensorData*> all() const;

 private:
  friend absl::StatusOr<ModelWeights> load_weights(const ModelConfig& config, const TensorSource& source);
  void add(WeightRole role, int64_t layer, TensorData tensor);

  std::map<std::pair<WeightRole, int64_t>, TensorData> tensors_;
  std::vector<std::pair<WeightRole, int64_t>> order_;
  std::string path_;
};

// The tensor name `source` uses for `role` in `format` ("blk.3.attn_q.weight",
// "model.layers.3.self_attn.q_proj.weight").
std::string weight_name(WeightRole role, int64_t layer, WeightFormat format);

// Finds every tensor the config calls for and checks its shape and dtype
// (f32, f16 or bf16). Errors name the file and tensor: "model.gguf: tensor
// 'blk.0.attn_q.weight': expected shape [72, 72], found [64, 72]"; a missing
// tensor is named with the role it plays. Tensors the model does not use
// (rope_freqs.weight, rotary_emb.inv_freq) are ignored.
absl::StatusOr<ModelWeights> load_weights(const ModelConfig& config, const TensorSource& source);

}  // namespace kiln::frontend
