#include "frontend/graph_json_nodes.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <queue>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::frontend::graph_json {
namespace {

absl::Status prefixed(const std::string& prefix, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(prefix, ": ", std::string(status.message())));
}

absl::Status expected(const std::string& path, std::string_view what, const Json& found) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": expected ", std::string(what), ", got ", brief(found)));
}

// ---- Attributes: one reader per schema type ---------------------------------

using AttrReader = absl::StatusOr<ir::AttrValue> (*)(const Json& value, const std::string& path,
                                                      const ir::SymbolValues& symbols);

absl::StatusOr<ir::AttrValue> read_boolean(const Json& value, const std::string& path, const ir::SymbolValues&) {
  if (!value.is_boolean()) return expected(path, "true or false", value);
  return value.get<bool>();
}

absl::StatusOr<ir::AttrValue> read_integer(const Json& value, const std::string& path, const ir::SymbolValues&) {
  absl::StatusOr<int64_t> integer = as_int64(value, path);
  if (!integer.ok()) return integer.status();
  return *integer;
}

absl::StatusOr<ir::AttrValue> read_real(const Json& value, const std::string& path, const ir::SymbolValues&) {
  if (!value.is_number()) return expected(path, "a number", value);
  return value.get<double>();
}

absl::StatusOr<ir::AttrValue> read_string(const Json& value, const std::string& path, const ir::SymbolValues&) {
  if (!value.is_string()) return expected(path, "a string", value);
  return value.get<std::string>();
}

absl::StatusOr<ir::AttrValue> read_ints(const Json& value, const std::string& path, const ir::SymbolValues&) {
  if (!value.is_array()) return expected(path, "an array of integers", value);
  std::vector<int64_t> ints;
  for (size_t i = 0; i < value.size(); ++i) {
    absl::StatusOr<int64_t> integer = as_int64(value[i], element_path(path, i));
    if (!integer.ok()) return integer.status();
    ints.push_back(*integer);
  }
  return ints;
}

absl::StatusOr<ir::AttrValue> read_shape_attr(const Json& value, const std::string& path,
                                              const ir::SymbolValues& symbols) {
  absl::StatusOr<ir::Shape> shape = read_shape(value, path, symbols, std::numeric_limits<int64_t>::min());
  if (!shape.ok()) return shape.status();
  return *std::move(shape);
}

struct AttrCoercion {
  ir::AttrType type;
  AttrReader read;
};

constexpr AttrCoercion kAttrCoercions[] = {
    {ir::AttrType::boolean, read_boolean}, {ir::AttrType::integer, read_integer},
    {ir::AttrType::real, read_real},       {ir::AttrType::string, read_string},
    {ir::AttrType::ints, read_ints},       {ir::AttrType::shape, read_shape_attr},
};

absl::StatusOr<ir::Attributes> read_attributes(const Json& attrs, const ir::OpDef& def,
                                               const ir::SymbolValues& symbols) {
  if (!attrs.is_object()) return expected("attrs", "an object", attrs);
  ir::Attributes result;
  for (const auto& [name, value] : attrs.items()) {
    const ir::AttrSpec* spec = ir::find_attr_spec(def, name);
    if (spec == nullptr) {
      std::vector<std::string> known;
      for (const ir::AttrSpec& s : def.attrs) known.push_back(s.name);
      return absl::InvalidArgumentError(absl::StrCat("unknown attribute '", name, "' (", def.name, " takes ",
                                                     known.empty() ? "none" : absl::StrJoin(known, ", "), ")"));
    }
    const auto* coercion = std::find_if(std::begin(kAttrCoercions), std::end(kAttrCoercions),
                                        [&](const AttrCoercion& c) { return c.type == spec->type; });
    absl::StatusOr<ir::AttrValue> coerced = coercion->read(value, member_path("attrs", name), symbols);
    if (!coerced.ok()) return coerced.status();
    result.emplace(name, *std::move(coerced));
  }
  return result;
}

// ---- Result names ------------------------------------------------------------

// "output": "h" or "outputs": ["h", "n"], exactly one of them.
absl::StatusOr<std::vector<std::string>> read_result_names(const ObjectReader& node) {
  if (node.has("output") == node.has("outputs")) {
    return absl::InvalidArgumentError(absl::StrCat(node.label(), ": give exactly one of \"output\" or \"outputs\""));
  }
  std::vector<std::string> names;
  if (node.has("output")) {
    absl::StatusOr<std::string> name = node.string("output");
    if (!name.ok()) return name.status();
    names.push_back(*name);
  } else {
    absl::StatusOr<std::vector<std::string>> listed = node.names("outputs");
    if (!listed.ok()) return listed.status();
    names = *std::move(listed);
    if (names.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(node.label(), ": outputs: expected a name per result"));
    }
  }
  for (const std::string& name : names) {
    if (absl::Status s = check_name(name, node.label()); !s.ok()) return s;
  }
  return names;
}

// ---- Order -------------------------------------------------------------------

