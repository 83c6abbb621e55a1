#include "frontend/bpe_model.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "frontend/byte_level_alphabet.h"
#include "frontend/utf8.h"

namespace kiln::frontend {
namespace {

// Longer pieces are rare enough that caching them would only cost memory.
constexpr size_t kMaxCachedPiece = 64;

// This Abseil's string_view is its own type, which its hash maps look up by.
absl::string_view as_absl(std::string_view text) { return {text.data(), text.size()}; }

bool may_be_bpe_symbol(TokenType type) {
  return type == TokenType::kNormal || type == TokenType::kUserDefined ||
         type == TokenType::kUnused || type == TokenType::kUndefined;
}

std::string byte_level_spelling(std::string_view bytes) {
  std::string spelled;
  spelled.reserve(bytes.size() * 2);
  for (char byte : bytes) append_utf8(byte_level_char(static_cast<uint8_t>(byte)), spelled);
  return spelled;
}

}  // namespace

absl::StatusOr<BpeModel> BpeModel::create(const TokenizerSpec& spec) {
  BpeModel model;
  model.alphabet_ = spec.alphabet;
  model.byte_fallback_ = spec.byte_fallback;
  model.fuse_unknown_ = spec.fuse_unknown;
  model.ignore_merges_ = spec.ignore_merges;
  model.unknown_id_ = spec.unknown_id;
  model.is_symbol_.resize(spec.tokens.size());
  for (size_t id = 0; id < spec.tokens.size(); ++id) {
    model.ids_.try_emplace(spec.tokens[id].piece, static_cast<int32_t>(id));
    model.is_symbol_[id] = may_be_bpe_symbol(spec.tokens[id].type);
  }
  model.byte_symbols_.fill(kUnknownSymbol);
  model.fallback_ids_.fill(kUnknownSymbol);
  for (int byte = 0; byte < 256; ++byte) {
    const std::string single(1, static_cast<char>(byte));
    if (spec.alphabet == BpeAlphabet::kBytes) {
      model.byte_symbols_[byte] =
          model.find_symbol(byte_level_spelling(single)).value_or(kUnknownSymbol);
    } else if (byte < 0x80) {
      model.byte_symbols_[byte] = model.find_symbol(single).value_or(kUnknownSymbol);
    }
    if (spec.byte_fallback) {
      model.fallback_ids_[byte] =
          model.find(absl::StrFormat("<0x%02X>", byte)).value_or(kUnknownSymbol);
    }
  }
  const absl::Status merges =
      spec.merge_by_score ? model.add_scored_merges(spec) : model.add_ranked_merges(spec);
  if (!merges.ok()) return merges;
  return model;
}

absl::Status BpeModel::add_ranked_merges(const TokenizerSpec& spec) {
  if (spec.merges.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return absl::InvalidArgumentError(absl::StrCat(spec.source, ": too many merges"));
  }
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [left, right] = spec.merges[rank];
    const std::string merged = left + right;
    for (const std::string* piece : {&left, &right, &merged}) {
      if (find(*piece)) continue;
      return absl::InvalidArgumentError(absl::StrCat(spec.source, ": merge ", rank, " ('", left,
                                                     " ", right, "'): '", *piece,
                                                     "' is not a token"));
    }
    merges_.add(*find(left), *find(right), {static_cast<int32_t>(rank), *find(merged)});
  }
  return absl::OkStatus();
}

// SentencePiece merges the pair whose concatenation has the highest score.
// Every way of cutting a token into two symbols is a rule, ranked by the
// token's score; equal scores share a rank so that ties go leftmost. A
// character that is not itself a token never merges (sentencepiece could
// still join it into a piece that holds it, but its trainer gives every
// character of a piece a piece of its own).
absl::Status BpeModel::add_scored_merges(const TokenizerSpec& spec) {
  std::vector<float> scores;
  for (size_t id = 0; id < spec.tokens.size(); ++id) {
    if (!is_symbol_[id]) continue;
    if (std::isnan(spec.tokens[id].score)) {
      return absl::InvalidArgumentError(
          absl::StrCat(spec.source, ": token ", id, " ('", spec.tokens[id].piece, "') has score NaN"));
    }
    scores.push_back(spec.tokens[id].score);
  }
  std::sort(scores.begin(), scores.end(), std::greater<>());
  scores.erase(std::unique(scores.begin(), scores.end()), scores.end());

  for (const auto& [piece, id] : ids_) {
    if (!is_symbol_[id] || piece.size() < 2) continue;
    const float score = spec.tokens[id].score;
    const auto rank = static_cast<int32_t>(
        std::lower_bound(scores.begin(), scores.end(), score, std::greater<>()) - scores.begin());
    for (size_t cut = decode_utf8(piece, 0).length; cut < piece.size();
         cut += decode_utf8(piece, cut).length) {
      const std::optional<int32_t> left = find_symbol(std::string_view(piece).substr(0, cut));
      const std::optional<int32_t> right = find_symbol(std::string_view(piece).substr(cut));
      if (left && right) merges_.add(*left, *right, {rank, id});
    }
  }
  return absl::OkStatus();
}

