#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ir/graph.h"

namespace kiln::ir {

// The stable text form of a graph, one statement per line:
//
//   symbol T <= 128
//   input %x : f32[T, 64]
//   weight %w : f32[64, 64]
//   state %k_cache : f32[512, 2, 16]
//   %h = matmul(%x, %w) {transpose_b = true} : f32[T, 64]
//   %s, %n = residual_rmsnorm(%x, %h, %g) {eps = 1e-05} : f32[T, 64], f32[T, 64]
//   output %n
//
// `#` starts a comment. The parser accepts a node line without its `: type`
// annotation (the type is inferred); when present it must equal the inferred
// type. print(parse(print(g))) == print(g) for every graph.
std::string print_graph(const Graph& graph);
std::string print_node(const Node& node);

// Errors name the line: "<source>:7: %h = matmul: operand 'b' (f32[32, 64]) ...".
absl::StatusOr<Graph> parse_graph(std::string_view text, std::string_view source = "<text>");

}  // namespace kiln::ir
