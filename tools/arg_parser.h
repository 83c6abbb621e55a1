#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace kiln::cli {

// Declares a command's options, then parses its arguments and prints --help
// from the same declarations, so the help text can never drift from what
// is accepted. Options are `--name VALUE`, `--name=VALUE`, `-x VALUE`, or
// flags without a value; everything else is a positional argument.
class ArgParser {
 public:
  ArgParser(std::string command, std::string usage, std::string summary);

  // `value_name` empty: a flag that takes no value. `repeatable`: may be
  // given several times (values collected in order).
  ArgParser& option(std::string name, std::string short_name, std::string value_name, std::string help,
                    std::string default_value = "", bool repeatable = false);
  ArgParser& flag(std::string name, std::string short_name, std::string help) {
    return option(std::move(name), std::move(short_name), "", std::move(help));
  }
  ArgParser& positional(std::string name, std::string help, bool required = true);
  // Text printed after the options in --help (e.g. the list of passes).
  ArgParser& epilogue(std::string text) {
    epilogue_ = std::move(text);
    return *this;
  }

  // Fails with a one-line cause ("unknown option --foo", "--top-k needs a
  // value", "missing GRAPH"). Returns false in `wants_help` when -h/--help
  // was given (nothing else is checked then).
  absl::Status parse(std::span<char*> args);
  bool wants_help() const { return wants_help_; }
  std::string help() const;
  const std::string& command() const { return command_; }

  bool has(std::string_view name) const;
  std::string get(std::string_view name) const;  // the last value, or the default
  const std::vector<std::string>& get_all(std::string_view name) const;
  absl::StatusOr<int64_t> get_int(std::string_view name) const;
  absl::StatusOr<double> get_real(std::string_view name) const;
  const std::string& positional_value(size_t index) const { return positional_values_[index]; }
  size_t positional_count() const { return positional_values_.size(); }

 private:
  struct Option {
    std::string name, short_name, value_name, help, default_value;
    bool repeatable = false;
  };
  struct Positional {
    std::string name, help;
    bool required = true;
  };
  const Option* find(std::string_view token) const;

  std::string command_, usage_, summary_, epilogue_;
  std::vector<Option> options_;
  std::vector<Positional> positionals_;
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
  std::vector<std::string> positional_values_;
  bool wants_help_ = false;
};

// The exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells
// report it).
inline constexpr int kInterruptedExit = 130;

// The shape every command shares: parse `argv` (a usage error exits 2),
// answer --help (exits 0), or run `body` (exits 1 on error, including a
// failed write to stdout; kInterruptedExit when `body` returns a Cancelled
// status). Errors go to stderr as one line, "kiln COMMAND: cause".
int command_main(ArgParser& args, std::span<char*> argv, absl::FunctionRef<absl::Status(const ArgParser&)> body);

}  // namespace kiln::cli
