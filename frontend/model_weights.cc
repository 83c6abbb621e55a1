#include "frontend/model_weights.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace kiln::frontend {
namespace {

// Extents a weight's dims are made of, resolved against the config.
enum class Extent : uint8_t { vocab, hidden, q_rows, kv_rows, ffn };

// When the model has a tensor for a role.
enum class Need : uint8_t { always, untied, qkv_bias, o_bias, mlp_bias };

struct RoleInfo {
  WeightRole role;
  bool per_layer;
  std::string_view hf_name;    // "{L}" stands for the layer index
  std::string_view gguf_name;
  std::vector<Extent> shape;   // outermost first: projections are [out, in]
  Need need;
};

// The tensor-name table: one row per role, in the order the model uses them.
// Names follow transformers' Llama/Mistral/Qwen2 modules and llama.cpp's
// tensor names (gguf-py's constants.py).
const std::vector<RoleInfo>& role_table() {
  using enum WeightRole;
  using E = Extent;
  static const std::vector<RoleInfo> table = {
      {token_embedding, false, "model.embed_tokens.weight", "token_embd.weight", {E::vocab, E::hidden}, Need::always},
      {attn_norm, true, "model.layers.{L}.input_layernorm.weight", "blk.{L}.attn_norm.weight", {E::hidden}, Need::always},
      {q, true, "model.layers.{L}.self_attn.q_proj.weight", "blk.{L}.attn_q.weight", {E::q_rows, E::hidden}, Need::always},
      {k, true, "model.layers.{L}.self_attn.k_proj.weight", "blk.{L}.attn_k.weight", {E::kv_rows, E::hidden}, Need::always},
      {v, true, "model.layers.{L}.self_attn.v_proj.weight", "blk.{L}.attn_v.weight", {E::kv_rows, E::hidden}, Need::always},
      {q_bias, true, "model.layers.{L}.self_attn.q_proj.bias", "blk.{L}.attn_q.bias", {E::q_rows}, Need::qkv_bias},
      {k_bias, true, "model.layers.{L}.self_attn.k_proj.bias", "blk.{L}.attn_k.bias", {E::kv_rows}, Need::qkv_bias},
      {v_bias, true, "model.layers.{L}.self_attn.v_proj.bias", "blk.{L}.attn_v.bias", {E::kv_rows}, Need::qkv_bias},
      {o, true, "model.layers.{L}.self_attn.o_proj.weight", "blk.{L}.attn_output.weight", {E::hidden, E::q_rows}, Need::always},
      {o_bias, true, "model.layers.{L}.self_attn.o_proj.bias", "blk.{L}.attn_output.bias", {E::hidden}, Need::o_bias},
      {ffn_norm, true, "model.layers.{L}.post_attention_layernorm.weight", "blk.{L}.ffn_norm.weight", {E::hidden}, Need::always},
      {gate, true, "model.layers.{L}.mlp.gate_proj.weight", "blk.{L}.ffn_gate.weight", {E::ffn, E::hidden}, Need::always},
      {up, true, "model.layers.{L}.mlp.up_proj.weight", "blk.{L}.ffn_up.weight", {E::ffn, E::hidden}, Need::always},
      {down, true, "model.layers.{L}.mlp.down_proj.weight", "blk.{L}.ffn_down.weight", {E::hidden, E::ffn}, Need::always},
      {gate_bias, true, "model.layers.{L}.mlp.gate_proj.bias", "blk.{L}.ffn_gate.bias", {E::ffn}, Need::mlp_bias},
      {up_bias, true, "model.layers.{L}.mlp.up_proj.bias", "blk.{L}.ffn_up.bias", {E::ffn}, Need::mlp_bias},
      {down_bias, true, "model.layers.{L}.mlp.down_proj.bias", "blk.{L}.ffn_down.bias", {E::hidden}, Need::mlp_bias},
      {output_norm, false, "model.norm.weight", "output_norm.weight", {E::hidden}, Need::always},
      {lm_head, false, "lm_head.weight", "output.weight", {E::vocab, E::hidden}, Need::untied},
  };
  return table;
}

const RoleInfo& role_info(WeightRole role) {
  for (const RoleInfo& info : role_table()) {
    if (info.role == role) return info;
  }
  return role_table().front();  // unreachable: every role has a row
}

bool needed(Need need, const ModelConfig& config) {
  switch (need) {
    case Need::always: return true;
    case Need::untied: return !config.tie_word_embeddings;
    case Need::qkv_bias: return config.qkv_bias;
    case Need::o_bias: return config.o_bias;
    case Need::mlp_bias: return config.mlp_bias;
  }
  return false;
}

std::vector<int64_t> expected_shape(const RoleInfo& info, const ModelConfig& config) {
  std::vector<int64_t> shape;
  for (Extent extent : info.shape) {
    switch (extent) {
      case Extent::vocab: shape.push_back(config.vocab_size); break;
      case Extent::hidden: shape.push_back(config.hidden_size); break;
      case Extent::q_rows: shape.push_back(config.num_heads * config.head_dim); break;
      case Extent::kv_rows: shape.push_back(config.num_kv_heads * config.head_dim); break;
      case Extent::ffn: shape.push_back(config.intermediate_size); break;
    }
  }
  return shape;
}

absl::Status check_tensor(const TensorData& tensor, const std::vector<int64_t>& expected,
                          const TensorSource& source) {
  const std::string what = absl::StrCat(source.path, ": tensor '", tensor.name, "'");
  if (tensor.shape != expected) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": expected shape ", shape_string(expected), ", found ",
                                                   shape_string(tensor.shape)));
  }
  if (!ir::dtype_info(tensor.dtype).is_float) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": expected dtype f32, f16 or bf16, found ",
                                                   std::string(ir::dtype_name(tensor.dtype))));
  }
  return absl::OkStatus();
}

}  // namespace

