// The shipped examples end to end: each graph in examples/ is read by the
// JSON frontend, compiled by the default pipeline, run on the cpu plugin, and
// its outputs compared with examples/reference.py, an independent NumPy
// evaluation of the same graph file. examples/README.md's shell commands
// run as written, in a copy of examples/, with what they claim checked.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "backends/backend_client.h"
#include "frontend/graph_json.h"
#include "frontend/npy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "passes/pass_manager.h"
#include "program/step.h"
#include "tests/frontend/scratch_dir.h"
#include "tests/frontend/status_matchers.h"

namespace kiln {
namespace {

using ::kiln::testing::IsOk;
using ::kiln::testing::ScratchDir;

std::string example(const std::string& name) { return absl::StrCat(KILN_SOURCE_DIR, "/examples/", name); }

std::vector<float> floats_of(const uint8_t* data, size_t bytes) {
  std::vector<float> values(bytes / sizeof(float));
  std::memcpy(values.data(), data, bytes);
  return values;
}

// One example compiled for the cpu plugin, its weights imported (read in
// place from the graph's bytes) and its state bound. State (the KV cache)
// persists from run to run.
class CompiledExample {
 public:
  static absl::StatusOr<CompiledExample> compile(const std::string& path) {
    absl::StatusOr<ir::Graph> graph = frontend::load_graph_json(path);
    if (!graph.ok()) return graph.status();
    absl::StatusOr<backends::Backend> backend = backends::Backend::open("cpu");
    if (!backend.ok()) return backend.status();
    // The pipeline `kiln compile` runs, for the plugin's capabilities.
    absl::StatusOr<passes::PassManager> pipeline = passes::PassManager::from_pipeline(passes::kDefaultPipeline);
    if (!pipeline.ok()) return pipeline.status();
    passes::PassContext context;
    context.target = backend->capabilities();
    if (absl::Status s = pipeline->run(*graph, context); !s.ok()) return s;
    if (!context.program) return absl::InternalError("the pipeline emitted no Program");
    absl::StatusOr<backends::Executable> executable = backend->compile(*context.program);
    if (!executable.ok()) return executable.status();
    CompiledExample compiled(*std::move(graph), *std::move(executable));
    if (absl::Status s = compiled.bind(); !s.ok()) return s;
    return compiled;
  }

  // One step: writes input `name` from `npy_path`, runs with the given
  // slots' values in `step` (by name), and returns output `output` as
  // floats.
  absl::StatusOr<std::vector<float>> run(const std::string& name, const std::string& npy_path,
                                         const std::map<std::string, int64_t>& step, const std::string& output) {
    const program::Program& program = executable_.program();
    absl::StatusOr<frontend::TensorData> input = frontend::read_npy(npy_path);
    if (!input.ok()) return input.status();
    const int32_t in = program.find_input(name);
    const int32_t out = program.find_output(output);
    if (in < 0 || out < 0) return absl::NotFoundError(absl::StrCat("no binding ", name, "/", output));
    backends::Step run_step;
    for (int32_t i = 0; i < program.given_slots(); ++i) {
      const auto value = step.find(program.slots[i].name);
      if (value == step.end()) return absl::NotFoundError(absl::StrCat("no value for slot ", program.slots[i].name));
      run_step.values.push_back(value->second);
    }
    absl::StatusOr<program::StepValues> values = program::evaluate_step(program, run_step.values);
    if (!values.ok()) return values.status();
    std::vector<float> result(program::element_count(program.outputs[out].ref.shape, *values));
    run_step.inputs.push_back({static_cast<uint32_t>(in), 0, input->data, input->bytes});
    run_step.outputs.push_back({static_cast<uint32_t>(out), 0, result.data(), result.size() * sizeof(float)});
    if (absl::Status s = executable_.run(run_step); !s.ok()) return s;
    return result;
  }

 private:
  CompiledExample(ir::Graph graph, backends::Executable executable)
      : graph_(std::move(graph)), executable_(std::move(executable)) {}

  absl::Status bind() {
    const program::Program& program = executable_.program();
    absl::StatusOr<backends::Weights> weights = executable_.create_weights();
    if (!weights.ok()) return weights.status();
    for (size_t i = 0; i < program.weights.size(); ++i) {
      const ir::Value* value = graph_.find_value(program.weights[i].name);
      if (value == nullptr) return absl::NotFoundError(absl::StrCat("weight ", program.weights[i].name));
      const ir::WeightData& data = value->weight();
      if (absl::Status s = weights->import(static_cast<uint32_t>(i), {data.bytes, data.size}); !s.ok()) return s;
    }
    std::optional<backends::State> state;
    if (program.state_bytes > 0) {
      absl::StatusOr<backends::State> created = executable_.create_state();
      if (!created.ok()) return created.status();
      state = *std::move(created);
    }
    return executable_.bind(*weights, state ? &*state : nullptr);
  }

