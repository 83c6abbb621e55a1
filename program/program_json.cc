// The Program as JSON. Layout (every key always present):
//
//   {"version": 1, "alignment": 256, "arena_bytes": N, "arena_lower_bound_bytes": N,
//    "state_bytes": N, "symbols": {"T": 64},
//    "weights":  [{"name", "dtype", "shape", "bytes", "source"}],
//    "states", "inputs", "outputs": [{"name", "region", "offset", "weight", "dtype", "shape"}],
//    "dispatches": [{"kernel", "variant", "node", "constants", "inputs", "outputs",
//                    "work_size", "uniforms"}]}
//
// A shape is an array of integers and symbol names: [1, "T", 64]. A constant
// is {"type": T, "value": V} with T one of bool, int, real, string, ints,
// shape: the tag keeps an int apart from a real and an int list apart from a
// static shape, so the round trip is exact. Reals are JSON numbers with all
// their digits, or "nan", "inf", "-inf".

#include "passes/program_json.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "passes/program_check.h"

namespace kiln::passes {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr int64_t kFormatVersion = 1;

// ---- Writing ---------------------------------------------------------------

ordered_json shape_to_json(const ir::Shape& shape) {
  ordered_json out = ordered_json::array();
  for (const ir::Dim& dim : shape) {
    if (dim.is_static()) {
      out.push_back(dim.value());
    } else {
      out.push_back(dim.name());
    }
  }
  return out;
}

ordered_json real_to_json(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return value;
}

// Tags indexed by ir::AttrType (the AttrValue alternative).
constexpr const char* kConstantTypes[] = {"bool", "int", "real", "string", "ints", "shape"};

struct ConstantValueWriter {
  ordered_json operator()(bool v) const { return v; }
  ordered_json operator()(int64_t v) const { return v; }
  ordered_json operator()(double v) const { return real_to_json(v); }
  ordered_json operator()(const std::string& v) const { return v; }
  ordered_json operator()(const std::vector<int64_t>& v) const { return v; }
  ordered_json operator()(const ir::Shape& v) const { return shape_to_json(v); }
};

ordered_json constants_to_json(const ir::Attributes& constants) {
  ordered_json out = ordered_json::object();
  for (const auto& [name, value] : constants) {
    out[name] = {{"type", kConstantTypes[value.index()]}, {"value", std::visit(ConstantValueWriter{}, value)}};
  }
  return out;
}

ordered_json ref_to_json(const TensorRef& ref, const std::string* name = nullptr) {
  ordered_json out = ordered_json::object();
  if (name != nullptr) out["name"] = *name;
  out["region"] = region_name(ref.region);
  out["offset"] = ref.offset;
  out["weight"] = ref.weight;
  out["dtype"] = ir::dtype_name(ref.dtype);
  out["shape"] = shape_to_json(ref.shape);
  return out;
}

ordered_json bindings_to_json(const std::vector<Binding>& bindings) {
  ordered_json out = ordered_json::array();
  for (const Binding& binding : bindings) out.push_back(ref_to_json(binding.ref, &binding.name));
  return out;
}

ordered_json refs_to_json(const std::vector<TensorRef>& refs) {
  ordered_json out = ordered_json::array();
  for (const TensorRef& ref : refs) out.push_back(ref_to_json(ref));
  return out;
}

ordered_json dispatch_to_json(const Dispatch& d) {
  return {{"kernel", d.kernel},
          {"variant", d.variant},
          {"node", d.node},
          {"constants", constants_to_json(d.constants)},
          {"inputs", refs_to_json(d.inputs)},
          {"outputs", refs_to_json(d.outputs)},
          {"work_size", shape_to_json(d.work_size)},
          {"uniforms", d.uniforms}};
}

// ---- Reading ---------------------------------------------------------------

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", std::string(key));
}

std::string element(const std::string& path, size_t index) { return absl::StrCat(path, "[", index, "]"); }

// Reads fields and keeps the first error, naming the field's path; after an
// error the values it returns are placeholders, so callers check status()
// before using what they read.
class Reader {
 public:
  const absl::Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