// read_node guarantees at least one result name.
std::string first_result(const NodeEntry& node) { return absl::StrCat("%", node.outputs[0]); }

// Called when nodes remain that wait on each other. Walks from the first
// waiting node to a waiting producer of one of its inputs, and on, until a
// node repeats: the nodes from its first visit on form a cycle.
absl::Status report_cycle(const std::vector<NodeEntry>& nodes, const std::map<std::string, size_t>& producer,
                          const std::vector<int64_t>& pending) {
  auto waiting_input = [&](size_t n) -> std::pair<std::string, size_t> {
    for (const std::string& input : nodes[n].inputs) {
      auto it = producer.find(input);
      if (it != producer.end() && pending[it->second] > 0) return *it;
    }
    return {"", n};  // unreachable: a waiting node waits on a waiting producer
  };
  size_t current = std::find_if(pending.begin(), pending.end(), [](int64_t p) { return p > 0; }) - pending.begin();
  std::vector<size_t> walk;
  while (std::find(walk.begin(), walk.end(), current) == walk.end()) {
    walk.push_back(current);
    current = waiting_input(current).second;
  }
  std::vector<std::string> steps;
  for (auto it = std::find(walk.begin(), walk.end(), current); it != walk.end(); ++it) {
    steps.push_back(absl::StrCat(first_result(nodes[*it]), " reads %", waiting_input(*it).first));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(nodes[current].label, ": dependency cycle: ", absl::StrJoin(steps, ", ")));
}

}  // namespace

absl::StatusOr<NodeEntry> read_node(const Json& node, size_t index, const ir::SymbolValues& symbols) {
  NodeEntry entry;
  entry.index = index;
  entry.label = element_path("nodes", index);
  absl::StatusOr<ObjectReader> reader =
      ObjectReader::open(node, entry.label, {"op", "inputs", "output", "outputs", "attrs"});
  if (!reader.ok()) return reader.status();
  absl::StatusOr<std::string> op = reader->string("op");
  if (!op.ok()) return op.status();
  entry.def = ir::find_op(*op);
  if (entry.def == nullptr) return absl::NotFoundError(absl::StrCat(entry.label, ": unknown op '", *op, "'"));

  absl::StatusOr<std::vector<std::string>> outputs = read_result_names(*reader);
  if (!outputs.ok()) return outputs.status();
  entry.outputs = *std::move(outputs);
  entry.label = absl::StrCat(entry.label, ": ", first_result(entry), " = ", entry.def->name);
  if (entry.def->fused) {
    return absl::InvalidArgumentError(absl::StrCat(entry.label, ": only passes create fused ops"));
  }
  absl::StatusOr<std::vector<std::string>> inputs = reader->names("inputs");
  if (!inputs.ok()) return inputs.status();
  entry.inputs = *std::move(inputs);
  if (const Json* attrs = reader->find("attrs")) {
    absl::StatusOr<ir::Attributes> coerced = read_attributes(*attrs, *entry.def, symbols);
    if (!coerced.ok()) return prefixed(entry.label, coerced.status());
    entry.attrs = *std::move(coerced);
  }
  return entry;
}

absl::StatusOr<std::vector<const NodeEntry*>> order_nodes(const std::vector<NodeEntry>& nodes,
                                                          const std::map<std::string, std::string>& leaves) {
  std::map<std::string, size_t> producer;  // result name -> position in `nodes`
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (const std::string& name : nodes[n].outputs) {
      if (auto leaf = leaves.find(name); leaf != leaves.end()) {
        return absl::AlreadyExistsError(absl::StrCat(nodes[n].label, ": '", name, "' is already ", leaf->second));
      }
      if (auto [it, inserted] = producer.emplace(name, n); !inserted) {
        return absl::AlreadyExistsError(absl::StrCat(nodes[n].label, ": '", name, "' is already defined by ",
                                                     element_path("nodes", nodes[it->second].index)));
      }
    }
  }
  std::vector<std::vector<size_t>> users(nodes.size());
  std::vector<int64_t> pending(nodes.size(), 0);  // producers not yet placed
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (const std::string& input : nodes[n].inputs) {
      if (leaves.contains(input)) continue;
      auto it = producer.find(input);
      if (it == producer.end()) {
        return absl::InvalidArgumentError(absl::StrCat(nodes[n].label, ": input '", input,
                                                       "' names no input, weight, state or node result"));
      }
      users[it->second].push_back(n);
      ++pending[n];
    }
  }
  // Ready nodes leave in file order, so a file already in order keeps it.
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (pending[n] == 0) ready.push(n);
  }
  std::vector<const NodeEntry*> order;
  while (!ready.empty()) {
    const size_t n = ready.top();
    ready.pop();
    order.push_back(&nodes[n]);
    for (size_t user : users[n]) {
      if (--pending[user] == 0) ready.push(user);
    }
  }
  if (order.size() != nodes.size()) return report_cycle(nodes, producer, pending);
  return order;
}

}  // namespace kiln::frontend::graph_json
