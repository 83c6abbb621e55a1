#include "backends/vulkan/executable.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "backends/support/program_checks.h"
#include "backends/vulkan/vk_status.h"

namespace kiln::backends::vulkan {
namespace {

absl::Status accumulate_profile(kiln_executable& e) {
  std::vector<uint64_t> stamps(2 * e.plans.size());
  KILN_VK_RETURN_IF_ERROR(vkGetQueryPoolResults(e.device->handle(), e.queries, 0, static_cast<uint32_t>(stamps.size()),
                                                stamps.size() * sizeof(uint64_t), stamps.data(), sizeof(uint64_t),
                                                VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
                          "reading the --profile timestamps");
  const double period = e.device->properties().limits.timestampPeriod;
  const uint32_t bits = e.device->queue_timestamp_bits();
  const uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
  for (size_t i = 0; i < e.plans.size(); ++i) {
    const uint64_t ticks = (stamps[2 * i + 1] - stamps[2 * i]) & mask;
    e.profile[i].runs += 1;
    e.profile[i].nanoseconds += static_cast<uint64_t>(static_cast<double>(ticks) * period);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status run_step(kiln_executable& e, const kiln_step* step) {
  absl::StatusOr<program::StepValues> values = support::check_step(e.program, step);
  if (!values.ok()) return values.status();
  if (e.commands == VK_NULL_HANDLE) {
    if (!e.program.weights.empty() || !e.program.states.empty()) {
      return absl::FailedPreconditionError("run before bind: bind the weights and the state first");
    }
    if (absl::Status s = record_commands(e); !s.ok()) return s;
  }
  kiln_counters& counters = e.device->counters();
  uint32_t* slots = reinterpret_cast<uint32_t*>(e.steps.mapped);
  for (size_t i = 0; i < values->size(); ++i) slots[i] = static_cast<uint32_t>((*values)[i]);
  counters.bytes_to_device += values->size() * sizeof(uint32_t);
  for (uint32_t i = 0; i < step->input_count; ++i) {
    const kiln_input& input = step->inputs[i];
    std::memcpy(e.inputs.mapped + e.input_offsets[input.binding] + input.offset, input.data, input.bytes);
    counters.bytes_to_device += input.bytes;
  }
  ++counters.steps;
  if (absl::Status s = e.device->submit(e.commands, absl::StrCat("running a step of ", e.plans.size(), " dispatches"));
      !s.ok()) {
    return s;
  }
  counters.dispatches += e.plans.size();
  for (uint32_t i = 0; i < step->output_count; ++i) {
    const kiln_output& output = step->outputs[i];
    std::memcpy(output.data, e.outputs.mapped + e.output_offsets[output.binding] + output.offset, output.bytes);
    counters.bytes_from_device += output.bytes;
  }
  if (step->output_count > 0) ++counters.readbacks;
  if (e.queries != VK_NULL_HANDLE) return accumulate_profile(e);
  return absl::OkStatus();
}

absl::Status read_profile(kiln_executable& e, kiln_profile_entry* out, uint32_t capacity, uint32_t* out_count) {
  if (!e.device->profiling()) {
    return absl::FailedPreconditionError("profiling is off: create the device with options.profile set");
  }
  *out_count = static_cast<uint32_t>(e.profile.size());
  for (uint32_t i = 0; i < capacity && i < e.profile.size(); ++i) out[i] = e.profile[i];
  return absl::OkStatus();
}

}  // namespace kiln::backends::vulkan