  ir::Graph graph_;  // holds the weights' bytes, which the plugin reads in place
  backends::Executable executable_;
};

// Runs examples/reference.py with `args` and returns output `y` it wrote
// to `out_npy`.
absl::StatusOr<std::vector<float>> reference(const std::string& graph, const std::string& args,
                                             const std::string& out_npy) {
  const std::string command =
      absl::StrCat(KILN_PYTHON, " ", example("reference.py"), " ", graph, " ", args, " --output y=", out_npy);
  if (std::system(command.c_str()) != 0) return absl::InternalError(absl::StrCat("failed: ", command));
  absl::StatusOr<frontend::TensorData> result = frontend::read_npy(out_npy);
  if (!result.ok()) return result.status();
  return floats_of(result->data, result->bytes);
}

// f32 kernels against a float64 reference: a relative error of 1e-4 over
// outputs of order 1 is well above f32 rounding and well below any bug.
void expect_close(const std::vector<float>& actual, const std::vector<float>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  double worst = 0;
  size_t worst_at = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double error = std::abs(double(actual[i]) - expected[i]) / std::max(1.0, std::abs(double(expected[i])));
    if (std::isnan(error) || error > worst) {
      worst = error;
      worst_at = i;
      if (std::isnan(error)) break;
    }
  }
  EXPECT_LE(worst, 1e-4) << "element " << worst_at << ": kiln " << actual[worst_at] << ", NumPy "
                         << expected[worst_at];
}

TEST(ExamplesTest, MlpMatchesNumPy) {
  absl::StatusOr<CompiledExample> mlp = CompiledExample::compile(example("mlp.json"));
  ASSERT_THAT(mlp, IsOk());
  const std::string x = example("data/mlp/x.npy");
  absl::StatusOr<std::vector<float>> kiln = mlp->run("x", x, {{"B", 5}}, "y");
  ASSERT_THAT(kiln, IsOk());
  ScratchDir dir;
  absl::StatusOr<std::vector<float>> numpy = reference(example("mlp.json"), "--input x=" + x, dir.file("y.npy"));
  ASSERT_THAT(numpy, IsOk());
  expect_close(*kiln, *numpy);
}

TEST(ExamplesTest, MlpMatchesNumPyAtTheBatchBound) {
  ScratchDir dir;
  std::vector<float> x(64 * 37);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37 * i);  // deterministic, in [-1, 1]
  ASSERT_THAT(frontend::write_npy(dir.file("x.npy"), ir::DType::f32, {64, 37}, x.data()), IsOk());
  absl::StatusOr<CompiledExample> mlp = CompiledExample::compile(example("mlp.json"));
  ASSERT_THAT(mlp, IsOk());
  absl::StatusOr<std::vector<float>> kiln = mlp->run("x", dir.file("x.npy"), {{"B", 64}}, "y");
  ASSERT_THAT(kiln, IsOk());
  absl::StatusOr<std::vector<float>> numpy =
      reference(example("mlp.json"), "--input x=" + dir.file("x.npy"), dir.file("y.npy"));
  ASSERT_THAT(numpy, IsOk());
  expect_close(*kiln, *numpy);
}

// A prefill of 5 tokens fills the KV cache; a decode step at P = 5 reads
// it. NumPy carries the cache between its two runs through .npy files.
TEST(ExamplesTest, LlamaBlockPrefillThenDecodeMatchesNumPy) {
  const std::string graph = example("llama_block.json");
  absl::StatusOr<CompiledExample> block = CompiledExample::compile(graph);
  ASSERT_THAT(block, IsOk());
  ScratchDir dir;
  const std::string cache_out = absl::StrCat(" --state-out k_cache=", dir.file("k.npy"),
                                             " --state-out v_cache=", dir.file("v.npy"));
  const std::string cache_in = absl::StrCat(" --state-in k_cache=", dir.file("k.npy"),
                                            " --state-in v_cache=", dir.file("v.npy"));

  const std::string prompt = example("data/llama_block/x.npy");
  absl::StatusOr<std::vector<float>> kiln_prefill = block->run("x", prompt, {{"T", 5}, {"P", 0}}, "y");
  ASSERT_THAT(kiln_prefill, IsOk());
  absl::StatusOr<std::vector<float>> numpy_prefill =
      reference(graph, "--input x=" + prompt + cache_out, dir.file("y0.npy"));
  ASSERT_THAT(numpy_prefill, IsOk());
  expect_close(*kiln_prefill, *numpy_prefill);

  const std::string next = example("data/llama_block/x_decode.npy");
  absl::StatusOr<std::vector<float>> kiln_decode = block->run("x", next, {{"T", 1}, {"P", 5}}, "y");
  ASSERT_THAT(kiln_decode, IsOk());
  absl::StatusOr<std::vector<float>> numpy_decode =
      reference(graph, "--input x=" + next + " --symbol P=5" + cache_in, dir.file("y1.npy"));
  ASSERT_THAT(numpy_decode, IsOk());
  expect_close(*kiln_decode, *numpy_decode);
}

