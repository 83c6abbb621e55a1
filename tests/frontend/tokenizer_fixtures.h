#pragma once

#include <string>

#include "nlohmann/json.hpp"

namespace kiln::frontend::testing {

// The fixtures under tests/frontend/data: see make_spm_fixture.py and
// make_hf_fixtures.py there for what each holds and where its expected ids
// come from.
std::string tokenizer_data_path(const std::string& name);
nlohmann::json read_json_file(const std::string& path);

// tokenizer.ggml.* keys (a JSON object, key -> value) written as a GGUF file
// in the test's temporary folder; returns its path. Scores become f32,
// token types i32, strings arrays of strings, integers u32.
std::string write_tokenizer_gguf(const nlohmann::json& keys, const std::string& file_name);

// spm_tiny_vocab.json: spm_tiny.model as a GGUF `llama` vocabulary.
nlohmann::json spm_gguf_keys();

// A GGUF `gpt2` vocabulary made from a byte-level tokenizer.json, as
// llama.cpp's converter makes one: tokens by id, added tokens typed control
// (special) or user-defined, merges as "left right", BOS from the template.
nlohmann::json gpt2_gguf_keys(const std::string& tokenizer_json_path, const std::string& pre);

}  // namespace kiln::frontend::testing
