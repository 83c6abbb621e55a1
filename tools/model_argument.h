#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "tools/arg_parser.h"

namespace kiln::cli {

// The model as llama.cpp users give it: MODEL as the first positional
// argument, or -m/--model PATH anywhere among the options.
void add_model_argument(ArgParser& args, std::string positional_name = "MODEL");
// The path given in either form, exactly once; read by
// frontend::locate_model, which says what a wrong path is.
absl::StatusOr<std::string> model_argument(const ArgParser& args);

}  // namespace kiln::cli
