#include "passes/pass_manager.h"

#include <algorithm>
#include <chrono>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ir/text.h"
#include "ir/verifier.h"
#include "passes/builtin_passes.h"

namespace kiln::passes {

PassRegistry::PassRegistry() { register_builtin_passes(*this); }

PassRegistry& PassRegistry::global() {
  static PassRegistry* registry = new PassRegistry();
  return *registry;
}

absl::Status PassRegistry::add(PassInfo pass) {
  if (pass.name.empty() || pass.name.find_first_of(", \t") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("pass name '", pass.name, "' must be non-empty and contain no comma or blank"));
  }
  if (!pass.run) return absl::InvalidArgumentError(absl::StrCat("pass '", pass.name, "' has no run function"));
  if (find(pass.name) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("pass '", pass.name, "' is already registered"));
  }
  passes_.push_back(std::move(pass));
  return absl::OkStatus();
}

const PassInfo* PassRegistry::find(std::string_view name) const {
  for (const PassInfo& pass : passes_) {
    if (pass.name == name) return &pass;
  }
  return nullptr;
}

std::vector<const PassInfo*> PassRegistry::all() const {
  std::vector<const PassInfo*> passes;
  for (const PassInfo& pass : passes_) passes.push_back(&pass);
  return passes;
}

namespace {

std::string known_pass_names() {
  std::vector<std::string> names;
  for (const PassInfo* pass : PassRegistry::global().all()) names.push_back(pass->name);
  std::sort(names.begin(), names.end());
  return absl::StrJoin(names, ", ");
}

}  // namespace

absl::StatusOr<PassManager> PassManager::from_pipeline(std::string_view pipeline_in, PassManagerOptions options) {
  const absl::string_view pipeline(pipeline_in.data(), pipeline_in.size());
  PassManager manager;
  manager.options_ = std::move(options);
  if (absl::StripAsciiWhitespace(pipeline).empty()) return manager;
  for (absl::string_view entry : absl::StrSplit(pipeline, ',')) {
    const absl::string_view name = absl::StripAsciiWhitespace(entry);
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("pipeline '", pipeline, "': empty pass name"));
    }
    const PassInfo* pass = PassRegistry::global().find(std::string(name));
    if (pass == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("pipeline '", pipeline, "': unknown pass '", name, "'; known passes: ", known_pass_names()));
    }
    manager.passes_.push_back(pass);
  }
  for (const std::string& name : manager.options_.print_after) {
    if (PassRegistry::global().find(name) == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("--print-after: unknown pass '", name, "'; known passes: ", known_pass_names()));
    }
  }
  return manager;
}

absl::Status PassManager::run(ir::Graph& graph, PassContext& context) const {
  std::ostream& log = options_.log != nullptr ? *options_.log : std::cerr;
  double total_ms = 0;
  for (const PassInfo* pass : passes_) {
    const auto start = std::chrono::steady_clock::now();
    absl::Status status = pass->run(graph, context);
    const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
    total_ms += elapsed.count();
    if (!status.ok()) return absl::Status(status.code(), absl::StrCat(pass->name, ": ", status.message()));
    if (options_.verify_each) {
      if (absl::Status s = ir::verify(graph); !s.ok()) {
        return absl::InternalError(absl::StrCat(pass->name, ": left an invalid graph: ", s.message()));
      }
    }
    if (options_.timing) {
      log << absl::StrFormat("// timing: %s: %.3f ms\n", pass->name, elapsed.count());
    }
    if (options_.print_after_all || options_.print_after.contains(pass->name)) {
      log << "// ----- after " << pass->name << " -----\n" << ir::print_graph(graph);
    }
  }
  if (options_.timing) log << absl::StrFormat("// timing: total: %.3f ms\n", total_ms);
  return absl::OkStatus();
}

}  // namespace kiln::passes
