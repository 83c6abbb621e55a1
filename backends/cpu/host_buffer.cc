#include "backends/cpu/host_buffer.h"

#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"

namespace kiln::backends::cpu {

void HostBuffer::Free::operator()(uint8_t* data) const { ::operator delete(data, std::align_val_t{alignment}); }

absl::StatusOr<HostBuffer> HostBuffer::allocate(const char* what, int64_t bytes, int64_t alignment) {
  HostBuffer buffer;
  if (bytes <= 0) return buffer;
  const auto align = static_cast<size_t>(alignment);
  void* data = ::operator new(static_cast<size_t>(bytes), std::align_val_t{align}, std::nothrow);
  if (data == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot allocate the ", what, " (", bytes, " bytes)"));
  }
  std::memset(data, 0, static_cast<size_t>(bytes));
  buffer.data_ = std::unique_ptr<uint8_t, Free>(static_cast<uint8_t*>(data), Free{align});
  buffer.size_ = bytes;
  return buffer;
}

}  // namespace kiln::backends::cpu
