#pragma once

#include <span>

namespace kiln::cli {

// `kiln run MODEL ...`: text generation (see its --help).
int run_model_command(std::span<char*> args);

}  // namespace kiln::cli
