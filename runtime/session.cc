#include "runtime/session.h"

#include <chrono>
#include <map>

#include "absl/strings/str_cat.h"
#include "frontend/llama_builder.h"
#include "program/step.h"
#include "runtime/progress_bar.h"

namespace kiln::runtime {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The Program's binding named `name`, checked for its dtype, or -1 when it
// is optional and absent.
absl::StatusOr<int32_t> find_binding(const std::vector<program::Binding>& bindings, std::string_view name,
                                     program::DType dtype, bool required, std::string_view program) {
  for (size_t i = 0; i < bindings.size(); ++i) {
    if (bindings[i].name != name) continue;
    if (bindings[i].ref.dtype != dtype || bindings[i].ref.region != program::Region::arena) {
      return absl::InternalError(absl::StrCat("the ", std::string(program), " Program's '", std::string(name),
                                              "' must be a ", std::string(program::dtype_name(dtype)),
                                              " arena tensor"));
    }
    return static_cast<int32_t>(i);
  }
  if (!required) return -1;
  return absl::InternalError(
      absl::StrCat("the ", std::string(program), " Program has no binding '", std::string(name), "'"));
}

}  // namespace

frontend::SamplingOp sampling_op(const SamplingOptions& options, int64_t vocab) {
  frontend::SamplingOp op;
  op.k = options.temperature == 0 ? 1 : options.top_k > 0 ? std::min(options.top_k, vocab) : vocab;
  if (op.k > kMaxDeviceTopK) return {};
  op.penalty = options.repeat_penalty;
  op.window = options.repeat_penalty == 1.0 ? 0 : std::max<int64_t>(options.repeat_last_n, 1);
  return op;
}

absl::StatusOr<std::unique_ptr<Session>> Session::open(const std::string& model_path, const SessionOptions& options) {
  const Clock::time_point start = Clock::now();
  absl::StatusOr<frontend::Model> model = frontend::load_model(model_path);
  if (!model.ok()) return model.status();
  absl::StatusOr<std::unique_ptr<Session>> session = create(*std::move(model), options);
  if (session.ok()) (*session)->load_seconds_ = seconds_since(start);
  return session;
}

absl::StatusOr<std::unique_ptr<Session>> Session::create(frontend::Model model, const SessionOptions& options) {
  const Clock::time_point start = Clock::now();
  std::unique_ptr<Session> session(new Session(std::move(model)));
  if (absl::Status s = session->start(options); !s.ok()) return s;
  session->load_seconds_ = seconds_since(start);
  return session;
}

absl::Status Session::start(const SessionOptions& options) {
  absl::StatusOr<backends::Backend> backend = backends::Backend::open(options.backend, options.device);
  if (!backend.ok()) return backend.status();
  backend_ = *std::move(backend);
  sampling_ = options.sampling;
  ProgramOptions program_options = options.programs;
  if (sampling_) {
    if (absl::Status s = validate_sampling(*sampling_); !s.ok()) return s;
    program_options.sampling = sampling_op(*sampling_, vocab_size());
  }
  {
    ProgressBar bar("compile", 2, options.show_progress);
    absl::StatusOr<ModelPrograms> programs =
        compile_model(model_.config, model_.weights, backend_->capabilities(), program_options);
    if (!programs.ok()) return programs.status();
    programs_ = *std::move(programs);
    bar.advance(1);
    absl::StatusOr<backends::Executable> prefill = backend_->compile(programs_.prefill);
    if (!prefill.ok()) return prefill.status();
    prefill_ = *std::move(prefill);
    absl::StatusOr<backends::Executable> decode = backend_->compile(programs_.decode);
    if (!decode.ok()) return decode.status();
    decode_ = *std::move(decode);
  }
  for (auto [program, io, name] : {std::tuple{&programs_.prefill, &prefill_io_, "prefill"},
                                   std::tuple{&programs_.decode, &decode_io_, "decode"}}) {
    const bool sampled = sampling_.has_value() && sampling_op(*sampling_, vocab_size()).k > 0;
    absl::StatusOr<int32_t> tokens =
        find_binding(program->inputs, frontend::kTokensInput, program::DType::i32, true, name);
    absl::StatusOr<int32_t> recent =
        find_binding(program->inputs, frontend::kRecentInput, program::DType::i32, false, name);
    absl::StatusOr<int32_t> logits =
        find_binding(program->outputs, frontend::kLogitsOutput, program::DType::f32, true, name);
    absl::StatusOr<int32_t> ids = find_binding(program->outputs, frontend::kIdsOutput, program::DType::i32, sampled, name);
    absl::StatusOr<int32_t> values =
        find_binding(program->outputs, frontend::kValuesOutput, program::DType::f32, sampled, name);
    for (const auto* found : {&tokens, &recent, &logits, &ids, &values}) {
      if (!found->ok()) return found->status();
    }
    // Whether the rows follow T, read from the shape rather than counted at
    // T's bound, which cannot tell the two apart when the bound is 1.
    const program::Shape& shape = program->outputs[*logits].ref.shape;
    *io = {*tokens, *recent, *logits, *ids, *values, !shape.empty() && !shape.front().is_static()};
  }
  absl::StatusOr<backends::Weights> weights = prefill_->create_weights();
  if (!weights.ok()) return weights.status();
  weights_ = *std::move(weights);
  if (absl::Status s = import_weights(options.show_progress); !s.ok()) return s;
  absl::StatusOr<backends::State> state = prefill_->create_state();
  if (!state.ok()) return state.status();
  state_ = *std::move(state);
  if (absl::Status s = prefill_->bind(*weights_, &*state_); !s.ok()) return s;
  return decode_->bind(*weights_, &*state_);
}

