// `kiln opt FILE.kir --passes=P1,P2,...`: runs a pipeline over text IR and
// prints the result, as mlir-opt does, so a pass can be tried from the shell.

#include <iostream>

#include "absl/strings/str_cat.h"
#include "ir/text.h"
#include "passes/pass_manager.h"
#include "tools/arg_parser.h"
#include "tools/commands.h"
#include "tools/graph_input.h"
#include "tools/pass_flags.h"
#include "tools/target_option.h"

namespace kiln::cli {
namespace {

std::string pass_list() {
  std::string out = "\npasses:\n";
  for (const passes::PassInfo* pass : passes::PassRegistry::global().all()) {
    absl::StrAppend(&out, "  ", pass->name, std::string(pass->name.size() < 20 ? 20 - pass->name.size() : 1, ' '),
                    pass->summary, "\n");
  }
  return out;
}

absl::Status run_opt(const ArgParser& args) {
  absl::StatusOr<ir::Graph> graph = load_graph_file(args.positional_value(0));
  if (!graph.ok()) return graph.status();
  absl::StatusOr<passes::PassManager> manager =
      passes::PassManager::from_pipeline(args.get("passes"), pass_manager_options(args));
  if (!manager.ok()) return manager.status();
  passes::PassContext context;
  absl::StatusOr<passes::Target> target = parse_target_option(args.get("target"));
  if (!target.ok()) return target.status();
  context.target = *target;
  context.explain = explain_stream(args);
  if (absl::Status status = manager->run(*graph, context); !status.ok()) return status;
  std::cout << ir::print_graph(*graph);
  return absl::OkStatus();
}

}  // namespace

int opt_command(std::span<char*> argv) {
  ArgParser args("opt", "FILE [--passes=P1,P2,...]",
                 "Reads a graph (text IR, or kiln JSON), runs the pass pipeline and prints the\n"
                 "resulting text IR to stdout.");
  args.positional("FILE", "a .kir text-IR file or a .json graph")
      .option("passes", "", "P1,P2,...", "the pipeline to run", "infer-shapes")
      .option("target", "", "K=V,...", kTargetOptionHelp)
      .epilogue(pass_list());
  add_pass_flags(args);
  return command_main(args, argv, run_opt);
}

}  // namespace kiln::cli
