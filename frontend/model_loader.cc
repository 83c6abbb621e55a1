#include "frontend/model_loader.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "frontend/gguf.h"
#include "frontend/model_path.h"
#include "frontend/safetensors.h"
#include "frontend/tokenizer_loader.h"

namespace kiln::frontend {
namespace {

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
  model.tokenizer = spec.ok() ? Tokenizer::create(*std::move(spec)) : absl::StatusOr<Tokenizer>(spec.status());
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
  model.tokenizer = load_tokenizer(dir);
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