// Hands each weight of the Program's table over straight from the mapped
// file: the cpu plugin reads it there, a GPU plugin streams it to the
// device; the host never holds a second copy.
absl::Status Session::import_weights(bool show_progress) {
  std::map<std::string, const frontend::TensorData*, std::less<>> by_name;
  for (const frontend::TensorData* tensor : model_.weights.all()) by_name[tensor->name] = tensor;
  int64_t total = 0;
  for (const program::WeightEntry& entry : programs_.prefill.weights) total += entry.bytes;
  ProgressBar bar("weights", total, show_progress, /*unit_bytes=*/true);
  for (size_t i = 0; i < programs_.prefill.weights.size(); ++i) {
    const program::WeightEntry& entry = programs_.prefill.weights[i];
    const auto it = by_name.find(entry.name);
    if (it == by_name.end() || static_cast<int64_t>(it->second->bytes) != entry.bytes) {
      return absl::InternalError(absl::StrCat("weight '", entry.name, "' of the Program (", entry.bytes,
                                              " bytes) is not a tensor of ", model_.path, " of that size"));
    }
    const frontend::TensorData& tensor = *it->second;
    if (absl::Status s = weights_->import(static_cast<uint32_t>(i), {tensor.data, tensor.bytes}); !s.ok()) return s;
    bar.advance(entry.bytes);
  }
  return absl::OkStatus();
}

absl::StatusOr<const frontend::Tokenizer*> Session::tokenizer() const {
  if (!model_.tokenizer.ok()) {
    return absl::Status(model_.tokenizer.status().code(),
                        absl::StrCat(model_.path, " has no usable tokenizer: ", model_.tokenizer.status().message()));
  }
  return &*model_.tokenizer;
}

int64_t Session::prefill_chunk() const {
  const program::Program& prefill = programs_.prefill;
  return prefill.slots[prefill.find_slot("T")].bound;
}

bool Session::samples_on_device(const SamplingOptions& options) const {
  if (!sampling_.has_value()) return false;
  const frontend::SamplingOp op = sampling_op(*sampling_, vocab_size());
  return op.k > 0 && sampling_op(options, vocab_size()) == op;
}

absl::StatusOr<std::vector<KernelTime>> Session::profile() const {
  std::vector<KernelTime> totals;
  for (const backends::Executable* executable : {&*prefill_, &*decode_}) {
    absl::StatusOr<std::vector<kiln_profile_entry>> entries = executable->profile();
    if (!entries.ok()) return entries.status();
    add_profile(executable->program(), *entries, totals);
  }
  return totals;
}

