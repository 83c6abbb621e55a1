// Any input must open as a SafetensorsFile or fail with a status: no crash,
// no read outside the input. Every tensor kiln reads is read in full.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/mapped_file.h"
#include "frontend/safetensors.h"
#include "tests/fuzz/tensor_touch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::frontend;
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::from_file(
      MappedFile::from_bytes("fuzz.safetensors", std::vector<uint8_t>(data, data + size)));
  if (!file.ok()) return 0;
  volatile size_t sink = 0;
  for (const std::string& name : file->names()) {
    const absl::StatusOr<TensorData> tensor = file->tensor(name);
    if (tensor.ok()) sink = sink + kiln::fuzz::touch(*tensor);
  }
  return 0;
}
