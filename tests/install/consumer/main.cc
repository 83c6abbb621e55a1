// Parses a graph, compiles it with the default pipeline and runs it on the
// installed cpu plugin: y = relu(x) + x for x = [-1, 2].

#include <cstdio>
#include <cstring>

#include "backends/backend_client.h"
#include "ir/text.h"
#include "passes/compile.h"

int main() {
  absl::StatusOr<kiln::ir::Graph> graph =
      kiln::ir::parse_graph("input %x : f32[2]\n%r = relu(%x)\n%y = add(%r, %x)\noutput %y\n");
  if (!graph.ok()) return std::printf("parse: %s\n", std::string(graph.status().message()).c_str()), 1;
  absl::StatusOr<kiln::backends::Backend> backend = kiln::backends::Backend::open("cpu");
  if (!backend.ok()) return std::printf("open: %s\n", std::string(backend.status().message()).c_str()), 1;
  kiln::passes::CompileOptions options;
  options.target = backend->capabilities();
  absl::StatusOr<kiln::program::Program> program = kiln::passes::compile(*graph, options);
  if (!program.ok()) return std::printf("compile: %s\n", std::string(program.status().message()).c_str()), 1;
  absl::StatusOr<kiln::backends::Executable> exe = backend->compile(*program);
  if (!exe.ok()) return std::printf("plugin: %s\n", std::string(exe.status().message()).c_str()), 1;
  absl::StatusOr<kiln::backends::Weights> weights = exe->create_weights();
  if (!weights.ok() || !exe->bind(*weights, nullptr).ok()) return std::printf("bind failed\n"), 1;
  const float x[2] = {-1.0f, 2.0f};
  float y[2] = {0, 0};
  // One call: write x, run, read y.
  kiln::backends::Step step;
  step.inputs.push_back({0, 0, x, sizeof x});
  step.outputs.push_back({0, 0, y, sizeof y});
  if (absl::Status s = exe->run(step); !s.ok()) return std::printf("run: %s\n", std::string(s.message()).c_str()), 1;
  std::printf("y = %g %g\n", y[0], y[1]);
  return y[0] == -1.0f && y[1] == 4.0f ? 0 : 1;
}
