#include "frontend/graph_json.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "frontend/npy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ir/op_registry.h"
#include "ir/text.h"
#include "tests/frontend/scratch_dir.h"
#include "tests/frontend/status_matchers.h"

namespace kiln::frontend {
namespace {

using ::kiln::testing::IsOk;
using ::kiln::testing::ScratchDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string example(std::string_view name) {
  return std::string(KILN_SOURCE_DIR) + "/examples/" + std::string(name);
}

std::vector<float> floats_of(const ir::WeightData& weight) {
  std::vector<float> values(weight.size / sizeof(float));
  std::memcpy(values.data(), weight.bytes, weight.size);
  return values;
}

std::string error_of(const absl::StatusOr<ir::Graph>& graph) {
  return graph.ok() ? "OK" : std::string(graph.status().message());
}

// ---- The shipped examples ------------------------------------------------------

TEST(GraphJsonTest, LoadsTheMlpExample) {
  absl::StatusOr<ir::Graph> graph = load_graph_json(example("mlp.json"));
  ASSERT_THAT(graph, IsOk());
  EXPECT_EQ(graph->symbol_bounds().at("B"), 64);
  ASSERT_EQ(graph->nodes().size(), 3u);
  ASSERT_EQ(graph->outputs().size(), 1u);
  EXPECT_EQ(graph->outputs()[0]->type().to_string(), "f32[B, 10]");
  EXPECT_THAT(ir::print_node(*graph->nodes()[2]),
              HasSubstr("%y = matmul(%a, %w2, %b2) {transpose_b = true}"));

  // w1 references the mapped .npy bytes; b2 was converted from inline data.
  const ir::WeightData& w1 = graph->find_value("w1")->weight();
  absl::StatusOr<TensorData> npy = read_npy(example("data/mlp/w1.npy"));
  ASSERT_THAT(npy, IsOk());
  ASSERT_EQ(w1.size, 37u * 64u * 4u);
  EXPECT_EQ(std::memcmp(w1.bytes, npy->data, w1.size), 0);
  EXPECT_THAT(w1.source, HasSubstr("data/mlp/w1.npy"));
  const ir::WeightData& b2 = graph->find_value("b2")->weight();
  EXPECT_THAT(floats_of(b2),
              ElementsAre(0.05f, -0.1f, 0.02f, 0.0f, 0.12f, -0.03f, 0.07f, -0.08f, 0.01f, 0.04f));
}

TEST(GraphJsonTest, LoadsTheLlamaBlockExample) {
  absl::StatusOr<ir::Graph> graph = load_graph_json(example("llama_block.json"));
  ASSERT_THAT(graph, IsOk());
  EXPECT_EQ(graph->symbol_bounds(), (ir::SymbolValues{{"P", 48}, {"T", 16}}));
  EXPECT_EQ(graph->nodes().size(), 22u);
  EXPECT_EQ(graph->weights().size(), 9u);
  ASSERT_EQ(graph->states().size(), 2u);
  EXPECT_EQ(graph->states()[0]->type().to_string(), "f32[64, 2, 16]");
  EXPECT_EQ(graph->outputs()[0]->type().to_string(), "f32[T, 64]");
  const std::string text = ir::print_graph(*graph);
  EXPECT_THAT(text,
              HasSubstr("%attn = attention(%q_rot, %k_all, %v_all) {causal = true, scale = 0.25}"));
  EXPECT_THAT(text, HasSubstr("theta = 10000.0"));  // an integer coerced to the schema's real
}

// ---- Format features -----------------------------------------------------------

constexpr std::string_view kChain = R"({
  "symbols": {"T": 8},
  "inputs": [{"name": "x", "dtype": "f32", "shape": ["T", 4]}],
  "nodes": [%s],
  "outputs": ["c"]
})";

std::string chain_with(std::string_view nodes) {
  std::string text(kChain);
  text.replace(text.find("%s"), 2, nodes);
  return text;
}

