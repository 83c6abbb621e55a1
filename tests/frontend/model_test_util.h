#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frontend/mapped_file.h"
#include "frontend/model_config.h"
#include "frontend/model_weights.h"
#include "frontend/tensor_data.h"
#include "gtest/gtest.h"

namespace kiln::testing {

// A small Llama config (odd sizes, GQA) for tests that need no file.
inline frontend::ModelConfig tiny_llama_config() {
  frontend::ModelConfig config;
  config.architecture = "LlamaForCausalLM";
  config.source = "tiny";
  config.vocab_size = 30;
  config.hidden_size = 12;
  config.intermediate_size = 20;
  config.num_layers = 2;
  config.num_heads = 3;
  config.num_kv_heads = 1;
  config.head_dim = 4;
  config.max_context = 16;
  return config;
}

// Tensors held in memory, served as a TensorSource under `format`'s names.
class InMemoryTensors {
 public:
  void add(const std::string& name, ir::DType dtype, std::vector<int64_t> shape) {
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    auto file = frontend::MappedFile::from_bytes(name, std::vector<uint8_t>(ir::dtype_bytes(dtype, count), 0));
    absl::StatusOr<frontend::TensorData> tensor = frontend::map_tensor(file, name, dtype, std::move(shape), 0);
    ASSERT_TRUE(tensor.ok()) << tensor.status();
    tensors_[name] = *tensor;
  }
  // Every tensor `config` calls for, f32 unless `dtype` says otherwise.
  void add_model(const frontend::ModelConfig& config, ir::DType dtype = ir::DType::f32) {
    using frontend::WeightRole;
    const int64_t d = config.hidden_size, q = config.num_heads * config.head_dim;
    const int64_t kv = config.num_kv_heads * config.head_dim, f = config.intermediate_size;
    auto name = [&](WeightRole role, int64_t layer = -1) { return frontend::weight_name(role, layer, config.format); };
    add(name(WeightRole::token_embedding), dtype, {config.vocab_size, d});
    add(name(WeightRole::output_norm), ir::DType::f32, {d});
    if (!config.tie_word_embeddings) add(name(WeightRole::lm_head), dtype, {config.vocab_size, d});
    for (int64_t l = 0; l < config.num_layers; ++l) {
      add(name(WeightRole::attn_norm, l), ir::DType::f32, {d});
      add(name(WeightRole::ffn_norm, l), ir::DType::f32, {d});
      add(name(WeightRole::q, l), dtype, {q, d});
      add(name(WeightRole::k, l), dtype, {kv, d});
      add(name(WeightRole::v, l), dtype, {kv, d});
      add(name(WeightRole::o, l), dtype, {d, q});
      add(name(WeightRole::gate, l), dtype, {f, d});
      add(name(WeightRole::up, l), dtype, {f, d});
      add(name(WeightRole::down, l), dtype, {d, f});
      if (config.qkv_bias) {
        add(name(WeightRole::q_bias, l), ir::DType::f32, {q});
        add(name(WeightRole::k_bias, l), ir::DType::f32, {kv});
        add(name(WeightRole::v_bias, l), ir::DType::f32, {kv});
      }
    }
  }
  void erase(const std::string& name) { tensors_.erase(name); }

  frontend::TensorSource source() const {
    return {.path = "model.bin",
            .contains = [this](std::string_view name) { return tensors_.contains(std::string(name)); },
            .tensor = [this](std::string_view name) -> absl::StatusOr<frontend::TensorData> {
              return tensors_.at(std::string(name));
            }};
  }

 private:
  std::map<std::string, frontend::TensorData> tensors_;
};

}  // namespace kiln::testing
