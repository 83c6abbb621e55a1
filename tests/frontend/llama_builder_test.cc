#include "frontend/llama_builder.h"

#include <list>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ir/verifier.h"
#include "tests/frontend/model_test_util.h"
#include "tests/frontend/status_matchers.h"

namespace kiln::frontend {
namespace {

using ::kiln::testing::InMemoryTensors;
using ::kiln::testing::IsOk;
using ::kiln::testing::StatusIs;
using ::kiln::testing::tiny_llama_config;
using ::testing::HasSubstr;

std::map<std::string, int> op_counts(const ir::Graph& graph) {
  std::map<std::string, int> counts;
  for (const auto& node : graph.nodes()) ++counts[node->op()];
  return counts;
}

const ir::Node* node_named(const ir::Graph& graph, const std::string& name) {
  const ir::Value* value = graph.find_value(name);
  return value == nullptr ? nullptr : value->producer();
}

class LlamaBuilderTest : public ::testing::Test {
 protected:
  absl::StatusOr<ir::Graph> build(LlamaStep step, ir::DType dtype = ir::DType::f32) {
    InMemoryTensors& tensors = tensors_.emplace_back();
    tensors.add_model(config_, dtype);
    absl::StatusOr<ModelWeights> weights = load_weights(config_, tensors.source());
    if (!weights.ok()) return weights.status();
    weights_.push_back(*std::move(weights));
    return build_llama_graph(config_, weights_.back(), step, {.context = 16, .prefill_tokens = 8});
  }

