#include "frontend/model_weights.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/frontend/model_test_util.h"
#include "tests/frontend/status_matchers.h"

namespace kiln::frontend {
namespace {

using ::kiln::testing::InMemoryTensors;
using ::kiln::testing::IsOk;
using ::kiln::testing::StatusIs;
using ::kiln::testing::tiny_llama_config;
using ::testing::HasSubstr;

TEST(WeightNameTest, FollowsTransformersAndLlamaCpp) {
  EXPECT_EQ(weight_name(WeightRole::q, 3, WeightFormat::hf), "model.layers.3.self_attn.q_proj.weight");
  EXPECT_EQ(weight_name(WeightRole::q, 3, WeightFormat::gguf), "blk.3.attn_q.weight");
  EXPECT_EQ(weight_name(WeightRole::k_bias, 0, WeightFormat::gguf), "blk.0.attn_k.bias");
  EXPECT_EQ(weight_name(WeightRole::o, 1, WeightFormat::gguf), "blk.1.attn_output.weight");
  EXPECT_EQ(weight_name(WeightRole::down, 1, WeightFormat::hf), "model.layers.1.mlp.down_proj.weight");
  EXPECT_EQ(weight_name(WeightRole::token_embedding, -1, WeightFormat::gguf), "token_embd.weight");
  EXPECT_EQ(weight_name(WeightRole::lm_head, -1, WeightFormat::hf), "lm_head.weight");
  EXPECT_EQ(weight_name(WeightRole::output_norm, -1, WeightFormat::hf), "model.norm.weight");
}

TEST(LoadWeightsTest, FindsEveryRole) {
  ModelConfig config = tiny_llama_config();
  InMemoryTensors tensors;
  tensors.add_model(config);
  absl::StatusOr<ModelWeights> weights = load_weights(config, tensors.source());
  ASSERT_THAT(weights, IsOk());
  EXPECT_EQ(weights->all().size(), 3u + 2u * 9u);
  EXPECT_EQ(weights->get(WeightRole::q, 1).name, "model.layers.1.self_attn.q_proj.weight");
  EXPECT_EQ(weights->find(WeightRole::q_bias, 0), nullptr);
  EXPECT_EQ(weights->all().front()->name, "model.embed_tokens.weight");
}

TEST(LoadWeightsTest, TiedEmbeddingsNeedNoLmHeadAndBiasesAreLoadedWhenConfigured) {
  ModelConfig config = tiny_llama_config();
  config.tie_word_embeddings = true;
  config.qkv_bias = true;
  config.format = WeightFormat::gguf;
  InMemoryTensors tensors;
  tensors.add_model(config, ir::DType::f16);
  absl::StatusOr<ModelWeights> weights = load_weights(config, tensors.source());
  ASSERT_THAT(weights, IsOk());
  EXPECT_EQ(weights->find(WeightRole::lm_head), nullptr);
  ASSERT_NE(weights->find(WeightRole::v_bias, 1), nullptr);
  EXPECT_EQ(weights->find(WeightRole::v_bias, 1)->name, "blk.1.attn_v.bias");
}

TEST(LoadWeightsTest, AMissingTensorIsNamed) {
  ModelConfig config = tiny_llama_config();
  InMemoryTensors tensors;
  tensors.add_model(config);
  tensors.erase("model.layers.1.mlp.up_proj.weight");
  EXPECT_THAT(load_weights(config, tensors.source()),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("model.bin: missing tensor 'model.layers.1.mlp.up_proj.weight' "
                                 "(expected shape [20, 12])")));
}

TEST(LoadWeightsTest, AConfigThatContradictsTheTensorsNamesTensorAndShapes) {
  ModelConfig config = tiny_llama_config();
  InMemoryTensors tensors;
  tensors.add_model(config);
  config.num_kv_heads = 3;  // the file's k projection has 1 kv head
  EXPECT_THAT(load_weights(config, tensors.source()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("model.bin: tensor 'model.layers.0.self_attn.k_proj.weight': expected shape "
                                 "[12, 12], found [4, 12]")));
}

TEST(LoadWeightsTest, RefusesIntegerWeights) {
  ModelConfig config = tiny_llama_config();
  InMemoryTensors tensors;
  tensors.add_model(config);
  tensors.add("model.norm.weight", ir::DType::i32, {12});
  EXPECT_THAT(load_weights(config, tensors.source()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tensor 'model.norm.weight': expected dtype f32, f16 or bf16, found i32")));
}

}  // namespace
}  // namespace kiln::frontend