TEST(GraphJsonTest, NodesMayBeListedInAnyOrder) {
  const std::string a = R"({"op": "relu", "inputs": ["x"], "output": "a"})";
  const std::string b = R"({"op": "silu", "inputs": ["a"], "output": "b"})";
  const std::string c = R"({"op": "add", "inputs": ["b", "a"], "output": "c"})";
  absl::StatusOr<ir::Graph> ordered =
      parse_graph_json(chain_with(a + "," + b + "," + c), "", "in_order.json");
  absl::StatusOr<ir::Graph> shuffled =
      parse_graph_json(chain_with(c + "," + a + "," + b), "", "shuffled.json");
  ASSERT_THAT(ordered, IsOk());
  ASSERT_THAT(shuffled, IsOk());
  EXPECT_EQ(ir::print_graph(*shuffled), ir::print_graph(*ordered));
}

TEST(GraphJsonTest, AttributesAreTypedByTheSchema) {
  absl::StatusOr<ir::Graph> graph = parse_graph_json(chain_with(R"(
    {"op": "scale", "inputs": ["x"], "output": "a", "attrs": {"scale": 2}},
    {"op": "softmax", "inputs": ["a"], "output": "b", "attrs": {"axis": -1.0}},
    {"op": "reshape", "inputs": ["b"], "output": "c", "attrs": {"shape": ["T", 2, 2]}})"),
                                                     "", "attrs.json");
  ASSERT_THAT(graph, IsOk());
  EXPECT_EQ(graph->nodes()[0]->attr_real("scale"), 2.0);
  EXPECT_EQ(graph->nodes()[1]->attr_int("axis"), -1);
  EXPECT_EQ(graph->outputs()[0]->type().to_string(), "f32[T, 2, 2]");
}

constexpr std::string_view kInlineWeight = R"({
  "inputs": [{"name": "x", "dtype": "f32", "shape": [2, 3]}],
  "weights": {"w": {"dtype": "%dtype", "shape": [2, 3], "data": %data}},
  "nodes": [{"op": "add", "inputs": ["x", "x"], "output": "y"}],
  "outputs": ["y"]
})";

absl::StatusOr<ir::Graph> with_inline(std::string_view dtype, std::string_view data) {
  std::string text(kInlineWeight);
  text.replace(text.find("%dtype"), 6, dtype);
  text.replace(text.find("%data"), 5, data);
  return parse_graph_json(text, "", "inline.json");
}

TEST(GraphJsonTest, InlineDataIsFlatOrNestedAndTakesTheDeclaredDtype) {
  absl::StatusOr<ir::Graph> flat = with_inline("f32", "[1, 2, 3, 4, 5, 6.5]");
  absl::StatusOr<ir::Graph> nested = with_inline("f32", "[[1, 2, 3], [4, 5, 6.5]]");
  ASSERT_THAT(flat, IsOk());
  ASSERT_THAT(nested, IsOk());
  EXPECT_THAT(floats_of(flat->find_value("w")->weight()), ElementsAre(1, 2, 3, 4, 5, 6.5));
  EXPECT_THAT(floats_of(nested->find_value("w")->weight()), ElementsAre(1, 2, 3, 4, 5, 6.5));
  EXPECT_EQ(flat->find_value("w")->weight().source, "inline.json:w");

  absl::StatusOr<ir::Graph> half = with_inline("f16", "[1, -2, 0.5, 65504, 0, 3]");
  ASSERT_THAT(half, IsOk());
  const ir::WeightData& h = half->find_value("w")->weight();
  ASSERT_EQ(h.size, 12u);
  std::vector<uint16_t> bits(6);
  std::memcpy(bits.data(), h.bytes, h.size);
  EXPECT_THAT(bits, ElementsAre(0x3c00, 0xc000, 0x3800, 0x7bff, 0x0000, 0x4200));

  absl::StatusOr<ir::Graph> ints = with_inline("i32", "[[1, -2, 3], [2147483647, 0, 7]]");
  ASSERT_THAT(ints, IsOk());
  std::vector<int32_t> values(6);
  std::memcpy(values.data(), ints->find_value("w")->weight().bytes, 24);
  EXPECT_THAT(values, ElementsAre(1, -2, 3, 2147483647, 0, 7));
}

