// `kiln run GRAPH --backend B --input NAME=FILE.npy ... --output NAME=FILE.npy`
// runs a hand-written graph once; `kiln run MODEL ...` generates text
// (run_model.cc).


#include "absl/strings/str_cat.h"
#include "backends/backend_client.h"
#include "frontend/npy.h"
#include "runtime/graph_runner.h"
#include "tools/arg_parser.h"
#include "tools/commands.h"
#include "tools/graph_input.h"
#include "tools/model_path.h"
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
  absl::StatusOr<runtime::GraphRunner> runner = runtime::GraphRunner::create(*backend, *graph);
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

}  // namespace

int run_command(std::span<char*> argv) {
  if (!argv.empty() && is_model_path(argv[0])) return run_model_command(argv);
  ArgParser args("run", "GRAPH --backend B --input NAME=FILE.npy ... --output NAME=FILE.npy",
                 "Compiles a graph (kiln JSON or text IR) for a backend, runs it once on .npy\n"
                 "inputs and writes the named outputs as .npy files. Symbolic dims (T) take their\n"
                 "values from the input shapes.\n\n"
                 "With a model (a .gguf file or an HF folder) instead of a graph, kiln run\n"
                 "generates text: see `kiln run MODEL --help`.");
  args.positional("GRAPH", "a .json graph or a .kir text-IR file")
      .option("backend", "b", "NAME", "the backend plugin to run on", "cpu")
      .option("input", "i", "NAME=FILE", "bind graph input NAME to a .npy file (repeatable)", "", true)
      .option("output", "o", "NAME=FILE", "write graph output NAME to a .npy file (repeatable)", "", true);
  return command_main(args, argv, run_graph);
}

}  // namespace kiln::cli
