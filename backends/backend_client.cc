#include "backends/backend_client.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/capabilities.h"
#include "passes/program_json.h"

namespace kiln::backends {
namespace {

// A failed entry's error as a Status. kiln's codes are absl's numbers; one
// outside absl's range is reported as Unknown.
absl::Status to_status(const std::string& plugin, int32_t code, const kiln_error& error) {
  const std::string message(error.message, strnlen(error.message, sizeof error.message));
  const bool known = code > 0 && code <= static_cast<int32_t>(absl::StatusCode::kUnauthenticated);
  return absl::Status(known ? static_cast<absl::StatusCode>(code) : absl::StatusCode::kUnknown,
                      absl::StrCat(plugin, ": ", message));
}

absl::StatusOr<int32_t> region_id(passes::Region region) {
  switch (region) {
    case passes::Region::arena: return KILN_REGION_ARENA;
    case passes::Region::state: return KILN_REGION_STATE;
    case passes::Region::weight: break;
  }
  return absl::InvalidArgumentError("weights are written with upload_weight, not write, and are never read back");
}

}  // namespace

absl::StatusOr<Backend> Backend::open(std::string_view name) {
  absl::StatusOr<const PluginInfo*> plugin = Registry::global().find(name);
  if (!plugin.ok()) return plugin.status();
  return open(**plugin);
}

absl::StatusOr<Backend> Backend::open(const PluginInfo& plugin) {
  if (!plugin.available()) {
    return absl::UnavailableError(
        absl::StrCat("backend '", plugin.name, "' is unavailable: ", plugin.unavailable_reason));
  }
  kiln_device* device = nullptr;
  kiln_capabilities caps = empty_capabilities();
  kiln_error error{};
  if (int32_t code = plugin.api->create_device(&device, &caps, &error); code != KILN_OK) {
    return to_status(plugin.name, code, error);
  }
  Backend backend;
  backend.plugin_ = plugin.name;
  backend.api_ = plugin.api;
  backend.device_ = std::shared_ptr<kiln_device>(device, plugin.api->destroy_device);
  backend.target_ = to_target(plugin.name, caps);
  backend.device_name_ = backends::device_name(caps);
  return backend;
}

absl::StatusOr<Executable> Backend::compile(const passes::Program& program, const Executable* share_with) const {
  const std::string json = passes::program_to_json(program);
  kiln_executable* handle = nullptr;
  kiln_error error{};
  kiln_executable* shared = share_with != nullptr ? share_with->handle_.get() : nullptr;
  if (int32_t code = api_->compile(device_.get(), json.data(), json.size(), shared, &handle, &error);
      code != KILN_OK) {
    return to_status(plugin_, code, error);
  }
  Executable executable;
  executable.plugin_ = plugin_;
  executable.api_ = api_;
  executable.device_ = device_;
  if (share_with != nullptr) executable.shares_with_ = share_with->handle_;
  executable.handle_ = std::shared_ptr<kiln_executable>(handle, api_->destroy_executable);
  return executable;
}

absl::Status Executable::upload_weight(uint32_t index, std::span<const uint8_t> bytes) {
  kiln_error error{};
  if (int32_t code = api_->upload_weight(handle_.get(), index, bytes.data(), bytes.size(), &error); code != KILN_OK) {
    return to_status(plugin_, code, error);
  }
  return absl::OkStatus();
}

absl::Status Executable::write(passes::Region region, int64_t offset, std::span<const uint8_t> bytes) {
  absl::StatusOr<int32_t> id = region_id(region);
  if (!id.ok()) return id.status();
  if (offset < 0) return absl::OutOfRangeError(absl::StrCat("write at negative offset ", offset));
  kiln_error error{};
  if (int32_t code = api_->write(handle_.get(), *id, offset, bytes.data(), bytes.size(), &error); code != KILN_OK) {
    return to_status(plugin_, code, error);
  }
  return absl::OkStatus();
}

absl::Status Executable::read(passes::Region region, int64_t offset, std::span<uint8_t> out_bytes) {
  absl::StatusOr<int32_t> id = region_id(region);
  if (!id.ok()) return id.status();
  if (offset < 0) return absl::OutOfRangeError(absl::StrCat("read at negative offset ", offset));
  kiln_error error{};
  if (int32_t code = api_->read(handle_.get(), *id, offset, out_bytes.data(), out_bytes.size(), &error);
      code != KILN_OK) {
    return to_status(plugin_, code, error);
  }
  return absl::OkStatus();
}

absl::Status Executable::run(const ir::SymbolValues& step) {
  std::vector<kiln_uniform> uniforms;
  uniforms.reserve(step.size());
  for (const auto& [name, value] : step) uniforms.push_back({name.c_str(), value});
  kiln_error error{};
  if (int32_t code = api_->run(handle_.get(), uniforms.data(), uniforms.size(), &error); code != KILN_OK) {
    return to_status(plugin_, code, error);
  }
  return absl::OkStatus();
}

kiln_counters Executable::counters() const {
  kiln_counters counters{};
  counters.struct_size = sizeof counters;
  api_->get_counters(handle_.get(), &counters);
  return counters;
}

}  // namespace kiln::backends
