#include "tools/model_options.h"

#include <iostream>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "runtime/progress_bar.h"

namespace kiln::cli {

void add_session_options(ArgParser& args) {
  args.option("backend", "b", "NAME", "the backend plugin to run on", "cpu")
      .option("ctx", "c", "N",
              absl::StrCat("KV-cache length in tokens (default: the model's context, capped at ",
                           runtime::kDefaultContextCap, ")"))
      .option("prefill-chunk", "", "N", "tokens per prefill run (the prefill Program's bound of T)",
              absl::StrCat(runtime::kDefaultPrefillChunk))
      .option("threads", "t", "N",
              "threads for the cpu backend (default: the CPUs this process may run on, or KILN_CPU_THREADS)")
      .option("device", "", "N", "the backend's device, by its index in `kiln backends` (default: its first)")
      .option("cache-dir", "", "DIR",
              "where GPU backends keep pipeline and program binaries (default: $XDG_CACHE_HOME/kiln); '' for none")
      .flag("profile", "", "print each kernel's GPU time (a table sorted by time) when done");
  add_cache_type_option(args);
}

void add_cache_type_option(ArgParser& args) {
  args.option("cache-type", "", "T", "the KV cache's dtype: f32, or f16 / bf16 for half the memory and bandwidth",
              "f32");
}

absl::StatusOr<ir::DType> cache_type(const ArgParser& args) {
  const std::string name = args.get("cache-type");
  absl::StatusOr<ir::DType> dtype = ir::parse_dtype(name);
  if (!dtype.ok() || *dtype == ir::DType::i32) {
    return absl::InvalidArgumentError(absl::StrCat("--cache-type ", name, ": expected f32, f16 or bf16"));
  }
  return *dtype;
}

absl::StatusOr<runtime::SessionOptions> session_options(const ArgParser& args) {
  runtime::SessionOptions options;
  options.backend = args.get("backend");
  options.show_progress = runtime::ProgressBar::stderr_is_terminal();
  if (args.has("ctx")) {
    absl::StatusOr<int64_t> context = args.get_int("ctx");
    if (!context.ok()) return context.status();
    if (*context < 1) return absl::InvalidArgumentError(absl::StrCat("--ctx ", *context, " must be at least 1"));
    options.programs.context = *context;
  }
  absl::StatusOr<int64_t> chunk = args.get_int("prefill-chunk");
  if (!chunk.ok()) return chunk.status();
  options.programs.prefill_chunk = *chunk;
  absl::StatusOr<ir::DType> cache = cache_type(args);
  if (!cache.ok()) return cache.status();
  options.programs.cache_dtype = *cache;
  if (args.has("threads")) {
    absl::StatusOr<int64_t> threads = args.get_int("threads");
    if (!threads.ok()) return threads.status();
    if (*threads < 1 || *threads > 1024) {
      return absl::InvalidArgumentError(absl::StrCat("--threads ", *threads, " must be between 1 and 1024"));
    }
    // The device option, which the cpu plugin's device sizes its pool by;
    // it wins over KILN_CPU_THREADS.
    options.device.threads = static_cast<int>(*threads);
  }
  if (args.has("device")) {
    absl::StatusOr<int64_t> device = args.get_int("device");
    if (!device.ok()) return device.status();
    if (*device < 0 || *device > 1024) return absl::InvalidArgumentError(absl::StrCat("--device ", *device, " must be >= 0"));
    options.device.device = static_cast<int>(*device);
  }
  options.device.cache_dir = args.has("cache-dir") ? args.get("cache-dir") : backends::default_cache_dir();
  options.device.profile = args.has("profile");
  return options;
}

absl::Status report_profile(const ArgParser& args, const runtime::Session& session) {
  if (!args.has("profile")) return absl::OkStatus();
  absl::StatusOr<std::vector<runtime::KernelTime>> profile = session.profile();
  // A backend that keeps no GPU times (the cpu plugin) says so; the run
  // itself succeeded, so that is a note, not a failure.
  if (absl::IsFailedPrecondition(profile.status())) {
    std::cerr << "--profile: " << profile.status().message() << "\n";
    return absl::OkStatus();
  }
  if (!profile.ok()) return profile.status();
  std::cerr << "\n" << runtime::profile_table(*profile);
  return absl::OkStatus();
}

void add_sampling_options(ArgParser& args) {
  const runtime::SamplingOptions defaults;
  args.option("temp", "", "T", "sampling temperature; 0 picks the most likely token (greedy)",
              absl::StrCat(defaults.temperature))
      .option("top-k", "", "K", "sample among the K most likely tokens; 0: all (past 1024 the host picks them from the logits)", absl::StrCat(defaults.top_k))
      .option("top-p", "", "P", "sample among the most likely tokens holding mass P; 1: all",
              absl::StrCat(defaults.top_p))
      .option("repeat-penalty", "", "R", "divide the logits of recent tokens by R (> 1 repeats less); 1: off",
              absl::StrCat(defaults.repeat_penalty))
      .option("repeat-last-n", "", "N", "how many recent tokens the penalty sees",
              absl::StrCat(defaults.repeat_last_n))
      .option("seed", "s", "S", "random seed: the same seed gives the same text; the run prints the one it used",
              "random");
}

absl::StatusOr<runtime::SamplingOptions> sampling_options(const ArgParser& args) {
  runtime::SamplingOptions options;
  for (const auto& [name, field] : {std::pair{"temp", &options.temperature}, std::pair{"top-p", &options.top_p},
                                    std::pair{"repeat-penalty", &options.repeat_penalty}}) {
    absl::StatusOr<double> value = args.get_real(name);
    if (!value.ok()) return value.status();
    *field = *value;
  }
  for (const auto& [name, field] :
       {std::pair{"top-k", &options.top_k}, std::pair{"repeat-last-n", &options.repeat_last_n}}) {
    absl::StatusOr<int64_t> value = args.get_int(name);
    if (!value.ok()) return value.status();
    *field = *value;
  }
  if (!args.has("seed") || args.get("seed") == "random") {
    options.seed = (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  } else if (!absl::SimpleAtoi(args.get("seed"), &options.seed)) {
    return absl::InvalidArgumentError(absl::StrCat("--seed '", args.get("seed"), "' is not a non-negative integer"));
  }
  if (absl::Status s = runtime::validate_sampling(options); !s.ok()) return s;
  return options;
}

}  // namespace kiln::cli
