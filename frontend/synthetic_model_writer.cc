#include "frontend/synthetic_model_writer.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <span>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "frontend/atomic_write.h"
#include "frontend/ggml_type.h"
#include "frontend/gguf_writer.h"
#include "frontend/synthetic_tokenizer.h"
#include "frontend/tensor_file_stream.h"

namespace kiln::frontend {
namespace {

using Json = nlohmann::ordered_json;

// Values drawn and encoded at once: bounds memory at 6 bytes a value.
constexpr int64_t kSliceValues = int64_t{16} << 20;
constexpr int kMaxThreads = 16;

ir::DType stored_dtype(const SyntheticModelOptions& options, const SyntheticTensor& tensor) {
  return tensor.stored_f32 ? ir::DType::f32 : options.dtype;
}

int64_t elements(const SyntheticTensor& tensor) { return tensor.rows() * tensor.row_elements(); }

uint64_t tensor_bytes(const SyntheticModelOptions& options, const SyntheticTensor& tensor) {
  return static_cast<uint64_t>(ir::dtype_bytes(stored_dtype(options, tensor), elements(tensor)));
}

int thread_count(const SyntheticModelOptions& options) {
  const int machine = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::clamp(options.threads > 0 ? options.threads : machine, 1, kMaxThreads);
}

// Draws rows [first_row, first_row + rows) and encodes them into `out` in
// the tensor's stored dtype, the rows split over the threads.
void encode_rows(const SyntheticModelOptions& options, const SyntheticTensor& tensor, int64_t first_row,
                 int64_t rows, std::span<float> values, std::span<uint8_t> out) {
  const int64_t cols = tensor.row_elements();
  const ir::DType dtype = stored_dtype(options, tensor);
  auto encode = [&](int64_t begin, int64_t end) {
    std::span<float> part = values.subspan(begin * cols, (end - begin) * cols);
    synthetic_rows(options.shape, tensor, options.dtype, options.seed, first_row + begin, part);
    if (dtype == ir::DType::f32) {
      std::memcpy(out.data() + begin * cols * 4, part.data(), part.size_bytes());
      return;
    }
    auto* half = reinterpret_cast<uint16_t*>(out.data()) + begin * cols;
    for (size_t i = 0; i < part.size(); ++i) half[i] = program::f32_to_f16(part[i]);
  };
  const int64_t threads = std::min<int64_t>(thread_count(options), rows);
  std::vector<std::jthread> workers;
  for (int64_t t = 1; t < threads; ++t) workers.emplace_back(encode, rows * t / threads, rows * (t + 1) / threads);
  encode(0, rows / threads);
}

// Every tensor's data in order, each padded to `alignment`.
absl::Status write_tensors(const SyntheticModelOptions& options, const std::vector<SyntheticTensor>& tensors,
                           uint64_t alignment, TensorFileStream& file, const SyntheticProgress& progress) {
  uint64_t total = 0, done = 0;
  for (const SyntheticTensor& tensor : tensors) total += tensor_bytes(options, tensor);
  std::vector<float> values;
  std::vector<uint8_t> bytes;
  for (const SyntheticTensor& tensor : tensors) {
    if (absl::Status s = file.pad_to(alignment); !s.ok()) return s;
    const int64_t slice_rows = std::max<int64_t>(1, kSliceValues / tensor.row_elements());
    const int64_t row_bytes = ir::dtype_bytes(stored_dtype(options, tensor), tensor.row_elements());
    for (int64_t row = 0; row < tensor.rows(); row += slice_rows) {
      const int64_t rows = std::min(slice_rows, tensor.rows() - row);
      values.resize(rows * tensor.row_elements());
      bytes.resize(rows * row_bytes);
      encode_rows(options, tensor, row, rows, values, bytes);
      if (absl::Status s = file.write(bytes); !s.ok()) return s;
      done += bytes.size();
      if (progress) progress(done, total);
    }
  }
  return file.pad_to(alignment);
}

std::string_view hf_dtype(ir::DType dtype) { return dtype == ir::DType::f16 ? "F16" : "F32"; }

bool is_qwen2(const SyntheticShape& shape) { return shape.architecture == "Qwen2ForCausalLM"; }

// The safetensors header: its length, then JSON naming every tensor's
// dtype, shape and data offsets (back to back), padded with spaces to 8.
std::vector<uint8_t> safetensors_header(const SyntheticModelOptions& options,
                                        const std::vector<SyntheticTensor>& tensors) {
  Json header = {{"__metadata__", {{"format", "pt"}}}};
  uint64_t offset = 0;
  for (const SyntheticTensor& tensor : tensors) {
    const uint64_t end = offset + tensor_bytes(options, tensor);
    header[tensor.name] = {{"dtype", hf_dtype(stored_dtype(options, tensor))},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::vector<uint8_t> out(8 + text.size());
  const uint64_t length = text.size();
  std::memcpy(out.data(), &length, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  return out;
}

std::string hf_config(const SyntheticModelOptions& options) {
  const SyntheticShape& s = options.shape;
  Json rope_scaling = nullptr;
  if (s.llama3_factor > 0) {
    rope_scaling = {{"rope_type", "llama3"}, {"factor", s.llama3_factor}, {"low_freq_factor", 1.0},
                    {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  }
  const Json config = {
      {"architectures", {s.architecture}},
      {"model_type", is_qwen2(s) ? "qwen2" : "llama"},
      {"vocab_size", s.vocab},
      {"hidden_size", s.hidden},
      {"intermediate_size", s.ffn},
      {"num_hidden_layers", s.layers},
      {"num_attention_heads", s.heads},
      {"num_key_value_heads", s.kv_heads},
      {"head_dim", s.head_dim()},
      {"max_position_embeddings", s.max_context},
      {"rms_norm_eps", s.rms_norm_eps},
      {"rope_theta", s.rope_theta},
      {"rope_scaling", rope_scaling},
      {"tie_word_embeddings", s.tied},
      {"hidden_act", "silu"},
      {"bos_token_id", s.vocab - 2},
      {"eos_token_id", s.vocab - 1},
      {"torch_dtype", options.dtype == ir::DType::f16 ? "float16" : "float32"},
      {"kiln_synthetic", {{"preset", s.name}, {"seed", options.seed}}},
  };
  return config.dump(2) + "\n";
}

absl::Status write_text(const std::string& path, const std::string& text) {
  return write_file_atomically(path, {std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())});
}

absl::Status write_hf(const SyntheticModelOptions& options, const std::string& dir,
                      const SyntheticProgress& progress) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return absl::InvalidArgumentError(absl::StrCat(dir, ": cannot create the folder: ", error.message()));
  if (absl::Status s = write_text(dir + "/config.json", hf_config(options)); !s.ok()) return s;
  if (options.tokenizer) {
    absl::StatusOr<SyntheticVocabulary> vocabulary = synthetic_vocabulary(options.shape.vocab);
    if (!vocabulary.ok()) return vocabulary.status();
    if (absl::Status s = write_text(dir + "/tokenizer.json", synthetic_tokenizer_json(*vocabulary)); !s.ok()) {
      return s;
    }
  }
  const std::vector<SyntheticTensor> tensors = synthetic_tensors(options.shape, SyntheticFormat::hf);
  absl::StatusOr<TensorFileStream> file = TensorFileStream::create(dir + "/model.safetensors");
  if (!file.ok()) return file.status();
  if (absl::Status s = file->write(safetensors_header(options, tensors)); !s.ok()) return s;
  if (absl::Status s = write_tensors(options, tensors, 1, *file, progress); !s.ok()) return s;
  return file->finish();
}

void add_gguf_config(const SyntheticModelOptions& options, GgufWriter& gguf) {
  const SyntheticShape& s = options.shape;
  const std::string arch = is_qwen2(s) ? "qwen2" : "llama";
  auto u32 = [](int64_t value) { return GgufValue::u32(static_cast<uint32_t>(value)); };
  gguf.set("general.architecture", GgufValue::string(arch));
  gguf.set("general.name", GgufValue::string(absl::StrCat("synthetic ", s.name)));
  gguf.set("general.file_type", u32(options.dtype == ir::DType::f16 ? 1 : 0));
  gguf.set(arch + ".block_count", u32(s.layers));
  gguf.set(arch + ".context_length", u32(s.max_context));
  gguf.set(arch + ".embedding_length", u32(s.hidden));
  gguf.set(arch + ".feed_forward_length", u32(s.ffn));
  gguf.set(arch + ".attention.head_count", u32(s.heads));
  gguf.set(arch + ".attention.head_count_kv", u32(s.kv_heads));
  gguf.set(arch + ".rope.freq_base", GgufValue::f32(static_cast<float>(s.rope_theta)));
  gguf.set(arch + ".rope.dimension_count", u32(s.head_dim()));
  gguf.set(arch + ".attention.layer_norm_rms_epsilon", GgufValue::f32(static_cast<float>(s.rms_norm_eps)));
  gguf.set(arch + ".vocab_size", u32(s.vocab));
}

absl::Status write_gguf(const SyntheticModelOptions& options, const std::string& path,
                        const SyntheticProgress& progress) {
  GgufWriter gguf;
  add_gguf_config(options, gguf);
  if (options.tokenizer) {
    absl::StatusOr<SyntheticVocabulary> vocabulary = synthetic_vocabulary(options.shape.vocab);
    if (!vocabulary.ok()) return vocabulary.status();
    add_synthetic_tokenizer(*vocabulary, gguf);
  }
  const std::vector<SyntheticTensor> tensors = synthetic_tensors(options.shape, SyntheticFormat::gguf);
  for (const SyntheticTensor& tensor : tensors) {
    const GgmlType* type = ggml_type_of(stored_dtype(options, tensor));
    if (absl::Status s = gguf.add_tensor_info(tensor.name, *type, tensor.shape); !s.ok()) return s;
  }
  absl::StatusOr<std::vector<uint8_t>> header = gguf.header();
  if (!header.ok()) return header.status();
  absl::StatusOr<TensorFileStream> file = TensorFileStream::create(path);
  if (!file.ok()) return file.status();
  if (absl::Status s = file->write(*header); !s.ok()) return s;
  if (absl::Status s = write_tensors(options, tensors, *gguf.alignment(), *file, progress); !s.ok()) return s;
  return file->finish();
}

}  // namespace

uint64_t synthetic_model_bytes(const SyntheticModelOptions& options) {
  uint64_t total = 0;
  for (const SyntheticTensor& tensor : synthetic_tensors(options.shape, options.format)) {
    total += tensor_bytes(options, tensor);
  }
  return total;
}

absl::Status write_synthetic_model(const SyntheticModelOptions& options, const std::string& path,
                                   const SyntheticProgress& progress) {
  if (options.dtype != ir::DType::f16 && options.dtype != ir::DType::f32) {
    return absl::InvalidArgumentError(absl::StrCat("a synthetic model is f16 or f32, not ",
                                                   std::string(ir::dtype_name(options.dtype))));
  }
  return options.format == SyntheticFormat::hf ? write_hf(options, path, progress)
                                               : write_gguf(options, path, progress);
}

}  // namespace kiln::frontend