// ---- examples/README.md's commands, as a reader runs them ----------------

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The contents of every ```sh block of `markdown`, in order.
std::vector<std::string> shell_blocks(const std::string& markdown) {
  std::vector<std::string> blocks;
  for (size_t open = markdown.find("```sh\n"); open != std::string::npos; open = markdown.find("```sh\n", open)) {
    const size_t begin = open + 6;
    const size_t close = markdown.find("\n```", begin - 1);
    if (close == std::string::npos) break;
    blocks.push_back(markdown.substr(begin, close + 1 - begin));
    open = close + 4;
  }
  return blocks;
}

// The files a block says it writes: `-o FILE`, `--output NAME=FILE`,
// `--state-out NAME=FILE`.
std::vector<std::string> written_files(const std::string& block) {
  static const std::regex written(R"((?:-o |--output \w+=|--state-out \w+=)([^\s\\]+))");
  std::vector<std::string> files;
  for (auto it = std::sregex_iterator(block.begin(), block.end(), written); it != std::sregex_iterator(); ++it) {
    files.push_back((*it)[1]);
  }
  return files;
}

// Every file under `folder`, by its path relative to it.
std::map<std::string, std::string> files_under(const std::filesystem::path& folder) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
    if (entry.is_regular_file()) {
      files[std::filesystem::relative(entry.path(), folder).string()] = read_file(entry.path().string());
    }
  }
  return files;
}

// Each block runs as one bash script (`set -eu`; a block may set a variable
// the next line uses), in a scratch directory holding a copy of examples/,
// with `kiln` on PATH as the README says and /usr/bin/python3 being the
// build's KILN_PYTHON. Blocks run in order: the NumPy comparison reads the
// y.npy the first block wrote. Checked beyond exit 0: every file a command
// names as its output exists (the Program parses as JSON); the printed
// maximum difference is below the 1e-4 examples_test requires; and
// make_examples.py rewrites examples/data/ byte for byte.
TEST(ExamplesTest, ReadmeCommandsRunAsWritten) {
  const std::string readme_path = example("README.md");
  const std::vector<std::string> blocks = shell_blocks(read_file(readme_path));
  ASSERT_GE(blocks.size(), 1u) << readme_path << ": no ```sh block";
  ScratchDir dir;
  const std::filesystem::path root = dir.file("");
  std::filesystem::copy(example(""), root / "examples", std::filesystem::copy_options::recursive);
  const std::map<std::string, std::string> shipped_data = files_under(example("data"));
  for (size_t i = 0; i < blocks.size(); ++i) {
    const std::string& block = blocks[i];
    SCOPED_TRACE(absl::StrCat(readme_path, ", block ", i + 1, ":\n", block));
    const std::string script = dir.write_text(
        "block.sh", absl::StrCat("set -eu\ntrap 'echo \"failed: $BASH_COMMAND\" >&2' ERR\n",
                                 absl::StrReplaceAll(block, {{"/usr/bin/python3", KILN_PYTHON}})));
    const std::string command = absl::StrCat("cd ", root.string(), " && PATH=", KILN_BINARY_DIR,
                                             "/tools:\"$PATH\" bash ", script, " >", dir.file("stdout"), " 2>",
                                             dir.file("stderr"));
    ASSERT_EQ(std::system(command.c_str()), 0) << read_file(dir.file("stderr"));
    const std::string out = read_file(dir.file("stdout"));
    for (const std::string& written : written_files(block)) {
      EXPECT_TRUE(std::filesystem::is_regular_file(root / written)) << written << " was not written";
      if (written.ends_with(".json")) {
        const nlohmann::json program = nlohmann::json::parse(read_file((root / written).string()), nullptr, false);
        EXPECT_TRUE(!program.is_discarded() && program.contains("dispatches")) << written << " is not a Program";
      }
    }
    if (block.find("print(") != std::string::npos) {  // the comparison with NumPy prints a difference
      const double difference = std::strtod(out.c_str(), nullptr);
      EXPECT_FALSE(out.empty()) << "the comparison printed nothing";
      EXPECT_LT(difference, 1e-4) << out;
    }
    if (block.find("make_examples.py") != std::string::npos) {
      EXPECT_EQ(files_under(root / "examples" / "data"), shipped_data)
          << "make_examples.py does not rewrite examples/data/ byte for byte";
    }
  }
}

}  // namespace
}  // namespace kiln
