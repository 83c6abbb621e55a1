// HF tokenizer.json files of both kinds, and GGUF `gpt2` vocabularies made
// from the byte-level one, against the ids and text of HF `tokenizers`
// (hf_expected.json, written by make_hf_fixtures.py).

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "frontend/tokenizer.h"
#include "frontend/tokenizer_loader.h"
#include "gtest/gtest.h"
#include "tests/frontend/tokenizer_fixtures.h"

namespace kiln::frontend {
namespace {

using ::kiln::frontend::testing::gpt2_gguf_keys;
using ::kiln::frontend::testing::read_json_file;
using ::kiln::frontend::testing::tokenizer_data_path;
using ::kiln::frontend::testing::write_tokenizer_gguf;
using Json = nlohmann::json;

Json expected_cases(const std::string& key) {
  return read_json_file(tokenizer_data_path("hf_expected.json"))[key];
}

std::vector<int32_t> ids_of(const Json& c, const std::string& key) {
  return c[key].get<std::vector<int32_t>>();
}

// Every field that make_hf_fixtures.py records for a tokenizer.json.
void expect_as_hf(const Tokenizer& tokenizer, const Json& cases) {
  ASSERT_FALSE(cases.empty());
  for (const Json& c : cases) {
    SCOPED_TRACE("text: " + c["text"].dump());
    const std::string text = c["text"].get<std::string>();
    EXPECT_EQ(tokenizer.encode(text, false), ids_of(c, "ids"));
    EXPECT_EQ(tokenizer.encode(text, true), ids_of(c, "ids_add_special"));
    EXPECT_EQ(tokenizer.encode(text, EncodeOptions{.parse_special = false}),
              ids_of(c, "ids_no_parse_special"));
    const std::vector<int32_t> ids = ids_of(c, "ids");
    absl::StatusOr<std::string> shown =
        tokenizer.decode(ids, DecodeOptions{.render_special = true});
    absl::StatusOr<std::string> plain = tokenizer.decode(ids);
    ASSERT_TRUE(shown.ok() && plain.ok());
    EXPECT_EQ(*shown, c["decoded"].get<std::string>());
    EXPECT_EQ(*plain, c["decoded_skip_special"].get<std::string>());
  }
}

absl::StatusOr<Tokenizer> load_json(const std::string& name) {
  return load_tokenizer(tokenizer_data_path(name));
}

TEST(HfTokenizerJsonTest, ByteLevelWithSplitRegexNfcAndAddedTokens) {
  absl::StatusOr<Tokenizer> tokenizer = load_json("hf_bytelevel_tokenizer.json");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ(tokenizer->bos_id(), 700);
  expect_as_hf(*tokenizer, expected_cases("bytelevel"));
}

TEST(HfTokenizerJsonTest, LegacyLlamaWithPrependNormalizer) {
  absl::StatusOr<Tokenizer> tokenizer = load_json("hf_spm_legacy_tokenizer.json");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  expect_as_hf(*tokenizer, expected_cases("spm_legacy"));
}

TEST(HfTokenizerJsonTest, MetaspacePrependingTheFirstSegmentOnly) {
  absl::StatusOr<Tokenizer> tokenizer = load_json("hf_spm_metaspace_tokenizer.json");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  expect_as_hf(*tokenizer, expected_cases("spm_metaspace"));
}

// llama.cpp's converter writes the tokenizer.json's tokens and merges into
// the GGUF and names the pre-tokenizer; kiln must then tokenise as HF does
// with that family's pre-tokenizer.
class Gpt2GgufTest : public ::testing::TestWithParam<std::string> {};

TEST_P(Gpt2GgufTest, TokenisesAsHfWithTheNamedPreTokenizer) {
  const std::string pre = GetParam();
  const std::string path =
      write_tokenizer_gguf(gpt2_gguf_keys(tokenizer_data_path("hf_bytelevel_tokenizer.json"), pre),
                           "bytelevel_" + pre + ".gguf");
  absl::StatusOr<Tokenizer> tokenizer = load_tokenizer(path);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const Json cases = expected_cases("bytelevel_gguf_" + pre);
  ASSERT_FALSE(cases.empty());
  for (const Json& c : cases) {
    const std::string text = c["text"].get<std::string>();
    EXPECT_EQ(tokenizer->encode(text, false), ids_of(c, "ids")) << "text: " << c["text"].dump();
  }
  EXPECT_EQ(tokenizer->encode("Hello", true).front(), 700);
}

INSTANTIATE_TEST_SUITE_P(PreTokenizers, Gpt2GgufTest,
                         ::testing::Values("llama-bpe", "qwen2", "gpt2"), [](const auto& info) {
                           std::string name = info.param;
                           std::erase(name, '-');
                           return name;
                         });

// A folder's tokenizer_config.json and generation_config.json refine what
// tokenizer.json says about BOS, EOS and the end of generation.
TEST(HfTokenizerFolderTest, ConfigFilesOverrideTheTemplate) {
  const std::filesystem::path dir = ::testing::TempDir() + "hf_folder";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(tokenizer_data_path("hf_spm_legacy_tokenizer.json"),
                             dir / "tokenizer.json",
                             std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir / "tokenizer_config.json")
      << R"({"add_bos_token": false, "add_eos_token": true, "eos_token": {"content": "</s>"}})";
  std::ofstream(dir / "generation_config.json") << R"({"eos_token_id": [2, 0]})";

  absl::StatusOr<Tokenizer> tokenizer = load_tokenizer(dir.string());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const std::vector<int32_t> ids = tokenizer->encode("Hello", true);
  EXPECT_NE(ids.front(), 1);
  EXPECT_EQ(ids.back(), 2);
  EXPECT_EQ(tokenizer->eos_id(), 2);
  EXPECT_TRUE(tokenizer->is_eos(0));
}

}  // namespace
}  // namespace kiln::frontend
