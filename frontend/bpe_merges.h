#pragma once

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace kiln::frontend {

// The merge rules of a BPE vocabulary: the pair of adjacent tokens (left,
// right) becomes `merged`. Among the pairs present in a word, the one of
// lowest rank merges first, and equal ranks merge left to right. That one
// order serves both kinds of vocabulary:
//   - merge lists (HF `merges`, GGUF tokenizer.ggml.merges): the rank is the
//     line number, as in HF tokenizers and llama.cpp;
//   - SentencePiece scores: the rank orders the merged pieces by score,
//     highest first, equal scores sharing a rank, so ties go to the leftmost
//     pair as in sentencepiece's bpe_model.cc.
class BpeMergeTable {
 public:
  struct Rule {
    int32_t rank;
    int32_t merged;
  };

  // Keeps the first rule given for a pair (llama.cpp does the same with
  // duplicate merge lines); returns false for a duplicate.
  bool add(int32_t left, int32_t right, Rule rule);
  const Rule* find(int32_t left, int32_t right) const;
  size_t size() const { return rules_.size(); }

 private:
  static uint64_t key(int32_t left, int32_t right) {
    return (uint64_t{static_cast<uint32_t>(left)} << 32) | static_cast<uint32_t>(right);
  }

  absl::flat_hash_map<uint64_t, Rule> rules_;
};

// A symbol that matches no token (a character outside the vocabulary): it
// never merges, and the caller decides what it becomes.
inline constexpr int32_t kUnknownSymbol = -1;
// The place of a symbol that merged into the symbol on its left.
inline constexpr int32_t kMergedAway = -2;

// Merges the token ids of one word in place, in the order BpeMergeTable
// describes, until no adjacent pair has a rule. A merged pair's id goes to
// the left symbol's place and the right one's becomes kMergedAway, so
// `symbols[i]` stays aligned with the word's i-th initial symbol.
//
// O(n log n) in the number of symbols: a priority queue of candidate pairs
// over a linked list of live symbols, stale candidates dropped when popped.
// A word of 2^32 symbols or more is merged in windows of 2^32 - 1.
void apply_bpe_merges(const BpeMergeTable& table, std::vector<int32_t>& symbols);

}  // namespace kiln::frontend
