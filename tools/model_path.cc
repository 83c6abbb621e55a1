#include "tools/model_path.h"

#include <filesystem>

namespace kiln::cli {

bool is_model_path(const std::string& path) {
  std::error_code error;
  if (path.ends_with(".gguf")) return true;
  return std::filesystem::is_directory(path, error) &&
         std::filesystem::exists(std::filesystem::path(path) / "config.json", error);
}

}  // namespace kiln::cli
