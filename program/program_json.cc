// The Program as JSON. Layout (every key always present):
//
//   {"version": 2, "alignment": 256, "arena_bytes": N, "arena_lower_bound_bytes": N, "state_bytes": N,
//    "slots": [{"name": "T", "bound": 64}, {"name": "P+T", "bound": 576, "terms": ["P", "T"],
//               "scale": 1, "bias": 0}],
//    "weight_chunks": [bytes, ...],
//    "weights": [{"name", "dtype", "shape", "bytes", "chunk", "offset", "source"}],
//    "states", "inputs", "outputs": [{"name", "region", "offset", "weight", "dtype", "shape"}],
//    "dispatches": [{"kernel", "variant", "node", "constants", "step_params", "inputs", "outputs",
//                    "launch", "after"}]}
//
// A shape or launch domain is an array of extents and slot names: [1, "T",
// 64]. A constant is {"type": "bool" | "int" | "real", "value": V}, with
// "symbol" beside an enumeration's integer; reals are JSON numbers with all
// their digits, or "nan", "inf", "-inf". step_params maps a parameter to a
// slot name: {"rows": "T"}.

#include "program/program_json.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "program/program_check.h"

namespace kiln::program {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr int64_t kFormatVersion = 2;

// ---- Writing ---------------------------------------------------------------

class Writer {
 public:
  explicit Writer(const Program& program) : program_(program) {}

  ordered_json shape(const Shape& shape) const {
    ordered_json out = ordered_json::array();
    for (const Dim& dim : shape) {
      if (dim.is_static()) {
        out.push_back(dim.value);
      } else {
        out.push_back(program_.slots[dim.slot].name);
      }
    }
    return out;
  }

  ordered_json ref(const TensorRef& ref, const std::string* name = nullptr) const {
    ordered_json out = ordered_json::object();
    if (name != nullptr) out["name"] = *name;
    out["region"] = region_name(ref.region);
    out["offset"] = ref.offset;
    out["weight"] = ref.weight;
    out["dtype"] = dtype_name(ref.dtype);
    out["shape"] = shape(ref.shape);
    return out;
  }

  ordered_json bindings(const std::vector<Binding>& bindings) const {
    ordered_json out = ordered_json::array();
    for (const Binding& binding : bindings) out.push_back(ref(binding.ref, &binding.name));
    return out;
  }

  ordered_json refs(const std::vector<TensorRef>& refs) const {
    ordered_json out = ordered_json::array();
    for (const TensorRef& r : refs) out.push_back(ref(r));
    return out;
  }

  static ordered_json real(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    return value;
  }

  static ordered_json constant(const Constant& c) {
    ordered_json out = {{"type", constant_type_name(c.type)}};
    switch (c.type) {
      case Constant::Type::boolean: out["value"] = c.integer != 0; break;
      case Constant::Type::integer: out["value"] = c.integer; break;
      case Constant::Type::real: out["value"] = real(c.real); break;
    }
    if (!c.symbol.empty()) out["symbol"] = c.symbol;
    return out;
  }

  ordered_json dispatch(const Dispatch& d) const {
    ordered_json constants = ordered_json::object();
    for (const Constant& c : d.constants) constants[c.name] = constant(c);
    ordered_json step_params = ordered_json::object();
    for (const StepParam& param : d.step_params) step_params[param.name] = program_.slots[param.slot].name;
    return {{"kernel", d.kernel},   {"variant", d.variant},          {"node", d.node},
            {"constants", constants}, {"step_params", step_params}, {"inputs", refs(d.inputs)},
            {"outputs", refs(d.outputs)}, {"launch", shape(d.launch)}, {"after", d.after}};
  }

  ordered_json slot(const StepSlot& s) const {
    ordered_json out = {{"name", s.name}, {"bound", s.bound}};
    if (s.given()) return out;
    ordered_json terms = ordered_json::array();
    for (int32_t term : s.terms) terms.push_back(program_.slots[term].name);
    out["terms"] = terms;
    out["scale"] = s.scale;
    out["bias"] = s.bias;
    return out;
  }

 private:
  const Program& program_;
};

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

  // A slot named in a shape, a launch domain or a step parameter.
  int32_t slot(const json& value, const std::string& path) {
    const std::string name = string(value, path);
    const int32_t index = program_.find_slot(name);
    if (ok() && index < 0) fail(path, absl::StrCat("'", name, "' is not a declared slot"));
    return index;
  }

