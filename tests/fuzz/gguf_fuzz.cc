// Any input must open as a GgufFile or fail with a status: no crash, no read
// outside the input, no allocation out of proportion to it. Every accessor
// runs on every key, and every tensor kiln reads is read in full.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "frontend/gguf.h"
#include "frontend/mapped_file.h"
#include "tests/fuzz/tensor_touch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::frontend;
  absl::StatusOr<GgufFile> gguf = GgufFile::from_file(
      MappedFile::from_bytes("fuzz.gguf", std::vector<uint8_t>(data, data + size)));
  if (!gguf.ok()) return 0;
  volatile size_t sink = 0;
  for (const auto& [key, value] : gguf->metadata()) {
    sink = sink + gguf->get_string(key).ok() + gguf->get_u64(key).ok() + gguf->get_i64(key).ok() +
           gguf->get_f64(key).ok() + gguf->get_bool(key).ok() + gguf->get_string_array(key).ok() +
           gguf->get_f32_array(key).ok() + gguf->get_i32_array(key).ok() + value.describe().size();
  }
  for (const GgufTensorInfo& info : gguf->tensors()) {
    const absl::StatusOr<TensorData> tensor = gguf->tensor(info.name);
    if (tensor.ok()) sink = sink + kiln::fuzz::touch(*tensor);
  }
  return 0;
}
