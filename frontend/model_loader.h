#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "frontend/model_config.h"
#include "frontend/model_weights.h"
#include "frontend/tokenizer.h"

namespace kiln::frontend {

// A Llama-family model opened from the files people have: its config, its
// memory-mapped weights and its tokenizer.
struct Model {
  std::string path;
  ModelConfig config;
  ModelWeights weights;
  // A model file need not carry a tokenizer (test models given token ids
  // don't); the error says why there is none, for when text is asked for.
  absl::StatusOr<Tokenizer> tokenizer = absl::NotFoundError("no tokenizer");
};

// Opens a GGUF file or a Hugging Face folder (config.json with
// model.safetensors or a sharded index), `path` read as locate_model()
// reads it. Every config field and tensor shape is checked; errors name the
// file, tensor or field.
absl::StatusOr<Model> load_model(const std::string& path);

}  // namespace kiln::frontend
