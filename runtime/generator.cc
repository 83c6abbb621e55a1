#include "runtime/generator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "frontend/stream_decoder.h"
#include "runtime/stop_strings.h"

namespace kiln::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// `position`: tokens already in the context (0 unless continuing it).
absl::Status check_fits(const Session& session, int64_t position, int64_t prompt_tokens, int64_t new_tokens) {
  if (prompt_tokens == 0) return absl::InvalidArgumentError("the prompt is empty");
  if (new_tokens < 0 && new_tokens != kUntilContextFull) {
    return absl::InvalidArgumentError(absl::StrCat("-n ", new_tokens, " must be >= 0, or -1 for no limit"));
  }
  // Compared without forming the sum, which a huge -n would overflow.
  const int64_t wanted = new_tokens == kUntilContextFull ? 0 : new_tokens;
  const int64_t room = session.context() - position;
  if (prompt_tokens <= room && wanted <= room - prompt_tokens) return absl::OkStatus();
  const int64_t model_context = session.config().max_context;
  const std::string limit =
      session.context() == model_context
          ? absl::StrCat("the model's context of ", model_context)
          : absl::StrCat("the session's context of ", session.context(), " (the model allows ", model_context,
                         "; see --ctx)");
  const std::string held = position == 0 ? "" : absl::StrCat(" after the ", position, " tokens already in it");
  return absl::OutOfRangeError(
      absl::StrCat("prompt of ", prompt_tokens, " tokens + ", new_tokens, " new exceeds ", limit, held));
}

// Turns sampled ids into shown text: the stream decoder completes UTF-8
// characters, the stop strings hold back what might begin one.
class TextStream {
 public:
  TextStream(const frontend::Tokenizer* tokenizer, std::vector<std::string> stops,
             const std::function<void(std::string_view)>& on_text, std::string& out_text)
      : stops_(std::move(stops)), on_text_(on_text), out_text_(out_text) {
    if (tokenizer != nullptr) decoder_.emplace(*tokenizer);
  }

  // Decodes the prompt without showing it, so that the first generated
  // token renders as a continuation (keeping its leading space).
  absl::Status prime(std::span<const int32_t> prompt) {
    if (!decoder_) return absl::OkStatus();
    for (int32_t id : prompt) {
      if (absl::StatusOr<std::string> piece = decoder_->push(id); !piece.ok()) return piece.status();
    }
    return absl::OkStatus();
  }

  absl::Status push(int32_t id) {
    if (!decoder_) return absl::OkStatus();
    absl::StatusOr<std::string> piece = decoder_->push(id);
    // A model whose vocabulary is larger than its tokenizer's (Qwen2 pads
    // it) can sample an id that has no text: an error, never garbage.
    if (!piece.ok()) {
      return absl::Status(piece.status().code(),
                          absl::StrCat("the model generated a token its tokenizer lacks: ", piece.status().message()));
    }
    show(stops_.push(*piece));
    return absl::OkStatus();
  }
  void finish() {
    if (!decoder_) return;
    show(stops_.push(decoder_->finish()));
    show(stops_.finish());
  }
  bool stopped() const { return stops_.stopped(); }

 private:
  void show(const std::string& text) {
    if (text.empty()) return;
    out_text_ += text;
    if (on_text_) on_text_(text);
  }

  std::optional<frontend::StreamDecoder> decoder_;
  StopStrings stops_;
  const std::function<void(std::string_view)>& on_text_;
  std::string& out_text_;
};

bool is_eos(const Session& session, const frontend::Tokenizer* tokenizer, int32_t id) {
  const std::vector<int32_t>& eos = session.config().eos_token_ids;
  return std::find(eos.begin(), eos.end(), id) != eos.end() || (tokenizer != nullptr && tokenizer->is_eos(id));
}

bool is_stop_token(const GenerateOptions& options, int32_t id) {
  return std::find(options.stop_tokens.begin(), options.stop_tokens.end(), id) != options.stop_tokens.end();
}

// A model whose weights make the logits NaN or infinite would sample
// garbage; the row a token is drawn from is checked (on the device path, the
// candidates' logits: the top one is the row's largest), never every
// tensor. `position` is the tokens fed so far.
absl::Status check_finite(std::span<const float> logits, size_t position) {
  for (float logit : logits) {
    if (!std::isfinite(logit)) {
      return absl::DataLossError(absl::StrCat("the logits after ", position, " tokens hold ", logit,
                                              ": the model's weights give non-finite values; generation stopped"));
    }
  }
  return absl::OkStatus();
}

// Feeds tokens and picks the next one: from the candidates the device's
// sampling op chose when the session was opened with these sampling
// options and nobody wants the logits, else from logits read back.
class Picker {
 public:
  Picker(Session& session, const SamplingOptions& options, const GenerateCallbacks& callbacks)
      : session_(session),
        sampler_(options),
        callbacks_(callbacks),
        on_device_(!callbacks.on_logits && session.samples_on_device(options)) {}