  ModelConfig config_ = tiny_llama_config();
  std::list<InMemoryTensors> tensors_;
  std::list<ModelWeights> weights_;
};

TEST_F(LlamaBuilderTest, PrefillIsTheDecoderInPrimitiveOps) {
  absl::StatusOr<ir::Graph> graph = build(LlamaStep::prefill);
  ASSERT_THAT(graph, IsOk());
  EXPECT_THAT(ir::verify(*graph), IsOk());
  EXPECT_EQ(graph->symbol_bounds(), (ir::SymbolValues{{"P", 15}, {"T", 8}}));
  const std::map<std::string, int> counts = op_counts(*graph);
  EXPECT_EQ(counts.at("embedding"), 1);
  EXPECT_EQ(counts.at("rmsnorm"), 2 * 2 + 1);
  EXPECT_EQ(counts.at("matmul"), 2 * 7 + 1);
  EXPECT_EQ(counts.at("rope"), 2 * 2);
  EXPECT_EQ(counts.at("kv_write"), 2 * 2);
  EXPECT_EQ(counts.at("attention"), 2);
  EXPECT_EQ(counts.at("silu"), 2);
  EXPECT_EQ(counts.at("mul"), 2);
  EXPECT_EQ(counts.at("add"), 2 * 2);
  EXPECT_FALSE(counts.contains("cast"));  // an f32 table needs none
  ASSERT_EQ(graph->outputs().size(), 1u);
  EXPECT_EQ(graph->outputs()[0]->name(), kLogitsOutput);
  // Only the last row feeds the sampler: the output norm and the lm head
  // run on it alone.
  EXPECT_EQ(counts.at("slice"), 1);
  EXPECT_EQ(graph->outputs()[0]->type().to_string(), "f32[1, 30]");
  EXPECT_EQ(graph->find_value(kTokensInput)->type().to_string(), "i32[T]");
  ASSERT_EQ(graph->states().size(), 4u);
  EXPECT_EQ(graph->states()[0]->name(), "kv.0.k");
  EXPECT_EQ(graph->states()[0]->type().to_string(), "f32[16, 1, 4]");
}

TEST_F(LlamaBuilderTest, DecodeHasOneStaticTokenAndTheSameWeightsAndState) {
  absl::StatusOr<ir::Graph> prefill = build(LlamaStep::prefill);
  absl::StatusOr<ir::Graph> decode = build(LlamaStep::decode);
  ASSERT_THAT(decode, IsOk());
  EXPECT_THAT(ir::verify(*decode), IsOk());
  EXPECT_EQ(decode->symbol_bounds(), (ir::SymbolValues{{"P", 15}}));
  EXPECT_EQ(decode->outputs()[0]->type().to_string(), "f32[1, 30]");
  ASSERT_EQ(decode->weights().size(), prefill->weights().size());
  for (size_t i = 0; i < decode->weights().size(); ++i) {
    EXPECT_EQ(decode->weights()[i]->name(), prefill->weights()[i]->name());
    EXPECT_EQ(decode->weights()[i]->type(), prefill->weights()[i]->type());
  }
  ASSERT_EQ(decode->states().size(), prefill->states().size());
  for (size_t i = 0; i < decode->states().size(); ++i) {
    EXPECT_EQ(decode->states()[i]->type(), prefill->states()[i]->type());
  }
}

TEST_F(LlamaBuilderTest, RopeAndAttentionCarryTheConfig) {
  config_.format = WeightFormat::gguf;
  config_.rope.interleaved = true;
  config_.rope.theta = 500000.0;
  config_.rope.scaling_factor = 8.0;
  config_.rope.original_context = 8192;
  absl::StatusOr<ir::Graph> graph = build(LlamaStep::decode);
  ASSERT_THAT(graph, IsOk());
  const ir::Node* rope = node_named(*graph, "l1.k_rope");
  ASSERT_NE(rope, nullptr);
  EXPECT_TRUE(rope->attr_bool("interleaved"));
  EXPECT_EQ(rope->attr_int("rotary_dim"), 4);
  EXPECT_DOUBLE_EQ(rope->attr_real("theta"), 500000.0);
  EXPECT_EQ(rope->attr_int("scaling_original_context"), 8192);
  const ir::Node* attention = node_named(*graph, "l0.attn");
  ASSERT_NE(attention, nullptr);
  EXPECT_DOUBLE_EQ(attention->attr_real("scale"), 0.5);  // 1 / sqrt(head_dim 4)
  EXPECT_TRUE(attention->attr_bool("causal"));
  EXPECT_EQ(attention->input(1)->producer()->op(), "kv_write");
}

TEST_F(LlamaBuilderTest, TiedEmbeddingsShareOneWeightAndHalfTablesAreCast) {
  config_.tie_word_embeddings = true;
  absl::StatusOr<ir::Graph> graph = build(LlamaStep::prefill, ir::DType::f16);
  ASSERT_THAT(graph, IsOk());
  const ir::Value* table = graph->find_value("model.embed_tokens.weight");
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->uses().size(), 2u);  // embedding and lm head
  EXPECT_EQ(graph->find_value("lm_head.weight"), nullptr);
  EXPECT_EQ(op_counts(*graph).at("cast"), 1);
  EXPECT_EQ(node_named(*graph, "embed.f32")->output()->type().dtype, ir::DType::f32);
  EXPECT_EQ(table->weight().source, "model.bin:model.embed_tokens.weight");
  EXPECT_EQ(table->weight().size, 30u * 12u * 2u);
}

TEST_F(LlamaBuilderTest, BiasesBecomeTheMatmulsThirdOperand) {
  config_.qkv_bias = true;
  absl::StatusOr<ir::Graph> graph = build(LlamaStep::prefill);
  ASSERT_THAT(graph, IsOk());
  EXPECT_EQ(node_named(*graph, "l0.q")->inputs().size(), 3u);
  EXPECT_EQ(node_named(*graph, "l0.o")->inputs().size(), 2u);
}

TEST_F(LlamaBuilderTest, RefusesAContextBeyondTheModels) {
  InMemoryTensors tensors;
  tensors.add_model(config_);
  absl::StatusOr<ModelWeights> weights = load_weights(config_, tensors.source());
  ASSERT_THAT(weights, IsOk());
  EXPECT_THAT(build_llama_graph(config_, *weights, LlamaStep::decode, {.context = 17}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("context 17 must be in [1, 16]")));
}

}  // namespace
}  // namespace kiln::frontend
