#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/text.h"

namespace kiln::ir {
namespace {

std::string value_list(const std::vector<Value*>& values) {
  return absl::StrJoin(values, ", ", [](std::string* out, const Value* v) { absl::StrAppend(out, "%", v->name()); });
}

void print_leaves(const std::vector<Value*>& values, absl::string_view keyword, std::string& out) {
  for (const Value* value : values) {
    absl::StrAppend(&out, keyword, " %", value->name(), " : ", value->type().to_string(), "\n");
  }
}

}  // namespace

std::string print_node(const Node& node) {
  std::string out = absl::StrCat(value_list(node.outputs()), " = ", node.op(), "(", value_list(node.inputs()), ")");
  if (!node.attrs().empty()) {
    out += " {";
    out += absl::StrJoin(node.attrs(), ", ", [](std::string* s, const auto& attr) {
      absl::StrAppend(s, attr.first, " = ", attr_to_string(attr.second));
    });
    out += "}";
  }
  out += " : ";
  out += absl::StrJoin(node.outputs(), ", ",
                       [](std::string* s, const Value* v) { s->append(v->type().to_string()); });
  return out;
}

std::string print_graph(const Graph& graph) {
  std::string out;
  for (const auto& [name, bound] : graph.symbol_bounds()) absl::StrAppend(&out, "symbol ", name, " <= ", bound, "\n");
  print_leaves(graph.inputs(), "input", out);
  print_leaves(graph.weights(), "weight", out);
  print_leaves(graph.states(), "state", out);
  for (const auto& node : graph.nodes()) absl::StrAppend(&out, print_node(*node), "\n");
  if (!graph.outputs().empty()) absl::StrAppend(&out, "output ", value_list(graph.outputs()), "\n");
  return out;
}

}  // namespace kiln::ir
