#include "frontend/model_path.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "frontend/gguf.h"
#include "frontend/quoted_text.h"

namespace kiln::frontend {
namespace {

namespace fs = std::filesystem;

constexpr char kExpected[] =
    "expected a GGUF file or a Hugging Face model folder (config.json and model.safetensors)";

absl::Status not_a_model(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what, "; ", kExpected));
}

// The first bytes of `path`, for saying what a file is not.
std::string first_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  char head[8] = {};
  file.read(head, sizeof(head));
  return std::string(head, static_cast<size_t>(file.gcount()));
}

bool has_config(const fs::path& folder) {
  std::error_code error;
  return fs::is_regular_file(folder / "config.json", error);
}

}  // namespace

bool starts_with_gguf_magic(const std::string& path) {
  return first_bytes(path).starts_with(kGgufMagic);
}

absl::StatusOr<ModelLocation> locate_model(const std::string& path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (status.type() == fs::file_type::not_found) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file or folder; ", kExpected));
  }
  if (error) return absl::ErrnoToStatus(error.value(), absl::StrCat(path, ": cannot inspect"));
  if (fs::is_directory(status)) {
    if (has_config(path)) return ModelLocation{path, ModelFormat::hf_folder};
    return not_a_model(path, "a folder without config.json");
  }
  if (!fs::is_regular_file(status)) return not_a_model(path, "not a file or a folder");
  if (starts_with_gguf_magic(path)) return ModelLocation{path, ModelFormat::gguf};
  const fs::path folder = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
  const bool in_hf_folder = has_config(folder);
  if (in_hf_folder && (path.ends_with(".safetensors") || path.ends_with(".json"))) {
    return ModelLocation{folder.string(), ModelFormat::hf_folder};
  }
  if (path.ends_with(".safetensors")) {
    return not_a_model(path, absl::StrCat("a safetensors file whose folder has no config.json (kiln reads "
                                          "safetensors weights as part of their model folder)"));
  }
  const std::string head = first_bytes(path);
  if (head.empty()) return not_a_model(path, "an empty file");
  return not_a_model(path, absl::StrCat("a file that is not GGUF (it begins with ", quoted_text(head), ")"));
}

}  // namespace kiln::frontend
