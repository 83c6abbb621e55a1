#include "backends/opencl/weights.h"

#include "absl/strings/str_cat.h"
#include "backends/opencl/cl_error.h"
#include "backends/support/program_checks.h"

namespace kiln::backends::opencl {

absl::StatusOr<std::unique_ptr<Weights>> Weights::create(Device& device, const program::Program& program) {
  std::unique_ptr<Weights> weights(new Weights(device, program));
  for (size_t i = 0; i < program.weight_chunks.size(); ++i) {
    const auto bytes = static_cast<uint64_t>(program.weight_chunks[i]);
    if (bytes == 0) {
      weights->chunks_.emplace_back();
      continue;
    }
    absl::StatusOr<ClMem> chunk = device.create_buffer(bytes, absl::StrCat("weight chunk ", i));
    if (!chunk.ok()) return chunk.status();
    weights->chunks_.push_back(*std::move(chunk));
  }
  weights->imported_.assign(program.weights.size(), false);
  return weights;
}

absl::Status Weights::import(uint32_t index, const void* data, uint64_t bytes) {
  if (absl::Status s = support::check_import(made_for_, index, data, bytes); !s.ok()) return s;
  const program::WeightEntry& entry = made_for_.weights[index];
  const auto* source = static_cast<const unsigned char*>(data);
  for (uint64_t done = 0; done < bytes;) {
    const uint64_t piece = std::min(bytes - done, kUploadPieceBytes);
    const cl_int status = clEnqueueWriteBuffer(device_.queue(), chunk(entry.chunk), CL_TRUE,
                                               static_cast<size_t>(entry.offset + done), static_cast<size_t>(piece),
                                               source + done, 0, nullptr, nullptr);
    if (absl::Status s = cl_status(status, absl::StrCat("copying weight ", index, " ('", entry.name, "', ",
                                                         byte_string(bytes), ") to weight chunk ", entry.chunk));
        !s.ok()) {
      return s;
    }
    done += piece;
  }
  device_.counters().bytes_to_device += bytes;
  imported_[index] = true;
  return absl::OkStatus();
}

absl::Status Weights::check_complete() const {
  for (size_t i = 0; i < imported_.size(); ++i) {
    if (!imported_[i]) {
      return absl::FailedPreconditionError(
          absl::StrCat("weight ", i, " ('", made_for_.weights[i].name, "') was never imported"));
    }
  }
  return absl::OkStatus();
}

}  // namespace kiln::backends::opencl
