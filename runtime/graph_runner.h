#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/backend_client.h"
#include "ir/graph.h"
#include "passes/compile.h"
#include "program/program.h"

namespace kiln::runtime {

// A host tensor: what `kiln run` reads from and writes to .npy files.
struct HostTensor {
  ir::DType dtype = ir::DType::f32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

// Runs one hand-written graph on a backend: compiles it for the backend's
// capabilities, imports its weights once, then takes inputs by name and
// runs in one backend call that also reads every output back. State (a KV
// cache) persists across runs.
class GraphRunner {
 public:
  // Rewrites `graph` in place (the pipeline runs on it). The weights' bytes
  // must stay alive while this runner exists.
  static absl::StatusOr<GraphRunner> create(const backends::Backend& backend, ir::Graph& graph,
                                            passes::CompileOptions options = {});

  const program::Program& program() const { return executable_.program(); }
  backends::Executable& executable() { return executable_; }

  // Checks `tensor` against the input's declared type (dtype; static dims
  // equal, symbolic dims within their bound) and binds the symbols its
  // shape fixes; an input that binds a symbol two ways is an error naming
  // both.
  absl::Status set_input(const std::string& name, const HostTensor& tensor);
  // Runs once. `extra` gives symbols no input shape fixes (P, the past
  // length); symbols still unbound are 0.
  absl::Status run(const ir::SymbolValues& extra = {});
  // An output of the last run.
  absl::StatusOr<HostTensor> read_output(const std::string& name) const;

 private:
  GraphRunner(backends::Executable executable, backends::Weights weights, backends::State state)
      : executable_(std::move(executable)), weights_(std::move(weights)), state_(std::move(state)) {}

  backends::Executable executable_;
  backends::Weights weights_;
  backends::State state_;
  ir::SymbolValues step_;  // symbols bound by this run's inputs
  std::map<std::string, HostTensor> pending_inputs_;
  std::map<std::string, HostTensor> outputs_;  // the last run's
};

}  // namespace kiln::runtime