// The u64 header length, the JSON header (padded to 8 bytes), then the data.
void write_safetensors(const std::string& path, const std::string& name,
                       const std::vector<float>& values, const std::vector<int64_t>& shape) {
  std::string dims;
  for (int64_t d : shape) dims += (dims.empty() ? "" : ",") + std::to_string(d);
  std::string header = "{\"" + name + "\":{\"dtype\":\"F32\",\"shape\":[" + dims +
                       "],\"data_offsets\":[0," + std::to_string(values.size() * 4) + "]}}";
  header.append((8 - header.size() % 8) % 8, ' ');
  const uint64_t length = header.size();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&length), sizeof(length));
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size() * 4));
}

TEST(GraphJsonTest, LoadsWeightsFromNpyAndSafetensorsRelativeToTheGraph) {
  ScratchDir dir;
  std::filesystem::create_directory(dir.file("data"));
  const std::vector<float> w = {1, 2, 3, 4, 5, 6};
  ASSERT_THAT(write_npy(dir.file("data/w.npy"), ir::DType::f32, {3, 2}, w.data()), IsOk());
  write_safetensors(dir.file("data/m.safetensors"), "layer.bias", {0.5f, -0.5f}, {2});
  dir.write_text("g.json", R"({
    "inputs": [{"name": "x", "dtype": "f32", "shape": [1, 3]}],
    "weights": {
      "w": {"dtype": "f32", "shape": [3, 2], "npy": "data/w.npy"},
      "b": {"dtype": "f32", "shape": [2], "safetensors": {"file": "data/m.safetensors", "tensor": "layer.bias"}}
    },
    "nodes": [{"op": "matmul", "inputs": ["x", "w", "b"], "output": "y"}],
    "outputs": ["y"]})");
  absl::StatusOr<ir::Graph> graph = load_graph_json(dir.file("g.json"));
  ASSERT_THAT(graph, IsOk());
  EXPECT_THAT(floats_of(graph->find_value("w")->weight()), ElementsAre(1, 2, 3, 4, 5, 6));
  const ir::WeightData& b = graph->find_value("b")->weight();
  EXPECT_THAT(floats_of(b), ElementsAre(0.5f, -0.5f));
  EXPECT_EQ(b.source, dir.file("data/m.safetensors") + ":layer.bias");
  EXPECT_NE(b.owner, nullptr);  // the mapping stays alive with the graph
}

// ---- Errors --------------------------------------------------------------------

TEST(GraphJsonErrorTest, RefusesFusedOps) {
  ir::OpDef fused;
  fused.name = "test_fused_relu";
  fused.doc = "a fused op for this test";
  fused.operands = {"x"};
  fused.min_inputs = fused.max_inputs = 1;
  fused.infer = [](const ir::InferContext& ctx) -> absl::StatusOr<std::vector<ir::TensorType>> {
    return std::vector<ir::TensorType>{ctx.inputs[0]};
  };
  fused.fused = true;
  (void)ir::OpRegistry::global().add(std::move(fused));  // already there when the test repeats
  absl::StatusOr<ir::Graph> graph = parse_graph_json(
      chain_with(R"({"op": "test_fused_relu", "inputs": ["x"], "output": "c"})"), "", "f.json");
  EXPECT_EQ(error_of(graph),
            "f.json: nodes[0]: %c = test_fused_relu: only passes create fused ops");
}

TEST(GraphJsonErrorTest, MalformedJsonNamesLineAndColumn) {
  absl::StatusOr<ir::Graph> graph =
      parse_graph_json("{\n  \"nodes\": [\n    {\"op\": relu}\n  ]\n}", "", "bad.json");
  EXPECT_THAT(error_of(graph),
              HasSubstr("bad.json:3:12: malformed JSON: syntax error while parsing value"));
}

TEST(GraphJsonErrorTest, MissingGraphFile) {
  EXPECT_THAT(error_of(load_graph_json("/nonexistent/g.json")),
              HasSubstr("/nonexistent/g.json: cannot open"));
}

