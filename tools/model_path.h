#pragma once

#include <string>

#include "absl/status/status.h"
#include "tools/arg_parser.h"

namespace kiln::cli {

// Whether `path` names a hand-written graph (a .kir file, or a .json other
// than an HF folder's config.json or weight index) rather than a model.
// kiln run and kiln compile read everything else as a model, so that a
// mistyped model path gets the model loader's message.
bool is_graph_path(const std::string& path);

// `kiln compile MODEL`: writes the prefill and decode Programs.
absl::Status compile_model_file(const ArgParser& args, const std::string& model);

}  // namespace kiln::cli
