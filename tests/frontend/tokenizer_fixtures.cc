#include "tests/frontend/tokenizer_fixtures.h"

#include <fstream>
#include <sstream>

#include "frontend/gguf_writer.h"
#include "gtest/gtest.h"

namespace kiln::frontend::testing {

using Json = nlohmann::json;

std::string tokenizer_data_path(const std::string& name) {
  return std::string(KILN_SOURCE_DIR) + "/tests/frontend/data/" + name;
}

Json read_json_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file) << "cannot open " << path;
  std::stringstream text;
  text << file.rdbuf();
  return Json::parse(text.str());
}

namespace {

GgufValue to_gguf_value(const std::string& key, const Json& value) {
  if (value.is_string()) return GgufValue::string(value.get<std::string>());
  if (value.is_boolean()) return GgufValue::boolean(value.get<bool>());
  if (value.is_number_integer()) return GgufValue::u32(value.get<uint32_t>());
  if (key.ends_with(".scores")) return GgufValue::f32_array(value.get<std::vector<float>>());
  if (key.ends_with(".token_type")) return GgufValue::i32_array(value.get<std::vector<int32_t>>());
  return GgufValue::string_array(value.get<std::vector<std::string>>());
}

}  // namespace

std::string write_tokenizer_gguf(const Json& keys, const std::string& file_name) {
  GgufWriter writer;
  for (const auto& [key, value] : keys.items()) {
    if (key != "comment") writer.set(key, to_gguf_value(key, value));
  }
  const std::string path = ::testing::TempDir() + file_name;
  const absl::Status status = writer.write(path);
  EXPECT_TRUE(status.ok()) << status;
  return path;
}

Json spm_gguf_keys() { return read_json_file(tokenizer_data_path("spm_tiny_vocab.json")); }

Json gpt2_gguf_keys(const std::string& tokenizer_json_path, const std::string& pre) {
  const Json tokenizer = read_json_file(tokenizer_json_path);
  const Json& vocab = tokenizer["model"]["vocab"];
  const Json& added = tokenizer["added_tokens"];
  std::vector<std::string> tokens(vocab.size() + added.size());
  std::vector<int32_t> types(tokens.size(), 1);
  for (const auto& [piece, id] : vocab.items()) tokens.at(id.get<size_t>()) = piece;
  for (const Json& token : added) {
    const auto id = token["id"].get<size_t>();
    tokens.at(id) = token["content"].get<std::string>();
    types.at(id) = token["special"].get<bool>() ? 3 : 4;
  }
  std::vector<std::string> merges;
  for (const Json& merge : tokenizer["model"]["merges"]) {
    merges.push_back(merge.is_string()
                         ? merge.get<std::string>()
                         : merge[0].get<std::string>() + " " + merge[1].get<std::string>());
  }
  const Json& bos = tokenizer["post_processor"]["processors"][1]["special_tokens"];
  return Json{{"tokenizer.ggml.model", "gpt2"},
              {"tokenizer.ggml.pre", pre},
              {"tokenizer.ggml.tokens", tokens},
              {"tokenizer.ggml.token_type", types},
              {"tokenizer.ggml.merges", merges},
              {"tokenizer.ggml.bos_token_id", bos.begin().value()["ids"][0]},
              {"tokenizer.ggml.add_bos_token", true}};
}

}  // namespace kiln::frontend::testing
