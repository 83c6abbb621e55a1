#include "tools/graph_input.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "frontend/graph_json.h"
#include "ir/text.h"

namespace kiln::cli {

absl::StatusOr<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open for reading"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return text.str();
}

absl::StatusOr<ir::Graph> load_graph_file(const std::string& path) {
  if (path.ends_with(".json")) return frontend::load_graph_json(path);
  absl::StatusOr<std::string> text = read_text_file(path);
  if (!text.ok()) return text.status();
  return ir::parse_graph(*text, path);
}

}  // namespace kiln::cli
