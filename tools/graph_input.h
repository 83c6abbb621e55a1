#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "ir/graph.h"

namespace kiln::cli {

// Reads a graph given on the command line: kiln's JSON graph format
// (`.json`) or the text IR (`.kir`, anything else).
absl::StatusOr<ir::Graph> load_graph_file(const std::string& path);

// The file's text, or an error naming it.
absl::StatusOr<std::string> read_text_file(const std::string& path);

}  // namespace kiln::cli
