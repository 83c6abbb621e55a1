#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

namespace kiln::backends::cpu {

// One zero-filled block of host memory: the arena, the state region or a
// weight. Its address never changes, so views built at compile time stay
// valid for the buffer's lifetime. Move-only.
class HostBuffer {
 public:
  HostBuffer() = default;

  // `alignment` is a power of two; fails with ResourceExhausted, naming
  // `what` ("arena") and the size, when the memory is not there. Zero bytes
  // allocate nothing.
  static absl::StatusOr<HostBuffer> allocate(const char* what, int64_t bytes, int64_t alignment);

  uint8_t* data() const { return data_.get(); }
  int64_t size() const { return size_; }

 private:
  struct Free {
    size_t alignment;
    void operator()(uint8_t* data) const;
  };
  std::unique_ptr<uint8_t, Free> data_{nullptr, Free{1}};
  int64_t size_ = 0;
};

}  // namespace kiln::backends::cpu
