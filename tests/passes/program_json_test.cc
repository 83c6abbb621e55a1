// The Program's JSON form, version 2 (program/program_json.h,
// docs/program-format.md): an exact round trip, and one error per field a
// reader can get wrong, each naming the field's path. Then the step values
// of the same sample Program (program/step.h).

#include <cmath>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "program/program_json.h"
#include "program/step.h"

namespace kiln::program {
namespace {

Constant boolean(std::string name, bool value) { return {std::move(name), Constant::Type::boolean, value, 0, ""}; }
Constant integer(std::string name, int64_t value) { return {std::move(name), Constant::Type::integer, value, 0, ""}; }
Constant real(std::string name, double value) { return {std::move(name), Constant::Type::real, 0, value, ""}; }
Constant enumeration(std::string name, int64_t index, std::string symbol) {
  return {std::move(name), Constant::Type::integer, index, 0, std::move(symbol)};
}

TensorRef arena(int64_t offset, Shape shape) { return {Region::arena, offset, -1, DType::f32, std::move(shape)}; }

constexpr int32_t kT = 0, kP = 1, kPplusT = 2, kTminus1 = 3, k4T = 4;

// Two dispatches over every kind of field: given and derived slots (a sum,
// a bias, a scale), two weight chunks, every constant type (an enumeration
// with its symbol, the reals JSON alone cannot tell from integers), step
// parameters, a launch domain with a slot, and a hazard.
Program sample() {
  const Dim t = Dim::of_slot(kT);
  Program p;
  p.alignment = 256;
  p.arena_bytes = 4096;
  p.arena_lower_bound_bytes = 3072;
  p.state_bytes = 1024;
  p.slots = {{"T", 8, {}, 1, 0},
             {"P", 16, {}, 1, 0},
             {"P+T", 24, {kP, kT}, 1, 0},
             {"T-1", 7, {kT}, 1, -1},
             {"4*T", 32, {kT}, 4, 0}};
  p.weight_chunks = {32, 64};
  p.weights = {{"g", DType::f32, {8}, 32, 0, 0, "model.safetensors:g"},
               {"w", DType::f16, {4, 8}, 64, 1, 0, "model.safetensors:w"}};
  p.states = {{"k_cache", {Region::state, 0, -1, DType::f32, {Dim::fixed(16), Dim::fixed(16)}}}};
  p.inputs = {{"x", arena(0, {t, Dim::fixed(4)})}};
  p.outputs = {{"y", arena(1024, {t, Dim::fixed(8)})}};

  Dispatch matmul;
  matmul.kernel = "matmul";
  matmul.variant = "gemv";
  matmul.node = "y";
  // Sorted by name, as the scheduler emits them (a JSON object is read back
  // in name order).
  matmul.constants = {enumeration("act", 1, "gelu"),
                      boolean("b_batched", false),
                      real("eps", 1e-5),
                      real("inf", INFINITY),
                      integer("k", 4),
                      real("minus_inf", -INFINITY),
                      real("one", 1.0),
                      integer("start", -3),
                      real("tenth", 0.1),
                      real("tiny", 5e-324),
                      boolean("transpose_b", true)};
  matmul.step_params = {{"kv_rows", kPplusT}, {"last", kTminus1}, {"rows", kT}};
  matmul.inputs = {arena(0, {t, Dim::fixed(4)}), {Region::weight, 0, 1, DType::f16, {Dim::fixed(4), Dim::fixed(8)}}};
  matmul.outputs = {arena(1024, {t, Dim::fixed(8)})};
  matmul.launch = {t, Dim::fixed(8)};

  Dispatch kv_write;
  kv_write.kernel = "kv_write";
  kv_write.variant = "reference";
  kv_write.node = "k";
  kv_write.constants = {integer("capacity", 16)};
  kv_write.step_params = {{"past", kP}, {"rows", kT}};
  kv_write.inputs = {arena(1024, {t, Dim::fixed(8)})};
  kv_write.outputs = {{Region::state, 0, -1, DType::f32, {Dim::fixed(16), Dim::fixed(16)}}};
  kv_write.launch = {Dim::of_slot(k4T), Dim::fixed(2)};
  kv_write.after = {0};

  p.dispatches = {matmul, kv_write};
  return p;
}

TEST(ProgramJsonTest, RoundTripIsExact) {
  const Program p = sample();
  const std::string json = program_to_json(p);
  absl::StatusOr<Program> back = program_from_json(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == p) << program_to_json(*back);
  EXPECT_EQ(program_to_json(*back), json);
  EXPECT_EQ(program_to_json(*back, -1), program_to_json(p, -1));
}

TEST(ProgramJsonTest, NanConstantRoundTrips) {
  Program p = sample();
  p.dispatches[0].constants = {real("x", NAN)};
  absl::StatusOr<Program> back = program_from_json(program_to_json(p));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_NE(back->dispatches[0].find_constant("x"), nullptr);
  EXPECT_TRUE(std::isnan(back->dispatches[0].find_constant("x")->real));
}

TEST(ProgramJsonTest, WritesTheDocumentedLayout) {
  const nlohmann::json j = nlohmann::json::parse(program_to_json(sample()));
  EXPECT_EQ(j["version"], 2);
  for (const char* key : {"alignment", "arena_bytes", "arena_lower_bound_bytes", "state_bytes", "slots",
                          "weight_chunks", "weights", "states", "inputs", "outputs", "dispatches"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  // A given slot has a name and a bound; a derived one names its terms.
  EXPECT_EQ(j["slots"][0], nlohmann::json::parse(R"({"name": "T", "bound": 8})"));
  EXPECT_EQ(j["slots"][2],
            nlohmann::json::parse(R"({"name": "P+T", "bound": 24, "terms": ["P", "T"], "scale": 1, "bias": 0})"));
  EXPECT_EQ(j["slots"][3]["bias"], -1);
  EXPECT_EQ(j["slots"][4]["scale"], 4);
  EXPECT_EQ(j["weights"][1],
            nlohmann::json::parse(R"({"name": "w", "dtype": "f16", "shape": [4, 8], "bytes": 64, "chunk": 1,
                                      "offset": 0, "source": "model.safetensors:w"})"));
  const nlohmann::json& d = j["dispatches"][0];
  for (const char* key :
       {"kernel", "variant", "node", "constants", "step_params", "inputs", "outputs", "launch", "after"}) {
    EXPECT_TRUE(d.contains(key)) << key;
  }
  EXPECT_EQ(d["inputs"][0]["shape"], nlohmann::json::parse(R"(["T", 4])"));
  EXPECT_EQ(d["launch"], nlohmann::json::parse(R"(["T", 8])"));
  EXPECT_EQ(d["step_params"], nlohmann::json::parse(R"({"kv_rows": "P+T", "last": "T-1", "rows": "T"})"));
  EXPECT_EQ(d["constants"]["act"], nlohmann::json::parse(R"({"type": "int", "value": 1, "symbol": "gelu"})"));
  EXPECT_EQ(d["constants"]["b_batched"], nlohmann::json::parse(R"({"type": "bool", "value": false})"));
  EXPECT_EQ(d["constants"]["inf"], nlohmann::json::parse(R"({"type": "real", "value": "inf"})"));
  EXPECT_EQ(d["constants"]["one"], nlohmann::json::parse(R"({"type": "real", "value": 1.0})"));
  EXPECT_TRUE(d["constants"]["one"]["value"].is_number_float());
  EXPECT_EQ(j["dispatches"][1]["after"], nlohmann::json::parse("[0]"));
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
  EXPECT_NE(std::string(p.status().message()).find(GetParam().message), std::string::npos) << p.status();
}

using nlohmann::json;

INSTANTIATE_TEST_SUITE_P(
    Errors, ProgramJsonErrorTest,
    testing::Values(
        // Version.
        BadCase{"version_1_is_refused", [](json& j) { j["version"] = 1; },
                "version: this kiln reads Program version 2, got 1; compile the model again with this kiln"},
        BadCase{"missing_version", [](json& j) { j.erase("version"); }, "version: missing"},
        // Field types.
        BadCase{"missing_offset", [](json& j) { j["dispatches"][0]["inputs"][0].erase("offset"); },
                "dispatches[0].inputs[0].offset: missing"},
        BadCase{"offset_not_integer", [](json& j) { j["dispatches"][0]["inputs"][0]["offset"] = "0"; },
                "dispatches[0].inputs[0].offset: expected an integer"},
        BadCase{"offset_real", [](json& j) { j["outputs"][0]["offset"] = 1024.5; },
                "outputs[0].offset: expected an integer"},
        BadCase{"negative_offset", [](json& j) { j["inputs"][0]["offset"] = -256; },
                "inputs[0].offset: expected a count >= 0, got -256"},
        BadCase{"bad_region", [](json& j) { j["states"][0]["region"] = "heap"; },
                "states[0].region: expected \"arena\", \"state\" or \"weight\", got \"heap\""},
        BadCase{"bad_dtype", [](json& j) { j["weights"][0]["dtype"] = "f64"; },
                "weights[0].dtype: unknown dtype 'f64'"},
        BadCase{"dispatches_not_array", [](json& j) { j["dispatches"] = json::object(); },
                "dispatches: expected an array"},
        BadCase{"top_level_not_object", [](json& j) { j = json::array(); }, ": expected an object"},
        // Constants.
        BadCase{"unknown_constant_type", [](json& j) { j["dispatches"][0]["constants"]["one"]["type"] = "complex"; },
                "dispatches[0].constants.one.type: unknown constant type \"complex\"; expected bool, int or real"},
        BadCase{"string_constant_type", [](json& j) { j["dispatches"][0]["constants"]["act"]["type"] = "string"; },
                "dispatches[0].constants.act.type: unknown constant type \"string\""},
        BadCase{"bool_given_an_integer", [](json& j) { j["dispatches"][0]["constants"]["b_batched"]["value"] = 1; },
                "dispatches[0].constants.b_batched.value: expected true or false"},
        BadCase{"int_given_a_real", [](json& j) { j["dispatches"][0]["constants"]["k"]["value"] = 4.5; },
                "dispatches[0].constants.k.value: expected an integer"},
        BadCase{"real_given_a_word", [](json& j) { j["dispatches"][0]["constants"]["eps"]["value"] = "small"; },
                "dispatches[0].constants.eps.value: expected a number, \"nan\", \"inf\" or \"-inf\""},
        BadCase{"constant_without_value", [](json& j) { j["dispatches"][0]["constants"]["k"].erase("value"); },
                "dispatches[0].constants.k.value: missing"},
        BadCase{"symbol_not_a_string", [](json& j) { j["dispatches"][0]["constants"]["act"]["symbol"] = 1; },
                "dispatches[0].constants.act.symbol: expected a string"},
        // Slots.
        BadCase{"unknown_slot_in_a_shape", [](json& j) { j["inputs"][0]["shape"][0] = "Q"; },
                "inputs[0].shape[0]: 'Q' is not a declared slot"},
        BadCase{"unknown_slot_in_a_launch", [](json& j) { j["dispatches"][0]["launch"][0] = "N"; },
                "dispatches[0].launch[0]: 'N' is not a declared slot"},
        BadCase{"unknown_slot_in_a_step_param", [](json& j) { j["dispatches"][1]["step_params"]["past"] = "Q"; },
                "dispatches[1].step_params.past: 'Q' is not a declared slot"},
        BadCase{"launch_extent_not_integer", [](json& j) { j["dispatches"][0]["launch"][1] = 8.5; },
                "dispatches[0].launch[1]: expected an integer"},
        BadCase{"derived_term_declared_later", [](json& j) { j["slots"][2]["terms"][0] = "4*T"; },
                "slots[2].terms[0]: '4*T' is not a declared slot"},
        BadCase{"derived_term_not_given", [](json& j) { j["slots"][4]["terms"][0] = "P+T"; },
                "slots[4]: term 2 is not a given slot"},
        BadCase{"derived_without_terms", [](json& j) { j["slots"][2]["terms"] = json::array(); },
                "slots[2].terms: a derived slot sums at least one slot"},
        BadCase{"derived_without_scale", [](json& j) { j["slots"][4].erase("scale"); }, "slots[4].scale: missing"},
        BadCase{"given_after_derived",
                [](json& j) { j["slots"][4] = json::parse(R"({"name": "4*T", "bound": 32})"); },
                "slots[4]: a given slot must come before every derived slot"},
        BadCase{"slot_declared_twice",
                [](json& j) {
                  j["slots"][3]["name"] = "P+T";
                  j["dispatches"][0]["step_params"]["last"] = "P+T";
                },
                "slots[3]: 'P+T' is declared twice"},
        // Hazards.
        BadCase{"after_not_ascending", [](json& j) { j["dispatches"][1]["after"] = json::parse("[0, 0]"); },
                "dispatches[1].after: expected ascending indices of earlier dispatches, got 0"},
        BadCase{"after_itself", [](json& j) { j["dispatches"][1]["after"] = json::parse("[1]"); },
                "dispatches[1].after: expected ascending indices of earlier dispatches, got 1"},
        BadCase{"after_negative", [](json& j) { j["dispatches"][1]["after"] = json::parse("[-1]"); },
                "dispatches[1].after[0]: expected a count >= 0, got -1"},
        // Weights and their chunks.
        BadCase{"weight_bytes", [](json& j) { j["weights"][1]["bytes"] = 65; },
                "weights[1].bytes: expected 64 for a f16 tensor of that shape, got 65"},
        BadCase{"weight_chunk_out_of_range", [](json& j) { j["weights"][1]["chunk"] = 2; },
                "weights[1].chunk: chunk 2 is not one of the 2 weight chunks"},
        BadCase{"weight_past_its_chunk", [](json& j) { j["weights"][1]["offset"] = 256; },
                "weights[1].offset: offset 256 + 64 bytes is unaligned or ends past chunk 1 (64 bytes)"},
        BadCase{"weight_index", [](json& j) { j["dispatches"][0]["inputs"][1]["weight"] = 3; },
                "dispatches[0].inputs[1]: weight index 3 is not in the weight table (2 entries)"},
        BadCase{"dispatch_writes_a_weight",
                [](json& j) { j["dispatches"][0]["outputs"][0] = j["dispatches"][0]["inputs"][1]; },
                "dispatches[0].outputs[0]: a dispatch never writes a weight"},
        // Offsets.
        BadCase{"unaligned_offset", [](json& j) { j["outputs"][0]["offset"] = 1000; },
                "outputs[0]: offset 1000 is not a multiple of the alignment 256"},
        BadCase{"past_the_arena", [](json& j) { j["dispatches"][0]["outputs"][0]["offset"] = 4096; },
                "dispatches[0].outputs[0]: offset 4096 + 256 bytes ends past arena_bytes 4096"},
        BadCase{"past_the_state", [](json& j) { j["states"][0]["offset"] = 256; },
                "states[0]: offset 256 + 1024 bytes ends past state_bytes 1024"},
        BadCase{"lower_bound_above_arena", [](json& j) { j["arena_lower_bound_bytes"] = 5000; },
                "arena_lower_bound_bytes: 5000 exceeds arena_bytes 4096"},
        BadCase{"bad_alignment", [](json& j) { j["alignment"] = 100; }, "alignment: expected a power of two, got 100"}),
    [](const testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

TEST(ProgramJsonTest, MalformedJsonSaysWhere) {
  for (const char* text : {"", "{", "{\"alignment\": }", "[1, 2", "nul"}) {
    absl::StatusOr<Program> p = program_from_json(text);
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_NE(std::string(p.status().message()).find("malformed JSON: "), std::string::npos) << p.status();
    EXPECT_NE(std::string(p.status().message()).find("parse error at"), std::string::npos) << p.status();
  }
}

// ---- Step values ----------------------------------------------------------

TEST(StepTest, DerivedSlotsAreComputedFromTheGivenOnes) {
  const std::vector<int64_t> given = {8, 16};  // T, P
  absl::StatusOr<StepValues> step = evaluate_step(sample(), given);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(*step, (StepValues{8, 16, 24, 7, 32}));  // T, P, P+T, T-1, 4*T
  EXPECT_EQ(bound_step(sample()), (StepValues{8, 16, 24, 7, 32}));
  EXPECT_EQ(byte_size(sample().outputs[0].ref, *step), 8 * 8 * 4);
}

TEST(StepTest, ValuesOutsideTheirBoundsAreRefusedByName) {
  const std::vector<int64_t> too_many_rows = {9, 0};
  EXPECT_EQ(std::string(evaluate_step(sample(), too_many_rows).status().message()),
            "step value T = 9 is outside [0, 8]");
  // T = 0 leaves no last row: T-1 is -1.
  const std::vector<int64_t> no_rows = {0, 0};
  EXPECT_EQ(std::string(evaluate_step(sample(), no_rows).status().message()),
            "step value T-1 = -1 is outside [0, 7]");
  const std::vector<int64_t> one_value = {1};
  EXPECT_EQ(std::string(evaluate_step(sample(), one_value).status().message()),
            "expected 2 step values (T, P), got 1");
}

}  // namespace
}  // namespace kiln::program
