// `kiln compile MODEL`: writes a model's two Programs as one JSON document,
//   {"context": N, "prefill": <Program>, "decode": <Program>}
// each Program in program_json.h's form. prefill runs T tokens (T a symbol
// bounded by --prefill-chunk) at positions [P, P + T); decode runs one token
// at position P. Both have the same weight and state tables, so one set of
// weights and one KV-cache state serve both; both end in the device
// sampling op `kiln run`'s default sampling uses.

#include <iostream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "backends/backend_client.h"
#include "frontend/model_loader.h"
#include "program/program_json.h"
#include "runtime/model_programs.h"
#include "runtime/session.h"
#include "tools/model_options.h"
#include "tools/model_path.h"
#include "tools/output_file.h"
#include "tools/pass_flags.h"

namespace kiln::cli {
namespace {

absl::StatusOr<runtime::ProgramOptions> program_options(const ArgParser& args) {
  runtime::ProgramOptions options;
  if (args.has("ctx")) {
    absl::StatusOr<int64_t> context = args.get_int("ctx");
    if (!context.ok()) return context.status();
    if (*context < 1) return absl::InvalidArgumentError(absl::StrCat("--ctx ", *context, " must be at least 1"));
    options.context = *context;
  }
  absl::StatusOr<int64_t> chunk = args.get_int("prefill-chunk");
  if (!chunk.ok()) return chunk.status();
  options.prefill_chunk = *chunk;
  absl::StatusOr<ir::DType> cache = cache_type(args);
  if (!cache.ok()) return cache.status();
  options.cache_dtype = *cache;
  options.pipeline = args.get("pipeline");
  options.pass_options = pass_manager_options(args);
  options.explain = explain_stream(args);
  return options;
}

std::string programs_json(const runtime::ModelPrograms& programs) {
  nlohmann::ordered_json document;
  document["context"] = programs.context;
  document["prefill"] = nlohmann::ordered_json::parse(program::program_to_json(programs.prefill, 0));
  document["decode"] = nlohmann::ordered_json::parse(program::program_to_json(programs.decode, 0));
  return document.dump(2);
}

}  // namespace

absl::Status compile_model_file(const ArgParser& args, const std::string& model_path) {
  absl::StatusOr<runtime::ProgramOptions> options = program_options(args);
  if (!options.ok()) return options.status();
  absl::StatusOr<backends::Backend> backend = backends::Backend::open(args.get("backend"));
  if (!backend.ok()) return backend.status();
  absl::StatusOr<frontend::Model> model = frontend::load_model(model_path);
  if (!model.ok()) return model.status();
  options->sampling = runtime::sampling_op(runtime::SamplingOptions{}, model->config.vocab_size);
  absl::StatusOr<runtime::ModelPrograms> programs =
      runtime::compile_model(model->config, model->weights, backend->capabilities(), *options);
  if (!programs.ok()) return programs.status();
  // Compiling on the backend proves every dispatch has a kernel there.
  absl::StatusOr<backends::Executable> prefill = backend->compile(programs->prefill);
  if (!prefill.ok()) return prefill.status();
  absl::StatusOr<backends::Executable> decode = backend->compile(programs->decode);
  if (!decode.ok()) return decode.status();
  if (absl::Status s = write_output(args.get("output"), programs_json(*programs)); !s.ok()) return s;
  std::cerr << absl::StrCat("kiln compile: context ", programs->context, "; prefill ",
                            programs->prefill.dispatches.size(), " dispatches, arena ",
                            programs->prefill.arena_bytes, " bytes; decode ", programs->decode.dispatches.size(),
                            " dispatches, arena ", programs->decode.arena_bytes, " bytes; state ",
                            programs->prefill.state_bytes, " bytes\n");
  return absl::OkStatus();
}

}  // namespace kiln::cli