struct BadGraph {
  const char* name;
  std::string json;
  std::string message;  // a substring of the error
};

void PrintTo(const BadGraph& bad, std::ostream* os) { *os << bad.name; }

class GraphJsonErrorCaseTest : public ::testing::TestWithParam<BadGraph> {};

TEST_P(GraphJsonErrorCaseTest, NamesFileAndCulprit) {
  EXPECT_THAT(error_of(parse_graph_json(GetParam().json, "", "case.json")),
              HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, GraphJsonErrorCaseTest,
    ::testing::Values(
        BadGraph{"unknown_op",
                 chain_with(R"({"op": "frobnicate", "inputs": ["x"], "output": "c"})"),
                 "case.json: nodes[0]: unknown op 'frobnicate'"},
        BadGraph{"wrong_arity", chain_with(R"({"op": "add", "inputs": ["x"], "output": "c"})"),
                 "case.json: nodes[0]: %c = add: expected 2 operands, got 1"},
        BadGraph{
            "shape_mismatch",
            R"({"symbols": {"B": 4}, "inputs": [{"name": "x", "dtype": "f32", "shape": ["B", 3]}],
                     "weights": {"w": {"dtype": "f32", "shape": [2, 2], "data": [1, 2, 3, 4]}},
                     "nodes": [{"op": "matmul", "inputs": ["x", "w"], "output": "y"}], "outputs": ["y"]})",
            "case.json: nodes[0]: %y = matmul: operand 'b' (f32[2, 2]): dim 2 must equal dim 3 of "
            "operand 'a' "
            "(f32[B, 3])"},
        BadGraph{"dangling_value",
                 chain_with(R"({"op": "add", "inputs": ["x", "nope"], "output": "c"})"),
                 "case.json: nodes[0]: %c = add: input 'nope' names no input, weight, state or "
                 "node result"},
        BadGraph{"cycle", chain_with(R"({"op": "relu", "inputs": ["x"], "output": "c"},
                               {"op": "add", "inputs": ["x", "b"], "output": "a"},
                               {"op": "relu", "inputs": ["a"], "output": "b"})"),
                 "case.json: nodes[1]: %a = add: dependency cycle: %a reads %b, %b reads %a"},
        BadGraph{"self_cycle", chain_with(R"({"op": "add", "inputs": ["x", "c"], "output": "c"})"),
                 "case.json: nodes[0]: %c = add: dependency cycle: %c reads %c"},
        BadGraph{"duplicate_result", chain_with(R"({"op": "relu", "inputs": ["x"], "output": "c"},
                               {"op": "silu", "inputs": ["x"], "output": "c"})"),
                 "case.json: nodes[1]: %c = silu: 'c' is already defined by nodes[0]"},
        BadGraph{"result_shadows_input",
                 chain_with(R"({"op": "relu", "inputs": ["x"], "output": "x"})"),
                 "case.json: nodes[0]: %x = relu: 'x' is already an input"},
        BadGraph{"weight_shadows_input",
                 R"({"inputs": [{"name": "x", "dtype": "f32", "shape": [2]}],
                     "weights": {"x": {"dtype": "f32", "shape": [2], "data": [1, 2]}},
                     "nodes": [], "outputs": ["x"]})",
                 "case.json: weight 'x': 'x' is already an input"},
        BadGraph{"duplicate_key",
                 R"({"weights": {"w": {"dtype": "f32", "shape": [1], "data": [1]},
                                 "w": {"dtype": "f32", "shape": [1], "data": [2]}},
                     "nodes": [], "outputs": ["w"]})",
                 "case.json: weights: duplicate key 'w'"},
        BadGraph{
            "duplicate_attribute",
            chain_with(
                R"({"op": "softmax", "inputs": ["x"], "output": "c", "attrs": {"axis": -1, "axis": 1}})"),
            "case.json: nodes[0].attrs: duplicate key 'axis'"},
        BadGraph{"inline_data_wrong_length",
                 R"({"weights": {"b": {"dtype": "f32", "shape": [4], "data": [1, 2, 3]}},
                     "nodes": [], "outputs": ["b"]})",
                 "case.json: weight 'b': data: has 3 values, shape [4] needs 4"},
        BadGraph{
            "inline_data_wrong_nesting",
            R"({"weights": {"w": {"dtype": "f32", "shape": [2, 3], "data": [[1, 2, 3], [4, 5]]}},
                     "nodes": [], "outputs": ["w"]})",
            "case.json: weight 'w': data[1]: expected an array of 3 elements, got [4,5]"},
        BadGraph{"inline_i32_not_integer",
                 R"({"weights": {"w": {"dtype": "i32", "shape": [2], "data": [1, 2.5]}},
                     "nodes": [], "outputs": ["w"]})",
                 "case.json: weight 'w': data: value 1: expected an i32 integer, got 2.5"},
        BadGraph{
            "unknown_dtype",
            R"({"inputs": [{"name": "x", "dtype": "f64", "shape": [2]}], "nodes": [], "outputs": ["x"]})",
            "case.json: input 'x': dtype: unknown dtype 'f64': expected f32, f16, bf16 or i32"},
        BadGraph{
            "undeclared_symbol",
            R"({"inputs": [{"name": "x", "dtype": "f32", "shape": ["N", 2]}], "nodes": [], "outputs": ["x"]})",
            "case.json: input 'x': shape[0]: symbol 'N' is not declared in \"symbols\""},
        BadGraph{
            "symbolic_weight",
            R"({"symbols": {"T": 4}, "weights": {"w": {"dtype": "f32", "shape": ["T"], "data": [1]}},
                     "nodes": [], "outputs": ["w"]})",
            "case.json: weight 'w': shape: weights have static dims, got 'T'"},
        BadGraph{"two_weight_sources",
                 R"({"weights": {"w": {"dtype": "f32", "shape": [1], "data": [1], "npy": "w.npy"}},
                     "nodes": [], "outputs": ["w"]})",
                 "case.json: weight 'w': give exactly one of \"data\", \"npy\" or \"safetensors\""},
        BadGraph{
            "unknown_attribute",
            chain_with(R"({"op": "softmax", "inputs": ["x"], "output": "c", "attrs": {"dim": 1}})"),
            "case.json: nodes[0]: %c = softmax: unknown attribute 'dim' (softmax takes axis)"},
        BadGraph{
            "attribute_type",
            chain_with(
                R"({"op": "gelu", "inputs": ["x"], "output": "c", "attrs": {"approximate": 1}})"),
            "case.json: nodes[0]: %c = gelu: attrs.approximate: expected a string, got 1"},
        BadGraph{
            "non_integral_int_attribute",
            chain_with(
                R"({"op": "softmax", "inputs": ["x"], "output": "c", "attrs": {"axis": 0.5}})"),
            "case.json: nodes[0]: %c = softmax: attrs.axis: expected an integer, got 0.5"},
        BadGraph{"missing_attribute",
                 chain_with(R"({"op": "scale", "inputs": ["x"], "output": "c"})"),
                 "case.json: nodes[0]: %c = scale: missing required attribute 'scale'"},
        BadGraph{"unknown_key",
                 chain_with(R"({"op": "relu", "inputs": ["x"], "output": "c", "attr": {}})"),
                 "case.json: nodes[0]: unknown key 'attr' (expected op, inputs, output, outputs, "
                 "attrs)"},
        BadGraph{"output_and_outputs",
                 chain_with(R"({"op": "relu", "inputs": ["x"], "output": "c", "outputs": ["c"]})"),
                 "case.json: nodes[0]: give exactly one of \"output\" or \"outputs\""},
        BadGraph{"no_result_names", chain_with(R"({"op": "relu", "inputs": ["x"], "outputs": []})"),
                 "case.json: nodes[0]: outputs: expected a name per result"},
        BadGraph{"bad_value_name",
                 chain_with(R"({"op": "relu", "inputs": ["x"], "output": "c d"})"),
                 "case.json: nodes[0]: name 'c d' must be letters, digits, '_' and '.'"},
        BadGraph{"dangling_output", chain_with(R"({"op": "relu", "inputs": ["x"], "output": "d"})"),
                 "case.json: outputs[0]: 'c' names no value"},
        BadGraph{"missing_nodes", R"({"outputs": ["y"]})", "case.json: missing 'nodes'"},
        BadGraph{"wrong_section_type", R"({"inputs": {"x": 1}, "nodes": [], "outputs": []})",
                 "case.json: inputs: expected an array, got {\"x\":1}"},
        BadGraph{"not_an_object", R"([1, 2])",
                 "case.json: the document: expected an object, got [1,2]"},
        BadGraph{"wrong_version", R"({"version": 2, "nodes": [], "outputs": []})",
                 "case.json: version: this kiln reads version 1, got 2"},
        BadGraph{"bad_symbol_bound", R"({"symbols": {"T": 0}, "nodes": [], "outputs": []})",
                 "case.json: symbol 'T': upper bound must be positive, got 0"}),
    [](const ::testing::TestParamInfo<BadGraph>& info) { return std::string(info.param.name); });

