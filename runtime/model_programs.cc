#include "runtime/model_programs.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "frontend/llama_builder.h"
#include "passes/compile.h"

namespace kiln::runtime {
namespace {

absl::StatusOr<program::Program> compile_step(const frontend::ModelConfig& config,
                                             const frontend::ModelWeights& weights, frontend::LlamaStep step,
                                             const frontend::LlamaGraphOptions& graph_options,
                                             const passes::Target& target, const ProgramOptions& program_options) {
  absl::StatusOr<ir::Graph> graph = frontend::build_llama_graph(config, weights, step, graph_options);
  if (!graph.ok()) return graph.status();
  passes::CompileOptions options;
  options.target = target;
  options.pipeline = program_options.pipeline;
  options.pass_options = program_options.pass_options;
  options.explain = program_options.explain;
  absl::StatusOr<program::Program> program = passes::compile(*graph, options);
  if (!program.ok()) {
    const char* name = step == frontend::LlamaStep::prefill ? "prefill" : "decode";
    return absl::Status(program.status().code(),
                        absl::StrCat(config.source, ": compiling the ", name, " graph: ", program.status().message()));
  }
  return program;
}

}  // namespace

absl::StatusOr<int64_t> resolve_context(const frontend::ModelConfig& config, int64_t requested) {
  if (requested == 0) return std::min(config.max_context, kDefaultContextCap);
  if (requested < 0 || requested > config.max_context) {
    return absl::InvalidArgumentError(absl::StrCat("--ctx ", requested, " must be in [1, ", config.max_context,
                                                   "], the model's context"));
  }
  return requested;
}

absl::StatusOr<ModelPrograms> compile_model(const frontend::ModelConfig& config,
                                            const frontend::ModelWeights& weights,
                                            const passes::Target& target, const ProgramOptions& options) {
  absl::StatusOr<int64_t> context = resolve_context(config, options.context);
  if (!context.ok()) return context.status();
  if (options.prefill_chunk < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--prefill-chunk ", options.prefill_chunk, " must be at least 1"));
  }
  const frontend::LlamaGraphOptions graph_options{.context = *context,
                                                  .prefill_tokens = std::min(options.prefill_chunk, *context),
                                                  .all_logits = options.all_logits,
                                                  .sampling = options.sampling,
                                                  .cache_dtype = options.cache_dtype};
  ModelPrograms programs;
  programs.context = *context;
  absl::StatusOr<program::Program> prefill = compile_step(config, weights, frontend::LlamaStep::prefill,
                                                         graph_options, target, options);
  if (!prefill.ok()) return prefill.status();
  absl::StatusOr<program::Program> decode = compile_step(config, weights, frontend::LlamaStep::decode,
                                                        graph_options, target, options);
  if (!decode.ok()) return decode.status();
  programs.prefill = *std::move(prefill);
  programs.decode = *std::move(decode);
  return programs;
}

}  // namespace kiln::runtime
