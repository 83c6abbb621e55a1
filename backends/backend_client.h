#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/registry.h"
#include "ir/shape.h"
#include "passes/program.h"
#include "passes/target.h"

namespace kiln::backends {

// The C++ face of a plugin, and the one place where a kiln_error becomes an
// absl::Status: its code carries over and its message is prefixed with the
// plugin's name ("cpu: %h = matmul: ...").

// A compiled Program on one device. Move-only; destroying it destroys the
// plugin's executable. It keeps its device, and the executable it shares
// weights and state with, alive. Calls on one executable, or on executables
// sharing state, must not overlap.
class Executable {
 public:
  // |bytes| must hold exactly weight |index|'s size in the Program's table.
  absl::Status upload_weight(uint32_t index, std::span<const uint8_t> bytes);
  // Copies to or from the arena or the state region; weights are written
  // only through upload_weight.
  absl::Status write(passes::Region region, int64_t offset, std::span<const uint8_t> bytes);
  absl::Status read(passes::Region region, int64_t offset, std::span<uint8_t> out_bytes);
  // Runs every dispatch once. |step| gives every symbol of the Program,
  // each within its bound. Blocks until done.
  absl::Status run(const ir::SymbolValues& step);
  kiln_counters counters() const;

 private:
  friend class Backend;
  Executable() = default;

  std::string plugin_;
  const kiln_backend_api* api_ = nullptr;
  // Declared in the order that destroys the executable first, then the one
  // it shares with, then the device.
  std::shared_ptr<kiln_device> device_;
  std::shared_ptr<kiln_executable> shares_with_;
  std::shared_ptr<kiln_executable> handle_;
};

// One plugin's device. Copies share the device.
class Backend {
 public:
  // Opens plugin `name` found by Registry::global(); the registry's reason
  // when it is missing or unavailable.
  static absl::StatusOr<Backend> open(std::string_view name);
  static absl::StatusOr<Backend> open(const PluginInfo& plugin);

  const std::string& name() const { return plugin_; }
  // What the compiler's passes read; backend is the plugin's name.
  const passes::Target& capabilities() const { return target_; }
  const std::string& device_name() const { return device_name_; }

  // Builds `program` for this device. With |share_with|, the executable
  // uses share_with's weights and state (the Programs' weight and state
  // tables must be equal) and keeps it alive.
  absl::StatusOr<Executable> compile(const passes::Program& program, const Executable* share_with = nullptr) const;

 private:
  Backend() = default;

  std::string plugin_;
  const kiln_backend_api* api_ = nullptr;
  std::shared_ptr<kiln_device> device_;
  passes::Target target_;
  std::string device_name_;
};

}  // namespace kiln::backends
