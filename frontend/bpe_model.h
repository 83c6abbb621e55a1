#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "frontend/bpe_merges.h"
#include "frontend/tokenizer_spec.h"

namespace kiln::frontend {

// Ids already found for pieces seen earlier in one encode() call. Text
// repeats its words, and a piece always gives the same ids.
using BpeCache = absl::flat_hash_map<std::string, std::vector<int32_t>>;

// BPE over one pre-tokenised piece: the piece becomes initial symbols (its
// characters or its bytes, see BpeAlphabet), adjacent symbols merge as the
// merge rules say, and symbols that match no token become byte-fallback
// tokens, <unk>, or nothing (when the vocabulary has neither, as in HF
// tokenizers). Immutable once created; encode() may run on several threads.
class BpeModel {
 public:
  // Builds the merge table: from spec.merges by rank, or else from the scores
  // of the pieces. Fails on a merge naming a piece that is not a token, or on
  // a score that is NaN; the message names spec.source.
  static absl::StatusOr<BpeModel> create(const TokenizerSpec& spec);

  // Appends the ids of `piece` (valid UTF-8, non-empty). `cache` may be null.
  void encode(std::string_view piece, BpeCache* cache, std::vector<int32_t>& out_ids) const;

  // The id of a piece as the vocabulary spells it ("▁the", "Ġthe", "<s>").
  std::optional<int32_t> find(std::string_view piece) const;

 private:
  BpeModel() = default;

  absl::Status add_ranked_merges(const TokenizerSpec& spec);
  absl::Status add_scored_merges(const TokenizerSpec& spec);
  // The id of a token that BPE may produce (normal, user-defined, unused).
  std::optional<int32_t> find_symbol(std::string_view piece) const;
  void initial_symbols(std::string_view piece, std::vector<int32_t>& out_symbols,
                       std::vector<size_t>& out_offsets) const;
  void emit_unknown(std::string_view bytes, bool& previous_unknown,
                    std::vector<int32_t>& out_ids) const;
  void encode_uncached(std::string_view piece, std::vector<int32_t>& out_ids) const;

  BpeAlphabet alphabet_ = BpeAlphabet::kCharacters;
  absl::flat_hash_map<std::string, int32_t> ids_;  // piece -> id; the first id of a piece
  std::vector<bool> is_symbol_;                    // by id: find_symbol() may return it
  BpeMergeTable merges_;
  // kBytes: the token spelling each byte in GPT-2's alphabet; kCharacters:
  // the token of each ASCII character (the rest are looked up).
  std::array<int32_t, 256> byte_symbols_{};
  // byte_fallback: the <0xNN> token of each byte.
  std::array<int32_t, 256> fallback_ids_{};
  bool byte_fallback_ = false;
  bool fuse_unknown_ = false;
  bool ignore_merges_ = false;
  std::optional<int32_t> unknown_id_;
};

}  // namespace kiln::frontend
