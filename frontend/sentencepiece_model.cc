// SentencePiece's tokenizer.model: a serialised ModelProto
// (sentencepiece_model.proto), read with a small protobuf wire-format
// walker rather than a protobuf dependency. Only the fields that decide how
// a BPE model tokenises are read; every other field is skipped, and a
// setting kiln's tokenizer does not implement is refused by name.

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "frontend/byte_reader.h"
#include "frontend/mapped_file.h"
#include "frontend/quoted_text.h"
#include "frontend/tokenizer_loader.h"

namespace kiln::frontend {
namespace {

// Protobuf wire types.
enum class Wire : uint8_t { varint = 0, fixed64 = 1, bytes = 2, fixed32 = 5 };

// One field of a message: its number, and its value as an integer (varint,
// fixed) or bytes (length-delimited).
struct Field {
  uint32_t number = 0;
  Wire wire = Wire::varint;
  uint64_t integer = 0;
  std::span<const uint8_t> bytes;
};

// Walks the fields of one message. Errors name the file and what was read.
class ProtoReader {
 public:
  ProtoReader(std::string_view source, std::span<const uint8_t> bytes) : source_(source), reader_(source, bytes) {}

  bool done() const { return reader_.remaining() == 0; }

  absl::StatusOr<Field> next(std::string_view message) {
    absl::StatusOr<uint64_t> tag = varint(message);
    if (!tag.ok()) return tag.status();
    Field field{.number = static_cast<uint32_t>(*tag >> 3), .wire = static_cast<Wire>(*tag & 7), .integer = 0, .bytes = {}};
    switch (field.wire) {
      case Wire::varint: return with_integer(field, varint(message));
      case Wire::fixed64: return with_integer(field, reader_.read<uint64_t>(message));
      case Wire::fixed32: {
        absl::StatusOr<uint32_t> value = reader_.read<uint32_t>(message);
        if (!value.ok()) return value.status();
        field.integer = *value;
        return field;
      }
      case Wire::bytes: {
        absl::StatusOr<uint64_t> length = varint(message);
        if (!length.ok()) return length.status();
        absl::StatusOr<std::span<const uint8_t>> bytes = reader_.read_bytes(*length, message);
        if (!bytes.ok()) return bytes.status();
        field.bytes = *bytes;
        return field;
      }
    }
    return absl::InvalidArgumentError(absl::StrCat(source_, ": ", std::string(message), ": field ", field.number,
                                                   " has wire type ", *tag & 7, ", which protobuf does not define"
                                                   " (not a SentencePiece model?)"));
  }

 private:
  static absl::StatusOr<Field> with_integer(Field field, absl::StatusOr<uint64_t> value) {
    if (!value.ok()) return value.status();
    field.integer = *value;
    return field;
  }

  absl::StatusOr<uint64_t> varint(std::string_view message) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      absl::StatusOr<uint8_t> byte = reader_.read<uint8_t>(message);
      if (!byte.ok()) return byte.status();
      value |= uint64_t{*byte & 0x7fu} << shift;
      if ((*byte & 0x80) == 0) return value;
    }
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": ", std::string(message), ": a varint longer than 10 bytes"));
  }

  std::string source_;
  ByteReader reader_;
};

