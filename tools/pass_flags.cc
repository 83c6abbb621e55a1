#include "tools/pass_flags.h"

#include <iostream>

#include "absl/strings/str_cat.h"

namespace kiln::cli {

ArgParser& add_pass_flags(ArgParser& args) {
  return args.flag("print-after-all", "", "print the graph after every pass (to stderr)")
      .option("print-after", "", "PASS", "print the graph after PASS (repeatable)", "", true)
      .flag("explain-fusion", "", "explain every fusion decision (to stderr)")
      .flag("timing", "", "report each pass's time (to stderr)");
}

passes::PassManagerOptions pass_manager_options(const ArgParser& args) {
  passes::PassManagerOptions options;
  options.print_after_all = args.has("print-after-all");
  for (const std::string& name : args.get_all("print-after")) options.print_after.insert(name);
  options.timing = args.has("timing");
  options.log = &std::cerr;
  return options;
}

std::ostream* explain_stream(const ArgParser& args) { return args.has("explain-fusion") ? &std::cerr : nullptr; }

ArgParser& add_force_variant_flag(ArgParser& args) {
  return args.option("force-variant", "", "OP=VARIANT", "run every OP dispatch with kernel VARIANT (repeatable)", "",
                     true);
}

absl::StatusOr<std::map<std::string, std::string>> forced_variants(const ArgParser& args) {
  std::map<std::string, std::string> forced;
  for (const std::string& text : args.get_all("force-variant")) {
    const size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
      return absl::InvalidArgumentError(absl::StrCat("--force-variant '", text, "': expected OP=VARIANT"));
    }
    if (!forced.emplace(text.substr(0, eq), text.substr(eq + 1)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--force-variant '", text, "': ", text.substr(0, eq), " is already forced"));
    }
  }
  return forced;
}

}  // namespace kiln::cli
