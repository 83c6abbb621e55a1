// `kiln compile GRAPH --backend B [-o program.json]`: runs the pipeline for
// the backend's capabilities and writes the Program.

#include <iostream>
#include <map>

#include "absl/strings/str_cat.h"
#include "backends/backend_client.h"
#include "passes/compile.h"
#include "program/program_json.h"
#include "tools/arg_parser.h"
#include "tools/commands.h"
#include "tools/graph_input.h"
#include "tools/model_argument.h"
#include "tools/model_options.h"
#include "tools/model_path.h"
#include "tools/output_file.h"
#include "tools/pass_flags.h"

namespace kiln::cli {
namespace {

absl::Status compile_graph_file(const ArgParser& args) {
  absl::StatusOr<backends::Backend> backend = backends::Backend::open(args.get("backend"));
  if (!backend.ok()) return backend.status();
  absl::StatusOr<ir::Graph> graph = load_graph_file(args.positional_value(0));
  if (!graph.ok()) return graph.status();
  passes::CompileOptions options;
  options.target = backend->capabilities();
  options.pipeline = args.get("pipeline");
  options.pass_options = pass_manager_options(args);
  options.explain = explain_stream(args);
  absl::StatusOr<std::map<std::string, std::string>> forced = forced_variants(args);
  if (!forced.ok()) return forced.status();
  options.force_variants = *std::move(forced);
  absl::StatusOr<program::Program> program = passes::compile(*graph, options);
  if (!program.ok()) return program.status();
  // Compiling on the backend proves every dispatch has a kernel there.
  absl::StatusOr<backends::Executable> executable = backend->compile(*program);
  if (!executable.ok()) return executable.status();
  if (absl::Status s = write_output(args.get("output"), program::program_to_json(*program)); !s.ok()) return s;
  std::cerr << absl::StrCat("kiln compile: ", program->dispatches.size(), " dispatches, arena ",
                            program->arena_bytes, " bytes (lower bound ", program->arena_lower_bound_bytes,
                            "), state ", program->state_bytes, " bytes\n");
  return absl::OkStatus();
}

}  // namespace

int compile_command(std::span<char*> argv) {
  ArgParser args("compile", "GRAPH|MODEL --backend B [-o program.json]",
                 "Compiles a graph (kiln JSON or text IR) or a model (GGUF file or HF folder) for\n"
                 "a backend and writes the Program as JSON: arena plan, weight and state tables and\n"
                 "the dispatch list. A model gives two Programs, prefill and decode.");
  args.positional("GRAPH|MODEL", "a .json graph, a .kir text-IR file, a GGUF file or an HF folder",
                  /*required=*/false)
      .option("model", "m", "PATH", "the model, as llama.cpp's -m gives it (instead of GRAPH|MODEL)")
      .option("backend", "b", "NAME", "the backend plugin to compile for", "cpu")
      .option("output", "o", "FILE", "where to write the Program JSON ('-': stdout)", "-")
      .option("pipeline", "", "P1,P2,...", "the pass pipeline", std::string(passes::kDefaultPipeline))
      .option("ctx", "", "N", "model only: KV-cache length (default: the model's, capped at 4096)")
      .option("prefill-chunk", "", "N", "model only: tokens per prefill run", "64");
  add_cache_type_option(args);
  add_pass_flags(args);
  add_force_variant_flag(args);
  return command_main(args, argv, [](const ArgParser& parsed) {
    if (absl::Status s = check_output(parsed.get("output")); !s.ok()) return s;  // before compiling, not after
    if (!parsed.has("model") && parsed.positional_count() == 1 && is_graph_path(parsed.positional_value(0))) {
      return compile_graph_file(parsed);
    }
    if (parsed.has("force-variant")) {
      return absl::InvalidArgumentError("--force-variant applies to a graph, not a model");
    }
    absl::StatusOr<std::string> model = model_argument(parsed);
    if (!model.ok()) return model.status();
    return compile_model_file(parsed, *model);
  });
}

}  // namespace kiln::cli