std::string_view as_text(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The settings read from the TrainerSpec and NormalizerSpec, with
// sentencepiece's defaults.
struct Settings {
  int64_t model_type = 1;  // UNIGRAM
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  int64_t unk_id = 0, bos_id = 1, eos_id = 2;
  std::string normalizer = "nmt_nfkc";
  bool has_charsmap = false;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

// ModelProto.SentencePiece: 1 piece, 2 score (float), 3 type (NORMAL = 1 ..
// BYTE = 6, as TokenType).
absl::Status read_piece(std::string_view source, std::span<const uint8_t> bytes, TokenizerSpec& spec) {
  TokenSpec token;
  ProtoReader reader(source, bytes);
  const std::string what = absl::StrCat("piece ", spec.tokens.size());
  while (!reader.done()) {
    absl::StatusOr<Field> field = reader.next(what);
    if (!field.ok()) return field.status();
    if (field->number == 1 && field->wire == Wire::bytes) token.piece = std::string(as_text(field->bytes));
    if (field->number == 2 && field->wire == Wire::fixed32) {
      const auto bits = static_cast<uint32_t>(field->integer);
      std::memcpy(&token.score, &bits, sizeof(float));
    }
    if (field->number == 3 && field->wire == Wire::varint) {
      if (field->integer < 1 || field->integer > static_cast<uint64_t>(TokenType::kByte)) {
        return absl::InvalidArgumentError(absl::StrCat(std::string(source), ": ", what, " ", quoted_text(token.piece),
                                                       " has type ", field->integer, ", not 1 to 6"));
      }
      token.type = static_cast<TokenType>(field->integer);
    }
  }
  spec.tokens.push_back(std::move(token));
  return absl::OkStatus();
}

// TrainerSpec: 3 model_type, 24 treat_whitespace_as_suffix, 35
// byte_fallback, 40-42 unk/bos/eos ids (-1: none).
absl::Status read_trainer_spec(std::string_view source, std::span<const uint8_t> bytes, Settings& settings) {
  ProtoReader reader(source, bytes);
  while (!reader.done()) {
    absl::StatusOr<Field> field = reader.next("trainer_spec");
    if (!field.ok()) return field.status();
    if (field->wire != Wire::varint) continue;
    const auto value = static_cast<int64_t>(static_cast<int32_t>(field->integer));  // int32 fields, sign-extended
    switch (field->number) {
      case 3: settings.model_type = value; break;
      case 24: settings.treat_whitespace_as_suffix = value != 0; break;
      case 35: settings.byte_fallback = value != 0; break;
      case 40: settings.unk_id = value; break;
      case 41: settings.bos_id = value; break;
      case 42: settings.eos_id = value; break;
      default: break;
    }
  }
  return absl::OkStatus();
}

// NormalizerSpec: 1 name, 2 precompiled_charsmap, 3 add_dummy_prefix, 4
// remove_extra_whitespaces, 5 escape_whitespaces.
absl::Status read_normalizer_spec(std::string_view source, std::span<const uint8_t> bytes, Settings& settings) {
  ProtoReader reader(source, bytes);
  while (!reader.done()) {
    absl::StatusOr<Field> field = reader.next("normalizer_spec");
    if (!field.ok()) return field.status();
    if (field->number == 1 && field->wire == Wire::bytes) settings.normalizer = std::string(as_text(field->bytes));
    if (field->number == 2 && field->wire == Wire::bytes) settings.has_charsmap = !field->bytes.empty();
    if (field->wire != Wire::varint) continue;
    if (field->number == 3) settings.add_dummy_prefix = field->integer != 0;
    if (field->number == 4) settings.remove_extra_whitespaces = field->integer != 0;
    if (field->number == 5) settings.escape_whitespaces = field->integer != 0;
  }
  return absl::OkStatus();
}

// What kiln's tokenizer runs is sentencepiece's BPE with identity
// normalisation, as Llama, Mistral and TinyLlama ship it; anything else
// would tokenise differently, so it is refused by name.
absl::Status check_supported(std::string_view source, const Settings& settings) {
  const auto refuse = [&](std::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(source), ": ", std::string(what),
                                                   " is not supported (kiln reads BPE models with identity "
                                                   "normalisation, as Llama's tokenizer.model)"));
  };
  if (settings.model_type != 2) {
    static constexpr std::string_view kTypes[] = {"", "unigram", "bpe", "word", "char"};
    const bool known = settings.model_type >= 1 && settings.model_type <= 4;
    return refuse(absl::StrCat("model type ",
                               known ? std::string(kTypes[settings.model_type]) : absl::StrCat(settings.model_type)));
  }
  if (settings.has_charsmap || (settings.normalizer != "identity" && !settings.normalizer.empty())) {
    return refuse(absl::StrCat("normaliser ", quoted_text(settings.normalizer)));
  }
  if (settings.remove_extra_whitespaces) return refuse("remove_extra_whitespaces");
  if (!settings.escape_whitespaces) return refuse("escape_whitespaces off");
  if (settings.treat_whitespace_as_suffix) return refuse("treat_whitespace_as_suffix");
  return absl::OkStatus();
}

std::optional<int32_t> special_id(int64_t id, const TokenizerSpec& spec) {
  if (id < 0 || id >= static_cast<int64_t>(spec.tokens.size())) return std::nullopt;
  return static_cast<int32_t>(id);
}

}  // namespace

absl::StatusOr<TokenizerSpec> read_sentencepiece_model_file(const std::string& path) {
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::open(path);
  if (!file.ok()) return file.status();
  TokenizerSpec spec;
  spec.source = path;
  Settings settings;
  ProtoReader reader(path, (*file)->bytes());
  while (!reader.done()) {
    absl::StatusOr<Field> field = reader.next("ModelProto");
    if (!field.ok()) return field.status();
    if (field->wire != Wire::bytes) continue;
    absl::Status status = absl::OkStatus();
    if (field->number == 1) status = read_piece(path, field->bytes, spec);
    if (field->number == 2) status = read_trainer_spec(path, field->bytes, settings);
    if (field->number == 3) status = read_normalizer_spec(path, field->bytes, settings);
    if (!status.ok()) return status;
  }
  if (spec.tokens.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no pieces (not a SentencePiece model?)"));
  if (absl::Status status = check_supported(path, settings); !status.ok()) return status;

  // As llama.cpp reads the same model from a GGUF `llama` vocabulary
  // (tokenizer_gguf.cc): spaces are "▁", one goes before the text.
  spec.alphabet = BpeAlphabet::kCharacters;
  spec.merge_by_score = true;
  spec.byte_fallback = settings.byte_fallback;
  spec.fuse_unknown = true;
  if (settings.add_dummy_prefix) spec.normalizer.push_back(Prepend{"\u2581"});
  spec.normalizer.push_back(Replace{" ", "\u2581"});
  spec.strip_leading_space = settings.add_dummy_prefix;
  spec.unknown_id = special_id(settings.unk_id, spec);
  spec.bos_id = special_id(settings.bos_id, spec);
  spec.eos_id = special_id(settings.eos_id, spec);
  spec.add_bos = spec.bos_id.has_value();  // transformers' LlamaTokenizer default
  return spec;
}

}  // namespace kiln::frontend