std::optional<int32_t> BpeModel::find(std::string_view piece) const {
  const auto it = ids_.find(as_absl(piece));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::optional<int32_t> BpeModel::find_symbol(std::string_view piece) const {
  const std::optional<int32_t> id = find(piece);
  if (!id || !is_symbol_[*id]) return std::nullopt;
  return id;
}

void BpeModel::initial_symbols(std::string_view piece, std::vector<int32_t>& out_symbols,
                               std::vector<size_t>& out_offsets) const {
  if (alphabet_ == BpeAlphabet::kBytes) {
    for (size_t i = 0; i < piece.size(); ++i) {
      out_symbols.push_back(byte_symbols_[static_cast<uint8_t>(piece[i])]);
      out_offsets.push_back(i);
    }
  } else {
    for (size_t pos = 0; pos < piece.size();) {
      const auto first = static_cast<uint8_t>(piece[pos]);
      const bool ascii = first < 0x80;
      const size_t length = ascii ? 1 : decode_utf8(piece, pos).length;
      out_symbols.push_back(ascii ? byte_symbols_[first]
                                  : find_symbol(piece.substr(pos, length)).value_or(kUnknownSymbol));
      out_offsets.push_back(pos);
      pos += length;
    }
  }
  out_offsets.push_back(piece.size());
}

void BpeModel::emit_unknown(std::string_view bytes, bool& previous_unknown,
                            std::vector<int32_t>& out_ids) const {
  const bool has_fallback =
      byte_fallback_ && std::all_of(bytes.begin(), bytes.end(), [&](char byte) {
        return fallback_ids_[static_cast<uint8_t>(byte)] != kUnknownSymbol;
      });
  if (has_fallback) {
    for (char byte : bytes) out_ids.push_back(fallback_ids_[static_cast<uint8_t>(byte)]);
    previous_unknown = false;
    return;
  }
  if (!unknown_id_) return;
  if (!(fuse_unknown_ && previous_unknown)) out_ids.push_back(*unknown_id_);
  previous_unknown = true;
}

void BpeModel::encode_uncached(std::string_view piece, std::vector<int32_t>& out_ids) const {
  if (ignore_merges_) {
    const std::optional<int32_t> whole = find_symbol(
        alphabet_ == BpeAlphabet::kBytes ? byte_level_spelling(piece) : std::string(piece));
    if (whole) {
      out_ids.push_back(*whole);
      return;
    }
  }
  std::vector<int32_t> symbols;
  std::vector<size_t> offsets;
  initial_symbols(piece, symbols, offsets);
  apply_bpe_merges(merges_, symbols);
  bool previous_unknown = false;
  for (size_t i = 0; i < symbols.size(); ++i) {
    if (symbols[i] == kMergedAway) continue;
    if (symbols[i] != kUnknownSymbol) {
      out_ids.push_back(symbols[i]);
      previous_unknown = false;
      continue;
    }
    emit_unknown(piece.substr(offsets[i], offsets[i + 1] - offsets[i]), previous_unknown, out_ids);
  }
}

void BpeModel::encode(std::string_view piece, BpeCache* cache,
                      std::vector<int32_t>& out_ids) const {
  if (cache == nullptr || piece.size() > kMaxCachedPiece) {
    encode_uncached(piece, out_ids);
    return;
  }
  if (const auto it = cache->find(as_absl(piece)); it != cache->end()) {
    out_ids.insert(out_ids.end(), it->second.begin(), it->second.end());
    return;
  }
  const size_t first = out_ids.size();
  encode_uncached(piece, out_ids);
  cache->try_emplace(std::string(piece), out_ids.begin() + static_cast<std::ptrdiff_t>(first),
                     out_ids.end());
}

}  // namespace kiln::frontend
