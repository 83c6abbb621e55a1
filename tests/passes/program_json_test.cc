#include <cmath>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "passes/program_json.h"

namespace kiln::passes {
namespace {

TensorRef arena(int64_t offset, ir::Shape shape) {
  return {Region::arena, offset, -1, ir::DType::f32, std::move(shape)};
}

Program sample() {
  const ir::Dim t = ir::Dim::symbol("T");
  Program p;
  p.alignment = 256;
  p.arena_bytes = 4096;
  p.arena_lower_bound_bytes = 3072;
  p.state_bytes = 1024;
  p.symbols = {{"P", 16}, {"T", 8}};
  p.weights = {{"w", ir::DType::f16, {ir::Dim(4), ir::Dim(8)}, 64, "model.safetensors:w"}};
  p.states = {{"k_cache", {Region::state, 0, -1, ir::DType::f32, {ir::Dim(16), ir::Dim(16)}}}};
  p.inputs = {{"x", arena(0, {t, ir::Dim(4)})}};
  p.outputs = {{"y", arena(1024, {t, ir::Dim(8)})}};
  Dispatch d;
  d.kernel = "matmul";
  d.variant = "gemv";
  d.node = "y";
  // Every constant type, including the pairs JSON alone cannot tell apart:
  // 1 vs 1.0 and [2, 3] as ints vs as a static shape.
  d.constants = {{"flag", true},
                 {"count", int64_t{1}},
                 {"one", 1.0},
                 {"tenth", 0.1},
                 {"tiny", 5e-324},
                 {"inf", INFINITY},
                 {"minus_inf", -INFINITY},
                 {"name", std::string("tanh \"quoted\"")},
                 {"perm", std::vector<int64_t>{2, 3}},
                 {"static_shape", ir::Shape{ir::Dim(2), ir::Dim(3)}},
                 {"shape", ir::Shape{t, ir::Dim(-1)}}};
  d.inputs = {arena(0, {t, ir::Dim(4)}), {Region::weight, 0, 0, ir::DType::f16, {ir::Dim(4), ir::Dim(8)}}};
  d.outputs = {arena(1024, {t, ir::Dim(8)})};
  d.work_size = {t, ir::Dim(8)};
  d.uniforms = {"P", "T"};
  p.dispatches = {d};
  return p;
}

TEST(ProgramJsonTest, RoundTripIsExact) {
  const Program p = sample();
  const std::string json = program_to_json(p);
  absl::StatusOr<Program> back = program_from_json(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, p);
  EXPECT_EQ(program_to_json(*back), json);
  EXPECT_EQ(program_to_json(*back, -1), program_to_json(p, -1));
}

TEST(ProgramJsonTest, NanConstantRoundTrips) {
  Program p = sample();
  p.dispatches[0].constants = {{"x", NAN}};
  absl::StatusOr<Program> back = program_from_json(program_to_json(p));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(std::isnan(std::get<double>(back->dispatches[0].constants.at("x"))));
}

TEST(ProgramJsonTest, HasTheDocumentedKeys) {
  nlohmann::json j = nlohmann::json::parse(program_to_json(sample()));
  for (const char* key : {"alignment", "arena_bytes", "arena_lower_bound_bytes", "state_bytes", "symbols", "weights",
                          "states", "inputs", "outputs", "dispatches"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  const nlohmann::json& d = j["dispatches"][0];
  for (const char* key : {"kernel", "variant", "node", "constants", "inputs", "outputs", "work_size", "uniforms"}) {
    EXPECT_TRUE(d.contains(key)) << key;
  }
  EXPECT_EQ(d["inputs"][0]["shape"], nlohmann::json::parse(R"(["T", 4])"));
  EXPECT_EQ(d["constants"]["one"], nlohmann::json::parse(R"({"type": "real", "value": 1.0})"));
  EXPECT_TRUE(d["constants"]["one"]["value"].is_number_float());
}

struct BadCase {
  const char* name;
  // Applied to the sample's JSON before reading it back.
  void (*edit)(nlohmann::json& j);
  const char* message;
};

class ProgramJsonErrorTest : public testing::TestWithParam<BadCase> {};

TEST_P(ProgramJsonErrorTest, NamesTheField) {
  nlohmann::json j = nlohmann::json::parse(program_to_json(sample()));
  GetParam().edit(j);
  absl::StatusOr<Program> p = program_from_json(j.dump());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find(GetParam().message), std::string_view::npos) << p.status();
}

INSTANTIATE_TEST_SUITE_P(
    Errors, ProgramJsonErrorTest,
    testing::Values(
        BadCase{"missing_offset", [](nlohmann::json& j) { j["dispatches"][0]["inputs"][0].erase("offset"); },
                "dispatches[0].inputs[0].offset: missing"},
        BadCase{"offset_not_integer", [](nlohmann::json& j) { j["dispatches"][0]["inputs"][0]["offset"] = "0"; },
                "dispatches[0].inputs[0].offset: expected an integer"},
        BadCase{"offset_real", [](nlohmann::json& j) { j["outputs"][0]["offset"] = 1024.5; },
                "outputs[0].offset: expected an integer"},
        BadCase{"negative_offset", [](nlohmann::json& j) { j["inputs"][0]["offset"] = -256; },
                "inputs[0].offset: expected a count >= 0, got -256"},
        BadCase{"bad_region", [](nlohmann::json& j) { j["states"][0]["region"] = "heap"; },
                "states[0].region: expected \"arena\", \"state\" or \"weight\", got \"heap\""},
        BadCase{"bad_dtype", [](nlohmann::json& j) { j["weights"][0]["dtype"] = "f64"; },
                "weights[0].dtype: unknown dtype 'f64'"},
        BadCase{"unknown_constant_type",
                [](nlohmann::json& j) { j["dispatches"][0]["constants"]["one"]["type"] = "complex"; },
                "dispatches[0].constants.one.value: unknown constant type \"complex\""},
        BadCase{"constant_value_mismatch",
                [](nlohmann::json& j) { j["dispatches"][0]["constants"]["flag"]["value"] = 1; },
                "dispatches[0].constants.flag.value: expected true or false"},
        BadCase{"shape_dim_not_int", [](nlohmann::json& j) { j["dispatches"][0]["work_size"][1] = 8.5; },
                "dispatches[0].work_size[1]: expected an integer"},
        BadCase{"dispatches_not_array", [](nlohmann::json& j) { j["dispatches"] = nlohmann::json::object(); },
                "dispatches: expected an array"},
        BadCase{"top_level_not_object", [](nlohmann::json& j) { j = nlohmann::json::array(); }, ": expected an object"},
        BadCase{"wrong_version", [](nlohmann::json& j) { j["version"] = 2; },
                "version: this kiln reads Program version 1, got 2"},
        BadCase{"unaligned_offset", [](nlohmann::json& j) { j["outputs"][0]["offset"] = 1000; },
                "outputs[0]: offset 1000 is not a multiple of the alignment 256"},
        BadCase{"past_the_arena", [](nlohmann::json& j) { j["dispatches"][0]["outputs"][0]["offset"] = 4096; },
                "dispatches[0].outputs[0]: offset 4096 + 256 bytes ends past arena_bytes 4096"},
        BadCase{"past_the_state", [](nlohmann::json& j) { j["states"][0]["offset"] = 256; },
                "states[0]: offset 256 + 1024 bytes ends past state_bytes 1024"},
        BadCase{"weight_index", [](nlohmann::json& j) { j["dispatches"][0]["inputs"][1]["weight"] = 3; },
                "dispatches[0].inputs[1]: weight index 3 is not in the weight table (1 entries)"},
        BadCase{"undeclared_symbol", [](nlohmann::json& j) { j["inputs"][0]["shape"][0] = "Q"; },
                "inputs[0].shape: symbol 'Q' is not declared in symbols"},
        BadCase{"undeclared_uniform", [](nlohmann::json& j) { j["dispatches"][0]["uniforms"][0] = "Q"; },
                "dispatches[0].uniforms[0]: symbol 'Q' is not declared in symbols"},
        BadCase{"weight_bytes", [](nlohmann::json& j) { j["weights"][0]["bytes"] = 65; },
                "weights[0].bytes: expected 64 for f16[4, 8], got 65"},
        BadCase{"lower_bound_above_arena", [](nlohmann::json& j) { j["arena_lower_bound_bytes"] = 5000; },
                "arena_lower_bound_bytes: 5000 exceeds arena_bytes 4096"},
        BadCase{"bad_alignment", [](nlohmann::json& j) { j["alignment"] = 100; },
                "alignment: expected a power of two, got 100"}),
    [](const testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

TEST(ProgramJsonTest, MalformedJsonSaysWhere) {
  for (const char* text : {"", "{", "{\"alignment\": }", "[1, 2", "nul"}) {
    absl::StatusOr<Program> p = program_from_json(text);
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_NE(p.status().message().find("malformed JSON: "), std::string_view::npos) << p.status();
    EXPECT_NE(p.status().message().find("parse error at"), std::string_view::npos) << p.status();
  }
}

}  // namespace
}  // namespace kiln::passes
