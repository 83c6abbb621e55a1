#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ir/graph.h"

namespace kiln::frontend {

// kiln's JSON graph format for hand-written graphs (docs/graph-format.md):
//
//   {"symbols": {"B": 64},
//    "inputs":  [{"name": "x", "dtype": "f32", "shape": ["B", 37]}],
//    "weights": {"w": {"dtype": "f32", "shape": [10, 37], "npy": "data/w.npy"}},
//    "nodes":   [{"op": "matmul", "inputs": ["x", "w"], "output": "y",
//                 "attrs": {"transpose_b": true}}],
//    "outputs": ["y"]}
//
// Nodes may be listed in any order; they are added to the graph in a
// topological order (file order wherever dependencies allow). Every op-level
// check (arity, attributes, shapes, dtypes) is the op registry's, through
// ir::Graph::add_node, and the result passes ir::verify.
//
// Weights read from .npy or .safetensors files reference the memory-mapped
// file bytes, which the graph's WeightData keeps alive; inline `data` is
// converted to the declared dtype into a buffer the WeightData owns.
//
// Every error is one line that starts with the file and names the node,
// tensor or field at fault: "mlp.json: nodes[1]: %y = matmul: operand 'b'
// (f32[10, 64]): dim 64 must equal dim 37 of operand 'a' (f32[B, 37])".
// Malformed JSON gives "mlp.json:3:17: malformed JSON: ...". No exception
// escapes.

// Reads the graph at `path`; weight paths are relative to its folder.
absl::StatusOr<ir::Graph> load_graph_json(const std::string& path);

// Parses `json`. Weight paths are relative to `base_dir` (absolute paths are
// kept); `source_name` starts every error message.
absl::StatusOr<ir::Graph> parse_graph_json(std::string_view json, const std::string& base_dir,
                                           const std::string& source_name);

}  // namespace kiln::frontend
