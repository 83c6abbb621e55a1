#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "frontend/synthetic_model.h"
#include "ir/dtype.h"

namespace kiln::frontend {

struct SyntheticModelOptions {
  SyntheticShape shape;
  ir::DType dtype = ir::DType::f16;  // f16 or f32; GGUF keeps 1-D tensors in f32 as llama.cpp does
  uint64_t seed = 0;
  SyntheticFormat format = SyntheticFormat::hf;
  bool tokenizer = true;  // a byte-level BPE covering the vocabulary (synthetic_tokenizer.h)
  int threads = 0;        // drawing the values; 0: the machine's CPUs, at most 16
};

// Tensor bytes written so far and in all; called after each piece.
using SyntheticProgress = std::function<void(uint64_t done, uint64_t total)>;

// The bytes of the tensor data the model takes.
uint64_t synthetic_model_bytes(const SyntheticModelOptions& options);

// Writes a random-weight model at `path`: an HF folder (config.json,
// model.safetensors, tokenizer.json; created if missing) or one GGUF file.
// The tensors are drawn and written a slice at a time (at most 64 Mi
// values at once), so memory stays bounded whatever the model's size; each
// file appears under its name only once complete.
absl::Status write_synthetic_model(const SyntheticModelOptions& options, const std::string& path,
                                   const SyntheticProgress& progress = {});

}  // namespace kiln::frontend
