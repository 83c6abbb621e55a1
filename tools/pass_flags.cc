#include "tools/pass_flags.h"

#include <iostream>

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

}  // namespace kiln::cli
