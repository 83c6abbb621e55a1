#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "frontend/tokenizer_json_fields.h"
#include "frontend/tokenizer_json_pipeline.h"
#include "frontend/tokenizer_loader.h"

namespace kiln::frontend {
namespace {

using Json = nlohmann::json;

// Reads the model and added_tokens of a tokenizer.json, then its pipeline
// sections (tokenizer_json_pipeline.h), into one TokenizerSpec.
class TokenizerJsonReader {
 public:
  explicit TokenizerJsonReader(std::string path) : fields_(std::move(path)) {}

  absl::StatusOr<TokenizerSpec> read(const Json& document);

 private:
  // An entry of added_tokens, applied once the vocabulary is complete.
  struct Added {
    size_t id = 0;
    bool special = false;
    bool lstrip = false;
    bool rstrip = false;
  };

  absl::Status place(size_t id, const std::string& piece, const std::string& where);
  absl::Status read_vocab(const Json& model);
  absl::Status read_merges(const Json& model);
  absl::Status read_model(const Json& model);
  absl::Status read_added_token(const Json& token, const std::string& where);
  absl::Status read_pipeline(const Json& document);
  absl::Status finish_vocabulary();

  TokenizerJsonFields fields_;
  TokenizerSpec spec_;
  std::vector<std::optional<std::string>> pieces_;  // by id, until gaps are ruled out
  std::vector<Added> added_;
  std::optional<std::string> unknown_piece_;
  bool byte_level_decoder_ = false;
};

// Puts `piece` at `id`; an added token may restate a piece of the vocabulary.
absl::Status TokenizerJsonReader::place(size_t id, const std::string& piece,
                                        const std::string& where) {
  if (id >= pieces_.size()) pieces_.resize(id + 1);
  if (pieces_[id] && *pieces_[id] != piece) {
    return fields_.error(where, absl::StrCat("'", piece, "' and '", *pieces_[id],
                                             "' share id ", id));
  }
  pieces_[id] = piece;
  return absl::OkStatus();
}

absl::Status TokenizerJsonReader::read_vocab(const Json& model) {
  const Json* vocab = TokenizerJsonFields::optional(model, "vocab");
  if (vocab == nullptr || !vocab->is_object()) {
    return fields_.error("model.vocab", "expected an object");
  }
  for (const auto& [piece, id] : vocab->items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
      return fields_.error("model.vocab", absl::StrCat("'", piece, "' has no valid id"));
    }
    if (absl::Status status = place(id.get<size_t>(), piece, "model.vocab"); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

// Each merge is "left right" (older files) or ["left", "right"].
absl::Status TokenizerJsonReader::read_merges(const Json& model) {
  if (TokenizerJsonFields::optional(model, "merges") == nullptr) return absl::OkStatus();
  return fields_.for_each(model, "merges", "model", [&](const Json& merge, const std::string& at) {
    if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      spec_.merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
      return absl::OkStatus();
    }
    const std::string text = merge.is_string() ? merge.get<std::string>() : "";
    const size_t space = text.find(' ');
    if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
      return fields_.error(at, "expected \"left right\" or [\"left\", \"right\"]");
    }
    spec_.merges.emplace_back(text.substr(0, space), text.substr(space + 1));
    return absl::OkStatus();
  });
}

absl::Status TokenizerJsonReader::read_model(const Json& model) {
  if (!model.is_object()) return fields_.error("model", "expected an object");
  const Json* type = TokenizerJsonFields::optional(model, "type");
  if (type != nullptr && *type != "BPE") {
    return fields_.unsupported("model", absl::StrCat("model type ", type->dump()));
  }
  for (std::string_view key : {"continuing_subword_prefix", "end_of_word_suffix", "dropout"}) {
    const Json* value = TokenizerJsonFields::optional(model, key);
    if (value != nullptr && *value != "" && *value != 0) {
      return fields_.unsupported("model", absl::StrCat("'", std::string(key), "' ", value->dump()));
    }
  }
  if (absl::Status status = read_vocab(model); !status.ok()) return status;
  if (absl::Status status = read_merges(model); !status.ok()) return status;
  const absl::Status flags = fields_.flags(model,
                                           {{"byte_fallback", &spec_.byte_fallback},
                                            {"fuse_unk", &spec_.fuse_unknown},
                                            {"ignore_merges", &spec_.ignore_merges}},
                                           "model");
  if (!flags.ok()) return flags;
  if (TokenizerJsonFields::optional(model, "unk_token") != nullptr) {
    absl::StatusOr<std::string> unknown = fields_.string(model, "unk_token", "model");
    if (!unknown.ok()) return unknown.status();
    unknown_piece_ = *std::move(unknown);
  }
  return absl::OkStatus();
}

// HF's single_word (match only as a whole word) would change where tokens
// are found, so it is refused; normalized is ignored: kiln matches added
// tokens on the text as given, which for the special tokens of
// Llama-family models is the same.
absl::Status TokenizerJsonReader::read_added_token(const Json& token, const std::string& where) {
  absl::StatusOr<std::string> content = fields_.string(token, "content", where);
  if (!content.ok()) return content.status();
  const Json* id = TokenizerJsonFields::optional(token, "id");
  if (id == nullptr || !id->is_number_integer() || id->get<int64_t>() < 0 ||
      id->get<int64_t>() > INT32_MAX) {
    return fields_.error(where, "no valid 'id'");
  }
  Added added{id->get<size_t>()};
  bool single_word = false;
  const absl::Status flags = fields_.flags(token,
                                           {{"single_word", &single_word},
                                            {"special", &added.special},
                                            {"lstrip", &added.lstrip},
                                            {"rstrip", &added.rstrip}},
                                           where);
  if (!flags.ok()) return flags;
  if (single_word) return fields_.unsupported(where, "single_word");
  if (absl::Status status = place(added.id, *content, where); !status.ok()) return status;
  added_.push_back(added);
  return absl::OkStatus();
}

absl::Status TokenizerJsonReader::read_pipeline(const Json& document) {
  const auto section = [&](const char* name) { return TokenizerJsonFields::optional(document, name); };
  absl::Status status;
  if (const Json* node = section("normalizer")) {
    status = read_normalizer(fields_, *node, "normalizer", spec_);
  }
  if (const Json* node = section("pre_tokenizer"); node && status.ok()) {
    status = read_pre_tokenizer(fields_, *node, "pre_tokenizer", spec_);
  }
  if (const Json* node = section("decoder"); node && status.ok()) {
    status = read_decoder(fields_, *node, "decoder", spec_, byte_level_decoder_);
  }
  if (const Json* node = section("post_processor"); node && status.ok()) {
    status = read_post_processor(fields_, *node, "post_processor", spec_);
  }
  if (status.ok() && byte_level_decoder_ != (spec_.alphabet == BpeAlphabet::kBytes)) {
    return fields_.error("decoder", byte_level_decoder_
                                        ? "ByteLevel without a ByteLevel pre-tokenizer"
                                        : "a ByteLevel pre-tokenizer needs a ByteLevel decoder");
  }
  return status;
}

// Types follow from what the file says: added tokens are control (special)
// or user-defined, unk_token is the unknown token, and with byte_fallback the
// <0xNN> pieces of a SentencePiece-style vocabulary are byte tokens.
absl::Status TokenizerJsonReader::finish_vocabulary() {
  spec_.tokens.resize(pieces_.size());
  absl::flat_hash_map<std::string, int32_t> ids;
  for (size_t id = 0; id < pieces_.size(); ++id) {
    if (!pieces_[id]) {
      return fields_.error("model.vocab", absl::StrCat("no token has id ", id,
                                                       " (ids must run from 0 without gaps)"));
    }
    TokenSpec& token = spec_.tokens[id];
    token.piece = *std::move(pieces_[id]);
    ids.try_emplace(token.piece, static_cast<int32_t>(id));
    if (spec_.byte_fallback && spec_.alphabet == BpeAlphabet::kCharacters &&
        parse_byte_piece(token.piece)) {
      token.type = TokenType::kByte;
    }
  }
  for (const Added& added : added_) {
    TokenSpec& token = spec_.tokens[added.id];
    token.type = added.special ? TokenType::kControl : TokenType::kUserDefined;
    token.lstrip = added.lstrip;
    token.rstrip = added.rstrip;
  }
  if (!unknown_piece_) return absl::OkStatus();
  const auto it = ids.find(*unknown_piece_);
  if (it == ids.end()) {
    return fields_.error("model.unk_token", absl::StrCat("'", *unknown_piece_, "' is not a token"));
  }
  spec_.unknown_id = it->second;
  spec_.tokens[it->second].type = TokenType::kUnknown;
  return absl::OkStatus();
}

absl::StatusOr<TokenizerSpec> TokenizerJsonReader::read(const Json& document) {
  spec_.source = fields_.path();
  const Json* model = TokenizerJsonFields::optional(document, "model");
  if (model == nullptr) return fields_.error("model", "missing");
  absl::Status status = read_model(*model);
  if (status.ok() && TokenizerJsonFields::optional(document, "added_tokens") != nullptr) {
    status = fields_.for_each(document, "added_tokens", "tokenizer",
                              [&](const Json& token, const std::string& at) {
                                return read_added_token(token, at);
                              });
  }
  if (status.ok()) status = read_pipeline(document);
  if (status.ok()) status = finish_vocabulary();
  if (!status.ok()) return status;
  return std::move(spec_);
}

}  // namespace

absl::StatusOr<TokenizerSpec> read_tokenizer_json(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream text;
  text << file.rdbuf();
  const Json document = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON"));
  }
  return TokenizerJsonReader(path).read(document);
}

}  // namespace kiln::frontend