// Weight files that do not match what the graph declares.
class GraphJsonWeightFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<float> f32 = {1, 2, 3, 4, 5, 6};
    const std::vector<int32_t> i32 = {1, 2, 3, 4, 5, 6};
    ASSERT_THAT(write_npy(dir_.file("w.npy"), ir::DType::f32, {2, 3}, f32.data()), IsOk());
    ASSERT_THAT(write_npy(dir_.file("i.npy"), ir::DType::i32, {2, 3}, i32.data()), IsOk());
    std::ifstream in(dir_.file("w.npy"), std::ios::binary);
    const std::string bytes(std::istreambuf_iterator<char>(in), {});
    dir_.write_text("truncated.npy", bytes.substr(0, bytes.size() - 5));
    write_safetensors(dir_.file("m.safetensors"), "w", f32, {3, 2});
  }

  // A graph with one weight `w` of `declared` type, read from `source`.
  std::string error_for(const std::string& source,
                        const std::string& declared = R"("f32", "shape": [2, 3])") {
    const std::string json = R"({"weights": {"w": {"dtype": )" + declared + ", " + source +
                             R"(}}, "nodes": [], "outputs": ["w"]})";
    return error_of(parse_graph_json(json, dir_.file(""), "case.json"));
  }

  ScratchDir dir_;
};

