#include "runtime/session.h"

#include <chrono>
#include <map>

#include "absl/strings/str_cat.h"
#include "frontend/llama_builder.h"
#include "runtime/progress_bar.h"

namespace kiln::runtime {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

absl::StatusOr<const passes::Binding*> find_binding(const std::vector<passes::Binding>& bindings,
                                                    std::string_view name, std::string_view program) {
  for (const passes::Binding& binding : bindings) {
    if (binding.name == name && binding.ref.region == passes::Region::arena) return &binding;
  }
  return absl::InternalError(
      absl::StrCat("the ", std::string(program), " Program has no arena binding '", std::string(name), "'"));
}

// Offsets of the graph's token-id input and logits output, as the
// scheduler placed them.
absl::Status bind_io(const passes::Program& program, std::string_view name, int64_t& tokens_offset,
                     int64_t& logits_offset) {
  absl::StatusOr<const passes::Binding*> tokens = find_binding(program.inputs, frontend::kTokensInput, name);
  if (!tokens.ok()) return tokens.status();
  absl::StatusOr<const passes::Binding*> logits = find_binding(program.outputs, frontend::kLogitsOutput, name);
  if (!logits.ok()) return logits.status();
  if ((*tokens)->ref.dtype != ir::DType::i32 || (*logits)->ref.dtype != ir::DType::f32) {
    return absl::InternalError(absl::StrCat("the ", std::string(name), " Program must take i32 tokens and give f32 logits"));
  }
  tokens_offset = (*tokens)->ref.offset;
  logits_offset = (*logits)->ref.offset;
  return absl::OkStatus();
}

}  // namespace

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
  absl::StatusOr<backends::Backend> backend = backends::Backend::open(options.backend);
  if (!backend.ok()) return backend.status();
  backend_ = *std::move(backend);
  {
    ProgressBar bar("compile", 2, options.show_progress);
    absl::StatusOr<ModelPrograms> programs =
        compile_model(model_.config, model_.weights, backend_->capabilities(), options.programs);
    if (!programs.ok()) return programs.status();
    programs_ = *std::move(programs);
    bar.advance(1);
    absl::StatusOr<backends::Executable> prefill = backend_->compile(programs_.prefill);
    if (!prefill.ok()) return prefill.status();
    prefill_ = *std::move(prefill);
    absl::StatusOr<backends::Executable> decode = backend_->compile(programs_.decode, &*prefill_);
    if (!decode.ok()) return decode.status();
    decode_ = *std::move(decode);
  }
  if (absl::Status s = bind_io(programs_.prefill, "prefill", prefill_io_.tokens_offset, prefill_io_.logits_offset);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = bind_io(programs_.decode, "decode", decode_io_.tokens_offset, decode_io_.logits_offset);
      !s.ok()) {
    return s;
  }
  return upload_weights(options.show_progress);
}

// Copies each weight of the Program's table straight from the mapped file:
// the host never holds a second copy.
absl::Status Session::upload_weights(bool show_progress) {
  std::map<std::string, const frontend::TensorData*, std::less<>> by_name;
  for (const frontend::TensorData* tensor : model_.weights.all()) by_name[tensor->name] = tensor;
  int64_t total = 0;
  for (const passes::WeightEntry& entry : programs_.prefill.weights) total += entry.bytes;
  ProgressBar bar("upload", total, show_progress, /*unit_bytes=*/true);
  for (size_t i = 0; i < programs_.prefill.weights.size(); ++i) {
    const passes::WeightEntry& entry = programs_.prefill.weights[i];
    const auto it = by_name.find(entry.name);
    if (it == by_name.end() || static_cast<int64_t>(it->second->bytes) != entry.bytes) {
      return absl::InternalError(absl::StrCat("weight '", entry.name, "' of the Program (", entry.bytes,
                                              " bytes) is not a tensor of ", model_.path, " of that size"));
    }
    const frontend::TensorData& tensor = *it->second;
    if (absl::Status s = prefill_->upload_weight(static_cast<uint32_t>(i), {tensor.data, tensor.bytes}); !s.ok()) {
      return s;
    }
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

int64_t Session::prefill_chunk() const { return programs_.prefill.symbols.at("T"); }

absl::StatusOr<std::vector<float>> Session::feed(std::span<const int32_t> tokens, LogitRows rows) {
  if (tokens.empty()) return absl::InvalidArgumentError("no tokens to feed");
  for (int32_t id : tokens) {
    if (id < 0 || id >= vocab_size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", id, " is outside the vocabulary [0, ", vocab_size(), ")"));
    }
  }
  const int64_t count = static_cast<int64_t>(tokens.size());
  if (position_ + count > context()) {
    return absl::OutOfRangeError(absl::StrCat(count, " tokens at position ", position_,
                                              " exceed the context of ", context(), " tokens"));
  }
  std::vector<float> logits;
  for (size_t begin = 0; begin < tokens.size();) {
    const size_t left = tokens.size() - begin;
    const bool decode = left == 1;
    const size_t size = decode ? 1 : std::min<size_t>(left, prefill_chunk());
    const bool last_chunk = begin + size == tokens.size();
    if (absl::Status s = run_step(tokens.subspan(begin, size), decode, rows == LogitRows::all,
                                  rows == LogitRows::last && last_chunk, logits);
        !s.ok()) {
      return s;
    }
    begin += size;
  }
  return logits;
}

// One run: write the ids, run with {T, P}, read back the rows asked for
// (all of them, or only the last), then advance the position.
absl::Status Session::run_step(std::span<const int32_t> tokens, bool decode, bool read_all, bool read_last,
                               std::vector<float>& out_logits) {
  backends::Executable& executable = decode ? *decode_ : *prefill_;
  const Io& io = decode ? decode_io_ : prefill_io_;
  const passes::Program& program = decode ? programs_.decode : programs_.prefill;
  const auto* id_bytes = reinterpret_cast<const uint8_t*>(tokens.data());
  if (absl::Status s = executable.write(passes::Region::arena, io.tokens_offset, {id_bytes, tokens.size_bytes()});
      !s.ok()) {
    return s;
  }
  const int64_t count = static_cast<int64_t>(tokens.size());
  ir::SymbolValues step;
  for (const auto& [symbol, bound] : program.symbols) {
    if (symbol != "T" && symbol != "P") {
      return absl::InternalError(absl::StrCat("the Program reads an unknown step symbol '", symbol, "'"));
    }
    step[symbol] = symbol == "T" ? count : position_;
  }
  if (absl::Status s = executable.run(step); !s.ok()) return s;
  const int64_t row_bytes = vocab_size() * static_cast<int64_t>(sizeof(float));
  const int64_t first_row = read_all ? 0 : count - 1;
  if (read_all || read_last) {
    const size_t old_size = out_logits.size();
    out_logits.resize(old_size + (count - first_row) * vocab_size());
    auto* out = reinterpret_cast<uint8_t*>(out_logits.data() + old_size);
    if (absl::Status s = executable.read(passes::Region::arena, io.logits_offset + first_row * row_bytes,
                                         {out, static_cast<size_t>((count - first_row) * row_bytes)});
        !s.ok()) {
      return s;
    }
  }
  position_ += count;
  return absl::OkStatus();
}

}  // namespace kiln::runtime
