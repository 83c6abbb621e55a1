#pragma once

#include <map>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
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

// --force-variant OP=VARIANT (repeatable), for compile and graph runs:
// select-variants gives every dispatch of OP that variant
// (CompileOptions::force_variants).
ArgParser& add_force_variant_flag(ArgParser& args);

// The --force-variant options as op -> variant; an option that is not
// OP=VARIANT, or names one op twice, is an error quoting it.
absl::StatusOr<std::map<std::string, std::string>> forced_variants(const ArgParser& args);

}  // namespace kiln::cli
