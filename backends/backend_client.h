#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/registry.h"
#include "passes/target.h"
#include "program/program.h"

namespace kiln::backends {

// The C++ face of a plugin, and the one place where a kiln_error becomes an
// absl::Status: its code carries over and its message is prefixed with the
// plugin's name ("cpu: dispatches[3] (%h = matmul.reference): ..."). Every
// object keeps its device alive; an executable keeps the weights and state
// bound to it alive. Calls on objects of one device must not overlap.

struct BackendOptions {
  int device = -1;        // index into the plugin's probed devices; -1: the plugin's first
  std::string cache_dir;  // pipeline and program binaries; "": none
  bool profile = false;   // per-dispatch GPU times (Executable::profile)
  int threads = 0;        // host threads for the cpu plugin; 0: its default
};

// The default cache directory: $XDG_CACHE_HOME/kiln, else ~/.cache/kiln,
// else "" (no cache).
std::string default_cache_dir();

class Weights;
class State;

// One step's values and the bytes to write and read (backend.h, kiln_step).
struct Step {
  std::vector<int64_t> values;  // the Program's given slots, in order
  std::vector<kiln_input> inputs;
  std::vector<kiln_output> outputs;
};

// A compiled Program on one device. Move-only.
class Executable {
 public:
  const program::Program& program() const { return *program_; }

  // A weight region (each entry then imported) and a zero-filled state
  // for this executable's Program and every one with the same tables.
  absl::StatusOr<Weights> create_weights() const;
  absl::StatusOr<State> create_state() const;
  // `state` may be null when the Program has none.
  absl::Status bind(const Weights& weights, const State* state);
  // One call: writes the inputs, runs, reads the outputs. Blocks.
  absl::Status run(const Step& step);
  // Per-dispatch GPU time; FailedPrecondition when the device was opened
  // without profiling or the plugin cannot profile.
  absl::StatusOr<std::vector<kiln_profile_entry>> profile() const;

 private:
  friend class Backend;
  Executable() = default;

  std::string plugin_;
  const kiln_backend_api* api_ = nullptr;
  std::shared_ptr<const program::Program> program_;
  // Declared so the executable is destroyed first, then what it binds,
  // then the device.
  std::shared_ptr<kiln_device> device_;
  std::shared_ptr<kiln_weights> weights_;
  std::shared_ptr<kiln_state> state_;
  std::shared_ptr<kiln_executable> handle_;
};

// A Program's weight region on a device.
class Weights {
 public:
  // `bytes` must hold exactly weight `index`'s size, and stay alive and
  // unchanged as long as these weights (a host plugin reads it in place).
  absl::Status import(uint32_t index, std::span<const uint8_t> bytes);

 private:
  friend class Executable;
  std::string plugin_;
  const kiln_backend_api* api_ = nullptr;
  std::shared_ptr<kiln_device> device_;
  std::shared_ptr<kiln_weights> handle_;
};

// A Program's state (the KV cache) on a device.
class State {
 public:
  absl::Status read(int64_t offset, std::span<uint8_t> out_bytes) const;

 private:
  friend class Executable;
  std::string plugin_;
  const kiln_backend_api* api_ = nullptr;
  std::shared_ptr<kiln_device> device_;
  std::shared_ptr<kiln_state> handle_;
};

// One plugin's opened device. Copies share the device.
class Backend {
 public:
  // Opens plugin `name` (found by Registry::global(), which loads no other
  // plugin) on `options.device`; the registry's reason when it is missing
  // or unavailable.
  static absl::StatusOr<Backend> open(std::string_view name, const BackendOptions& options = {});

  const std::string& name() const { return plugin_; }
  // What the compiler's passes read; backend is the plugin's name.
  // The device as opened (get_device_capabilities where the plugin has it,
  // else its probe entry): the cpu plugin's name counts the threads the
  // options gave it.
  const passes::Target& capabilities() const { return device_info_.target; }
  const std::string& device_name() const { return device_info_.name; }
  const DeviceInfo& device_info() const { return device_info_; }

  absl::StatusOr<Executable> compile(const program::Program& program) const;
  // The device's totals (backend.h, kiln_counters).
  kiln_counters counters() const;

 private:
  Backend() = default;

  std::string plugin_;
  const kiln_backend_api* api_ = nullptr;
  std::shared_ptr<kiln_device> device_;
  DeviceInfo device_info_;
};

}  // namespace kiln::backends