TEST_F(GraphJsonWeightFileTest, MatchingFileLoads) {
  EXPECT_EQ(error_for(R"("npy": "w.npy")"), "OK");
}

TEST_F(GraphJsonWeightFileTest, MissingFile) {
  EXPECT_THAT(error_for(R"("npy": "missing.npy")"),
              HasSubstr("case.json: weight 'w': " + dir_.file("missing.npy") + ": cannot open"));
}

TEST_F(GraphJsonWeightFileTest, TruncatedFile) {
  EXPECT_THAT(error_for(R"("npy": "truncated.npy")"),
              HasSubstr("case.json: weight 'w': " + dir_.file("truncated.npy") + ": "));
}

TEST_F(GraphJsonWeightFileTest, FileShapeDiffersFromTheDeclaredOne) {
  EXPECT_EQ(error_for(R"("npy": "w.npy")", R"("f32", "shape": [3, 2])"),
            "case.json: weight 'w': " + dir_.file("w.npy") +
                " holds f32[2, 3], but the weight is declared f32[3, 2]");
}

TEST_F(GraphJsonWeightFileTest, FileDtypeDiffersFromTheDeclaredOne) {
  EXPECT_EQ(error_for(R"("npy": "i.npy")"),
            "case.json: weight 'w': " + dir_.file("i.npy") +
                " holds i32[2, 3], but the weight is declared f32[2, 3]");
}

TEST_F(GraphJsonWeightFileTest, SafetensorsShapeDiffersFromTheDeclaredOne) {
  EXPECT_EQ(error_for(R"("safetensors": {"file": "m.safetensors", "tensor": "w"})"),
            "case.json: weight 'w': " + dir_.file("m.safetensors") +
                ":w holds f32[3, 2], but the weight is declared f32[2, 3]");
}

