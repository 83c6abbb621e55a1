#include "tools/model_path.h"

#include <filesystem>

namespace kiln::cli {

bool is_graph_path(const std::string& path) {
  const std::filesystem::path name = std::filesystem::path(path).filename();
  if (name.extension() == ".kir") return true;
  return name.extension() == ".json" && name != "config.json" && name != "model.safetensors.index.json";
}

}  // namespace kiln::cli
