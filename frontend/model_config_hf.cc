#include "frontend/model_config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace kiln::frontend {
namespace {

using json = nlohmann::json;

// Reads fields of one JSON object, turning absence, null and wrong types into
// errors that name the file and the field.
class JsonFields {
 public:
  JsonFields(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  bool has(const char* key) const { return object_.contains(key) && !object_[key].is_null(); }

  absl::StatusOr<int64_t> integer(const char* key, std::optional<int64_t> fallback = std::nullopt) const {
    if (!has(key)) return missing<int64_t>(key, fallback);
    const json& value = object_[key];
    if (!value.is_number_integer()) return wrong_type(key, "an integer");
    return value.get<int64_t>();
  }
  absl::StatusOr<double> real(const char* key, std::optional<double> fallback = std::nullopt) const {
    if (!has(key)) return missing<double>(key, fallback);
    const json& value = object_[key];
    if (!value.is_number()) return wrong_type(key, "a number");
    return value.get<double>();
  }
  absl::StatusOr<bool> boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!object_[key].is_boolean()) return wrong_type(key, "true or false");
    return object_[key].get<bool>();
  }
  absl::StatusOr<std::string> string(const char* key, std::optional<std::string> fallback = std::nullopt) const {
    if (!has(key)) return missing<std::string>(key, fallback);
    if (!object_[key].is_string()) return wrong_type(key, "a string");
    return object_[key].get<std::string>();
  }
  // An integer or a list of integers (eos_token_id may be either).
  absl::StatusOr<std::vector<int32_t>> token_ids(const char* key) const {
    if (!has(key)) return std::vector<int32_t>{};
    const json& value = object_[key];
    std::vector<int32_t> ids;
    for (const json& item : value.is_array() ? value : json::array({value})) {
      if (!item.is_number_integer()) return wrong_type(key, "a token id or a list of token ids");
      ids.push_back(static_cast<int32_t>(item.get<int64_t>()));
    }
    return ids;
  }
  const json& object(const char* key) const { return object_[key]; }
  const std::string& path() const { return path_; }

 private:
  template <typename T>
  absl::StatusOr<T> missing(const char* key, const std::optional<T>& fallback) const {
    if (fallback) return *fallback;
    return absl::InvalidArgumentError(absl::StrCat(path_, ": missing field '", key, "'"));
  }
  absl::Status wrong_type(const char* key, std::string_view expected) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": field '", key, "' must be ", std::string(expected),
                                                   ", found ", object_[key].dump()));
  }

  const json& object_;
  std::string path_;
};

#define KILN_ASSIGN(lhs, expr)              \
  do {                                      \
    auto kiln_value_ = (expr);              \
    if (!kiln_value_.ok()) return kiln_value_.status(); \
    lhs = *std::move(kiln_value_);          \
  } while (0)

// rope_theta and rope_scaling, or transformers 5's rope_parameters holding
// both. Only the "default" and "llama3" rope types are supported.
absl::Status read_hf_rope(const JsonFields& fields, ModelConfig& config) {
  const char* scaling_key = fields.has("rope_parameters") ? "rope_parameters" : "rope_scaling";
  KILN_ASSIGN(config.rope.theta, fields.real("rope_theta", 10000.0));
  if (!fields.has(scaling_key)) return absl::OkStatus();
  if (!fields.object(scaling_key).is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(fields.path(), ": field '", scaling_key, "' must be an object"));
  }
  const JsonFields scaling(fields.object(scaling_key), absl::StrCat(fields.path(), ": ", scaling_key));
  if (scaling.has("rope_theta")) KILN_ASSIGN(config.rope.theta, scaling.real("rope_theta"));
  std::string type;
  KILN_ASSIGN(type, scaling.string(scaling.has("rope_type") ? "rope_type" : "type", "default"));
  if (type == "default") return absl::OkStatus();
  if (type != "llama3") {
    return absl::InvalidArgumentError(
        absl::StrCat(fields.path(), ": rope scaling type '", type, "' is not supported (supported: llama3)"));
  }
  KILN_ASSIGN(config.rope.scaling_factor, scaling.real("factor"));
  KILN_ASSIGN(config.rope.low_freq_factor, scaling.real("low_freq_factor", 1.0));
  KILN_ASSIGN(config.rope.high_freq_factor, scaling.real("high_freq_factor", 4.0));
  KILN_ASSIGN(config.rope.original_context, scaling.integer("original_max_position_embeddings"));
  return absl::OkStatus();
}

