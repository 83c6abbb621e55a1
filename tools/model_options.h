#pragma once

#include "absl/status/statusor.h"
#include "runtime/generator.h"
#include "runtime/session.h"
#include "tools/arg_parser.h"

namespace kiln::cli {

// The options every model command shares: --backend, --ctx, --prefill-chunk.
void add_session_options(ArgParser& args);
// SessionOptions from them; progress bars when stderr is a terminal.
absl::StatusOr<runtime::SessionOptions> session_options(const ArgParser& args);

// The sampling options of `kiln run`: --temp, --top-k, --top-p,
// --repeat-penalty, --repeat-last-n, --seed.
void add_sampling_options(ArgParser& args);
absl::StatusOr<runtime::SamplingOptions> sampling_options(const ArgParser& args);

}  // namespace kiln::cli
