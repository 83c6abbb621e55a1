#include "frontend/llama_builder.h"

#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"

namespace kiln::frontend {
namespace {

using ir::Attributes;
using ir::Dim;
using ir::Value;

// Assigns the value of a StatusOr expression or returns its error.
#define KILN_TRY(lhs, expr)                                  \
  auto lhs##_or = (expr);                                    \
  if (!lhs##_or.ok()) return lhs##_or.status();              \
  Value* lhs = *lhs##_or

// Emits one graph; each method adds one block of the decoder and returns
// its result value.
class LlamaGraphBuilder {
 public:
  LlamaGraphBuilder(const ModelConfig& config, const ModelWeights& weights, LlamaStep step,
                    const LlamaGraphOptions& options)
      : config_(config), weights_(weights), step_(step), options_(options),
        tokens_(step == LlamaStep::prefill ? Dim::symbol("T") : Dim(1)) {}

  absl::StatusOr<ir::Graph> build() {
    if (absl::Status s = declare_interface(); !s.ok()) return s;
    KILN_TRY(x, embed());
    for (int64_t layer = 0; layer < config_.num_layers; ++layer) {
      KILN_TRY(attended, attention_block(x, layer));
      KILN_TRY(mixed, ffn_block(attended, layer));
      x = mixed;
    }
    KILN_TRY(logits, lm_head(x));
    std::vector<Value*> outputs = {logits};
    if (options_.sampling.k > 0) {
      absl::StatusOr<std::vector<Value*>> candidates = sample(logits);
      if (!candidates.ok()) return candidates.status();
      outputs.insert(outputs.end(), candidates->begin(), candidates->end());
    }
    graph_.set_outputs(outputs);
    return std::move(graph_);
  }

 private:
  absl::Status declare_interface() {
    if (step_ == LlamaStep::prefill) {
      if (absl::Status s = graph_.declare_symbol("T", options_.prefill_tokens); !s.ok()) return s;
    }
    // P + T <= context with T >= 1; a context of 1 still declares P (bound 1)
    // so that both graphs read the same uniforms.
    if (absl::Status s = graph_.declare_symbol("P", std::max<int64_t>(options_.context - 1, 1)); !s.ok()) return s;
    absl::StatusOr<Value*> tokens = graph_.add_input(kTokensInput, {ir::DType::i32, {tokens_}});
    if (!tokens.ok()) return tokens.status();
    tokens_input_ = *tokens;
    if (options_.sampling.k > 0 && options_.sampling.penalty != 1.0) {
      absl::StatusOr<Value*> recent =
          graph_.add_input(kRecentInput, {ir::DType::i32, {Dim(std::max<int64_t>(options_.sampling.window, 1))}});
      if (!recent.ok()) return recent.status();
      recent_input_ = *recent;
    }
    const ir::Shape cache_shape = {Dim(options_.context), Dim(config_.num_kv_heads), Dim(config_.head_dim)};
    for (int64_t layer = 0; layer < config_.num_layers; ++layer) {
      for (char which : {'k', 'v'}) {
        absl::StatusOr<Value*> cache = graph_.add_state(kv_cache_name(layer, which), {options_.cache_dtype, cache_shape});
        if (!cache.ok()) return cache.status();
        caches_[{layer, which}] = *cache;
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Value*> op(std::string_view name, std::string_view op_name, std::vector<Value*> inputs,
                            Attributes attrs = {}) {
    absl::StatusOr<ir::Node*> node =
        graph_.add_node(op_name, std::move(inputs), std::move(attrs), {std::string(name)});
    if (!node.ok()) return node.status();
    return (*node)->output();
  }

  // The graph value of a file tensor, created on first use: a tied model's
  // embedding and lm head are one value, hence one weight-table entry.
  absl::StatusOr<Value*> weight(const TensorData& tensor) {
    if (auto it = weight_values_.find(tensor.name); it != weight_values_.end()) return it->second;
    ir::Shape shape(tensor.shape.begin(), tensor.shape.end());
    ir::WeightData data{.owner = tensor.owner, .bytes = tensor.data, .size = tensor.bytes,
                        .source = absl::StrCat(weights_.path(), ":", tensor.name)};
    absl::StatusOr<Value*> value = graph_.add_weight(tensor.name, {tensor.dtype, std::move(shape)}, std::move(data));
    if (value.ok()) weight_values_[tensor.name] = *value;
    return value;
  }

  absl::StatusOr<Value*> to_f32(std::string_view name, Value* x) {
    if (x->type().dtype == ir::DType::f32) return x;
    return op(name, "cast", {x}, {{"dtype", std::string("f32")}});
  }

  absl::StatusOr<Value*> embed() {
    KILN_TRY(table, weight(weights_.get(WeightRole::token_embedding)));
    KILN_TRY(rows, op("embed", "embedding", {table, tokens_input_}));
    return to_f32("embed.f32", rows);
  }

  absl::StatusOr<Value*> norm(std::string_view name, Value* x, WeightRole role, int64_t layer) {
    KILN_TRY(w, weight(weights_.get(role, layer)));
    return op(name, "rmsnorm", {x, w}, {{"eps", config_.rms_norm_eps}});
  }

  // x @ W^T (+ bias): projections are stored [out, in].
  absl::StatusOr<Value*> linear(std::string_view name, Value* x, WeightRole role, WeightRole bias_role,
                                int64_t layer) {
    KILN_TRY(w, weight(weights_.get(role, layer)));
    std::vector<Value*> inputs = {x, w};
    if (const TensorData* bias = weights_.find(bias_role, layer)) {
      KILN_TRY(b, weight(*bias));
      inputs.push_back(b);
    }
    return op(name, "matmul", std::move(inputs), {{"transpose_b", true}});
  }

  absl::StatusOr<Value*> heads(std::string_view name, Value* x, int64_t count) {
    return op(name, "reshape", {x}, {{"shape", ir::Shape{Dim(0), Dim(count), Dim(config_.head_dim)}}});
  }

  absl::StatusOr<Value*> rope(std::string_view name, Value* x) {
    const RopeConfig& rope = config_.rope;
    return op(name, "rope", {x},
              {{"theta", rope.theta},
               {"rotary_dim", config_.head_dim},
               {"interleaved", rope.interleaved},
               {"scaling_factor", rope.scaling_factor},
               {"scaling_low_freq_factor", rope.low_freq_factor},
               {"scaling_high_freq_factor", rope.high_freq_factor},
               {"scaling_original_context", rope.original_context}});
  }

  absl::StatusOr<Value*> attention_block(Value* x, int64_t layer) {
    const std::string p = absl::StrCat("l", layer, ".");
    KILN_TRY(h, norm(p + "attn_norm", x, WeightRole::attn_norm, layer));
    KILN_TRY(q, linear(p + "q", h, WeightRole::q, WeightRole::q_bias, layer));
    KILN_TRY(k, linear(p + "k", h, WeightRole::k, WeightRole::k_bias, layer));
    KILN_TRY(v, linear(p + "v", h, WeightRole::v, WeightRole::v_bias, layer));
    KILN_TRY(q_heads, heads(p + "q_heads", q, config_.num_heads));
    KILN_TRY(k_heads, heads(p + "k_heads", k, config_.num_kv_heads));
    KILN_TRY(v_heads, heads(p + "v_heads", v, config_.num_kv_heads));
    KILN_TRY(q_rot, rope(p + "q_rope", q_heads));
    KILN_TRY(k_rot, rope(p + "k_rope", k_heads));
    KILN_TRY(k_cache, op(p + "k_cache", "kv_write", {caches_[{layer, 'k'}], k_rot}));
    KILN_TRY(v_cache, op(p + "v_cache", "kv_write", {caches_[{layer, 'v'}], v_heads}));
    const double scale = 1.0 / std::sqrt(static_cast<double>(config_.head_dim));
    KILN_TRY(attended, op(p + "attn", "attention", {q_rot, k_cache, v_cache}, {{"causal", true}, {"scale", scale}}));
    KILN_TRY(flat, op(p + "attn_flat", "reshape", {attended},
                      {{"shape", ir::Shape{Dim(0), Dim(config_.num_heads * config_.head_dim)}}}));
    KILN_TRY(projected, linear(p + "o", flat, WeightRole::o, WeightRole::o_bias, layer));
    return op(p + "attn_residual", "add", {x, projected});
  }

  absl::StatusOr<Value*> ffn_block(Value* x, int64_t layer) {
    const std::string p = absl::StrCat("l", layer, ".");
    KILN_TRY(h, norm(p + "ffn_norm", x, WeightRole::ffn_norm, layer));
    KILN_TRY(g, linear(p + "gate", h, WeightRole::gate, WeightRole::gate_bias, layer));
    KILN_TRY(u, linear(p + "up", h, WeightRole::up, WeightRole::up_bias, layer));
    KILN_TRY(activated, op(p + "gate_silu", "silu", {g}));
    KILN_TRY(product, op(p + "gate_up", "mul", {activated, u}));
    KILN_TRY(d, linear(p + "down", product, WeightRole::down, WeightRole::down_bias, layer));
    return op(p + "ffn_residual", "add", {x, d});
  }

  // Only the last row's logits feed the sampler: prefill normalises and
  // projects that row alone unless every row's logits are asked for.
  absl::StatusOr<Value*> lm_head(Value* x) {
    if (step_ == LlamaStep::prefill && !options_.all_logits) {
      absl::StatusOr<Value*> last = op("last_row", "slice", {x}, {{"axis", int64_t{0}}, {"start", int64_t{-1}}});
      if (!last.ok()) return last.status();
      x = *last;
    }
    KILN_TRY(h, norm("output_norm", x, WeightRole::output_norm, -1));
    const TensorData* head = weights_.find(WeightRole::lm_head);
    KILN_TRY(w, weight(head != nullptr ? *head : weights_.get(WeightRole::token_embedding)));
    return op(kLogitsOutput, "matmul", {h, w}, {{"transpose_b", true}});
  }

  absl::StatusOr<std::vector<Value*>> sample(Value* logits) {
    std::vector<Value*> inputs = {logits};
    if (recent_input_ != nullptr) inputs.push_back(recent_input_);
    absl::StatusOr<ir::Node*> node = graph_.add_node(
        "top_k", std::move(inputs), {{"k", options_.sampling.k}, {"penalty", options_.sampling.penalty}},
        {kIdsOutput, kValuesOutput});
    if (!node.ok()) return node.status();
    return (*node)->outputs();
  }

  const ModelConfig& config_;
  const ModelWeights& weights_;
  LlamaStep step_;
  LlamaGraphOptions options_;
  Dim tokens_;
  ir::Graph graph_;
  Value* tokens_input_ = nullptr;
  Value* recent_input_ = nullptr;
  std::map<std::pair<int64_t, char>, Value*> caches_;
  std::map<std::string, Value*> weight_values_;
};

#undef KILN_TRY

}  // namespace

std::string kv_cache_name(int64_t layer, char which) { return absl::StrCat("kv.", layer, ".", std::string(1, which)); }

absl::StatusOr<ir::Graph> build_llama_graph(const ModelConfig& config, const ModelWeights& weights,
                                            LlamaStep step, const LlamaGraphOptions& options) {
  if (options.context < 1 || options.context > config.max_context) {
    return absl::InvalidArgumentError(absl::StrCat("context ", options.context, " must be in [1, ",
                                                   config.max_context, "] (the model's context)"));
  }
  if (step == LlamaStep::prefill && options.prefill_tokens < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("prefill chunk ", options.prefill_tokens, " must be at least 1 token"));
  }
  return LlamaGraphBuilder(config, weights, step, options).build();
}

}  // namespace kiln::frontend
