// A GGUF `llama` vocabulary (spm_tiny.model exported by make_spm_fixture.py)
// against the sentencepiece library's own ids and text.

#include <string>
#include <vector>

#include "frontend/tokenizer.h"
#include "frontend/tokenizer_loader.h"
#include "gtest/gtest.h"
#include "tests/frontend/tokenizer_fixtures.h"

namespace kiln::frontend {
namespace {

using ::kiln::frontend::testing::read_json_file;
using ::kiln::frontend::testing::spm_gguf_keys;
using ::kiln::frontend::testing::tokenizer_data_path;
using ::kiln::frontend::testing::write_tokenizer_gguf;
using Json = nlohmann::json;

class SentencePieceGgufTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Tokenizer> tokenizer =
        load_tokenizer(write_tokenizer_gguf(spm_gguf_keys(), "spm_tiny.gguf"));
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    tokenizer_.emplace(*std::move(tokenizer));
  }

  static Json cases(const std::string& file, const std::string& key = "cases") {
    return read_json_file(tokenizer_data_path(file))[key];
  }

  std::optional<Tokenizer> tokenizer_;
};

TEST_F(SentencePieceGgufTest, EncodesAsTheSentencePieceLibrary) {
  for (const Json& c : cases("spm_tiny_expected.json")) {
    const std::string text = c["text"].get<std::string>();
    const std::vector<int32_t> ids =
        tokenizer_->encode(text, EncodeOptions{.add_special = false, .parse_special = false});
    EXPECT_EQ(ids, c["ids"].get<std::vector<int32_t>>()) << "text: " << Json(text).dump();
  }
}

TEST_F(SentencePieceGgufTest, DecodesAsTheSentencePieceLibrary) {
  for (const Json& c : cases("spm_tiny_expected.json")) {
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    absl::StatusOr<std::string> text = tokenizer_->decode(ids);
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_EQ(*text, c["decoded"].get<std::string>()) << "ids of " << c["text"].dump();
    EXPECT_EQ(*text, c["text"].get<std::string>());
  }
}

TEST_F(SentencePieceGgufTest, AddsBosOnlyWhenAsked) {
  EXPECT_EQ(tokenizer_->bos_id(), 1);
  EXPECT_EQ(tokenizer_->eos_id(), 2);
  EXPECT_TRUE(tokenizer_->is_eos(2));
  EXPECT_FALSE(tokenizer_->is_eos(1));
  const std::vector<int32_t> plain = tokenizer_->encode("Hello world", false);
  std::vector<int32_t> with_bos = {1};
  with_bos.insert(with_bos.end(), plain.begin(), plain.end());
  EXPECT_EQ(tokenizer_->encode("Hello world", true), with_bos);
  EXPECT_EQ(tokenizer_->encode("", true), std::vector<int32_t>{1});
  EXPECT_TRUE(tokenizer_->encode("", false).empty());
}

// With special tokens parsed, llama.cpp puts the "▁" prefix before the text
// after each special token, as HF's legacy Llama tokenizer (Prepend
// normaliser) does: the GGUF vocabulary agrees with that tokenizer.json.
TEST_F(SentencePieceGgufTest, ParsesSpecialTokensAsHfLegacyLlama) {
  for (const Json& c : cases("hf_expected.json", "spm_legacy")) {
    const std::string text = c["text"].get<std::string>();
    EXPECT_EQ(tokenizer_->encode(text, false), c["ids"].get<std::vector<int32_t>>())
        << "text: " << c["text"].dump();
    EXPECT_EQ(tokenizer_->encode(text, true), c["ids_add_special"].get<std::vector<int32_t>>())
        << "text: " << c["text"].dump();
  }
}

TEST_F(SentencePieceGgufTest, BytePiecesFallBackForCharactersOutsideTheVocabulary) {
  // U+1F600 is not a piece: its four UTF-8 bytes become <0xF0> <0x9F> ...
  const std::vector<int32_t> ids = tokenizer_->encode("\xF0\x9F\x98\x80", false);
  std::vector<std::string> pieces;
  for (int32_t id : ids) pieces.emplace_back(tokenizer_->token_piece(id));
  EXPECT_EQ(pieces, (std::vector<std::string>{"\u2581", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>"}));
  EXPECT_EQ(tokenizer_->token_type(ids[1]), TokenType::kByte);
  EXPECT_EQ(tokenizer_->token_bytes(ids[1]), "\xF0");
}

TEST_F(SentencePieceGgufTest, InvalidUtf8IsEncodedAsTheReplacementCharacter) {
  EXPECT_EQ(tokenizer_->encode("a\xFF"
                               "b",
                               false),
            tokenizer_->encode("a\uFFFDb", false));
}

}  // namespace
}  // namespace kiln::frontend
