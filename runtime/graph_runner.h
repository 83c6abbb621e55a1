#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/backend_client.h"
#include "ir/graph.h"
#include "passes/compile.h"
#include "passes/program.h"

namespace kiln::runtime {

// A host tensor: what `kiln run` reads from and writes to .npy files.
struct HostTensor {
  ir::DType dtype = ir::DType::f32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

// Runs one hand-written graph on a backend: compiles it for the backend's
// capabilities, uploads its weights once, then binds inputs by name, runs,
// and reads outputs by name. State (a KV cache) persists across runs.
class GraphRunner {
 public:
  // Rewrites `graph` in place (the pipeline runs on it). The weights' bytes
  // must stay alive while this runner exists.
  static absl::StatusOr<GraphRunner> create(const backends::Backend& backend, ir::Graph& graph,
                                            passes::CompileOptions options = {});

  const passes::Program& program() const { return program_; }
  backends::Executable& executable() { return executable_; }

  // Checks `tensor` against the input's declared type (dtype; static dims
  // equal, symbolic dims within their bound) and binds the symbols its
  // shape fixes; an input that binds a symbol two ways is an error naming
  // both.
  absl::Status set_input(const std::string& name, const HostTensor& tensor);
  // Runs once. `extra` gives symbols no input shape fixes (P, the past
  // length); symbols still unbound are 0.
  absl::Status run(const ir::SymbolValues& extra = {});
  absl::StatusOr<HostTensor> read_output(const std::string& name);

 private:
  GraphRunner(passes::Program program, backends::Executable executable)
      : program_(std::move(program)), executable_(std::move(executable)) {}
  const passes::Binding* find(const std::vector<passes::Binding>& bindings, const std::string& name) const;

  passes::Program program_;
  backends::Executable executable_;
  ir::SymbolValues step_;       // symbols bound by this run's inputs
  ir::SymbolValues last_step_;  // the values the last run used: output shapes
  std::map<std::string, HostTensor> pending_inputs_;
};

}  // namespace kiln::runtime
