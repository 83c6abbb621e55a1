// Any input must read as a .npy tensor or fail with a status: no crash, no
// read outside the input. A tensor read is read in full.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "frontend/mapped_file.h"
#include "frontend/npy.h"
#include "tests/fuzz/tensor_touch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::frontend;
  const absl::StatusOr<TensorData> tensor =
      read_npy(MappedFile::from_bytes("fuzz.npy", std::vector<uint8_t>(data, data + size)));
  volatile size_t sink = 0;
  if (tensor.ok()) sink = sink + kiln::fuzz::touch(*tensor);
  return 0;
}
