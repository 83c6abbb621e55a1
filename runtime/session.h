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

namespace kiln::runtime {

struct SessionOptions {
  std::string backend = "cpu";
  ProgramOptions programs;     // context and prefill chunk
  bool show_progress = false;  // progress bars on stderr (set from isatty)
};

// Which logits feed() returns.
enum class LogitRows : uint8_t {
  last,  // the last token's: one row, one readback
  all,   // one row per token fed, in order
};

// A model on a backend: both Programs compiled once, weights uploaded once,
// and the KV cache holding the tokens fed so far. Each feed() writes token
// ids, runs with the step uniforms {T, P} and reads logits back; nothing is
// compiled or allocated per token. Not thread-safe.
class Session {
 public:
  // Loads the model (a GGUF file or an HF folder), compiles and uploads.
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
  // n): prefill runs of at most prefill_chunk() tokens, or the decode
  // Program for a single token. Returns f32 logits, vocab_size() per row.
  // Fails, feeding nothing, when an id is outside the vocabulary or the
  // tokens would pass the context.
  absl::StatusOr<std::vector<float>> feed(std::span<const int32_t> tokens, LogitRows rows = LogitRows::last);

  // Counters of the executables (the decode one shares prefill's weights).
  kiln_counters prefill_counters() const { return prefill_->counters(); }
  kiln_counters decode_counters() const { return decode_->counters(); }
  double load_seconds() const { return load_seconds_; }

 private:
  // Where one executable's token ids and logits live in its arena.
  struct Io {
    int64_t tokens_offset = 0;
    int64_t logits_offset = 0;
  };

  explicit Session(frontend::Model model) : model_(std::move(model)) {}
  absl::Status start(const SessionOptions& options);
  absl::Status upload_weights(bool show_progress);
  absl::Status run_step(std::span<const int32_t> tokens, bool decode, bool read_all, bool read_last,
                        std::vector<float>& out_logits);

  frontend::Model model_;
  std::optional<backends::Backend> backend_;
  ModelPrograms programs_;
  std::optional<backends::Executable> prefill_;
  std::optional<backends::Executable> decode_;
  Io prefill_io_, decode_io_;
  int64_t position_ = 0;
  double load_seconds_ = 0;
};

}  // namespace kiln::runtime
