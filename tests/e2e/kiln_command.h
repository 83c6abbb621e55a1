#pragma once

// Runs the built `kiln` binary the way a user's shell does, for the CLI
// tests (llama_cli_test, chat_cli_test, bench_cli_test).

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace kiln::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// `arg` as one single-quoted shell word.
inline std::string quoted(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// kiln ARGS with `stdin_text` on stdin, its stderr captured, and its stdout
// captured too, or sent to `stdout_path` (a file, /dev/full, ...) when one
// is given (then `out` is empty). Scratch files go in `dir`.
inline CommandResult run_kiln(const std::vector<std::string>& args, const std::string& dir,
                              const std::string& stdin_text = "", const std::string& stdout_path = "") {
  std::string command = absl::StrCat(KILN_BINARY_DIR, "/tools/kiln");
  for (const std::string& arg : args) absl::StrAppend(&command, " ", quoted(arg));
  const std::string in = dir + "/stdin", err = dir + "/stderr";
  const std::string out = stdout_path.empty() ? dir + "/stdout" : stdout_path;
  std::ofstream(in) << stdin_text;
  const int status = std::system(absl::StrCat(command, " <", in, " >", out, " 2>", err).c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, stdout_path.empty() ? read_file(out) : "", read_file(err)};
}

}  // namespace kiln::testing
