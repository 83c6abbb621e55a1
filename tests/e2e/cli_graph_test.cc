// The `kiln` binary on hand-written graphs: run's outputs equal NumPy's,
// opt and compile behave as documented, and each bad input gives a non-zero
// exit and one line naming the file, input or node at fault.

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "frontend/npy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/frontend/scratch_dir.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

const std::string kExamples = KILN_SOURCE_DIR "/examples";

struct Result {
  int exit_code = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class CliGraphTest : public ::testing::Test {
 protected:
  Result shell(const std::string& command) {
    const std::string out = dir_.file("stdout"), err = dir_.file("stderr");
    const int status = std::system(absl::StrCat(command, " >", out, " 2>", err).c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  }
  Result kiln(const std::string& args) { return shell(absl::StrCat(KILN_BINARY_DIR, "/tools/kiln ", args)); }

  std::vector<float> read_f32(const std::string& path) {
    absl::StatusOr<frontend::TensorData> data = frontend::read_npy(path);
    EXPECT_TRUE(data.ok()) << data.status();
    if (!data.ok()) return {};
    const float* begin = reinterpret_cast<const float*>(data->data);
    return {begin, begin + data->bytes / sizeof(float)};
  }

  testing::ScratchDir dir_;
};

TEST_F(CliGraphTest, RunMatchesTheNumpyReference) {
  const std::string x = kExamples + "/data/mlp/x.npy";
  const std::string ours = dir_.file("y.npy"), theirs = dir_.file("y_ref.npy");
  Result run = kiln(absl::StrCat("run ", kExamples, "/mlp.json --backend cpu --input x=", x, " --output y=", ours));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  Result ref = shell(absl::StrCat(KILN_PYTHON, " ", kExamples, "/reference.py ", kExamples,
                                  "/mlp.json --input x=", x, " --output y=", theirs));
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const std::vector<float> a = read_f32(ours), b = read_f32(theirs);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_FALSE(a.empty());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5f + 1e-5f * std::abs(b[i])) << "element " << i;
}

TEST_F(CliGraphTest, CompileWritesTheProgram) {
  const std::string path = dir_.file("p.json");
  Result r = kiln(absl::StrCat("compile ", kExamples, "/llama_block.json --backend cpu -o ", path));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json program = nlohmann::json::parse(slurp(path));
  for (const char* key : {"arena_bytes", "arena_lower_bound_bytes", "states", "weights", "dispatches"}) {
    EXPECT_TRUE(program.contains(key)) << key;
  }
  EXPECT_GE(program["arena_bytes"].get<int64_t>(), program["arena_lower_bound_bytes"].get<int64_t>());
  EXPECT_FALSE(program["dispatches"].empty());
}

TEST_F(CliGraphTest, OptRunsThePipelineOverTextIr) {
  const std::string kir = dir_.write_text("g.kir", "input %x : f32[4]\n%dead = relu(%x)\n%y = silu(%x)\noutput %y\n");
  Result r = kiln(absl::StrCat("opt ", kir, " --passes=dce"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("%y = silu(%x)"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("relu")));
}

TEST_F(CliGraphTest, EveryCommandHasHelp) {
  for (const char* command : {"backends", "compile", "run", "opt", "tokenize", "perplexity"}) {
    Result r = kiln(absl::StrCat(command, " --help"));
    EXPECT_EQ(r.exit_code, 0) << command << ": " << r.err;
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("usage: kiln ", command))) << command;
  }
}

struct BadRun {
  const char* name;
  const char* python;  // writes x.npy in the cwd with NumPy
  const char* message;
};

class CliBadInputTest : public CliGraphTest, public ::testing::WithParamInterface<BadRun> {};

TEST_P(CliBadInputTest, ExitsNonZeroNamingTheInput) {
  ASSERT_EQ(shell(absl::StrCat("cd ", dir_.file(""), " && ", KILN_PYTHON, " -c 'import numpy as np; ",
                               GetParam().python, "'")).exit_code, 0);
  Result r = kiln(absl::StrCat("run ", kExamples, "/mlp.json --input x=", dir_.file("x.npy"), " --output y=",
                               dir_.file("y.npy")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(GetParam().message));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Npy, CliBadInputTest,
    ::testing::Values(
        BadRun{"wrong_dtype", "np.save(\"x.npy\", np.zeros((3, 37), np.int32))", "input 'x': expected f32"},
        BadRun{"wrong_shape", "np.save(\"x.npy\", np.zeros((3, 36), np.float32))", "dim 1 must be 37"},
        BadRun{"over_bound", "np.save(\"x.npy\", np.zeros((4096, 37), np.float32))", "is outside [1, "},
        BadRun{"truncated", "open(\"x.npy\", \"wb\").write(b\"\\x93NUMPY\\x01\")", "x.npy"}),
    [](const ::testing::TestParamInfo<BadRun>& info) { return info.param.name; });

TEST_F(CliGraphTest, MissingFilesAndUnknownNamesAreNamed) {
  Result missing = kiln("run /nonexistent/g.json");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent/g.json"));
  Result unknown = kiln(absl::StrCat("run ", kExamples, "/mlp.json --input nope=", kExamples, "/data/mlp/x.npy"));
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("the graph has no input 'nope'"));
  const std::string kir = dir_.write_text("bad.kir", "input %x : f32[4]\n%y = frobnicate(%x)\n");
  Result op = kiln(absl::StrCat("opt ", kir));
  EXPECT_EQ(op.exit_code, 1);
  EXPECT_THAT(op.err, HasSubstr("bad.kir:2: %y = frobnicate: unknown op"));
  Result backend = kiln(absl::StrCat("compile ", kExamples, "/mlp.json --backend nosuch"));
  EXPECT_EQ(backend.exit_code, 1);
  EXPECT_THAT(backend.err, HasSubstr("nosuch"));
}

}  // namespace
}  // namespace kiln