absl::Status Session::check_feed(std::span<const int32_t> tokens) const {
  if (tokens.empty()) return absl::InvalidArgumentError("no tokens to feed");
  for (int32_t id : tokens) {
    if (id < 0 || id >= vocab_size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", id, " is outside the vocabulary [0, ", vocab_size(), ")"));
    }
  }
  const int64_t count = static_cast<int64_t>(tokens.size());
  if (count > context() - position_) {
    return absl::OutOfRangeError(absl::StrCat(count, " tokens at position ", position_,
                                              " exceed the context of ", context(), " tokens"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<float>> Session::feed(std::span<const int32_t> tokens, LogitRows rows) {
  if (absl::Status s = check_feed(tokens); !s.ok()) return s;
  if (rows == LogitRows::all && tokens.size() > 1 && !prefill_io_.every_row) {
    return absl::FailedPreconditionError(
        "this session computes the logits of the last row only; open it with all_logits for every row's");
  }
  std::vector<float> logits;
  for (size_t begin = 0; begin < tokens.size();) {
    const size_t left = tokens.size() - begin;
    const size_t size = left == 1 ? 1 : std::min<size_t>(left, prefill_chunk());
    const bool last_chunk = begin + size == tokens.size();
    const Read read = rows == LogitRows::all ? Read::all_logits : last_chunk ? Read::last_logits : Read::nothing;
    if (absl::Status s = run_step(tokens.subspan(begin, size), read, {}, logits, nullptr); !s.ok()) return s;
    begin += size;
  }
  return logits;
}

absl::StatusOr<Candidates> Session::feed_and_sample(std::span<const int32_t> tokens,
                                                    std::span<const int32_t> history) {
  if (!sampling_) return absl::FailedPreconditionError("this session was opened without device sampling");
  const frontend::SamplingOp op = sampling_op(*sampling_, vocab_size());
  if (op.k == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this session's sampling keeps more than ", kMaxDeviceTopK,
        " candidates, which the host draws from the logits; feed the tokens and sample those"));
  }
  if (absl::Status s = check_feed(tokens); !s.ok()) return s;
  const std::vector<int32_t> recent = recent_tokens(history, sampling_->repeat_last_n, op.window);
  std::vector<float> unused;
  Candidates candidates;
  for (size_t begin = 0; begin < tokens.size();) {
    const size_t left = tokens.size() - begin;
    const size_t size = left == 1 ? 1 : std::min<size_t>(left, prefill_chunk());
    const bool last_chunk = begin + size == tokens.size();
    if (absl::Status s = run_step(tokens.subspan(begin, size), last_chunk ? Read::candidates : Read::nothing, recent,
                                  unused, &candidates);
        !s.ok()) {
      return s;
    }
    begin += size;
  }
  return candidates;
}

// One backend call: the ids (and the recent ids) in, the step values {T, P},
// and out what `read` asks for; then the position advances.
absl::Status Session::run_step(std::span<const int32_t> tokens, Read read, std::span<const int32_t> recent,
                               std::vector<float>& out_logits, Candidates* out_candidates) {
  const bool decode = tokens.size() == 1;
  backends::Executable& executable = decode ? *decode_ : *prefill_;
  const Io& io = decode ? decode_io_ : prefill_io_;
  const program::Program& program = executable.program();
  const int64_t count = static_cast<int64_t>(tokens.size());
  backends::Step step;
  for (int32_t i = 0; i < program.given_slots(); ++i) {
    const std::string& name = program.slots[i].name;
    if (name != "T" && name != "P") {
      return absl::InternalError(absl::StrCat("the Program reads an unknown step value '", name, "'"));
    }
    step.values.push_back(name == "T" ? count : position_);
  }
  step.inputs.push_back({static_cast<uint32_t>(io.tokens), 0, tokens.data(), tokens.size_bytes()});
  if (io.recent >= 0) {
    step.inputs.push_back({static_cast<uint32_t>(io.recent), 0, recent.data(), recent.size_bytes()});
  }
  const int64_t row_bytes = vocab_size() * static_cast<int64_t>(sizeof(float));
  if (read == Read::last_logits || read == Read::all_logits) {
    // The logits output holds one row per token fed, or the last row alone.
    const int64_t rows = io.every_row ? count : 1;
    const int64_t first = read == Read::all_logits ? 0 : rows - 1;
    const size_t old_size = out_logits.size();
    out_logits.resize(old_size + (rows - first) * vocab_size());
    step.outputs.push_back({static_cast<uint32_t>(io.logits), static_cast<uint64_t>(first * row_bytes),
                            out_logits.data() + old_size, static_cast<uint64_t>((rows - first) * row_bytes)});
  }
  if (read == Read::candidates) {
    const int64_t k = sampling_op(*sampling_, vocab_size()).k;
    // Greedy reads the id and its logit back: 8 bytes a token, the logit
    // there to catch a model whose logits are not finite.
    out_candidates->ids.resize(k);
    out_candidates->logits.resize(k);
    step.outputs.push_back({static_cast<uint32_t>(io.ids), 0, out_candidates->ids.data(), k * sizeof(int32_t)});
    step.outputs.push_back({static_cast<uint32_t>(io.values), 0, out_candidates->logits.data(), k * sizeof(float)});
  }
  if (absl::Status s = executable.run(step); !s.ok()) return s;
  position_ += count;
  return absl::OkStatus();
}

}  // namespace kiln::runtime
