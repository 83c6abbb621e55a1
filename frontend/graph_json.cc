#include "frontend/graph_json.h"

#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "frontend/graph_json_document.h"
#include "frontend/graph_json_nodes.h"
#include "frontend/graph_json_weights.h"
#include "frontend/mapped_file.h"
#include "ir/verifier.h"

namespace kiln::frontend {
namespace {

using graph_json::Json;
using graph_json::ObjectReader;

constexpr int64_t kFormatVersion = 1;

// "inputs" and "states" share one form: arrays of {name, dtype, shape}.
struct LeafSection {
  std::string_view key;   // "inputs"
  std::string_view noun;  // "input", labels its entries: "input 'x'"
  std::string_view kind;  // "an input", for names defined twice
  absl::StatusOr<ir::Value*> (ir::Graph::*add)(const std::string& name, ir::TensorType type);
};

constexpr LeafSection kInputs{"inputs", "input", "an input", &ir::Graph::add_input};
constexpr LeafSection kStates{"states", "state", "a state", &ir::Graph::add_state};

absl::Status prefixed(std::string_view prefix, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(std::string(prefix), ": ", std::string(status.message())));
}

// Builds one graph from a parsed document, section by section, in the order
// the sections depend on each other: symbols, leaves, nodes, outputs. Used
// once: build() hands the graph over.
class GraphBuilder {
 public:
  GraphBuilder(const std::string& base_dir, const std::string& source_name)
      : weights_(base_dir, source_name) {}

  absl::StatusOr<ir::Graph> build(const Json& document);

 private:
  absl::Status read_version(const ObjectReader& top);
  absl::Status read_symbols(const Json& symbols);
  absl::Status read_leaves(const Json& list, const LeafSection& section);
  absl::Status read_weights(const Json& weights);
  absl::Status read_nodes(const Json& nodes);
  absl::Status read_outputs(const Json& outputs);
  // Records a leaf name, refusing one already taken.
  absl::Status claim(const std::string& name, std::string kind, std::string_view where);

  ir::Graph graph_;
  std::map<std::string, std::string> leaves_;  // name -> "an input", "a weight", "a state"
  graph_json::WeightLoader weights_;
};

absl::Status expect_array(const Json& value, std::string_view section) {
  if (value.is_array()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(section), ": expected an array, got ", graph_json::brief(value)));
}

absl::StatusOr<ir::Graph> GraphBuilder::build(const Json& document) {
  absl::StatusOr<ObjectReader> top = ObjectReader::open(
      document, "", {"version", "symbols", "inputs", "weights", "states", "nodes", "outputs"});
  if (!top.ok()) return top.status();
  if (absl::Status s = read_version(*top); !s.ok()) return s;
  const Json empty_object = Json::object();
  const Json empty_array = Json::array();
  auto section = [&](std::string_view key, const Json& fallback) {
    const Json* member = top->find(key);
    return member != nullptr ? member : &fallback;
  };
  if (absl::Status s = read_symbols(*section("symbols", empty_object)); !s.ok()) return s;
  if (absl::Status s = read_leaves(*section("inputs", empty_array), kInputs); !s.ok()) return s;
  if (absl::Status s = read_weights(*section("weights", empty_object)); !s.ok()) return s;
  if (absl::Status s = read_leaves(*section("states", empty_array), kStates); !s.ok()) return s;
  absl::StatusOr<const Json*> nodes = top->require("nodes");
  if (!nodes.ok()) return nodes.status();
  if (absl::Status s = read_nodes(**nodes); !s.ok()) return s;
  absl::StatusOr<const Json*> outputs = top->require("outputs");
  if (!outputs.ok()) return outputs.status();
  if (absl::Status s = read_outputs(**outputs); !s.ok()) return s;
  if (absl::Status s = ir::verify(graph_); !s.ok()) return s;
  return std::move(graph_);
}

absl::Status GraphBuilder::read_version(const ObjectReader& top) {
  const Json* version = top.find("version");
  if (version == nullptr || (version->is_number_integer() && version->get<int64_t>() == kFormatVersion)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("version: this kiln reads version ", kFormatVersion,
                                                 ", got ", graph_json::brief(*version)));
}

