#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ir/op_registry.h"
#include "ir/text.h"

namespace kiln::ir {
namespace {

// A cursor over one line of text. Every accessor skips leading blanks.
class LineReader {
 public:
  explicit LineReader(absl::string_view line) : rest_(line) {}

  bool at_end() {
    skip_blanks();
    return rest_.empty();
  }
  bool consume(absl::string_view token) {
    skip_blanks();
    if (rest_.substr(0, token.size()) != token) return false;
    rest_.remove_prefix(token.size());
    return true;
  }
  absl::Status expect(absl::string_view token) {
    if (consume(token)) return absl::OkStatus();
    return error(absl::StrCat("expected '", token, "'"));
  }
  // Letters, digits, '_' and '.'; may be empty.
  absl::string_view word() {
    skip_blanks();
    size_t n = 0;
    while (n < rest_.size() && (std::isalnum(static_cast<unsigned char>(rest_[n])) || rest_[n] == '_' || rest_[n] == '.')) ++n;
    absl::string_view w = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return w;
  }
  absl::StatusOr<std::string> value_name() {
    if (!consume("%")) return error("expected a value name like %x");
    absl::string_view name = word();
    if (name.empty()) return error("expected a value name after '%'");
    return std::string(name);
  }
  // A number as written (sign, digits, '.', exponent), or inf/nan.
  absl::string_view number() {
    skip_blanks();
    size_t n = 0;
    while (n < rest_.size() && (std::isalnum(static_cast<unsigned char>(rest_[n])) || rest_[n] == '.' ||
                                rest_[n] == '-' || rest_[n] == '+')) {
      ++n;
    }
    absl::string_view w = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return w;
  }
  char peek() {
    skip_blanks();
    return rest_.empty() ? '\0' : rest_[0];
  }
  absl::string_view take_until(char c) {
    size_t n = rest_.find(c);
    absl::string_view w = rest_.substr(0, n);
    rest_.remove_prefix(n == absl::string_view::npos ? rest_.size() : n);
    return w;
  }
  absl::Status error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(what, " at '", rest_.substr(0, 24), "'"));
  }

 private:
  void skip_blanks() {
    while (!rest_.empty() && (rest_[0] == ' ' || rest_[0] == '\t')) rest_.remove_prefix(1);
  }
  absl::string_view rest_;
};

absl::StatusOr<int64_t> parse_int(LineReader& in) {
  absl::string_view text = in.number();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return in.error(absl::StrCat("expected an integer, got '", text, "'"));
  }
  return value;
}

absl::StatusOr<Shape> parse_shape(LineReader& in) {
  if (absl::Status s = in.expect("["); !s.ok()) return s;
  Shape shape;
  while (!in.consume("]")) {
    if (!shape.empty()) {
      if (absl::Status s = in.expect(","); !s.ok()) return s;
    }
    const char c = in.peek();
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-') {
      absl::StatusOr<int64_t> value = parse_int(in);
      if (!value.ok()) return value.status();
      shape.push_back(Dim(*value));
    } else {
      absl::string_view name = in.word();
      if (name.empty()) return in.error("expected a dim");
      shape.push_back(Dim::symbol(std::string(name)));
    }
  }
  return shape;
}

absl::StatusOr<TensorType> parse_type(LineReader& in) {
  absl::StatusOr<DType> dtype = parse_dtype(std::string(in.word()));
  if (!dtype.ok()) return dtype.status();
  absl::StatusOr<Shape> shape = parse_shape(in);
  if (!shape.ok()) return shape.status();
  return TensorType{*dtype, *std::move(shape)};
}

absl::StatusOr<AttrValue> parse_literal(LineReader& in) {
  const char c = in.peek();
  if (c == '"') {
    in.consume("\"");
    std::string text(in.take_until('"'));
    if (absl::Status s = in.expect("\""); !s.ok()) return s;
    return AttrValue(text);
  }
  if (c == '[') {
    absl::StatusOr<Shape> shape = parse_shape(in);
    if (!shape.ok()) return shape.status();
    std::vector<int64_t> ints;
    for (const Dim& dim : *shape) {
      if (!dim.is_static()) return AttrValue(*shape);
      ints.push_back(dim.value());
    }
    return AttrValue(ints);
  }
  if (in.consume("true")) return AttrValue(true);
  if (in.consume("false")) return AttrValue(false);
  std::string text(in.number());
  if (text.find_first_of(".eEn") == std::string::npos) {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) return AttrValue(value);
  }
  if (text == "inf" || text == "-inf") return AttrValue(text[0] == '-' ? -INFINITY : INFINITY);
  if (text == "nan") return AttrValue(double(NAN));
  double real = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), real);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return in.error(absl::StrCat("expected an attribute value, got '", text, "'"));
  }
  return AttrValue(real);
}

// Literals are written without their schema type: an integer may stand for a
// real and an int list for a static shape.
AttrValue coerce(const OpDef* def, const std::string& name, AttrValue value) {
  if (def == nullptr) return value;
  for (const AttrSpec& spec : def->attrs) {
    if (spec.name != name) continue;
    if (spec.type == AttrType::real && std::holds_alternative<int64_t>(value)) {
      return static_cast<double>(std::get<int64_t>(value));
    }
    if (spec.type == AttrType::shape && std::holds_alternative<std::vector<int64_t>>(value)) {
      Shape shape;
      for (int64_t v : std::get<std::vector<int64_t>>(value)) shape.push_back(Dim(v));
      return shape;
    }
  }
  return value;
}

