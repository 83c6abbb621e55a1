#pragma once

#include <string>

#include "absl/status/status.h"
#include "tools/arg_parser.h"

namespace kiln::cli {

// A model is a GGUF file or an HF folder (a directory with config.json);
// anything else is a graph.
bool is_model_path(const std::string& path);

// `kiln compile MODEL`: writes the prefill and decode Programs.
absl::Status compile_model_file(const ArgParser& args);

}  // namespace kiln::cli
