#include "frontend/model_loader.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "frontend/gguf.h"
#include "frontend/model_path.h"
#include "frontend/safetensors.h"
#include "frontend/tokenizer_loader.h"

namespace kiln::frontend {
namespace {

// The model's special ids must be tokens of its tokenizer, and the
// tokenizer's must be rows of the model; a tokenizer smaller than the
// model's vocabulary is fine otherwise (Qwen2 pads vocab_size).
absl::Status check_tokenizer_covers(const ModelConfig& config, const Tokenizer& tokenizer) {
  const auto refuse = [&](std::string_view what, int64_t id) {
    return absl::FailedPreconditionError(absl::StrCat(
        config.source, ": the tokenizer of ", tokenizer.source(), " (", tokenizer.vocab_size(),
        " tokens) cannot serve this model (vocabulary of ", config.vocab_size, "): ", std::string(what), " ", id,
        " is beyond ", id >= tokenizer.vocab_size() ? "the tokenizer" : "the model's vocabulary"));
  };
  // A negative id is a converter's "no such token".
  if (config.bos_token_id && *config.bos_token_id >= 0 && !tokenizer.contains(*config.bos_token_id)) {
    return refuse("the model's BOS id", *config.bos_token_id);
  }
  for (int32_t id : config.eos_token_ids) {
    if (id >= 0 && !tokenizer.contains(id)) return refuse("the model's EOS id", id);
  }
  for (const auto& [what, id] : {std::pair{"the tokenizer's BOS id", tokenizer.bos_id()},
                                 std::pair{"the tokenizer's EOS id", tokenizer.eos_id()}}) {
    if (id && *id >= config.vocab_size) return refuse(what, *id);
  }
  return absl::OkStatus();
}

// Attaches the tokenizer, or why there is none; a tokenizer that does not
// fit the model fails the load.
absl::Status attach_tokenizer(absl::StatusOr<Tokenizer> tokenizer, Model& model) {
  if (tokenizer.ok()) {
    if (absl::Status s = check_tokenizer_covers(model.config, *tokenizer); !s.ok()) return s;
  }
  model.tokenizer = std::move(tokenizer);
  return absl::OkStatus();
}

absl::StatusOr<Model> load_gguf_model(const std::string& path) {
  absl::StatusOr<GgufFile> opened = GgufFile::open(path);
  if (!opened.ok()) return opened.status();
  auto gguf = std::make_shared<const GgufFile>(*std::move(opened));
  absl::StatusOr<ModelConfig> config = config_from_gguf(*gguf);
  if (!config.ok()) return config.status();
  TensorSource source{
      .path = path,
      .contains = [gguf](std::string_view name) {
        for (const GgufTensorInfo& info : gguf->tensors()) {
          if (info.name == name) return true;
        }
        return false;
      },
      .tensor = [gguf](std::string_view name) { return gguf->tensor(name); },
  };
  absl::StatusOr<ModelWeights> weights = load_weights(*config, source);
  if (!weights.ok()) return weights.status();
  Model model{.path = path, .config = *std::move(config), .weights = *std::move(weights)};
  absl::StatusOr<TokenizerSpec> spec = read_gguf_tokenizer(*gguf);
  absl::StatusOr<Tokenizer> tokenizer =
      spec.ok() ? Tokenizer::create(*std::move(spec)) : absl::StatusOr<Tokenizer>(spec.status());
  if (absl::Status s = attach_tokenizer(std::move(tokenizer), model); !s.ok()) return s;
  return model;
}

absl::StatusOr<Model> load_hf_model(const std::string& dir) {
  absl::StatusOr<ModelConfig> config = config_from_hf_folder(dir);
  if (!config.ok()) return config.status();
  absl::StatusOr<SafetensorsCollection> opened = SafetensorsCollection::open(dir);
  if (!opened.ok()) return opened.status();
  auto collection = std::make_shared<const SafetensorsCollection>(*std::move(opened));
  TensorSource source{
      .path = dir,
      .contains = [collection](std::string_view name) { return collection->contains(name); },
      .tensor = [collection](std::string_view name) { return collection->tensor(name); },
  };
  absl::StatusOr<ModelWeights> weights = load_weights(*config, source);
  if (!weights.ok()) return weights.status();
  Model model{.path = dir, .config = *std::move(config), .weights = *std::move(weights)};
  if (absl::Status s = attach_tokenizer(load_tokenizer(dir), model); !s.ok()) return s;
  return model;
}

}  // namespace

absl::StatusOr<Model> load_model(const std::string& path) {
  absl::StatusOr<ModelLocation> location = locate_model(path);
  if (!location.ok()) return location.status();
  switch (location->format) {
    case ModelFormat::gguf: return load_gguf_model(location->path);
    case ModelFormat::hf_folder: return load_hf_model(location->path);
  }
  return absl::InternalError("unknown model format");
}

}  // namespace kiln::frontend
