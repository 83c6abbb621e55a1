// Bad tokenizer files: each error names the file and the field at fault.

#include <filesystem>
#include <fstream>
#include <string>

#include "frontend/tokenizer_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/frontend/tokenizer_fixtures.h"

namespace kiln::frontend {
namespace {

using ::kiln::frontend::testing::gpt2_gguf_keys;
using ::kiln::frontend::testing::read_json_file;
using ::kiln::frontend::testing::spm_gguf_keys;
using ::kiln::frontend::testing::tokenizer_data_path;
using ::kiln::frontend::testing::write_tokenizer_gguf;
using ::testing::AllOf;
using ::testing::HasSubstr;
using Json = nlohmann::json;

std::string load_error(const std::string& path) {
  absl::StatusOr<Tokenizer> tokenizer = load_tokenizer(path);
  EXPECT_FALSE(tokenizer.ok()) << path << " loaded";
  return tokenizer.ok() ? "" : std::string(tokenizer.status().message());
}

std::string gguf_error(const Json& keys, const std::string& name) {
  return load_error(write_tokenizer_gguf(keys, name));
}

Json without(Json keys, const std::string& key) {
  keys.erase(key);
  return keys;
}

TEST(TokenizerGgufErrorsTest, MissingFieldsAreNamed) {
  EXPECT_THAT(gguf_error(without(spm_gguf_keys(), "tokenizer.ggml.scores"), "no_scores.gguf"),
              AllOf(HasSubstr("no_scores.gguf"), HasSubstr("'tokenizer.ggml.scores'")));
  EXPECT_THAT(gguf_error(without(spm_gguf_keys(), "tokenizer.ggml.tokens"), "no_tokens.gguf"),
              AllOf(HasSubstr("no_tokens.gguf"), HasSubstr("'tokenizer.ggml.tokens'")));
  EXPECT_THAT(gguf_error(without(spm_gguf_keys(), "tokenizer.ggml.model"), "no_model.gguf"),
              AllOf(HasSubstr("no_model.gguf"), HasSubstr("'tokenizer.ggml.model'")));
  const Json gpt2 = gpt2_gguf_keys(tokenizer_data_path("hf_bytelevel_tokenizer.json"), "gpt2");
  EXPECT_THAT(gguf_error(without(gpt2, "tokenizer.ggml.merges"), "no_merges.gguf"),
              AllOf(HasSubstr("no_merges.gguf"), HasSubstr("'tokenizer.ggml.merges'")));
}

TEST(TokenizerGgufErrorsTest, InconsistentFieldsAreNamed) {
  Json keys = spm_gguf_keys();
  keys["tokenizer.ggml.scores"].erase(0);
  EXPECT_THAT(gguf_error(keys, "short_scores.gguf"),
              HasSubstr("tokenizer.ggml.scores has 599 entries for 600 tokens"));
  keys = spm_gguf_keys();
  keys["tokenizer.ggml.token_type"][7] = 9;
  EXPECT_THAT(gguf_error(keys, "bad_type.gguf"), HasSubstr("tokenizer.ggml.token_type[7] is 9"));
  keys = spm_gguf_keys();
  keys["tokenizer.ggml.bos_token_id"] = 600;
  EXPECT_THAT(gguf_error(keys, "bad_bos.gguf"),
              AllOf(HasSubstr("bad_bos.gguf"), HasSubstr("bos_token_id 600 is out of range")));
  keys = spm_gguf_keys();
  keys["tokenizer.ggml.tokens"][3] = "byte";
  EXPECT_THAT(gguf_error(keys, "bad_byte.gguf"), HasSubstr("byte token 3 is 'byte'"));
}

TEST(TokenizerGgufErrorsTest, UnsupportedModelsAndPreTokenizersAreRefusedByName) {
  Json keys = spm_gguf_keys();
  keys["tokenizer.ggml.model"] = "bert";
  EXPECT_THAT(gguf_error(keys, "bert.gguf"), HasSubstr("tokenizer model 'bert' is not supported"));
  keys = gpt2_gguf_keys(tokenizer_data_path("hf_bytelevel_tokenizer.json"), "deepseek-coder");
  EXPECT_THAT(gguf_error(keys, "deepseek.gguf"),
              AllOf(HasSubstr("pre-tokenizer 'deepseek-coder'"), HasSubstr("llama-bpe")));
  keys = gpt2_gguf_keys(tokenizer_data_path("hf_bytelevel_tokenizer.json"), "gpt2");
  keys["tokenizer.ggml.merges"][5] = "nospace";
  EXPECT_THAT(gguf_error(keys, "bad_merge.gguf"),
              HasSubstr("tokenizer.ggml.merges[5] is 'nospace'"));
  keys["tokenizer.ggml.merges"][5] = "Ġ zzzz";
  EXPECT_THAT(gguf_error(keys, "unknown_merge.gguf"), HasSubstr("'zzzz' is not a token"));
}

// Writes `document` as a tokenizer.json in the test's temporary folder.
std::string write_json(const Json& document, const std::string& name) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << document.dump();
  return path;
}

Json legacy_json() { return read_json_file(tokenizer_data_path("hf_spm_legacy_tokenizer.json")); }

TEST(TokenizerJsonErrorsTest, MissingAndMalformedFieldsAreNamed) {
  Json document = legacy_json();
  document.erase("model");
  EXPECT_THAT(load_error(write_json(document, "no_model.json")),
              AllOf(HasSubstr("no_model.json"), HasSubstr("model: missing")));
  document = legacy_json();
  document["model"].erase("vocab");
  EXPECT_THAT(load_error(write_json(document, "no_vocab.json")),
              HasSubstr("model.vocab: expected an object"));
  document = legacy_json();
  document["model"]["merges"][3] = 17;
  EXPECT_THAT(load_error(write_json(document, "bad_merge.json")), HasSubstr("model.merges[3]"));
  document = legacy_json();
  document["model"]["vocab"].erase("\u2581t");
  EXPECT_THAT(load_error(write_json(document, "gap.json")), HasSubstr("no token has id"));
  const std::string path = ::testing::TempDir() + "broken.json";
  std::ofstream(path) << "{\"model\": ";
  EXPECT_THAT(load_error(path), AllOf(HasSubstr("broken.json"), HasSubstr("not valid JSON")));
}

TEST(TokenizerJsonErrorsTest, UnsupportedComponentsAreRefusedByName) {
  Json document = legacy_json();
  document["model"]["type"] = "WordPiece";
  EXPECT_THAT(load_error(write_json(document, "wordpiece.json")),
              HasSubstr("model type \"WordPiece\" is not supported"));
  document = legacy_json();
  document["normalizer"]["normalizers"][1] = {{"type", "Lowercase"}};
  EXPECT_THAT(load_error(write_json(document, "lowercase.json")),
              HasSubstr("normalizer.normalizers[1]: normalizer Lowercase is not supported"));
  document = legacy_json();
  document["decoder"] = {{"type", "WordPiece"}};
  EXPECT_THAT(load_error(write_json(document, "decoder.json")),
              HasSubstr("decoder: decoder WordPiece is not supported"));
}

// A folder with a tokenizer.model but no tokenizer.json is read
// (tokenizer_sentencepiece_model_test.cc); one with neither is named.
TEST(TokenizerFolderErrorsTest, AFolderWithoutTokenizerSaysWhatIsNeeded) {
  const std::filesystem::path dir = ::testing::TempDir() + "no_tokenizer";
  std::filesystem::create_directories(dir);
  EXPECT_THAT(load_error(dir.string()), HasSubstr("no_tokenizer: no tokenizer.json or tokenizer.model"));
  EXPECT_THAT(load_error(::testing::TempDir() + "nothing_here"), HasSubstr("no such file"));
}

TEST(TokenizerDecodeErrorsTest, AnIdOutOfRangeIsNamed) {
  absl::StatusOr<Tokenizer> tokenizer =
      load_tokenizer(tokenizer_data_path("hf_bytelevel_tokenizer.json"));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const std::vector<int32_t> ids = {64, 9999};
  absl::StatusOr<std::string> text = tokenizer->decode(ids);
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(text.status().message(),
              AllOf(HasSubstr("hf_bytelevel_tokenizer.json"),
                    HasSubstr("token id 9999 is out of range for a vocabulary of 705 tokens")));
  EXPECT_EQ(tokenizer->token_piece(9999), "");
}

}  // namespace
}  // namespace kiln::frontend
