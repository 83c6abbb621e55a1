// `kiln run GRAPH --backend B --input NAME=FILE.npy ... --output NAME=FILE.npy`
// runs a hand-written graph once; `kiln run MODEL ...` generates text
// (run_model.cc).


#include "absl/strings/str_cat.h"
#include "backends/backend_client.h"
#include "frontend/atomic_write.h"
#include "frontend/npy.h"
#include "runtime/graph_runner.h"
#include "tools/arg_parser.h"
#include "tools/commands.h"
#include "tools/graph_input.h"
#include "tools/model_path.h"
#include "tools/pass_flags.h"
#include "tools/run_model.h"

namespace kiln::cli {
namespace {

// "x=inputs/x.npy" -> {"x", "inputs/x.npy"}.
absl::StatusOr<std::pair<std::string, std::string>> split_binding(const std::string& option,
                                                                  const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return absl::InvalidArgumentError(absl::StrCat("--", option, " '", text, "': expected NAME=FILE.npy"));
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

absl::StatusOr<runtime::HostTensor> read_input(const std::string& path) {
  absl::StatusOr<frontend::TensorData> data = frontend::read_npy(path);
  if (!data.ok()) return data.status();
  return runtime::HostTensor{data->dtype, data->shape, {data->data, data->data + data->bytes}};
}

absl::Status run_graph(const ArgParser& args) {
  absl::StatusOr<backends::Backend> backend = backends::Backend::open(args.get("backend"));
  if (!backend.ok()) return backend.status();
  absl::StatusOr<ir::Graph> graph = load_graph_file(args.positional_value(0));
  if (!graph.ok()) return graph.status();
  absl::StatusOr<std::map<std::string, std::string>> forced = forced_variants(args);
  if (!forced.ok()) return forced.status();
  passes::CompileOptions options;
  options.force_variants = *std::move(forced);
  absl::StatusOr<runtime::GraphRunner> runner = runtime::GraphRunner::create(*backend, *graph, options);
  if (!runner.ok()) return runner.status();
  for (const std::string& text : args.get_all("input")) {
    absl::StatusOr<std::pair<std::string, std::string>> binding = split_binding("input", text);
    if (!binding.ok()) return binding.status();
    absl::StatusOr<runtime::HostTensor> tensor = read_input(binding->second);
    if (!tensor.ok()) return tensor.status();
    if (absl::Status s = runner->set_input(binding->first, *tensor); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(binding->second, ": ", s.message()));
    }
  }
  for (const std::string& text : args.get_all("output")) {  // refused before the run, not after
    absl::StatusOr<std::pair<std::string, std::string>> binding = split_binding("output", text);
    if (!binding.ok()) return binding.status();
    if (absl::Status s = frontend::check_writable(binding->second); !s.ok()) return s;
  }
  if (absl::Status s = runner->run(); !s.ok()) return s;
  for (const std::string& text : args.get_all("output")) {
    absl::StatusOr<std::pair<std::string, std::string>> binding = split_binding("output", text);
    if (!binding.ok()) return binding.status();
    absl::StatusOr<runtime::HostTensor> tensor = runner->read_output(binding->first);
    if (!tensor.ok()) return tensor.status();
    if (absl::Status s = frontend::write_npy(binding->second, tensor->dtype, tensor->shape, tensor->bytes.data());
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

ArgParser run_graph_parser() {
  ArgParser args("run", "GRAPH --backend B --input NAME=FILE.npy ... --output NAME=FILE.npy",
                 "Compiles a graph (kiln JSON or text IR) for a backend, runs it once on .npy\n"
                 "inputs and writes the named outputs as .npy files. Symbolic dims (T) take their\n"
                 "values from the input shapes.\n\n"
                 "With a model (a GGUF file or an HF folder, positional or -m) instead of a graph,\n"
                 "kiln run generates text: see `kiln run -m MODEL --help`.");
  args.positional("GRAPH", "a .json graph or a .kir text-IR file")
      .option("backend", "b", "NAME", "the backend plugin to run on", "cpu")
      .option("input", "i", "NAME=FILE", "bind graph input NAME to a .npy file (repeatable)", "", true)
      .option("output", "o", "NAME=FILE", "write graph output NAME to a .npy file (repeatable)", "", true);
  add_force_variant_flag(args);
  return args;
}

// A graph run takes only the graph options and one graph path; anything
// else (-m, -p, a model path, options in any order) is a model run.
bool is_graph_run(std::span<char*> argv) {
  ArgParser args = run_graph_parser();
  if (!args.parse(argv).ok()) return false;
  if (args.positional_count() == 0) return args.wants_help();
  return is_graph_path(args.positional_value(0));
}

}  // namespace

int run_command(std::span<char*> argv) {
  if (!is_graph_run(argv)) return run_model_command(argv);
  ArgParser args = run_graph_parser();
  return command_main(args, argv, run_graph);
}

}  // namespace kiln::cli
