#include "frontend/model_config.h"

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "frontend/gguf.h"
#include "frontend/gguf_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/frontend/scratch_dir.h"
#include "tests/frontend/status_matchers.h"

namespace kiln::frontend {
namespace {

using ::kiln::testing::IsOk;
using ::kiln::testing::StatusIs;
using ::testing::HasSubstr;
using json = nlohmann::json;

json llama_json() {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"vocab_size", 300},
          {"hidden_size", 72},
          {"intermediate_size", 100},
          {"num_hidden_layers", 2},
          {"num_attention_heads", 6},
          {"num_key_value_heads", 2},
          {"max_position_embeddings", 64},
          {"rms_norm_eps", 1e-5},
          {"rope_theta", 10000.0},
          {"bos_token_id", 1},
          {"eos_token_id", 2}};
}

absl::StatusOr<ModelConfig> parse(const json& config) { return config_from_hf_json(config.dump(), "config.json"); }

TEST(ModelConfigHfTest, ReadsALlamaConfig) {
  absl::StatusOr<ModelConfig> config = parse(llama_json());
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->architecture, "LlamaForCausalLM");
  EXPECT_EQ(config->format, WeightFormat::hf);
  EXPECT_EQ(config->hidden_size, 72);
  EXPECT_EQ(config->num_kv_heads, 2);
  EXPECT_EQ(config->head_dim, 12);  // hidden / heads when not given
  EXPECT_EQ(config->max_context, 64);
  EXPECT_DOUBLE_EQ(config->rms_norm_eps, 1e-5);
  EXPECT_FALSE(config->rope.interleaved);
  EXPECT_EQ(config->rope.original_context, 0);
  EXPECT_FALSE(config->qkv_bias);
  EXPECT_FALSE(config->tie_word_embeddings);
  EXPECT_EQ(config->bos_token_id, 1);
  EXPECT_EQ(config->eos_token_ids, std::vector<int32_t>{2});
}

TEST(ModelConfigHfTest, DefaultsKvHeadsToHeadsAndTakesAnExplicitHeadDim) {
  json j = llama_json();
  j.erase("num_key_value_heads");
  j["head_dim"] = 20;
  absl::StatusOr<ModelConfig> config = parse(j);
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->num_kv_heads, 6);
  EXPECT_EQ(config->head_dim, 20);
}

TEST(ModelConfigHfTest, ReadsLlama3RopeScalingAndEosLists) {
  json j = llama_json();
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  j["eos_token_id"] = {128001, 128008, 128009};
  j["vocab_size"] = 128256;
  absl::StatusOr<ModelConfig> config = parse(j);
  ASSERT_THAT(config, IsOk());
  EXPECT_DOUBLE_EQ(config->rope.scaling_factor, 8.0);
  EXPECT_EQ(config->rope.original_context, 8192);
  EXPECT_EQ(config->eos_token_ids, (std::vector<int32_t>{128001, 128008, 128009}));
}

TEST(ModelConfigHfTest, ReadsTransformers5RopeParameters) {
  json j = llama_json();
  j.erase("rope_theta");
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 500000.0}};
  absl::StatusOr<ModelConfig> config = parse(j);
  ASSERT_THAT(config, IsOk());
  EXPECT_DOUBLE_EQ(config->rope.theta, 500000.0);
}

TEST(ModelConfigHfTest, Qwen2HasQkvBiasesAndMistralHonoursItsWindow) {
  json qwen = llama_json();
  qwen["architectures"] = {"Qwen2ForCausalLM"};
  qwen["sliding_window"] = 16;  // ignored: use_sliding_window is false
  absl::StatusOr<ModelConfig> q = parse(qwen);
  ASSERT_THAT(q, IsOk());
  EXPECT_TRUE(q->qkv_bias);
  EXPECT_FALSE(q->o_bias);
  EXPECT_EQ(q->max_context, 64);

  json mistral = llama_json();
  mistral["architectures"] = {"MistralForCausalLM"};
  mistral["sliding_window"] = 32;
  absl::StatusOr<ModelConfig> m = parse(mistral);
  ASSERT_THAT(m, IsOk());
  EXPECT_EQ(m->max_context, 32);
  mistral["sliding_window"] = nullptr;
  EXPECT_EQ(parse(mistral)->max_context, 64);
}