  // Extents >= 0 and slot names: [1, "T", 64].
  Shape shape(const json& value, const std::string& path) {
    Shape shape;
    const json& dims = array(value, path);
    for (size_t i = 0; i < dims.size(); ++i) {
      const std::string at = element(path, i);
      if (dims[i].is_string()) {
        shape.push_back(Dim::of_slot(slot(dims[i], at)));
      } else {
        shape.push_back(Dim::fixed(count(dims[i], at)));
      }
    }
    return shape;
  }

  std::vector<int64_t> counts(const json& value, const std::string& path) {
    std::vector<int64_t> out;
    const json& items = array(value, path);
    for (size_t i = 0; i < items.size(); ++i) out.push_back(count(items[i], element(path, i)));
    return out;
  }

  DType dtype(const json& value, const std::string& path) {
    const std::string name = string(value, path);
    if (!ok()) return DType::f32;
    absl::StatusOr<DType> dtype = parse_dtype(name);
    if (!dtype.ok()) fail(path, std::string(dtype.status().message()));
    return dtype.value_or(DType::f32);
  }

  Region region(const json& value, const std::string& path) {
    const std::string name = string(value, path);
    for (Region region : {Region::arena, Region::state, Region::weight}) {
      if (region_name(region) == name) return region;
    }
    fail(path, absl::StrCat("expected \"arena\", \"state\" or \"weight\", got \"", name, "\""));
    return Region::arena;
  }

  Program& program() { return program_; }

 private:
  absl::Status status_;
  Program program_;  // what has been read so far: shapes resolve slot names against its slots
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

Constant read_constant(Reader& in, const std::string& name, const json& j, const std::string& path) {
  Constant c;
  c.name = name;
  const std::string type = in.string(in.member(j, path, "type"), child(path, "type"));
  const json& value = in.member(j, path, "value");
  if (!in.ok()) return c;
  if (type == "bool") {
    c.type = Constant::Type::boolean;
    c.integer = in.boolean(value, child(path, "value")) ? 1 : 0;
  } else if (type == "int") {
    c.type = Constant::Type::integer;
    c.integer = in.integer(value, child(path, "value"));
  } else if (type == "real") {
    c.type = Constant::Type::real;
    c.real = in.real(value, child(path, "value"));
  } else {
    in.fail(child(path, "type"), absl::StrCat("unknown constant type \"", type, "\"; expected bool, int or real"));
  }
  if (j.contains("symbol")) c.symbol = in.string(j["symbol"], child(path, "symbol"));
  return c;
}

template <typename Fn>
void for_each_member(Reader& in, const json& j, const std::string& path, Fn fn) {
  if (!j.is_object()) {
    in.fail(path, "expected an object");
    return;
  }
  for (auto it = j.begin(); it != j.end() && in.ok(); ++it) fn(it.key(), it.value(), child(path, it.key()));
}

Dispatch read_dispatch(Reader& in, const json& j, const std::string& path) {
  Dispatch d;
  d.kernel = in.string(in.member(j, path, "kernel"), child(path, "kernel"));
  d.variant = in.string(in.member(j, path, "variant"), child(path, "variant"));
  d.node = in.string(in.member(j, path, "node"), child(path, "node"));
  for_each_member(in, in.member(j, path, "constants"), child(path, "constants"),
                  [&](const std::string& name, const json& value, const std::string& at) {
                    d.constants.push_back(read_constant(in, name, value, at));
                  });
  for_each_member(in, in.member(j, path, "step_params"), child(path, "step_params"),
                  [&](const std::string& name, const json& value, const std::string& at) {
                    d.step_params.push_back({name, in.slot(value, at)});
                  });
  d.inputs = read_refs(in, in.member(j, path, "inputs"), child(path, "inputs"));
  d.outputs = read_refs(in, in.member(j, path, "outputs"), child(path, "outputs"));
  d.launch = in.shape(in.member(j, path, "launch"), child(path, "launch"));
  for (int64_t earlier : in.counts(in.member(j, path, "after"), child(path, "after"))) {
    d.after.push_back(static_cast<int32_t>(earlier));
  }
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
    w.shape = in.counts(in.member(items[i], at, "shape"), child(at, "shape"));
    w.bytes = in.count(in.member(items[i], at, "bytes"), child(at, "bytes"));
    w.chunk = static_cast<int32_t>(in.count(in.member(items[i], at, "chunk"), child(at, "chunk")));
    w.offset = in.count(in.member(items[i], at, "offset"), child(at, "offset"));
    w.source = in.string(in.member(items[i], at, "source"), child(at, "source"));
    out.push_back(std::move(w));
  }
  return out;
}