TEST_F(GraphJsonWeightFileTest, SafetensorsMissingTensor) {
  EXPECT_THAT(error_for(R"("safetensors": {"file": "m.safetensors", "tensor": "nope"})"),
              HasSubstr("case.json: weight 'w': "));
  EXPECT_THAT(error_for(R"("safetensors": {"file": "m.safetensors", "tensor": "nope"})"),
              HasSubstr("nope"));
}

// Values of the wrong JSON type anywhere give an error, never an exception.
TEST(GraphJsonErrorTest, WrongJsonTypesNeverThrow) {
  const char* documents[] = {
      R"({"nodes": 3, "outputs": []})",
      R"({"nodes": [3], "outputs": []})",
      R"({"nodes": [{"op": 3}], "outputs": []})",
      R"({"nodes": [{"op": "relu", "inputs": "x", "output": "y"}], "outputs": []})",
      R"({"nodes": [{"op": "relu", "inputs": [1], "output": "y"}], "outputs": []})",
      R"({"nodes": [{"op": "relu", "inputs": ["x"], "output": 1}], "outputs": []})",
      R"({"nodes": [{"op": "relu", "inputs": ["x"], "output": "y", "attrs": []}], "outputs": []})",
      R"({"inputs": [{"name": 1}], "nodes": [], "outputs": []})",
      R"({"inputs": [{"name": "x", "dtype": "f32", "shape": 3}], "nodes": [], "outputs": []})",
      R"({"inputs": [{"name": "x", "dtype": "f32", "shape": [-1]}], "nodes": [], "outputs": []})",
      R"({"inputs": [{"name": "x", "dtype": "f32", "shape": [1e300]}], "nodes": [], "outputs": []})",
      R"({"inputs": [{"name": "x", "dtype": "f32", "shape": [18446744073709551615]}], "nodes": [], "outputs": []})",
      R"({"symbols": [], "nodes": [], "outputs": []})",
      R"({"symbols": {"T": "x"}, "nodes": [], "outputs": []})",
      R"({"weights": [], "nodes": [], "outputs": []})",
      R"({"weights": {"w": {"dtype": "f32", "shape": [1], "data": "x"}}, "nodes": [], "outputs": []})",
      R"({"weights": {"w": {"dtype": "f32", "shape": [1], "data": [[[1]]]}}, "nodes": [], "outputs": []})",
      R"({"weights": {"w": {"dtype": "f32", "shape": [1], "npy": 3}}, "nodes": [], "outputs": []})",
      R"({"weights": {"w": {"dtype": "f32", "shape": [1], "safetensors": "m"}}, "nodes": [], "outputs": []})",
      R"({"nodes": [], "outputs": [1]})",
      R"({"nodes": [], "outputs": "y"})",
      "",
      "{",
      "\xff",
  };
  for (const char* document : documents) {
    absl::StatusOr<ir::Graph> graph = parse_graph_json(document, "", "case.json");
    ASSERT_FALSE(graph.ok()) << document;
    EXPECT_THAT(std::string(graph.status().message()), ::testing::StartsWith("case.json"))
        << document;
  }
}

TEST(GraphJsonErrorTest, DeeplyNestedDocumentsFailCleanly) {
  constexpr int kDepth = 100000;
  const std::string nested = std::string(kDepth, '[') + "1" + std::string(kDepth, ']');
  EXPECT_EQ(error_of(parse_graph_json("{\"weights\":\n" + nested + "}", "", "deep.json")),
            "deep.json:2:100: JSON nested deeper than 100 levels");
  // Brackets inside strings do not count.
  EXPECT_THAT(error_of(parse_graph_json(R"({"comment": ")" + std::string(200, '[') + R"("})", "", "s.json")),
              HasSubstr("s.json: missing 'nodes'"));
  EXPECT_THAT(error_of(parse_graph_json(R"({"symbols": {"T": 1e400}})", "", "big.json")), HasSubstr("big.json"));
}

}  // namespace
}  // namespace kiln::frontend