absl::Status read_hf_sizes(const JsonFields& fields, ModelConfig& config) {
  KILN_ASSIGN(config.vocab_size, fields.integer("vocab_size"));
  KILN_ASSIGN(config.hidden_size, fields.integer("hidden_size"));
  KILN_ASSIGN(config.intermediate_size, fields.integer("intermediate_size"));
  KILN_ASSIGN(config.num_layers, fields.integer("num_hidden_layers"));
  KILN_ASSIGN(config.num_heads, fields.integer("num_attention_heads"));
  KILN_ASSIGN(config.num_kv_heads, fields.integer("num_key_value_heads", config.num_heads));
  const int64_t derived_head_dim = config.num_heads > 0 ? config.hidden_size / config.num_heads : 0;
  KILN_ASSIGN(config.head_dim, fields.integer("head_dim", derived_head_dim));
  KILN_ASSIGN(config.rms_norm_eps, fields.real("rms_norm_eps", 1e-6));
  KILN_ASSIGN(config.max_context, fields.integer("max_position_embeddings", 2048));
  // A sliding window no shorter than the context changes nothing; a shorter
  // one is honoured by never attending beyond it.
  bool sliding = config.architecture == "MistralForCausalLM";
  KILN_ASSIGN(sliding, fields.boolean("use_sliding_window", sliding));
  if (sliding && fields.has("sliding_window")) {
    int64_t window = 0;
    KILN_ASSIGN(window, fields.integer("sliding_window"));
    if (window > 0) config.max_context = std::min(config.max_context, window);
  }
  return absl::OkStatus();
}

absl::Status read_hf_flags(const JsonFields& fields, const ArchitectureInfo& arch, ModelConfig& config) {
  std::string activation;
  KILN_ASSIGN(activation, fields.string("hidden_act", "silu"));
  if (activation != "silu") {
    return absl::InvalidArgumentError(absl::StrCat(fields.path(), ": hidden_act '", activation,
                                                   "' is not supported (supported: silu)"));
  }
  bool attention_bias = false;
  KILN_ASSIGN(attention_bias, fields.boolean("attention_bias", false));
  config.qkv_bias = arch.qkv_bias || attention_bias;
  config.o_bias = attention_bias;
  KILN_ASSIGN(config.mlp_bias, fields.boolean("mlp_bias", false));
  KILN_ASSIGN(config.tie_word_embeddings, fields.boolean("tie_word_embeddings", false));
  std::vector<int32_t> bos;
  KILN_ASSIGN(bos, fields.token_ids("bos_token_id"));
  if (!bos.empty()) config.bos_token_id = bos.front();
  KILN_ASSIGN(config.eos_token_ids, fields.token_ids("eos_token_id"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ModelConfig> config_from_hf_json(std::string_view json_text, const std::string& path) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON: ", e.what()));
  }
  if (!root.is_object()) return absl::InvalidArgumentError(absl::StrCat(path, ": expected a JSON object"));
  const JsonFields fields(root, path);
  const json& architectures = root.contains("architectures") ? root["architectures"] : json();
  if (!architectures.is_array() || architectures.size() != 1 || !architectures[0].is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": field 'architectures' must list exactly one model class, found ",
                     architectures.dump()));
  }
  ModelConfig config;
  config.source = path;
  config.format = WeightFormat::hf;
  config.architecture = architectures[0].get<std::string>();
  absl::StatusOr<const ArchitectureInfo*> arch = find_architecture(config.architecture, WeightFormat::hf, path);
  if (!arch.ok()) return arch.status();
  if (absl::Status s = read_hf_sizes(fields, config); !s.ok()) return s;
  if (absl::Status s = read_hf_rope(fields, config); !s.ok()) return s;
  if (absl::Status s = read_hf_flags(fields, **arch, config); !s.ok()) return s;
  config.rope.interleaved = false;  // HF checkpoints hold unpermuted rows
  if (absl::Status s = validate_config(config); !s.ok()) return s;
  return config;
}

absl::StatusOr<ModelConfig> config_from_hf_folder(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "config.json").string();
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open (an HF model folder needs config.json)"));
  std::stringstream text;
  text << file.rdbuf();
  return config_from_hf_json(text.str(), path);
}

#undef KILN_ASSIGN

}  // namespace kiln::frontend