TEST(ModelConfigHfTest, RefusesAnUnsupportedArchitectureByName) {
  json j = llama_json();
  j["architectures"] = {"GPT2LMHeadModel"};
  EXPECT_THAT(parse(j), StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("config.json: architecture 'GPT2LMHeadModel' is not supported "
                                           "(supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)")));
}

TEST(ModelConfigHfTest, RefusesUnsupportedRopeScalingAndActivation) {
  json j = llama_json();
  j["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}};
  EXPECT_THAT(parse(j), StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("rope scaling type 'yarn' is not supported (supported: llama3)")));
  j = llama_json();
  j["hidden_act"] = "gelu";
  EXPECT_THAT(parse(j), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hidden_act 'gelu'")));
}

TEST(ModelConfigHfTest, NamesMissingAndMistypedFields) {
  json j = llama_json();
  j.erase("hidden_size");
  EXPECT_THAT(parse(j), StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("config.json: missing field 'hidden_size'")));
  j = llama_json();
  j["num_hidden_layers"] = "two";
  EXPECT_THAT(parse(j), StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("field 'num_hidden_layers' must be an integer, found \"two\"")));
  EXPECT_THAT(config_from_hf_json("{not json", "config.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("config.json: not valid JSON")));
}

TEST(ModelConfigHfTest, RefusesInconsistentSizes) {
  json j = llama_json();
  j["num_key_value_heads"] = 4;
  EXPECT_THAT(parse(j), StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("num_attention_heads 6 is not a multiple of num_key_value_heads 4")));
  j = llama_json();
  j["hidden_size"] = 0;
  EXPECT_THAT(parse(j), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hidden_size must be positive")));
  j = llama_json();
  j["eos_token_id"] = 300;
  EXPECT_THAT(parse(j), StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("special token id 300 is outside the vocabulary [0, 300)")));
  j = llama_json();
  j["head_dim"] = 13;
  EXPECT_THAT(parse(j), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("head_dim must be even")));
}

// ---- GGUF metadata ------------------------------------------------------------

class ModelConfigGgufTest : public ::testing::Test {
 protected:
  void SetUp() override { write_metadata("llama"); }

  void write_metadata(const std::string& arch) {
    writer_ = GgufWriter();
    writer_.set("general.architecture", GgufValue::string(arch));
    writer_.set(arch + ".context_length", GgufValue::u32(64));
    writer_.set(arch + ".embedding_length", GgufValue::u32(72));
    writer_.set(arch + ".block_count", GgufValue::u32(2));
    writer_.set(arch + ".feed_forward_length", GgufValue::u32(100));
    writer_.set(arch + ".attention.head_count", GgufValue::u32(6));
    writer_.set(arch + ".attention.head_count_kv", GgufValue::u32(2));
    writer_.set(arch + ".rope.freq_base", GgufValue::f32(500000.0f));
    writer_.set(arch + ".attention.layer_norm_rms_epsilon", GgufValue::f32(1e-5f));
    writer_.set("tokenizer.ggml.bos_token_id", GgufValue::u32(1));
    writer_.set("tokenizer.ggml.eos_token_id", GgufValue::u32(2));
    add_tensor("token_embd.weight", {300, 72});
  }

  void add_tensor(const std::string& name, std::vector<int64_t> shape, std::vector<float> values = {}) {
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    if (values.empty()) values.assign(count, 0.0f);
    ASSERT_THAT(writer_.add_tensor(name, ir::DType::f32, std::move(shape), values.data()), IsOk());
  }

  absl::StatusOr<ModelConfig> read() {
    const std::string path = dir_.file("model.gguf");
    if (absl::Status s = writer_.write(path); !s.ok()) return s;
    absl::StatusOr<GgufFile> gguf = GgufFile::open(path);
    if (!gguf.ok()) return gguf.status();
    return config_from_gguf(*gguf);
  }

  // rope_freqs.weight as llama.cpp's converter computes it.
  static std::vector<float> llama3_factors(double theta, int64_t head_dim, double factor) {
    std::vector<float> factors;
    for (int64_t i = 0; i < head_dim / 2; ++i) {
      const double wavelength = 2 * M_PI * std::pow(theta, 2.0 * i / head_dim);
      if (wavelength < 8192 / 4.0) {
        factors.push_back(1.0f);
      } else if (wavelength > 8192 / 1.0) {
        factors.push_back(static_cast<float>(factor));
      } else {
        const double smooth = (8192 / wavelength - 1.0) / (4.0 - 1.0);
        factors.push_back(static_cast<float>(1 / ((1 - smooth) / factor + smooth)));
      }
    }
    return factors;
  }

