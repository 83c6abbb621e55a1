// A SentencePiece tokenizer.model in an HF folder without tokenizer.json:
// spm_tiny.model read by hand (no protobuf) against the sentencepiece
// library's ids (spm_tiny_expected.json) and its GGUF export.

#include <filesystem>
#include <string>
#include <vector>

#include "frontend/tokenizer.h"
#include "frontend/tokenizer_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/frontend/scratch_dir.h"
#include "tests/frontend/tokenizer_fixtures.h"

namespace kiln::frontend {
namespace {

using ::kiln::frontend::testing::read_json_file;
using ::kiln::frontend::testing::spm_gguf_keys;
using ::kiln::frontend::testing::tokenizer_data_path;
using ::testing::HasSubstr;
using Json = nlohmann::json;

class SentencePieceFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::copy_file(tokenizer_data_path("spm_tiny.model"), dir_.file("tokenizer.model"));
  }
  kiln::testing::ScratchDir dir_;
};

TEST_F(SentencePieceFolderTest, ReadsThePiecesAsTheGgufExport) {
  absl::StatusOr<TokenizerSpec> spec = read_hf_tokenizer_folder(dir_.file(""));
  ASSERT_TRUE(spec.ok()) << spec.status();
  const Json keys = spm_gguf_keys();
  const auto pieces = keys["tokenizer.ggml.tokens"].get<std::vector<std::string>>();
  const auto scores = keys["tokenizer.ggml.scores"].get<std::vector<float>>();
  const auto types = keys["tokenizer.ggml.token_type"].get<std::vector<int32_t>>();
  ASSERT_EQ(spec->tokens.size(), pieces.size());
  for (size_t id = 0; id < pieces.size(); ++id) {
    EXPECT_EQ(spec->tokens[id].piece, pieces[id]) << id;
    EXPECT_FLOAT_EQ(spec->tokens[id].score, scores[id]) << id;
    EXPECT_EQ(static_cast<int32_t>(spec->tokens[id].type), types[id]) << id;
  }
  EXPECT_EQ(spec->unknown_id, 0);
  EXPECT_EQ(spec->bos_id, 1);
  EXPECT_EQ(spec->eos_id, 2);
  EXPECT_TRUE(spec->byte_fallback);
  EXPECT_TRUE(spec->add_bos);
}

TEST_F(SentencePieceFolderTest, EncodesAndDecodesAsTheSentencePieceLibrary) {
  absl::StatusOr<Tokenizer> tokenizer = load_tokenizer(dir_.file(""));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const Json expected = read_json_file(tokenizer_data_path("spm_tiny_expected.json"));
  for (const Json& c : expected["cases"]) {
    const std::string text = c["text"].get<std::string>();
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tokenizer->encode(text, EncodeOptions{.add_special = false, .parse_special = false}), ids)
        << "text: " << Json(text).dump();
    EXPECT_EQ(tokenizer->decode(ids).value_or("?"), c["decoded"].get<std::string>());
  }
  const std::vector<int32_t> plain = tokenizer->encode("In the beginning", false);
  std::vector<int32_t> with_bos = {1};
  with_bos.insert(with_bos.end(), plain.begin(), plain.end());
  EXPECT_EQ(tokenizer->encode("In the beginning", true), with_bos);
}

TEST_F(SentencePieceFolderTest, TokenizerConfigStillApplies) {
  dir_.write_text("tokenizer_config.json", R"({"add_bos_token": false, "eos_token": "<s>"})");
  absl::StatusOr<Tokenizer> tokenizer = load_tokenizer(dir_.file(""));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ(tokenizer->eos_id(), 1);
  EXPECT_EQ(tokenizer->encode("In", true), tokenizer->encode("In", false));
}

// ---- refusals --------------------------------------------------------------

// A ModelProto by hand: field 1 pieces, 2 trainer_spec, 3 normalizer_spec.
std::string varint(uint64_t value) {
  std::string out;
  do {
    out.push_back(static_cast<char>((value & 0x7f) | (value > 0x7f ? 0x80 : 0)));
    value >>= 7;
  } while (value != 0);
  return out;
}
std::string field(uint32_t number, const std::string& bytes) { return varint(number << 3 | 2) + varint(bytes.size()) + bytes; }
std::string field(uint32_t number, uint64_t value) { return varint(number << 3) + varint(value); }

std::string model_proto(const std::string& trainer, const std::string& normalizer) {
  return field(1, field(1, std::string("<unk>")) + field(3, 2)) + field(1, field(1, std::string("a"))) +
         field(2, trainer) + field(3, normalizer);
}

std::string load_error(const kiln::testing::ScratchDir& dir, const std::string& bytes) {
  const std::string path = dir.write_text("tokenizer.model", bytes);
  absl::StatusOr<TokenizerSpec> spec = read_sentencepiece_model_file(path);
  EXPECT_FALSE(spec.ok());
  return std::string(spec.status().message());
}

TEST(SentencePieceModelErrorsTest, WhatKilnDoesNotRunIsRefusedByName) {
  const kiln::testing::ScratchDir dir;
  const std::string identity = field(1, std::string("identity")) + field(4, 0);
  EXPECT_THAT(load_error(dir, model_proto(field(3, 1), identity)), HasSubstr("model type unigram is not supported"));
  EXPECT_THAT(load_error(dir, model_proto(field(3, 2), field(1, std::string("nmt_nfkc")) + field(4, 0))),
              HasSubstr("normaliser 'nmt_nfkc' is not supported"));
  EXPECT_THAT(load_error(dir, model_proto(field(3, 2), field(1, std::string("identity")))),
              HasSubstr("remove_extra_whitespaces is not supported"));
  const std::string path = dir.write_text("tokenizer.model", model_proto(field(3, 2), identity));
  absl::StatusOr<TokenizerSpec> spec = read_sentencepiece_model_file(path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->tokens.size(), 2u);
  EXPECT_EQ(spec->tokens[0].type, TokenType::kUnknown);
  EXPECT_EQ(spec->bos_id, 1);             // sentencepiece's default ids: BOS 1,
  EXPECT_EQ(spec->eos_id, std::nullopt);  // EOS 2, beyond these two pieces
}

TEST(SentencePieceModelErrorsTest, ATruncatedOrForeignFileNamesTheFile) {
  const kiln::testing::ScratchDir dir;
  const std::string whole = model_proto(field(3, 2), field(1, std::string("identity")) + field(4, 0));
  EXPECT_THAT(load_error(dir, whole.substr(0, whole.size() - 3)), HasSubstr("tokenizer.model"));
  EXPECT_THAT(load_error(dir, "\x0f\x01\x02"), HasSubstr("wire type 7"));
  EXPECT_THAT(load_error(dir, ""), HasSubstr("no pieces"));
}

}  // namespace
}  // namespace kiln::frontend