absl::StatusOr<Attributes> parse_attributes(LineReader& in, const OpDef* def) {
  Attributes attrs;
  if (!in.consume("{")) return attrs;
  while (!in.consume("}")) {
    if (!attrs.empty()) {
      if (absl::Status s = in.expect(","); !s.ok()) return s;
    }
    std::string name(in.word());
    if (name.empty()) return in.error("expected an attribute name");
    if (absl::Status s = in.expect("="); !s.ok()) return s;
    absl::StatusOr<AttrValue> value = parse_literal(in);
    if (!value.ok()) return value.status();
    attrs[name] = coerce(def, name, *std::move(value));
  }
  return attrs;
}

class GraphParser {
 public:
  absl::Status parse_line(absl::string_view line) {
    LineReader in(line.substr(0, line.find('#')));
    if (in.at_end()) return absl::OkStatus();
    if (in.peek() == '%') return parse_node(in);
    absl::string_view keyword = in.word();
    if (keyword == "symbol") return parse_symbol(in);
    if (keyword == "input" || keyword == "weight" || keyword == "state") return parse_leaf(in, keyword);
    if (keyword == "output") return parse_outputs(in);
    return in.error(absl::StrCat("unknown statement '", keyword, "'"));
  }

  Graph take() { return std::move(graph_); }

 private:
  absl::Status parse_symbol(LineReader& in) {
    std::string name(in.word());
    if (name.empty()) return in.error("expected a symbol name");
    if (absl::Status s = in.expect("<="); !s.ok()) return s;
    absl::StatusOr<int64_t> bound = parse_int(in);
    if (!bound.ok()) return bound.status();
    return graph_.declare_symbol(name, *bound);
  }

  absl::Status parse_leaf(LineReader& in, absl::string_view keyword) {
    absl::StatusOr<std::string> name = in.value_name();
    if (!name.ok()) return name.status();
    if (absl::Status s = in.expect(":"); !s.ok()) return s;
    absl::StatusOr<TensorType> type = parse_type(in);
    if (!type.ok()) return type.status();
    if (!in.at_end()) return in.error("unexpected text after the type");
    absl::StatusOr<Value*> value = keyword == "input"    ? graph_.add_input(*name, *type)
                                   : keyword == "weight" ? graph_.add_weight(*name, *type)
                                                         : graph_.add_state(*name, *type);
    return value.status();
  }

  absl::Status parse_outputs(LineReader& in) {
    std::vector<Value*> outputs = graph_.outputs();
    do {
      absl::StatusOr<Value*> value = lookup(in);
      if (!value.ok()) return value.status();
      outputs.push_back(*value);
    } while (in.consume(","));
    graph_.set_outputs(std::move(outputs));
    return in.at_end() ? absl::OkStatus() : in.error("unexpected text after the outputs");
  }

  absl::StatusOr<Value*> lookup(LineReader& in) {
    absl::StatusOr<std::string> name = in.value_name();
    if (!name.ok()) return name.status();
    Value* value = graph_.find_value(*name);
    if (value == nullptr) return absl::InvalidArgumentError(absl::StrCat("%", *name, " is not defined"));
    return value;
  }

  absl::Status parse_node(LineReader& in) {
    std::vector<std::string> names;
    do {
      absl::StatusOr<std::string> name = in.value_name();
      if (!name.ok()) return name.status();
      names.push_back(*std::move(name));
    } while (in.consume(","));
    if (absl::Status s = in.expect("="); !s.ok()) return s;
    std::string op(in.word());
    if (absl::Status s = in.expect("("); !s.ok()) return s;
    std::vector<Value*> operands;
    while (!in.consume(")")) {
      if (!operands.empty()) {
        if (absl::Status s = in.expect(","); !s.ok()) return s;
      }
      absl::StatusOr<Value*> value = lookup(in);
      if (!value.ok()) return absl::Status(value.status().code(), absl::StrCat("%", names[0], " = ", op, ": ", value.status().message()));
      operands.push_back(*value);
    }
    absl::StatusOr<Attributes> attrs = parse_attributes(in, find_op(op));
    if (!attrs.ok()) return attrs.status();
    absl::StatusOr<Node*> node = graph_.add_node(op, std::move(operands), *std::move(attrs), names);
    if (!node.ok()) return node.status();
    return check_annotation(in, **node);
  }

  absl::Status check_annotation(LineReader& in, const Node& node) {
    if (!in.consume(":")) return in.at_end() ? absl::OkStatus() : in.error("unexpected text");
    for (size_t i = 0; i < node.outputs().size(); ++i) {
      if (i > 0) {
        if (absl::Status s = in.expect(","); !s.ok()) return s;
      }
      absl::StatusOr<TensorType> type = parse_type(in);
      if (!type.ok()) return type.status();
      const TensorType& inferred = node.output(static_cast<int>(i))->type();
      if (!(*type == inferred)) {
        return absl::InvalidArgumentError(absl::StrCat(node.label(), ": result %", node.output(static_cast<int>(i))->name(),
                                                       " is annotated ", type->to_string(), " but infers as ",
                                                       inferred.to_string()));
      }
    }
    return in.at_end() ? absl::OkStatus() : in.error("unexpected text after the types");
  }

  Graph graph_;
};

}  // namespace

absl::StatusOr<Graph> parse_graph(std::string_view text_in, std::string_view source_in) {
  const absl::string_view text(text_in.data(), text_in.size());
  const absl::string_view source(source_in.data(), source_in.size());
  GraphParser parser;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (absl::Status s = parser.parse_line(line); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(source, ":", line_number, ": ", s.message()));
    }
  }
  return parser.take();
}

}  // namespace kiln::ir