std::string weight_name(WeightRole role, int64_t layer, WeightFormat format) {
  const RoleInfo& info = role_info(role);
  const std::string_view pattern = format == WeightFormat::hf ? info.hf_name : info.gguf_name;
  return absl::StrReplaceAll(std::string(pattern), {{"{L}", absl::StrCat(layer)}});
}

const TensorData& ModelWeights::get(WeightRole role, int64_t layer) const {
  return tensors_.at({role, layer});
}

const TensorData* ModelWeights::find(WeightRole role, int64_t layer) const {
  const auto it = tensors_.find({role, layer});
  return it == tensors_.end() ? nullptr : &it->second;
}

std::vector<const TensorData*> ModelWeights::all() const {
  std::vector<const TensorData*> tensors;
  for (const auto& key : order_) tensors.push_back(&tensors_.at(key));
  return tensors;
}

void ModelWeights::add(WeightRole role, int64_t layer, TensorData tensor) {
  tensors_.emplace(std::pair(role, layer), std::move(tensor));
  order_.emplace_back(role, layer);
}

absl::StatusOr<ModelWeights> load_weights(const ModelConfig& config, const TensorSource& source) {
  ModelWeights weights;
  weights.path_ = source.path;
  for (int64_t layer = -1; layer < config.num_layers; ++layer) {
    for (const RoleInfo& info : role_table()) {
      if (info.per_layer != (layer >= 0) || !needed(info.need, config)) continue;
      const std::vector<int64_t> shape = expected_shape(info, config);
      const std::string name = weight_name(info.role, layer, config.format);
      if (!source.contains(name)) {
        return absl::NotFoundError(absl::StrCat(source.path, ": missing tensor '", name, "' (expected shape ",
                                                shape_string(shape), ")"));
      }
      absl::StatusOr<TensorData> tensor = source.tensor(name);
      if (!tensor.ok()) return tensor.status();
      if (absl::Status s = check_tensor(*tensor, shape, source); !s.ok()) return s;
      weights.add(info.role, layer, *std::move(tensor));
    }
  }
  return weights;
}

}  // namespace kiln::frontend