absl::Status GraphBuilder::read_symbols(const Json& symbols) {
  if (!symbols.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("symbols: expected an object of name: upper bound, got ", graph_json::brief(symbols)));
  }
  for (const auto& [name, bound] : symbols.items()) {
    const std::string where = absl::StrCat("symbol '", name, "'");
    if (absl::Status s = graph_json::check_name(name, where); !s.ok()) return s;
    absl::StatusOr<int64_t> value = graph_json::as_int64(bound, where);
    if (!value.ok()) return value.status();
    if (absl::Status s = graph_.declare_symbol(name, *value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status GraphBuilder::read_leaves(const Json& list, const LeafSection& section) {
  if (absl::Status s = expect_array(list, section.key); !s.ok()) return s;
  for (size_t i = 0; i < list.size(); ++i) {
    absl::StatusOr<ObjectReader> entry =
        ObjectReader::open(list[i], graph_json::element_path(section.key, i), {"name", "dtype", "shape"});
    if (!entry.ok()) return entry.status();
    absl::StatusOr<std::string> name = entry->string("name");
    if (!name.ok()) return name.status();
    const ObjectReader leaf = entry->relabeled(absl::StrCat(std::string(section.noun), " '", *name, "'"));
    if (absl::Status s = claim(*name, std::string(section.kind), leaf.label()); !s.ok()) return s;
    absl::StatusOr<ir::DType> dtype = leaf.dtype("dtype");
    if (!dtype.ok()) return dtype.status();
    absl::StatusOr<ir::Shape> shape = leaf.shape("shape", graph_.symbol_bounds());
    if (!shape.ok()) return shape.status();
    absl::StatusOr<ir::Value*> value = (graph_.*section.add)(*name, {*dtype, *std::move(shape)});
    if (!value.ok()) return prefixed(leaf.label(), value.status());
  }
  return absl::OkStatus();
}

absl::Status GraphBuilder::read_weights(const Json& weights) {
  if (!weights.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights: expected an object of name: weight, got ", graph_json::brief(weights)));
  }
  for (const auto& [name, spec] : weights.items()) {
    absl::StatusOr<ObjectReader> entry = ObjectReader::open(
        spec, absl::StrCat("weight '", name, "'"), {"dtype", "shape", "data", "npy", "safetensors"});
    if (!entry.ok()) return entry.status();
    if (absl::Status s = claim(name, "a weight", entry->label()); !s.ok()) return s;
    absl::StatusOr<ir::DType> dtype = entry->dtype("dtype");
    if (!dtype.ok()) return dtype.status();
    absl::StatusOr<ir::Shape> shape = entry->shape("shape", graph_.symbol_bounds());
    if (!shape.ok()) return shape.status();
    for (const ir::Dim& dim : *shape) {
      if (!dim.is_static()) {
        return absl::InvalidArgumentError(absl::StrCat(entry->where("shape"), ": weights have static dims, got '",
                                                       dim.name(), "'"));
      }
    }
    const ir::TensorType type{*dtype, *std::move(shape)};
    absl::StatusOr<ir::WeightData> data = weights_.load(name, *entry, type);
    if (!data.ok()) return data.status();
    absl::StatusOr<ir::Value*> value = graph_.add_weight(name, type, *std::move(data));
    if (!value.ok()) return prefixed(entry->label(), value.status());
  }
  return absl::OkStatus();
}

absl::Status GraphBuilder::read_nodes(const Json& nodes) {
  if (absl::Status s = expect_array(nodes, "nodes"); !s.ok()) return s;
  std::vector<graph_json::NodeEntry> entries;
  for (size_t i = 0; i < nodes.size(); ++i) {
    absl::StatusOr<graph_json::NodeEntry> entry = graph_json::read_node(nodes[i], i, graph_.symbol_bounds());
    if (!entry.ok()) return entry.status();
    entries.push_back(*std::move(entry));
  }
  absl::StatusOr<std::vector<const graph_json::NodeEntry*>> order = graph_json::order_nodes(entries, leaves_);
  if (!order.ok()) return order.status();
  for (const graph_json::NodeEntry* entry : *order) {
    std::vector<ir::Value*> inputs;
    for (const std::string& name : entry->inputs) inputs.push_back(graph_.find_value(name));
    absl::StatusOr<ir::Node*> node = graph_.add_node(entry->def->name, inputs, entry->attrs, entry->outputs);
    // add_node's messages start with "%h = matmul: ".
    if (!node.ok()) return prefixed(graph_json::element_path("nodes", entry->index), node.status());
  }
  return absl::OkStatus();
}

absl::Status GraphBuilder::read_outputs(const Json& outputs) {
  if (absl::Status s = expect_array(outputs, "outputs"); !s.ok()) return s;
  if (outputs.empty()) return absl::InvalidArgumentError("outputs: a graph needs at least one output");
  std::vector<ir::Value*> values;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const std::string where = graph_json::element_path("outputs", i);
    if (!outputs[i].is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": expected a value name, got ", graph_json::brief(outputs[i])));
    }
    const std::string name = outputs[i].get<std::string>();
    ir::Value* value = graph_.find_value(name);
    if (value == nullptr) return absl::InvalidArgumentError(absl::StrCat(where, ": '", name, "' names no value"));
    if (std::find(values.begin(), values.end(), value) != values.end()) {
      return absl::AlreadyExistsError(absl::StrCat(where, ": '", name, "' is listed twice"));
    }
    values.push_back(value);
  }
  graph_.set_outputs(std::move(values));
  return absl::OkStatus();
}

absl::Status GraphBuilder::claim(const std::string& name, std::string kind, std::string_view where) {
  if (absl::Status s = graph_json::check_name(name, where); !s.ok()) return s;
  auto [it, inserted] = leaves_.emplace(name, std::move(kind));
  if (inserted) return absl::OkStatus();
  return absl::AlreadyExistsError(absl::StrCat(std::string(where), ": '", name, "' is already ", it->second));
}

}  // namespace

absl::StatusOr<ir::Graph> parse_graph_json(std::string_view json, const std::string& base_dir,
                                           const std::string& source_name) {
  absl::StatusOr<Json> document = graph_json::parse_document(json, source_name);
  if (!document.ok()) return document.status();
  GraphBuilder builder(base_dir, source_name);
  absl::StatusOr<ir::Graph> graph = builder.build(*document);
  if (!graph.ok()) return prefixed(source_name, graph.status());
  return graph;
}

absl::StatusOr<ir::Graph> load_graph_json(const std::string& path) {
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::open(path);
  if (!file.ok()) return file.status();
  const std::string_view text(reinterpret_cast<const char*>((*file)->data()), (*file)->size());
  return parse_graph_json(text, std::filesystem::path(path).parent_path().string(), path);
}

}  // namespace kiln::frontend
