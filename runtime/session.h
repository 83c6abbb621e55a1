#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/backend_client.h"
#include "frontend/model_loader.h"
#include "runtime/model_programs.h"
#include "runtime/profile.h"
#include "runtime/sampler.h"

namespace kiln::runtime {

struct SessionOptions {
  std::string backend = "cpu";
  backends::BackendOptions device;  // device index, cache directory, profiling, threads
  ProgramOptions programs;          // context, prefill chunk, all_logits
  // The sampling the Programs end in (device top-k); a generate() call with
  // other settings reads the logits and samples on the host instead.
  std::optional<SamplingOptions> sampling;
  bool show_progress = false;  // progress bars on stderr (set from isatty)
};

// Which logits feed() returns.
enum class LogitRows : uint8_t {
  last,  // the last token's: one row
  all,   // one row per token fed, in order (the session needs all_logits)
};

// What the device's top_k op chose for the last token fed: ids, most likely
// first, and their raw logits.
struct Candidates {
  std::vector<int32_t> ids;
  std::vector<float> logits;
};

// A model on a backend: both Programs compiled once, the weights imported
// once (in place on the cpu plugin), one KV-cache state both executables
// bind, and the tokens fed so far. Each step is one backend call: the token
// ids (and the recent ids the penalty sees) in, the candidates or logits
// out; nothing is compiled or allocated per token. Not thread-safe.
class Session {
 public:
  // Loads the model (a GGUF file or an HF folder), compiles and imports.
  static absl::StatusOr<std::unique_ptr<Session>> open(const std::string& model_path,
                                                       const SessionOptions& options);
  static absl::StatusOr<std::unique_ptr<Session>> create(frontend::Model model, const SessionOptions& options);

  const frontend::ModelConfig& config() const { return model_.config; }
  // The model's tokenizer, or why it has none.
  absl::StatusOr<const frontend::Tokenizer*> tokenizer() const;
  const ModelPrograms& programs() const { return programs_; }
  const backends::Backend& backend() const { return *backend_; }

  int64_t context() const { return programs_.context; }
  int64_t prefill_chunk() const;
  int64_t vocab_size() const { return model_.config.vocab_size; }
  // Tokens in the KV cache: the position of the next token fed.
  int64_t position() const { return position_; }
  // Forgets every token fed; the next feed starts at position 0.
  void reset() { position_ = 0; }

  // Runs `tokens` through the model at positions [position(), position() +
  // n): prefill steps of at most prefill_chunk() tokens, or the decode
  // Program for a single token. Returns f32 logits, vocab_size() per row.
  // Fails, feeding nothing, when an id is outside the vocabulary or the
  // tokens would pass the context.
  absl::StatusOr<std::vector<float>> feed(std::span<const int32_t> tokens, LogitRows rows = LogitRows::last);
  // Feeds `tokens` as feed() does and returns the device sampler's
  // candidates for the last one; `history` (every token so far) gives the
  // penalty's recent ids. Needs a session opened with `sampling`.
  absl::StatusOr<Candidates> feed_and_sample(std::span<const int32_t> tokens, std::span<const int32_t> history);

  // The sampling the Programs end in, if any.
  const std::optional<SamplingOptions>& sampling() const { return sampling_; }
  // Whether `options` draws from the candidates the device computes: the
  // session's Programs end in a sampling op (k > 0) with the same k,
  // penalty and window.
  bool samples_on_device(const SamplingOptions& options) const;

  // Per-(kernel, variant) GPU time of both executables since the session
  // opened; FailedPrecondition unless it was opened with device.profile on
  // a plugin that profiles.
  absl::StatusOr<std::vector<KernelTime>> profile() const;

  // The device's counters (every executable of the session).
  kiln_counters counters() const { return backend_->counters(); }
  double load_seconds() const { return load_seconds_; }

 private:
  // Where one executable's interface sits in its Program's tables.
  struct Io {
    int32_t tokens = -1, recent = -1;                 // inputs
    int32_t logits = -1, ids = -1, values = -1;       // outputs
    bool every_row = false;  // the logits output has a row per token fed (all_logits), not the last alone
  };
  enum class Read : uint8_t { nothing, last_logits, all_logits, candidates };

  explicit Session(frontend::Model model) : model_(std::move(model)) {}
  absl::Status start(const SessionOptions& options);
  absl::Status import_weights(bool show_progress);
  absl::Status check_feed(std::span<const int32_t> tokens) const;
  absl::Status run_step(std::span<const int32_t> tokens, Read read, std::span<const int32_t> recent,
                        std::vector<float>& out_logits, Candidates* out_candidates);

  frontend::Model model_;  // first: the weights point into its mapped files
  std::optional<backends::Backend> backend_;
  ModelPrograms programs_;
  std::optional<SamplingOptions> sampling_;
  std::optional<backends::Weights> weights_;
  std::optional<backends::State> state_;
  std::optional<backends::Executable> prefill_;
  std::optional<backends::Executable> decode_;
  Io prefill_io_, decode_io_;
  int64_t position_ = 0;
  double load_seconds_ = 0;
};

// The most candidates the device's sampling op selects. Its top_k takes k
// rounds, each a reduction over the row (split: over the slices' lists),
// while the host's sampler sorts a row read back in one pass: past this
// many, and for top-k 0 (every token of a 128K vocabulary), reading the
// logits row is faster by orders of magnitude (PoCL: 728 ms a token for
// top_k over 128,256 logits, against 16 ms for the rest of a one-layer
// 1B step).
inline constexpr int64_t kMaxDeviceTopK = 1024;

// The device sampling op for `options` over a `vocab`-entry vocabulary:
// k = 1 for greedy, else top_k (or the whole vocabulary), or k = 0 (no
// sampling op: the Programs end in logits and the host samples) where that
// is more than kMaxDeviceTopK.
frontend::SamplingOp sampling_op(const SamplingOptions& options, int64_t vocab);

}  // namespace kiln::runtime
