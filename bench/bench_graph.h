#pragma once

// A text-IR graph compiled by the real pipeline for one backend and bound
// there, whose step fusion_bench times: what `kiln run` does with a graph,
// less everything around the plugin's step call.
//
// Weights are random f16/f32/bf16 values in [-0.05, 0.05) (nothing
// overflows, and no weight is all zeros, which can read faster than data),
// drawn once per (name, size) and kept for the process: a fused and an
// unfused Program of one graph read the same bytes, and the cpu plugin
// reads them in place. Inputs are random in [-1, 1) (ids: 1), written by
// every step, as a decode step writes its token.
//
// Every output binding is narrowed to its first element after compile,
// and a timed step reads back that element alone: the Vulkan plugin copies each
// output binding whole to the host every step (128256 logits are 0.5 MB
// over PCIe), which a decode step never does (it ends in top_k).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/backend_client.h"
#include "ir/shape.h"
#include "passes/target.h"
#include "program/program.h"

namespace kiln::bench {

// `text` compiled with `pipeline` for `target`; errors name `name`.
absl::StatusOr<program::Program> compile_graph(const passes::Target& target, const std::string& name,
                                               std::string_view text, std::string_view pipeline);

// A Program's dispatches by kernel, in order: "rmsnorm matmul silu".
std::string kernel_list(const program::Program& program);

class BenchGraph {
 public:
  // Parses `text`, compiles it with `pipeline` for `backend`'s
  // capabilities and binds weights and a fresh state, or `shared_state` (a
  // state made for another graph with the same state table: its KV cache).
  // Errors name `name`.
  static absl::StatusOr<BenchGraph> create(const backends::Backend& backend, const std::string& name,
                                           std::string_view text, std::string_view pipeline,
                                           const backends::State* shared_state = nullptr);

  const program::Program& program() const { return executable_.program(); }
  const backends::State& state() const { return state_; }

  // Sets the step run() makes: `symbols` (the given slots by name; 0 when
  // absent) and every input drawn at the step's extents.
  absl::Status prepare(const ir::SymbolValues& symbols);
  // The timed call: the inputs written (the arena's reuse may have
  // overwritten them since), the Program's dispatches, output 0's first
  // element read back.
  absl::Status run();

  // Whether the Program has a dispatch of `kernel`.
  bool dispatches(std::string_view kernel) const;

 private:
  BenchGraph(backends::Executable executable, backends::State state)
      : executable_(std::move(executable)), state_(std::move(state)) {}

  backends::Executable executable_;  // keeps its weights and state alive
  backends::State state_;
  backends::Step step_;  // run()'s: it points into inputs_ and readback_
  std::vector<std::vector<uint8_t>> inputs_;
  std::vector<uint8_t> readback_;
};

}  // namespace kiln::bench