  // `history` holds every token so far, `tokens` included.
  absl::StatusOr<int32_t> feed(std::span<const int32_t> tokens, std::span<const int32_t> history, double& seconds) {
    const Clock::time_point start = Clock::now();
    absl::StatusOr<int32_t> id = on_device_ ? from_candidates(tokens, history) : from_logits(tokens, history);
    seconds += std::chrono::duration<double>(Clock::now() - start).count();
    return id;
  }

 private:
  absl::StatusOr<int32_t> from_candidates(std::span<const int32_t> tokens, std::span<const int32_t> history) {
    absl::StatusOr<Candidates> candidates = session_.feed_and_sample(tokens, history);
    if (!candidates.ok()) return candidates.status();
    if (absl::Status s = check_finite(candidates->logits, history.size()); !s.ok()) return s;
    if (candidates->ids.size() == 1) return candidates->ids.front();  // greedy: the device's argmax
    return sampler_.sample_candidates(candidates->ids, candidates->logits, history);
  }

  absl::StatusOr<int32_t> from_logits(std::span<const int32_t> tokens, std::span<const int32_t> history) {
    const LogitRows rows = callbacks_.on_logits ? LogitRows::all : LogitRows::last;
    absl::StatusOr<std::vector<float>> logits = session_.feed(tokens, rows);
    if (!logits.ok()) return logits.status();
    const int64_t vocab = session_.vocab_size();
    if (callbacks_.on_logits) callbacks_.on_logits(*logits, static_cast<int64_t>(logits->size()) / vocab);
    const std::span<const float> last(logits->data() + logits->size() - vocab, vocab);
    if (absl::Status s = check_finite(last, history.size()); !s.ok()) return s;
    return sampler_.sample(last, history);
  }

  Session& session_;
  Sampler sampler_;
  const GenerateCallbacks& callbacks_;
  bool on_device_;
};

}  // namespace

std::string_view stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::length: return "length";
    case StopReason::eos: return "eos";
    case StopReason::stop_string: return "stop string";
    case StopReason::context_full: return "context full";
    case StopReason::interrupted: return "interrupted";
  }
  return "unknown";
}

absl::StatusOr<GenerationResult> generate(Session& session, std::span<const int32_t> prompt,
                                          const GenerateOptions& options, const GenerateCallbacks& callbacks) {
  const int64_t prompt_tokens = static_cast<int64_t>(prompt.size());
  const int64_t position = options.continue_context ? session.position() : 0;
  if (absl::Status s = check_fits(session, position, prompt_tokens, options.max_new_tokens); !s.ok()) return s;
  if (absl::Status s = validate_sampling(options.sampling); !s.ok()) return s;
  absl::StatusOr<const frontend::Tokenizer*> tokenizer = session.tokenizer();
  if (!tokenizer.ok() && (callbacks.on_text || !options.stop.empty())) return tokenizer.status();
  const frontend::Tokenizer* vocabulary = tokenizer.ok() ? *tokenizer : nullptr;

  GenerationResult result;
  result.prompt_tokens = prompt_tokens;
  TextStream stream(vocabulary, options.stop, callbacks.on_text, result.text);
  if (absl::Status s = stream.prime(prompt); !s.ok()) return s;
  Picker picker(session, options.sampling, callbacks);
  std::vector<int32_t> history(prompt.begin(), prompt.end());
  if (!options.continue_context) session.reset();
  const bool until_full = options.max_new_tokens == kUntilContextFull;
  const int64_t limit = until_full ? session.context() - position - prompt_tokens : options.max_new_tokens;
  if (until_full) result.stop_reason = StopReason::context_full;
  absl::StatusOr<int32_t> next = picker.feed(prompt, history, result.prefill_seconds);
  for (int64_t step = 0; next.ok() && step < limit; ++step) {
    if (callbacks.interrupted && callbacks.interrupted()) {
      result.stop_reason = StopReason::interrupted;
      break;
    }
    const int32_t id = *next;
    if ((options.stop_at_eos && is_eos(session, vocabulary, id)) || is_stop_token(options, id)) {
      result.stop_reason = StopReason::eos;
      break;
    }
    result.tokens.push_back(id);
    history.push_back(id);
    if (absl::Status s = stream.push(id); !s.ok()) return s;
    if (stream.stopped()) {
      result.stop_reason = StopReason::stop_string;
      break;
    }
    if (step + 1 == limit) break;
    next = picker.feed(std::span(&id, 1), history, result.decode_seconds);
    ++result.decode_steps;
  }
  if (!next.ok()) return next.status();
  stream.finish();
  return result;
}

}  // namespace kiln::runtime
