#include "tools/arg_parser.h"

#include <charconv>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/standard_output.h"

namespace kiln::cli {

ArgParser::ArgParser(std::string command, std::string usage, std::string summary)
    : command_(std::move(command)), usage_(std::move(usage)), summary_(std::move(summary)) {}

ArgParser& ArgParser::option(std::string name, std::string short_name, std::string value_name, std::string help,
                             std::string default_value, bool repeatable) {
  options_.push_back({std::move(name), std::move(short_name), std::move(value_name), std::move(help),
                      std::move(default_value), repeatable});
  return *this;
}

ArgParser& ArgParser::positional(std::string name, std::string help, bool required) {
  positionals_.push_back({std::move(name), std::move(help), required});
  return *this;
}

const ArgParser::Option* ArgParser::find(std::string_view token) const {
  for (const Option& option : options_) {
    if (token == "--" + option.name || (!option.short_name.empty() && token == "-" + option.short_name)) {
      return &option;
    }
  }
  return nullptr;
}

absl::Status ArgParser::parse(std::span<char*> args) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string token = args[i];
    if (token == "-h" || token == "--help") {
      wants_help_ = true;
      return absl::OkStatus();
    }
    if (token.size() < 2 || token[0] != '-' || (token[1] >= '0' && token[1] <= '9')) {
      positional_values_.push_back(token);
      continue;
    }
    std::optional<std::string> inline_value;
    if (size_t eq = token.find('='); token.starts_with("--") && eq != std::string::npos) {
      inline_value = token.substr(eq + 1);
      token.resize(eq);
    }
    const Option* option = find(token);
    if (option == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown option ", token));
    std::vector<std::string>& slot = values_[option->name];
    if (!slot.empty() && !option->repeatable) {
      return absl::InvalidArgumentError(absl::StrCat(token, " given twice"));
    }
    if (option->value_name.empty()) {
      if (inline_value) return absl::InvalidArgumentError(absl::StrCat(token, " takes no value"));
      slot.push_back("true");
    } else if (inline_value) {
      slot.push_back(*inline_value);
    } else if (i + 1 < args.size()) {
      slot.push_back(args[++i]);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(token, " needs a value (", option->value_name, ")"));
    }
  }
  size_t required = 0;
  for (const Positional& p : positionals_) required += p.required;
  if (positional_values_.size() < required) {
    return absl::InvalidArgumentError(absl::StrCat("missing ", positionals_[positional_values_.size()].name,
                                                   "; see kiln ", command_, " --help"));
  }
  if (positional_values_.size() > positionals_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", positional_values_[positionals_.size()],
                                                   "'; see kiln ", command_, " --help"));
  }
  return absl::OkStatus();
}

std::string ArgParser::help() const {
  std::string out = absl::StrCat("usage: kiln ", command_, " ", usage_, "\n\n", summary_, "\n");
  if (!positionals_.empty()) out += "\narguments:\n";
  for (const Positional& p : positionals_) absl::StrAppendFormat(&out, "  %-24s %s\n", p.name, p.help);
  out += "\noptions:\n";
  for (const Option& o : options_) {
    std::string names = o.short_name.empty() ? absl::StrCat("    --", o.name)
                                             : absl::StrCat("-", o.short_name, ", --", o.name);
    if (!o.value_name.empty()) absl::StrAppend(&names, " ", o.value_name);
    std::string help = o.help;
    if (!o.default_value.empty()) absl::StrAppend(&help, " (default: ", o.default_value, ")");
    absl::StrAppendFormat(&out, "  %-24s %s\n", names, help);
  }
  absl::StrAppendFormat(&out, "  %-24s %s\n", "-h, --help", "show this help");
  return out + epilogue_;
}

bool ArgParser::has(std::string_view name) const { return values_.find(name) != values_.end(); }

std::string ArgParser::get(std::string_view name) const {
  auto it = values_.find(name);
  if (it != values_.end()) return it->second.back();
  for (const Option& option : options_) {
    if (option.name == name) return option.default_value;
  }
  return "";
}

const std::vector<std::string>& ArgParser::get_all(std::string_view name) const {
  static const std::vector<std::string> kNone;
  auto it = values_.find(name);
  return it == values_.end() ? kNone : it->second;
}

absl::StatusOr<int64_t> ArgParser::get_int(std::string_view name) const {
  const std::string text = get(name);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(absl::StrCat("--", std::string(name), ": expected an integer, got '", text, "'"));
  }
  return value;
}

absl::StatusOr<double> ArgParser::get_real(std::string_view name) const {
  const std::string text = get(name);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(absl::StrCat("--", std::string(name), ": expected a number, got '", text, "'"));
  }
  return value;
}

int command_main(ArgParser& args, std::span<char*> argv, absl::FunctionRef<absl::Status(const ArgParser&)> body) {
  if (absl::Status status = args.parse(argv); !status.ok()) {
    std::cerr << "kiln " << args.command() << ": " << status.message() << "\n";
    return 2;
  }
  if (args.wants_help()) {
    std::cout << args.help();
    return 0;
  }
  absl::Status status = body(args);
  if (status.ok()) status = stdout_status();
  if (status.ok()) return 0;
  std::cerr << "kiln " << args.command() << ": " << status.message() << "\n";
  return absl::IsCancelled(status) ? kInterruptedExit : 1;
}

}  // namespace kiln::cli
