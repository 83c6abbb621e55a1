// StreamDecoder: chunks of valid UTF-8, token by token, that add up to
// Tokenizer::decode().

#include <string>
#include <vector>

#include "frontend/stream_decoder.h"
#include "frontend/tokenizer_loader.h"
#include "frontend/utf8.h"
#include "gtest/gtest.h"
#include "tests/frontend/tokenizer_fixtures.h"

namespace kiln::frontend {
namespace {

using ::kiln::frontend::testing::read_json_file;
using ::kiln::frontend::testing::spm_gguf_keys;
using ::kiln::frontend::testing::tokenizer_data_path;
using ::kiln::frontend::testing::write_tokenizer_gguf;
using Json = nlohmann::json;

// Decodes `ids` one at a time; every chunk must be valid UTF-8 on its own.
std::string stream(const Tokenizer& tokenizer, const std::vector<int32_t>& ids) {
  StreamDecoder decoder(tokenizer);
  std::string text;
  for (int32_t id : ids) {
    absl::StatusOr<std::string> chunk = decoder.push(id);
    EXPECT_TRUE(chunk.ok()) << chunk.status();
    if (!chunk.ok()) continue;
    EXPECT_TRUE(is_valid_utf8(*chunk)) << "after id " << id;
    text += *chunk;
  }
  return text + decoder.finish();
}

class StreamDecoderTest : public ::testing::TestWithParam<std::string> {
 protected:
  absl::StatusOr<Tokenizer> load() const {
    if (GetParam() == "spm_gguf") {
      return load_tokenizer(write_tokenizer_gguf(spm_gguf_keys(), "stream_spm.gguf"));
    }
    return load_tokenizer(tokenizer_data_path("hf_bytelevel_tokenizer.json"));
  }
};

TEST_P(StreamDecoderTest, ChunksAddUpToDecode) {
  absl::StatusOr<Tokenizer> tokenizer = load();
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const Json texts = read_json_file(tokenizer_data_path("tokenizer_texts.json"))["texts"];
  for (const Json& text : texts) {
    const std::vector<int32_t> ids = tokenizer->encode(text.get<std::string>(), true);
    absl::StatusOr<std::string> whole = tokenizer->decode(ids);
    ASSERT_TRUE(whole.ok()) << whole.status();
    EXPECT_EQ(stream(*tokenizer, ids), *whole) << "text: " << text.dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, StreamDecoderTest,
                         ::testing::Values("spm_gguf", "bytelevel_json"));

class StreamDecoderBytesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Tokenizer> tokenizer =
        load_tokenizer(write_tokenizer_gguf(spm_gguf_keys(), "stream_bytes.gguf"));
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    tokenizer_.emplace(*std::move(tokenizer));
  }

  int32_t byte_token(const std::string& piece) const { return *tokenizer_->token_id(piece); }

  std::optional<Tokenizer> tokenizer_;
};

TEST_F(StreamDecoderBytesTest, HoldsBackACharacterUntilItsLastByte) {
  StreamDecoder decoder(*tokenizer_);
  EXPECT_EQ(*decoder.push(byte_token("<0xF0>")), "");
  EXPECT_EQ(*decoder.push(byte_token("<0x9F>")), "");
  EXPECT_EQ(*decoder.push(byte_token("<0x98>")), "");
  EXPECT_EQ(*decoder.push(byte_token("<0x80>")), "\U0001F600");
  EXPECT_EQ(decoder.finish(), "");
}

TEST_F(StreamDecoderBytesTest, BytesThatCannotFormACharacterBecomeReplacementCharacters) {
  StreamDecoder decoder(*tokenizer_);
  EXPECT_EQ(*decoder.push(byte_token("<0xF0>")), "");
  EXPECT_EQ(*decoder.push(byte_token("<0x9F>")), "");
  // "a" cannot continue the character: the two bytes are one ill-formed part.
  EXPECT_EQ(*decoder.push(byte_token("<0x61>")),
            "\uFFFD"
            "a");
  EXPECT_EQ(*decoder.push(byte_token("<0xE2>")), "");
  EXPECT_EQ(decoder.finish(), "\uFFFD");
}

TEST_F(StreamDecoderBytesTest, DropsTheDummyPrefixOfTheFirstTokenOnly) {
  const std::vector<int32_t> ids = tokenizer_->encode(" a b", true);
  StreamDecoder decoder(*tokenizer_);
  std::string text;
  for (int32_t id : ids) text += *decoder.push(id);
  EXPECT_EQ(text + decoder.finish(), " a b");
  // finish() starts a new text, whose first token loses its prefix again.
  EXPECT_EQ(*decoder.push(*tokenizer_->token_id("\u2581a")), "a");
}

TEST_F(StreamDecoderBytesTest, RejectsAnIdOutsideTheVocabulary) {
  StreamDecoder decoder(*tokenizer_);
  absl::StatusOr<std::string> chunk = decoder.push(tokenizer_->vocab_size());
  ASSERT_FALSE(chunk.ok());
  EXPECT_NE(chunk.status().message().find("token id 600 is out of range"), std::string::npos)
      << chunk.status();
  EXPECT_FALSE(decoder.push(-1).ok());
}

TEST_F(StreamDecoderBytesTest, SpecialTokensRenderOnlyWhenAsked) {
  const std::vector<int32_t> ids = {1, *tokenizer_->token_id("\u2581a"), 2};
  EXPECT_EQ(*tokenizer_->decode(ids), "a");
  EXPECT_EQ(*tokenizer_->decode(ids, DecodeOptions{.render_special = true}), "<s> a</s>");
}

}  // namespace
}  // namespace kiln::frontend
