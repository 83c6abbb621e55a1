#include "backends/backend_client.h"

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "backends/capabilities.h"
#include "program/program_json.h"

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

// Calls a plugin entry that reports through a kiln_error.
template <typename Call>
absl::Status call(const std::string& plugin, Call body) {
  kiln_error error{};
  const int32_t code = body(&error);
  return code == KILN_OK ? absl::OkStatus() : to_status(plugin, code, error);
}

}  // namespace

std::string default_cache_dir() {
  namespace fs = std::filesystem;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] == '/') {
    return (fs::path(xdg) / "kiln").string();
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') {
    return (fs::path(home) / ".cache" / "kiln").string();
  }
  return "";
}

absl::StatusOr<Backend> Backend::open(std::string_view name, const BackendOptions& options) {
  absl::StatusOr<const PluginInfo*> found = Registry::global().find(name);
  if (!found.ok()) return found.status();
  const PluginInfo& plugin = **found;
  if (plugin.devices.empty()) return absl::UnavailableError(absl::StrCat("backend '", plugin.name, "' has no device"));
  const int index = options.device < 0 ? 0 : options.device;
  if (index >= static_cast<int>(plugin.devices.size())) {
    return absl::OutOfRangeError(absl::StrCat("backend '", plugin.name, "' has ", plugin.devices.size(),
                                              " device(s); device ", index, " does not exist"));
  }
  kiln_device_options device_options{};
  device_options.struct_size = sizeof device_options;
  device_options.cache_dir = options.cache_dir.empty() ? nullptr : options.cache_dir.c_str();
  device_options.profile = options.profile ? 1 : 0;
  device_options.threads = options.threads;
  kiln_device* device = nullptr;
  if (absl::Status s = call(plugin.name, [&](kiln_error* error) {
        return plugin.api->create_device(static_cast<uint32_t>(index), &device_options, &device, error);
      });
      !s.ok()) {
    return s;
  }
  Backend backend;
  backend.plugin_ = plugin.name;
  backend.api_ = plugin.api;
  backend.device_ = std::shared_ptr<kiln_device>(device, plugin.api->destroy_device);
  backend.device_info_ = plugin.devices[index];
  // The device as opened, where its options changed what probe said (the
  // cpu plugin's thread count).
  if (plugin.api->struct_size > offsetof(kiln_backend_api, get_device_capabilities) &&
      plugin.api->get_device_capabilities != nullptr) {
    kiln_capabilities caps = empty_capabilities();
    plugin.api->get_device_capabilities(device, &caps);
    backend.device_info_ = {caps, to_target(plugin.name, caps), backends::device_name(caps)};
  }
  return backend;
}

absl::StatusOr<Executable> Backend::compile(const program::Program& program) const {
  const std::string json = program::program_to_json(program, -1);
  kiln_executable* handle = nullptr;
  if (absl::Status s = call(plugin_, [&](kiln_error* error) {
        return api_->compile(device_.get(), json.data(), json.size(), &handle, error);
      });
      !s.ok()) {
    return s;
  }
  Executable executable;
  executable.plugin_ = plugin_;
  executable.api_ = api_;
  executable.program_ = std::make_shared<const program::Program>(program);
  executable.device_ = device_;
  executable.handle_ = std::shared_ptr<kiln_executable>(handle, api_->destroy_executable);
  return executable;
}

kiln_counters Backend::counters() const {
  kiln_counters counters{};
  counters.struct_size = sizeof counters;
  api_->get_counters(device_.get(), &counters);
  return counters;
}

absl::StatusOr<Weights> Executable::create_weights() const {
  kiln_weights* handle = nullptr;
  if (absl::Status s = call(plugin_, [&](kiln_error* error) { return api_->create_weights(handle_.get(), &handle, error); });
      !s.ok()) {
    return s;
  }
  Weights weights;
  weights.plugin_ = plugin_;
  weights.api_ = api_;
  weights.device_ = device_;
  weights.handle_ = std::shared_ptr<kiln_weights>(handle, api_->destroy_weights);
  return weights;
}

absl::StatusOr<State> Executable::create_state() const {
  kiln_state* handle = nullptr;
  if (absl::Status s = call(plugin_, [&](kiln_error* error) { return api_->create_state(handle_.get(), &handle, error); });
      !s.ok()) {
    return s;
  }
  State state;
  state.plugin_ = plugin_;
  state.api_ = api_;
  state.device_ = device_;
  state.handle_ = std::shared_ptr<kiln_state>(handle, api_->destroy_state);
  return state;
}

absl::Status Executable::bind(const Weights& weights, const State* state) {
  kiln_state* state_handle = state != nullptr ? state->handle_.get() : nullptr;
  if (absl::Status s = call(plugin_, [&](kiln_error* error) {
        return api_->bind(handle_.get(), weights.handle_.get(), state_handle, error);
      });
      !s.ok()) {
    return s;
  }
  weights_ = weights.handle_;
  state_ = state != nullptr ? state->handle_ : nullptr;
  return absl::OkStatus();
}

absl::Status Executable::run(const Step& step) {
  kiln_step c_step{};
  c_step.struct_size = sizeof c_step;
  c_step.values = step.values.data();
  c_step.value_count = static_cast<uint32_t>(step.values.size());
  c_step.inputs = step.inputs.data();
  c_step.input_count = static_cast<uint32_t>(step.inputs.size());
  c_step.outputs = step.outputs.data();
  c_step.output_count = static_cast<uint32_t>(step.outputs.size());
  return call(plugin_, [&](kiln_error* error) { return api_->run(handle_.get(), &c_step, error); });
}

absl::StatusOr<std::vector<kiln_profile_entry>> Executable::profile() const {
  if (api_->struct_size <= offsetof(kiln_backend_api, get_profile)) {
    return absl::FailedPreconditionError(absl::StrCat(plugin_, ": this plugin was built before profiling existed"));
  }
  std::vector<kiln_profile_entry> entries(program_->dispatches.size());
  uint32_t count = 0;
  if (absl::Status s = call(plugin_, [&](kiln_error* error) {
        return api_->get_profile(handle_.get(), entries.data(), static_cast<uint32_t>(entries.size()), &count, error);
      });
      !s.ok()) {
    return s;
  }
  entries.resize(std::min<size_t>(count, entries.size()));
  return entries;
}

absl::Status Weights::import(uint32_t index, std::span<const uint8_t> bytes) {
  return call(plugin_, [&](kiln_error* error) {
    return api_->import_weight(handle_.get(), index, bytes.data(), bytes.size(), error);
  });
}

absl::Status State::read(int64_t offset, std::span<uint8_t> out_bytes) const {
  if (offset < 0) return absl::OutOfRangeError(absl::StrCat("state read at negative offset ", offset));
  return call(plugin_, [&](kiln_error* error) {
    return api_->read_state(handle_.get(), offset, out_bytes.data(), out_bytes.size(), error);
  });
}

}  // namespace kiln::backends
