#include "frontend/tokenizer_loader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "frontend/model_path.h"
#include "nlohmann/json.hpp"

namespace kiln::frontend {
namespace {

using Json = nlohmann::json;

absl::StatusOr<Json> read_json(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat(path.string(), ": cannot open"));
  std::stringstream text;
  text << file.rdbuf();
  Json document = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not a JSON object"));
  }
  return document;
}

// tokenizer_config.json names special tokens as "<s>" or {"content": "<s>"}.
absl::StatusOr<std::optional<int32_t>> config_token(const Json& config, const char* key,
                                                    const TokenizerSpec& spec,
                                                    const std::filesystem::path& path) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::nullopt;
  const Json* content = it->is_object() && it->contains("content") ? &(*it)["content"] : &*it;
  if (!content->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", key, " is not a token"));
  }
  for (size_t id = 0; id < spec.tokens.size(); ++id) {
    if (spec.tokens[id].piece == content->get_ref<const std::string&>()) {
      return static_cast<int32_t>(id);
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", key, " '",
                                                 content->get<std::string>(),
                                                 "' is not in the vocabulary"));
}

// transformers takes BOS/EOS from tokenizer_config.json, and for Llama
// tokenizers lets add_bos_token/add_eos_token override the template.
absl::Status apply_tokenizer_config(const std::filesystem::path& path, TokenizerSpec& spec) {
  absl::StatusOr<Json> config = read_json(path);
  if (!config.ok()) return config.status();
  for (const auto& [key, id] : {std::pair{"bos_token", &spec.bos_id},
                                std::pair{"eos_token", &spec.eos_id}}) {
    absl::StatusOr<std::optional<int32_t>> token = config_token(*config, key, spec, path);
    if (!token.ok()) return token.status();
    if (*token) *id = *token;
  }
  for (const auto& [key, add] : {std::pair{"add_bos_token", &spec.add_bos},
                                 std::pair{"add_eos_token", &spec.add_eos}}) {
    const auto it = config->find(key);
    if (it == config->end() || it->is_null()) continue;
    if (!it->is_boolean()) {
      return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", key,
                                                     " is not true or false"));
    }
    *add = it->get<bool>();
  }
  return absl::OkStatus();
}

// generation_config.json's eos_token_id: one id or a list, all of which end
// generation (Llama 3 lists <|end_of_text|>, <|eom_id|>, <|eot_id|>).
absl::Status apply_generation_config(const std::filesystem::path& path, TokenizerSpec& spec) {
  absl::StatusOr<Json> config = read_json(path);
  if (!config.ok()) return config.status();
  const auto it = config->find("eos_token_id");
  if (it == config->end() || it->is_null()) return absl::OkStatus();
  const Json ids = it->is_array() ? *it : Json::array({*it});
  for (const Json& id : ids) {
    if (!id.is_number_integer()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path.string(), ": eos_token_id holds ", id.dump(), ", not a token id"));
    }
    spec.end_of_generation_ids.push_back(id.get<int32_t>());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TokenizerSpec> read_hf_tokenizer_folder(const std::string& dir) {
  const std::filesystem::path folder(dir);
  std::error_code ignored;
  absl::StatusOr<TokenizerSpec> spec;
  if (std::filesystem::exists(folder / "tokenizer.json", ignored)) {
    spec = read_tokenizer_json((folder / "tokenizer.json").string());
  } else if (std::filesystem::exists(folder / "tokenizer.model", ignored)) {
    spec = read_sentencepiece_model_file((folder / "tokenizer.model").string());
  } else {
    return absl::NotFoundError(absl::StrCat(dir, ": no tokenizer.json or tokenizer.model"));
  }
  if (!spec.ok()) return spec.status();
  for (const auto& [name, apply] : {std::pair{"tokenizer_config.json", &apply_tokenizer_config},
                                    std::pair{"generation_config.json", &apply_generation_config}}) {
    if (!std::filesystem::exists(folder / name, ignored)) continue;
    if (absl::Status status = apply(folder / name, *spec); !status.ok()) return status;
  }
  return spec;
}

absl::StatusOr<Tokenizer> load_tokenizer(const std::string& path) {
  std::error_code error;
  absl::StatusOr<TokenizerSpec> spec;
  if (std::filesystem::is_directory(path, error)) {
    spec = read_hf_tokenizer_folder(path);
  } else if (!std::filesystem::exists(path, error)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file or folder"));
  } else if (starts_with_gguf_magic(path)) {
    absl::StatusOr<GgufFile> gguf = GgufFile::open(path);
    if (!gguf.ok()) return gguf.status();
    spec = read_gguf_tokenizer(*gguf);
  } else if (path.ends_with(".json")) {
    spec = read_tokenizer_json(path);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": expected a GGUF file, a tokenizer.json or a Hugging Face model folder"));
  }
  if (!spec.ok()) return spec.status();
  return Tokenizer::create(*std::move(spec));
}

}  // namespace kiln::frontend
