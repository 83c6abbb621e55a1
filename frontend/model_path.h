#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace kiln::frontend {

enum class ModelFormat { gguf, hf_folder };

struct ModelLocation {
  std::string path;  // the GGUF file, or the HF folder
  ModelFormat format;
};

// What a model argument names, decided by content rather than by name:
// - a file that begins with the GGUF magic, whatever it is called;
// - a folder holding config.json (a Hugging Face model folder);
// - a file inside such a folder (model.safetensors, a shard, config.json):
//   its folder.
// Anything else is an error that says what the path is and what kiln
// expected, e.g. "notes.txt: a file that is not GGUF (it begins with
// 'the '); expected a GGUF file or a Hugging Face model folder (config.json
// and model.safetensors)".
absl::StatusOr<ModelLocation> locate_model(const std::string& path);

// Whether the file `path` begins with the GGUF magic.
bool starts_with_gguf_magic(const std::string& path);

}  // namespace kiln::frontend