  kiln::testing::ScratchDir dir_;
  GgufWriter writer_;
};

TEST_F(ModelConfigGgufTest, ReadsLlamaMetadata) {
  absl::StatusOr<ModelConfig> config = read();
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->architecture, "LlamaForCausalLM");
  EXPECT_EQ(config->format, WeightFormat::gguf);
  EXPECT_EQ(config->vocab_size, 300);  // from token_embd.weight's rows
  EXPECT_EQ(config->head_dim, 12);
  EXPECT_EQ(config->num_kv_heads, 2);
  EXPECT_DOUBLE_EQ(config->rope.theta, 500000.0);
  EXPECT_TRUE(config->rope.interleaved);  // the converter permuted q/k rows
  EXPECT_TRUE(config->tie_word_embeddings);  // no output.weight
  EXPECT_EQ(config->bos_token_id, 1);
}

TEST_F(ModelConfigGgufTest, Qwen2RotatesHalvesAndHasBiases) {
  write_metadata("qwen2");
  absl::StatusOr<ModelConfig> config = read();
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->architecture, "Qwen2ForCausalLM");
  EXPECT_FALSE(config->rope.interleaved);
  EXPECT_TRUE(config->qkv_bias);
}

TEST_F(ModelConfigGgufTest, RefusesAnUnsupportedArchitectureByName) {
  writer_.set("general.architecture", GgufValue::string("gpt2"));
  EXPECT_THAT(read(), StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("architecture 'gpt2' is not supported (supported: llama, qwen2)")));
}

TEST_F(ModelConfigGgufTest, NamesAMissingKey) {
  GgufWriter fresh;
  fresh.set("general.architecture", GgufValue::string("llama"));
  writer_ = std::move(fresh);
  EXPECT_THAT(read(), StatusIs(absl::StatusCode::kNotFound, HasSubstr("llama.context_length")));
}

TEST_F(ModelConfigGgufTest, InvalidSizesNameTheGgufKeys) {
  writer_.set("llama.attention.head_count_kv", GgufValue::u32(4));
  EXPECT_THAT(read(), StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("model.gguf: llama.attention.head_count (num_attention_heads) 6 is not a "
                                         "multiple of llama.attention.head_count_kv (num_key_value_heads) 4")));
  write_metadata("qwen2");
  writer_.set("qwen2.block_count", GgufValue::u32(0));
  EXPECT_THAT(read(), StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("qwen2.block_count (num_hidden_layers) must be positive, found 0")));
}

TEST_F(ModelConfigGgufTest, RecoversLlama3ScalingFromRopeFreqs) {
  add_tensor("rope_freqs.weight", {6}, llama3_factors(500000.0, 12, 8.0));
  absl::StatusOr<ModelConfig> config = read();
  ASSERT_THAT(config, IsOk());
  EXPECT_DOUBLE_EQ(config->rope.scaling_factor, 8.0);
  EXPECT_EQ(config->rope.original_context, 8192);
  EXPECT_DOUBLE_EQ(config->rope.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(config->rope.high_freq_factor, 4.0);
}

TEST_F(ModelConfigGgufTest, RefusesRopeFreqsThatAreNotLlama3) {
  add_tensor("rope_freqs.weight", {6}, {1, 1, 2, 2, 2, 2});
  EXPECT_THAT(read(), StatusIs(absl::StatusCode::kUnimplemented,
                               HasSubstr("tensor 'rope_freqs.weight': entry 2 is 2, but llama3 scaling (factor 2")));
}

TEST_F(ModelConfigGgufTest, RefusesPartialRotaryAndOtherScaling) {
  writer_.set("llama.rope.dimension_count", GgufValue::u32(8));
  EXPECT_THAT(read(), StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("llama.rope.dimension_count 8 differs from the head dim 12")));
  writer_.set("llama.rope.dimension_count", GgufValue::u32(12));
  writer_.set("llama.rope.scaling.type", GgufValue::string("yarn"));
  EXPECT_THAT(read(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("rope scaling type 'yarn'")));
}

}  // namespace
}  // namespace kiln::frontend
