// The `kiln` command line: one subcommand per file, dispatched by name.

#include <cstdio>
#include <span>
#include <string_view>

#include "backends/backend.h"
#include "tools/commands.h"
#include "tools/version.h"

namespace kiln::cli {
namespace {

struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(std::span<char*> args);
};

constexpr Command kCommands[] = {
    {"backends", "list the backend plugins, their devices and capabilities", backends_command},
    {"compile", "compile a graph or model into a Program (JSON)", compile_command},
    {"run", "run a graph on .npy inputs, or generate text from a model", run_command},
    {"chat", "a conversation with a chat model, in its chat template", chat_command},
    {"perplexity", "report a model's perplexity on a text file", perplexity_command},
    {"bench", "measure a model's prefill and decode speed against the device's copy bandwidth", bench_command},
    {"synth", "write a random-weight model with a released model's shapes (HF or GGUF)", synth_command},
    {"tokenize", "encode text to token ids, or decode ids to text", tokenize_command},
    {"opt", "run a pass pipeline over text IR and print the result", opt_command},
};

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "usage: kiln COMMAND [ARGS]\n\n"
               "kiln compiles ML models to a flat dispatch list and runs it on a backend plugin.\n\n"
               "commands:\n");
  for (const Command& command : kCommands) {
    std::fprintf(out, "  %-12.*s %.*s\n", static_cast<int>(command.name.size()), command.name.data(),
                 static_cast<int>(command.summary.size()), command.summary.data());
  }
  std::fprintf(out, "\n`kiln COMMAND --help` describes each command; `kiln --version` says which kiln this is.\n");
}

int print_version() {
  std::printf("kiln %s (git %s)\nbackend plugin ABI %u\n", kVersion, kGitRevision, KILN_BACKEND_ABI_VERSION);
  return std::fflush(stdout) == 0 && std::ferror(stdout) == 0 ? 0 : 1;
}

}  // namespace
}  // namespace kiln::cli

int main(int argc, char** argv) {
  using kiln::cli::kCommands;
  if (argc < 2) {
    kiln::cli::print_usage(stderr);
    return 2;
  }
  const std::string_view name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    kiln::cli::print_usage(stdout);
    return 0;
  }
  if (name == "--version") return kiln::cli::print_version();
  for (const auto& command : kCommands) {
    if (command.name == name) return command.run(std::span<char*>(argv + 2, argc - 2));
  }
  std::fprintf(stderr, "kiln: unknown command '%s'; see kiln --help\n", argv[1]);
  return 2;
}
