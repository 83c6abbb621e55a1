#pragma once

#include <cstddef>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace kiln::frontend {

// A token that is looked for in the text before anything else (HF
// added_tokens; GGUF control, user-defined and unknown tokens), so that
// "<|eot_id|>" in a prompt becomes its one id instead of eight pieces.
struct AddedToken {
  std::string content;
  int32_t id = 0;
  // Special tokens are recognised only when the caller asks for it; the
  // others always are (HF split_special_tokens, llama.cpp parse_special).
  bool special = false;
  bool lstrip = false;  // swallows the whitespace before it
  bool rstrip = false;  // swallows the whitespace after it
};

// A stretch of the text: an added token, or text to tokenise.
struct TextSegment {
  static constexpr int32_t kText = -1;
  int32_t token = kText;
  size_t begin = 0;  // byte range in the text
  size_t end = 0;
};

// Finds added tokens in text: the leftmost match first and, of the tokens
// starting there, the longest, as HF tokenizers (Aho-Corasick, leftmost
// longest) and llama.cpp do. A byte trie; matching from one position costs at
// most the length of the longest token.
class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // Tokens with empty content are ignored; of two with the same content, the
  // first is kept.
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);

  bool empty() const { return tokens_.empty(); }

  // Cuts `text` into added tokens and the non-empty text between them, in
  // order. Whitespace swallowed by lstrip/rstrip belongs to no segment.
  std::vector<TextSegment> split(std::string_view text, bool parse_special) const;

 private:
  static constexpr int32_t kNoToken = -1;
  struct Node {
    int32_t token = kNoToken;  // index in tokens_ of the token ending here
  };
  struct Match {
    const AddedToken* token = nullptr;
    size_t end = 0;
  };

  Match longest_match(std::string_view text, size_t begin, bool parse_special) const;
  static uint64_t edge(uint32_t node, uint8_t byte) { return (uint64_t{node} << 8) | byte; }

  std::vector<AddedToken> tokens_;
  std::array<bool, 256> first_bytes_{};             // bytes some token starts with
  std::vector<Node> nodes_;                         // nodes_[0] is the root
  absl::flat_hash_map<uint64_t, uint32_t> edges_;  // edge(node, byte) -> child node
};

}  // namespace kiln::frontend
