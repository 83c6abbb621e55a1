// `kiln synth PRESET -o OUT`: random-weight models of real shapes, for speed
// work without downloads (frontend/synthetic_model_writer.h).

#include <chrono>
#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "frontend/synthetic_model_writer.h"
#include "frontend/synthetic_tokenizer.h"
#include "runtime/progress_bar.h"
#include "tools/arg_parser.h"
#include "tools/commands.h"

namespace kiln::cli {
namespace {

std::string preset_list() {
  std::string out = "presets (hidden, layers, heads, kv heads, ffn, vocab):\n";
  for (const frontend::SyntheticShape& s : frontend::synthetic_presets()) {
    absl::StrAppend(&out, absl::StrFormat("  %-14s %5d %3d %3d %2d %6d %7d%s%s\n", s.name, s.hidden, s.layers, s.heads,
                                          s.kv_heads, s.ffn, s.vocab, s.tied ? ", tied" : ", untied",
                                          s.qkv_bias ? ", qkv biases" : ""));
  }
  return out;
}

ArgParser synth_parser() {
  ArgParser args("synth", "PRESET -o OUT [--format hf|gguf] [--dtype f16|f32] [--layers N] [--vocab N] [--seed S]",
                 "Writes a random-weight model with the exact shapes of a released one, for speed\n"
                 "work without downloads. --format hf writes the folder OUT (config.json,\n"
                 "model.safetensors, tokenizer.json); gguf writes the file OUT as llama.cpp's\n"
                 "converter lays it out (q and k rows permuted, 1-D tensors in f32, Llama 3\n"
                 "rope scaling as rope_freqs.weight). The same seed gives the same model in\n"
                 "both formats.\n\n"
                 "Weights are drawn approximately N(0, 0.02) (a sum of four uniforms), norm\n"
                 "weights are 1, so activations stay finite; the text means nothing. The\n"
                 "tokenizer is a small byte-level BPE covering the vocabulary (bytes, byte pairs,\n"
                 "byte triples, BOS and EOS last); with --no-tokenizer, run the model with\n"
                 "--prompt-ids. The model is written a slice at a time, so memory stays small\n"
                 "whatever its size; a progress bar shows on stderr when it is a terminal.");
  args.positional("PRESET", "the shapes to copy (see below)")
      .option("output", "o", "OUT", "the folder (hf) or file (gguf) to write")
      .option("format", "", "hf|gguf", "HF safetensors folder or one GGUF file", "hf")
      .option("dtype", "", "f16|f32", "the weights' type", "f16")
      .option("layers", "", "N", "decoder layers instead of the preset's (small smoke models)")
      .option("vocab", "", "N", "vocabulary size instead of the preset's")
      .option("seed", "", "S", "random seed", "0")
      .option("threads", "t", "N", "threads drawing the values (default: the CPUs, at most 16)")
      .flag("no-tokenizer", "", "write no tokenizer")
      .epilogue(preset_list());
  return args;
}

// --layers and --vocab: a positive override of the preset.
absl::Status override_size(const ArgParser& args, const char* name, int64_t minimum, int64_t& field) {
  if (!args.has(name)) return absl::OkStatus();
  absl::StatusOr<int64_t> value = args.get_int(name);
  if (!value.ok()) return value.status();
  if (*value < minimum || *value > (int64_t{1} << 24)) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, " ", *value, " must be in [", minimum, ", 16777216]"));
  }
  field = *value;
  return absl::OkStatus();
}

absl::StatusOr<frontend::SyntheticModelOptions> synth_options(const ArgParser& args) {
  absl::StatusOr<frontend::SyntheticShape> shape = frontend::find_synthetic_preset(args.positional_value(0));
  if (!shape.ok()) return shape.status();
  frontend::SyntheticModelOptions options;
  options.shape = *shape;
  options.tokenizer = !args.has("no-tokenizer");
  const int64_t min_vocab = options.tokenizer ? frontend::kSyntheticVocabularyMin : 1;
  if (absl::Status s = override_size(args, "layers", 1, options.shape.layers); !s.ok()) return s;
  if (absl::Status s = override_size(args, "vocab", min_vocab, options.shape.vocab); !s.ok()) return s;
  const std::string format = args.get("format"), dtype = args.get("dtype");
  if (format != "hf" && format != "gguf") {
    return absl::InvalidArgumentError(absl::StrCat("--format '", format, "' must be hf or gguf"));
  }
  options.format = format == "hf" ? frontend::SyntheticFormat::hf : frontend::SyntheticFormat::gguf;
  if (dtype != "f16" && dtype != "f32") {
    return absl::InvalidArgumentError(absl::StrCat("--dtype '", dtype, "' must be f16 or f32"));
  }
  options.dtype = dtype == "f16" ? ir::DType::f16 : ir::DType::f32;
  absl::StatusOr<int64_t> seed = args.get_int("seed");
  if (!seed.ok()) return seed.status();
  options.seed = static_cast<uint64_t>(*seed);
  if (args.has("threads")) {
    absl::StatusOr<int64_t> threads = args.get_int("threads");
    if (!threads.ok()) return threads.status();
    options.threads = static_cast<int>(std::clamp<int64_t>(*threads, 1, 16));
  }
  return options;
}

absl::Status run_synth(const ArgParser& args) {
  if (!args.has("output")) return absl::InvalidArgumentError("missing -o OUT; see kiln synth --help");
  absl::StatusOr<frontend::SyntheticModelOptions> options = synth_options(args);
  if (!options.ok()) return options.status();
  const std::string out = args.get("output");
  const uint64_t bytes = frontend::synthetic_model_bytes(*options);
  const frontend::SyntheticShape& s = options->shape;
  std::cerr << absl::StrFormat("kiln synth: %s (%d layers, vocab %d), %s %s, %.2f GB of weights -> %s\n", s.name,
                               s.layers, s.vocab, args.get("dtype"), args.get("format"),
                               static_cast<double>(bytes) / 1e9, out);
  const bool terminal = runtime::ProgressBar::stderr_is_terminal();
  std::optional<runtime::ProgressBar> bar;
  uint64_t shown = 0;
  const auto start = std::chrono::steady_clock::now();
  const frontend::SyntheticProgress progress = [&](uint64_t done, uint64_t total) {
    if (!bar) bar.emplace("synth", static_cast<int64_t>(total), terminal, /*unit_bytes=*/true);
    bar->advance(static_cast<int64_t>(done - shown));
    shown = done;
  };
  if (absl::Status status = frontend::write_synthetic_model(*options, out, progress); !status.ok()) return status;
  if (bar) bar->finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << absl::StrFormat("wrote %s in %.1f s (%.0f MB/s)\n", out, seconds,
                               static_cast<double>(bytes) / 1e6 / std::max(seconds, 1e-9));
  return absl::OkStatus();
}

}  // namespace

int synth_command(std::span<char*> argv) {
  ArgParser args = synth_parser();
  return command_main(args, argv, run_synth);
}

}  // namespace kiln::cli
