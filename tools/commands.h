#pragma once

#include <span>

namespace kiln::cli {

// Each subcommand takes the arguments after its name and returns the
// process exit code. On failure it prints one line, "kiln CMD: <cause>",
// to stderr, naming the file, node or tensor at fault.
int backends_command(std::span<char*> args);
int compile_command(std::span<char*> args);
int run_command(std::span<char*> args);
int chat_command(std::span<char*> args);
int opt_command(std::span<char*> args);
int tokenize_command(std::span<char*> args);
int perplexity_command(std::span<char*> args);
int bench_command(std::span<char*> args);
int synth_command(std::span<char*> args);

}  // namespace kiln::cli
