#pragma once

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "frontend/npy.h"
#include "gtest/gtest.h"
#include "runtime/session.h"

namespace kiln::testing {

// Random models written by tests/e2e/make_llama_models.py, with the NumPy
// reference's outputs (tests/e2e/llama_reference.py).
struct ReferenceModel {
  std::string dir;            // OUT/VARIANT
  std::vector<int32_t> prompt;
  std::vector<int32_t> greedy;
  std::vector<float> logits;  // [rows, vocab]: prompt + greedy[:-1]
  int64_t rows = 0;
  int64_t vocab = 0;
  double min_margin = 0;
  bool has_gguf = false;

  std::string path(const std::string& format) const {
    return format == "gguf" ? dir + "/model.gguf" : dir + "/hf";
  }
  std::span<const float> row(int64_t r) const { return {logits.data() + r * vocab, static_cast<size_t>(vocab)}; }
};

// A directory of its own per test process (ctest runs tests in parallel),
// removed at exit.
class ModelDir {
 public:
  ModelDir() {
    std::string pattern = ::testing::TempDir() + "kiln-llama-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed: " << pattern;
    path_ = pattern;
  }
  ~ModelDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes `variant` under `out` and reads its reference back.
inline ReferenceModel make_reference_model(const std::string& out, const std::string& variant) {
  const std::string command = std::string(KILN_PYTHON) + " " + KILN_SOURCE_DIR +
                              "/tests/e2e/make_llama_models.py " + out + " " + variant;
  ReferenceModel model;
  if (std::system(command.c_str()) != 0) {
    ADD_FAILURE() << "failed: " << command;
    return model;
  }
  model.dir = out + "/" + variant;
  std::ifstream file(model.dir + "/reference.json");
  const nlohmann::json info = nlohmann::json::parse(file);
  model.prompt = info["prompt"].get<std::vector<int32_t>>();
  model.greedy = info["greedy"].get<std::vector<int32_t>>();
  model.min_margin = info["min_margin"].get<double>();
  model.has_gguf = info["gguf"].get<bool>();
  absl::StatusOr<frontend::TensorData> logits = frontend::read_npy(model.dir + "/logits.npy");
  if (!logits.ok()) {
    ADD_FAILURE() << logits.status();
    return model;
  }
  model.rows = logits->shape[0];
  model.vocab = logits->shape[1];
  const auto* values = reinterpret_cast<const float*>(logits->data);
  model.logits.assign(values, values + model.rows * model.vocab);
  return model;
}

inline double max_abs_diff(std::span<const float> a, std::span<const float> b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]));
  }
  return worst;
}

inline int32_t argmax(std::span<const float> row) {
  return static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

// A session on `backend` whose prefill computes every row's logits
// (all_logits), as the tests comparing each row with the reference need, or
// the last row's only, as `kiln run` does. GPU plugins keep their kernel
// binaries under the build tree, so the suite builds each once.
inline runtime::SessionOptions backend_session(const std::string& backend, int64_t context, int64_t prefill_chunk,
                                               bool all_logits = true) {
  runtime::SessionOptions options;
  options.backend = backend;
  options.device.cache_dir = KILN_BINARY_DIR "/e2e-kernel-cache";
  options.programs.context = context;
  options.programs.prefill_chunk = prefill_chunk;
  options.programs.all_logits = all_logits;
  return options;
}

inline runtime::SessionOptions cpu_session(int64_t context, int64_t prefill_chunk, bool all_logits = true) {
  return backend_session("cpu", context, prefill_chunk, all_logits);
}

}  // namespace kiln::testing