// Given slots first; a derived slot's terms name given slots declared
// before it.
void read_slots(Reader& in, const json& j, const std::string& path) {
  const json& items = in.array(j, path);
  for (size_t i = 0; i < items.size() && in.ok(); ++i) {
    const std::string at = element(path, i);
    StepSlot slot;
    slot.name = in.string(in.member(items[i], at, "name"), child(at, "name"));
    slot.bound = in.count(in.member(items[i], at, "bound"), child(at, "bound"));
    if (items[i].is_object() && items[i].contains("terms")) {
      const json& terms = in.array(items[i]["terms"], child(at, "terms"));
      for (size_t t = 0; t < terms.size() && in.ok(); ++t) {
        slot.terms.push_back(in.slot(terms[t], element(child(at, "terms"), t)));
      }
      if (in.ok() && slot.terms.empty()) in.fail(child(at, "terms"), "a derived slot sums at least one slot");
      slot.scale = in.integer(in.member(items[i], at, "scale"), child(at, "scale"));
      slot.bias = in.integer(in.member(items[i], at, "bias"), child(at, "bias"));
    }
    in.program().slots.push_back(std::move(slot));
  }
}

Program read_program(Reader& in, const json& j) {
  Program& p = in.program();
  const int64_t version = in.integer(in.member(j, "", "version"), "version");
  if (in.ok() && version != kFormatVersion) {
    in.fail("version", absl::StrCat("this kiln reads Program version ", kFormatVersion, ", got ", version,
                                    "; compile the model again with this kiln"));
  }
  p.alignment = in.count(in.member(j, "", "alignment"), "alignment");
  p.arena_bytes = in.count(in.member(j, "", "arena_bytes"), "arena_bytes");
  p.arena_lower_bound_bytes = in.count(in.member(j, "", "arena_lower_bound_bytes"), "arena_lower_bound_bytes");
  p.state_bytes = in.count(in.member(j, "", "state_bytes"), "state_bytes");
  read_slots(in, in.member(j, "", "slots"), "slots");
  p.weight_chunks = in.counts(in.member(j, "", "weight_chunks"), "weight_chunks");
  p.weights = read_weights(in, in.member(j, "", "weights"), "weights");
  p.states = read_bindings(in, in.member(j, "", "states"), "states");
  p.inputs = read_bindings(in, in.member(j, "", "inputs"), "inputs");
  p.outputs = read_bindings(in, in.member(j, "", "outputs"), "outputs");
  const json& dispatches = in.array(in.member(j, "", "dispatches"), "dispatches");
  for (size_t i = 0; i < dispatches.size() && in.ok(); ++i) {
    p.dispatches.push_back(read_dispatch(in, dispatches[i], element("dispatches", i)));
  }
  return std::move(p);
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
  const Writer w(p);
  ordered_json out = {{"version", kFormatVersion},    {"alignment", p.alignment},
                      {"arena_bytes", p.arena_bytes}, {"arena_lower_bound_bytes", p.arena_lower_bound_bytes},
                      {"state_bytes", p.state_bytes}};
  ordered_json slots = ordered_json::array();
  for (const StepSlot& slot : p.slots) slots.push_back(w.slot(slot));
  out["slots"] = std::move(slots);
  out["weight_chunks"] = p.weight_chunks;
  ordered_json weights = ordered_json::array();
  for (const WeightEntry& e : p.weights) {
    weights.push_back({{"name", e.name},
                       {"dtype", dtype_name(e.dtype)},
                       {"shape", e.shape},
                       {"bytes", e.bytes},
                       {"chunk", e.chunk},
                       {"offset", e.offset},
                       {"source", e.source}});
  }
  out["weights"] = std::move(weights);
  out["states"] = w.bindings(p.states);
  out["inputs"] = w.bindings(p.inputs);
  out["outputs"] = w.bindings(p.outputs);
  ordered_json dispatches = ordered_json::array();
  for (const Dispatch& d : p.dispatches) dispatches.push_back(w.dispatch(d));
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

}  // namespace kiln::program
