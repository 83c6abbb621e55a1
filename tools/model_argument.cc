#include "tools/model_argument.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace kiln::cli {

void add_model_argument(ArgParser& args, std::string positional_name) {
  args.positional(std::move(positional_name), "a GGUF file or a Hugging Face model folder (or use -m)",
                  /*required=*/false)
      .option("model", "m", "PATH", "the model, given as llama.cpp's -m (instead of the positional form)");
}

absl::StatusOr<std::string> model_argument(const ArgParser& args) {
  const bool positional = args.positional_count() > 0;
  if (positional && args.has("model")) {
    return absl::InvalidArgumentError(absl::StrCat("two models given ('", args.positional_value(0), "' and -m '",
                                                   args.get("model"), "'); give one"));
  }
  if (args.has("model")) return args.get("model");
  if (positional) return args.positional_value(0);
  return absl::InvalidArgumentError(
      absl::StrCat("missing the model: give its path (a GGUF file or a Hugging Face model folder) or -m PATH; "
                   "see kiln ", args.command(), " --help"));
}

}  // namespace kiln::cli
