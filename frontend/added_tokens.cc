#include "frontend/added_tokens.h"

#include <utility>

#include "frontend/utf8.h"

namespace kiln::frontend {
namespace {

// The start of the whitespace that ends text[limit, pos).
size_t skip_whitespace_backward(std::string_view text, size_t pos, size_t limit) {
  while (pos > limit) {
    size_t start = pos - 1;
    while (start > limit && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
    const Utf8Step step = decode_utf8(text, start);
    if (step.kind != Utf8Step::Kind::kValid || !is_unicode_whitespace(step.code_point)) break;
    pos = start;
  }
  return pos;
}

// The end of the whitespace that starts at text[pos].
size_t skip_whitespace_forward(std::string_view text, size_t pos) {
  while (pos < text.size()) {
    const Utf8Step step = decode_utf8(text, pos);
    if (step.kind != Utf8Step::Kind::kValid || !is_unicode_whitespace(step.code_point)) break;
    pos += step.length;
  }
  return pos;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) {
  nodes_.emplace_back();
  for (AddedToken& token : tokens) {
    if (token.content.empty()) continue;
    uint32_t node = 0;
    for (char c : token.content) {
      const auto [it, inserted] = edges_.try_emplace(edge(node, static_cast<uint8_t>(c)),
                                                     static_cast<uint32_t>(nodes_.size()));
      if (inserted) nodes_.emplace_back();
      node = it->second;
    }
    if (nodes_[node].token != kNoToken) continue;
    nodes_[node].token = static_cast<int32_t>(tokens_.size());
    first_bytes_[static_cast<uint8_t>(token.content.front())] = true;
    tokens_.push_back(std::move(token));
  }
}

AddedTokenMatcher::Match AddedTokenMatcher::longest_match(std::string_view text, size_t begin,
                                                          bool parse_special) const {
  Match match;
  uint32_t node = 0;
  for (size_t pos = begin; pos < text.size(); ++pos) {
    const auto it = edges_.find(edge(node, static_cast<uint8_t>(text[pos])));
    if (it == edges_.end()) break;
    node = it->second;
    const int32_t index = nodes_[node].token;
    if (index != kNoToken && (parse_special || !tokens_[index].special)) {
      match = {&tokens_[index], pos + 1};
    }
  }
  return match;
}

std::vector<TextSegment> AddedTokenMatcher::split(std::string_view text,
                                                  bool parse_special) const {
  std::vector<TextSegment> segments;
  size_t text_begin = 0;  // where the text after the last token begins
  for (size_t pos = 0; pos < text.size() && !empty();) {
    if (!first_bytes_[static_cast<uint8_t>(text[pos])]) {
      ++pos;
      continue;
    }
    const Match match = longest_match(text, pos, parse_special);
    if (match.token == nullptr) {
      ++pos;
      continue;
    }
    const AddedToken& token = *match.token;
    const size_t text_end =
        token.lstrip ? skip_whitespace_backward(text, pos, text_begin) : pos;
    if (text_end > text_begin) segments.push_back({TextSegment::kText, text_begin, text_end});
    segments.push_back({token.id, pos, match.end});
    pos = token.rstrip ? skip_whitespace_forward(text, match.end) : match.end;
    text_begin = pos;
  }
  if (text_begin < text.size()) segments.push_back({TextSegment::kText, text_begin, text.size()});
  return segments;
}

}  // namespace kiln::frontend
