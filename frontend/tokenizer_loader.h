#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "frontend/gguf.h"
#include "frontend/tokenizer.h"
#include "frontend/tokenizer_spec.h"

namespace kiln::frontend {

// Reads the tokenizer of `path`: a GGUF file, a tokenizer.json, or a Hugging
// Face model folder. Errors name the file and the field at fault.
absl::StatusOr<Tokenizer> load_tokenizer(const std::string& path);

// The tokenizer.ggml.* keys of a GGUF file: model "llama" (SentencePiece
// BPE: tokens, scores, token_type) or "gpt2" (byte-level BPE: tokens,
// merges, and the pre-tokenizer named by `pre`: "llama-bpe", "qwen2",
// "smollm", "gpt2"/"default"), with the special token ids and
// add_bos_token/add_eos_token.
absl::StatusOr<TokenizerSpec> read_gguf_tokenizer(const GgufFile& gguf);

// A Hugging Face tokenizer.json with a BPE model, as Llama-family models
// ship it: SentencePiece style (Metaspace pre-tokenizer, or the
// Prepend/Replace normaliser of Llama 2, with byte_fallback) or byte-level
// (ByteLevel pre-tokenizer after Split regexes, NFC normaliser). Anything
// else it may hold (another model type, normaliser or decoder) is refused
// by name rather than tokenised differently from HF.
absl::StatusOr<TokenizerSpec> read_tokenizer_json(const std::string& path);

// A SentencePiece tokenizer.model (Llama 1/2, Mistral, TinyLlama): a BPE
// model with identity normalisation, read as llama.cpp reads the same
// vocabulary from a GGUF. Unigram models and other normalisers are refused
// by name.
absl::StatusOr<TokenizerSpec> read_sentencepiece_model_file(const std::string& path);

// A Hugging Face folder: its tokenizer.json (or, without one, its
// SentencePiece tokenizer.model), with the special tokens and
// add_bos_token/add_eos_token of tokenizer_config.json and the
// end-of-generation ids of generation_config.json where those exist.
absl::StatusOr<TokenizerSpec> read_hf_tokenizer_folder(const std::string& dir);

}  // namespace kiln::frontend
