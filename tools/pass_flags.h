#pragma once

#include <ostream>

#include "passes/pass_manager.h"
#include "tools/arg_parser.h"

namespace kiln::cli {

// The pass-pipeline flags that compile and opt share: --print-after-all,
// --print-after PASS, --explain-fusion and --timing. What they print goes
// to stderr, so stdout stays the command's result.
ArgParser& add_pass_flags(ArgParser& args);

passes::PassManagerOptions pass_manager_options(const ArgParser& args);

// Where --explain-fusion writes: stderr when given, else null (silent).
std::ostream* explain_stream(const ArgParser& args);

}  // namespace kiln::cli