  void fail(const std::string& path, std::string_view what) {
    if (status_.ok()) status_ = absl::InvalidArgumentError(absl::StrCat(path, ": ", std::string(what)));
  }

  const json& member(const json& object, const std::string& path, std::string_view key) {
    static const json kNull;
    if (!object.is_object()) {
      fail(path, "expected an object");
      return kNull;
    }
    auto it = object.find(key);
    if (it == object.end()) {
      fail(child(path, key), "missing");
      return kNull;
    }
    return *it;
  }

  int64_t integer(const json& value, const std::string& path) {
    const bool fits = value.is_number_integer() &&
                      (!value.is_number_unsigned() ||
                       value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
    if (!fits) {
      fail(path, "expected an integer");
      return 0;
    }
    return value.get<int64_t>();
  }

  int64_t count(const json& value, const std::string& path) {
    const int64_t n = integer(value, path);
    if (n < 0) fail(path, absl::StrCat("expected a count >= 0, got ", n));
    return n;
  }

  std::string string(const json& value, const std::string& path) {
    if (!value.is_string()) {
      fail(path, "expected a string");
      return "";
    }
    return value.get<std::string>();
  }

  bool boolean(const json& value, const std::string& path) {
    if (!value.is_boolean()) {
      fail(path, "expected true or false");
      return false;
    }
    return value.get<bool>();
  }

  double real(const json& value, const std::string& path) {
    if (value.is_number()) return value.get<double>();
    if (value == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (value == "inf") return std::numeric_limits<double>::infinity();
    if (value == "-inf") return -std::numeric_limits<double>::infinity();
    fail(path, "expected a number, \"nan\", \"inf\" or \"-inf\"");
    return 0;
  }

  const json& array(const json& value, const std::string& path) {
    static const json kEmpty = json::array();
    if (!value.is_array()) {
      fail(path, "expected an array");
      return kEmpty;
    }
    return value;
  }

  // A tensor's shape has extents >= 0; a shape constant may also hold the
  // markers reshape understands (0 copies a dim, -1 infers one).
  ir::Shape shape(const json& value, const std::string& path, bool is_constant = false) {
    ir::Shape shape;
    const json& dims = array(value, path);
    for (size_t i = 0; i < dims.size(); ++i) {
      const std::string at = element(path, i);
      if (dims[i].is_string()) {
        shape.push_back(ir::Dim::symbol(dims[i].get<std::string>()));
      } else if (!dims[i].is_number_integer()) {
        fail(at, "expected an integer or a symbol name");
      } else {
        shape.push_back(ir::Dim(is_constant ? integer(dims[i], at) : count(dims[i], at)));
      }
    }
    return shape;
  }

  std::vector<int64_t> ints(const json& value, const std::string& path) {
    std::vector<int64_t> out;
    const json& items = array(value, path);
    for (size_t i = 0; i < items.size(); ++i) out.push_back(integer(items[i], element(path, i)));
    return out;
  }

  std::vector<std::string> strings(const json& value, const std::string& path) {
    std::vector<std::string> out;
    const json& items = array(value, path);
    for (size_t i = 0; i < items.size(); ++i) out.push_back(string(items[i], element(path, i)));
    return out;
  }

  ir::DType dtype(const json& value, const std::string& path) {
    const std::string name = string(value, path);
    if (!ok()) return ir::DType::f32;
    absl::StatusOr<ir::DType> dtype = ir::parse_dtype(name);
    if (!dtype.ok()) fail(path, std::string(dtype.status().message()));
    return dtype.value_or(ir::DType::f32);
  }

  Region region(const json& value, const std::string& path) {
    const std::string name = string(value, path);
    for (Region region : {Region::arena, Region::state, Region::weight}) {
      if (region_name(region) == name) return region;
    }
    fail(path, absl::StrCat("expected \"arena\", \"state\" or \"weight\", got \"", name, "\""));
    return Region::arena;
  }

 private:
  absl::Status status_;
};

TensorRef read_ref(Reader& in, const json& j, const std::string& path) {
  TensorRef ref;
  ref.region = in.region(in.member(j, path, "region"), child(path, "region"));
  ref.offset = in.count(in.member(j, path, "offset"), child(path, "offset"));
  ref.weight = static_cast<int32_t>(in.integer(in.member(j, path, "weight"), child(path, "weight")));
  ref.dtype = in.dtype(in.member(j, path, "dtype"), child(path, "dtype"));
  ref.shape = in.shape(in.member(j, path, "shape"), child(path, "shape"));
  return ref;
}

std::vector<Binding> read_bindings(Reader& in, const json& j, const std::string& path) {
  std::vector<Binding> out;
  const json& items = in.array(j, path);
  for (size_t i = 0; i < items.size() && in.ok(); ++i) {
    const std::string at = element(path, i);
    std::string name = in.string(in.member(items[i], at, "name"), child(at, "name"));
    out.push_back({std::move(name), read_ref(in, items[i], at)});
  }
  return out;
}

std::vector<TensorRef> read_refs(Reader& in, const json& j, const std::string& path) {
  std::vector<TensorRef> out;
  const json& items = in.array(j, path);
  for (size_t i = 0; i < items.size() && in.ok(); ++i) out.push_back(read_ref(in, items[i], element(path, i)));
  return out;
}

ir::AttrValue read_constant_value(Reader& in, const std::string& type, const json& value, const std::string& path) {
  if (type == "bool") return in.boolean(value, path);
  if (type == "int") return in.integer(value, path);
  if (type == "real") return in.real(value, path);
  if (type == "string") return in.string(value, path);
  if (type == "ints") return in.ints(value, path);
  if (type == "shape") return in.shape(value, path, /*is_constant=*/true);
  in.fail(path, absl::StrCat("unknown constant type \"", type, "\"; expected bool, int, real, string, ints or shape"));
  return false;
}

ir::Attributes read_constants(Reader& in, const json& j, const std::string& path) {
  ir::Attributes out;
  if (!j.is_object()) {
    in.fail(path, "expected an object");
    return out;
  }
  for (auto it = j.begin(); it != j.end() && in.ok(); ++it) {
    const std::string at = child(path, it.key());
    const std::string type = in.string(in.member(it.value(), at, "type"), child(at, "type"));
    const json& value = in.member(it.value(), at, "value");
    if (in.ok()) out[it.key()] = read_constant_value(in, type, value, child(at, "value"));
  }
  return out;
}

Dispatch read_dispatch(Reader& in, const json& j, const std::string& path) {
  Dispatch d;
  d.kernel = in.string(in.member(j, path, "kernel"), child(path, "kernel"));
  d.variant = in.string(in.member(j, path, "variant"), child(path, "variant"));
  d.node = in.string(in.member(j, path, "node"), child(path, "node"));
  d.constants = read_constants(in, in.member(j, path, "constants"), child(path, "constants"));
  d.inputs = read_refs(in, in.member(j, path, "inputs"), child(path, "inputs"));
  d.outputs = read_refs(in, in.member(j, path, "outputs"), child(path, "outputs"));
  d.work_size = in.shape(in.member(j, path, "work_size"), child(path, "work_size"));
  d.uniforms = in.strings(in.member(j, path, "uniforms"), child(path, "uniforms"));
  return d;
}

std::vector<WeightEntry> read_weights(Reader& in, const json& j, const std::string& path) {
  std::vector<WeightEntry> out;
  const json& items = in.array(j, path);
  for (size_t i = 0; i < items.size() && in.ok(); ++i) {
    const std::string at = element(path, i);
    WeightEntry w;
    w.name = in.string(in.member(items[i], at, "name"), child(at, "name"));
    w.dtype = in.dtype(in.member(items[i], at, "dtype"), child(at, "dtype"));
    w.shape = in.shape(in.member(items[i], at, "shape"), child(at, "shape"));
    w.bytes = in.count(in.member(items[i], at, "bytes"), child(at, "bytes"));
    w.source = in.string(in.member(items[i], at, "source"), child(at, "source"));
    out.push_back(std::move(w));
  }
  return out;
}

ir::SymbolValues read_symbols(Reader& in, const json& j, const std::string& path) {
  ir::SymbolValues out;
  if (!j.is_object()) {
    in.fail(path, "expected an object");
    return out;
  }
  for (auto it = j.begin(); it != j.end() && in.ok(); ++it) {
    out[it.key()] = in.integer(it.value(), child(path, it.key()));
    if (out[it.key()] <= 0) in.fail(child(path, it.key()), "expected a positive upper bound");
  }
  return out;
}

Program read_program(Reader& in, const json& j) {
  Program p;
  const int64_t version = in.integer(in.member(j, "", "version"), "version");
  if (in.ok() && version != kFormatVersion) {
    in.fail("version", absl::StrCat("this kiln reads Program version ", kFormatVersion, ", got ", version));
  }
  p.alignment = in.count(in.member(j, "", "alignment"), "alignment");
  p.arena_bytes = in.count(in.member(j, "", "arena_bytes"), "arena_bytes");
  p.arena_lower_bound_bytes = in.count(in.member(j, "", "arena_lower_bound_bytes"), "arena_lower_bound_bytes");
  p.state_bytes = in.count(in.member(j, "", "state_bytes"), "state_bytes");
  p.symbols = read_symbols(in, in.member(j, "", "symbols"), "symbols");
  p.weights = read_weights(in, in.member(j, "", "weights"), "weights");
  p.states = read_bindings(in, in.member(j, "", "states"), "states");
  p.inputs = read_bindings(in, in.member(j, "", "inputs"), "inputs");
  p.outputs = read_bindings(in, in.member(j, "", "outputs"), "outputs");
  const json& dispatches = in.array(in.member(j, "", "dispatches"), "dispatches");
  for (size_t i = 0; i < dispatches.size() && in.ok(); ++i) {
    p.dispatches.push_back(read_dispatch(in, dispatches[i], element("dispatches", i)));
  }
  return p;
}

// nlohmann's DOM parser, keeping the message of a syntax error instead of
// throwing it.
class DomParser : public nlohmann::detail::json_sax_dom_parser<json> {
 public:
  explicit DomParser(json& result) : json_sax_dom_parser(result, /*allow_exceptions=*/false) {}
  bool parse_error(size_t, const std::string&, const nlohmann::detail::exception& error) {
    message = error.what();
    return false;
  }
  std::string message;
};

}  // namespace

std::string program_to_json(const Program& p, int indent) {
  ordered_json out = {{"version", kFormatVersion},    {"alignment", p.alignment},
                      {"arena_bytes", p.arena_bytes}, {"arena_lower_bound_bytes", p.arena_lower_bound_bytes},
                      {"state_bytes", p.state_bytes}, {"symbols", ordered_json::object()}};
  for (const auto& [name, bound] : p.symbols) out["symbols"][name] = bound;
  ordered_json weights = ordered_json::array();
  for (const WeightEntry& w : p.weights) {
    weights.push_back({{"name", w.name},
                       {"dtype", ir::dtype_name(w.dtype)},
                       {"shape", shape_to_json(w.shape)},
                       {"bytes", w.bytes},
                       {"source", w.source}});
  }
  out["weights"] = std::move(weights);
  out["states"] = bindings_to_json(p.states);
  out["inputs"] = bindings_to_json(p.inputs);
  out["outputs"] = bindings_to_json(p.outputs);
  ordered_json dispatches = ordered_json::array();
  for (const Dispatch& d : p.dispatches) dispatches.push_back(dispatch_to_json(d));
  out["dispatches"] = std::move(dispatches);
  // Replace invalid UTF-8 in names rather than throw.
  return out.dump(indent, ' ', false, ordered_json::error_handler_t::replace);
}

absl::StatusOr<Program> program_from_json(std::string_view text) {
  json document;
  DomParser parser(document);
  if (!json::sax_parse(text.begin(), text.end(), &parser) || !parser.message.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("malformed JSON: ", parser.message));
  }
  Reader in;
  Program program = read_program(in, document);
  if (!in.ok()) return in.status();
  if (absl::Status s = check_program(program); !s.ok()) return s;
  return program;
}

}  // namespace kiln::passes
