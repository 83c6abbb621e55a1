#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "ir/dtype.h"
#include "runtime/generator.h"
#include "runtime/session.h"
#include "tools/arg_parser.h"
#include "tools/model_argument.h"

namespace kiln::cli {

// The options every model command shares: --backend, --device, --ctx,
// --prefill-chunk, --cache-type, -t/--threads, --cache-dir, --profile.
void add_session_options(ArgParser& args);
// SessionOptions from them; progress bars when stderr is a terminal.
// -t N is the device option `threads` (kiln_device_options), which the cpu
// plugin sizes its device's pool by; without it the plugin takes
// KILN_CPU_THREADS, else the CPUs of the affinity mask.
absl::StatusOr<runtime::SessionOptions> session_options(const ArgParser& args);

// --cache-type f32|f16|bf16 (llama.cpp's -ctk/-ctv): the KV cache's dtype,
// f32 unless given. Shared by the model commands and `kiln compile`.
void add_cache_type_option(ArgParser& args);
absl::StatusOr<ir::DType> cache_type(const ArgParser& args);

// With --profile, prints the session's per-kernel GPU time table to
// stderr; an error when the backend cannot profile.
absl::Status report_profile(const ArgParser& args, const runtime::Session& session);

// The sampling options of `kiln run`: --temp, --top-k, --top-p,
// --repeat-penalty, --repeat-last-n, --seed. Without --seed the seed is
// random (each run differs); it is in the returned options, for printing
// so that the run can be repeated.
void add_sampling_options(ArgParser& args);
absl::StatusOr<runtime::SamplingOptions> sampling_options(const ArgParser& args);

}  // namespace kiln::cli
