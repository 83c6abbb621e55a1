// The parts of the tokenizer on hand-made inputs: UTF-8, GPT-2's byte
// alphabet, the BPE merge loop, added-token matching, pre-tokenizers.

#include <string>
#include <vector>

#include "frontend/added_tokens.h"
#include "frontend/bpe_merges.h"
#include "frontend/byte_level_alphabet.h"
#include "frontend/pre_tokenizer.h"
#include "frontend/text_normalizer.h"
#include "frontend/utf8.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::frontend {
namespace {

using ::testing::ElementsAre;

TEST(Utf8Test, DecodesWellFormedCharacters) {
  const std::string text = "a\u00e9\u20ac\U0001F600";
  std::vector<char32_t> code_points;
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Step step = decode_utf8(text, pos);
    ASSERT_EQ(step.kind, Utf8Step::Kind::kValid);
    code_points.push_back(step.code_point);
    pos += step.length;
  }
  EXPECT_THAT(code_points, ElementsAre(U'a', U'\u00e9', U'\u20ac', U'\U0001F600'));
}

// Unicode's own example (§3.9, U+FFFD substitution of maximal subparts):
// 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 gives a, FFFD, FFFD, FFFD, b,
// FFFD, c, FFFD, FFFD, d.
TEST(Utf8Test, ReplacesEachMaximalSubpart) {
  const std::string text = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
  EXPECT_EQ(sanitize_utf8(text), "a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd");
  EXPECT_FALSE(is_valid_utf8(text));
}

TEST(Utf8Test, RefusesOverlongSurrogateAndOutOfRangeForms) {
  for (const std::string bad : {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"}) {
    EXPECT_FALSE(is_valid_utf8(bad));
  }
  EXPECT_EQ(decode_utf8("\xF0\x9F\x98", 0).kind, Utf8Step::Kind::kIncomplete);
  EXPECT_EQ(sanitize_utf8("x\xF0\x9F\x98"), "x\uFFFD");
  EXPECT_TRUE(is_valid_utf8(std::string("nul\0inside", 10)));
}

TEST(ByteLevelAlphabetTest, IsGpt2sReversibleMap) {
  EXPECT_EQ(byte_level_char(' '), U'\u0120');   // 'Ġ'
  EXPECT_EQ(byte_level_char('\n'), U'\u010A');  // 'Ċ'
  EXPECT_EQ(byte_level_char('A'), U'A');
  EXPECT_EQ(byte_level_char(0xAD), U'\u0143');  // the soft hyphen is not printable
  for (int byte = 0; byte < 256; ++byte) {
    EXPECT_EQ(byte_level_byte(byte_level_char(static_cast<uint8_t>(byte))), byte);
  }
  EXPECT_EQ(byte_level_byte(U' '), std::nullopt);
  EXPECT_EQ(byte_level_byte(U'\u0144'), std::nullopt);
}

// Tokens: 0 a, 1 b, 2 c, 3 ab, 4 bc, 5 abc.
TEST(BpeMergesTest, LowestRankFirstThenLeftmost) {
  BpeMergeTable table;
  table.add(1, 2, {0, 4});                         // b c -> bc, first
  table.add(0, 1, {1, 3});                         // a b -> ab
  table.add(0, 4, {2, 5});                         // a bc -> abc
  std::vector<int32_t> symbols = {0, 1, 2, 0, 1};  // a b c a b
  apply_bpe_merges(table, symbols);
  EXPECT_THAT(symbols, ElementsAre(5, kMergedAway, kMergedAway, 3, kMergedAway));
}

TEST(BpeMergesTest, EqualRanksMergeLeftToRight) {
  BpeMergeTable table;
  table.add(0, 0, {0, 1});  // a a -> aa
  std::vector<int32_t> symbols = {0, 0, 0};
  apply_bpe_merges(table, symbols);
  EXPECT_THAT(symbols, ElementsAre(1, kMergedAway, 0));
}

TEST(BpeMergesTest, UnknownSymbolsNeverMerge) {
  BpeMergeTable table;
  table.add(0, 0, {0, 1});
  std::vector<int32_t> symbols = {0, kUnknownSymbol, 0, 0};
  apply_bpe_merges(table, symbols);
  EXPECT_THAT(symbols, ElementsAre(0, kUnknownSymbol, 1, kMergedAway));
  EXPECT_FALSE(table.add(0, 0, {5, 7}));
  EXPECT_EQ(table.find(0, 0)->merged, 1);
}

std::vector<std::string> segments_of(const AddedTokenMatcher& matcher, const std::string& text,
                                     bool parse_special) {
  std::vector<std::string> out;
  for (const TextSegment& segment : matcher.split(text, parse_special)) {
    const std::string part = text.substr(segment.begin, segment.end - segment.begin);
    out.push_back(segment.token == TextSegment::kText ? part : "[" + part + "]");
  }
  return out;
}

TEST(AddedTokenMatcherTest, LeftmostLongestMatch) {
  const AddedTokenMatcher matcher(
      {{"<|a|>", 10, true}, {"<|a|><|b|>", 11, true}, {"<|b|>", 12, true}, {"x", 13, false}});
  EXPECT_THAT(segments_of(matcher, "1<|a|><|b|>2<|b|>", true),
              ElementsAre("1", "[<|a|><|b|>]", "2", "[<|b|>]"));
  EXPECT_THAT(segments_of(matcher, "<|a|", true), ElementsAre("<|a|"));
  // Without special-token parsing only the non-special "x" is found.
  EXPECT_THAT(segments_of(matcher, "<|a|>x", false), ElementsAre("<|a|>", "[x]"));
}

TEST(AddedTokenMatcherTest, LstripAndRstripSwallowWhitespace) {
  const AddedTokenMatcher matcher(
      {{"<m>", 5, true, /*lstrip=*/true, /*rstrip=*/false}, {"<r>", 6, true, false, true}});
  EXPECT_THAT(segments_of(matcher, "a \u3000 <m> b", true), ElementsAre("a", "[<m>]", " b"));
  EXPECT_THAT(segments_of(matcher, "a <r> \n b", true), ElementsAre("a ", "[<r>]", "b"));
}

std::vector<std::string> split(std::vector<PreTokenizerStep> steps, const std::string& text,
                               bool at_text_start = true) {
  absl::StatusOr<PreTokenizer> pre_tokenizer = PreTokenizer::create(std::move(steps));
  EXPECT_TRUE(pre_tokenizer.ok()) << pre_tokenizer.status();
  return pre_tokenizer.ok() ? pre_tokenizer->split(text, at_text_start)
                            : std::vector<std::string>{};
}

TEST(PreTokenizerTest, Llama3RegexKeepsEveryByte) {
  EXPECT_THAT(
      split({RegexSplit{std::string(kLlama3Pattern)}}, "I'M  fine,\n\n 12345 \u00e9t\u00e9!"),
      ElementsAre("I", "'M", " ", " fine", ",\n\n", " ", "123", "45", " \u00e9t\u00e9", "!"));
}

TEST(PreTokenizerTest, MetaspaceReplacesPrependsAndSplits) {
  const Metaspace first{"\u2581", PrependScheme::kFirst, /*split=*/true};
  EXPECT_THAT(split({first}, "Hi  there"), ElementsAre("\u2581Hi", "\u2581", "\u2581there"));
  EXPECT_THAT(split({first}, "Hi", /*at_text_start=*/false), ElementsAre("Hi"));
  const Metaspace always{"\u2581", PrependScheme::kAlways, /*split=*/false};
  EXPECT_THAT(split({always}, " Hi"), ElementsAre("\u2581Hi"));
}

TEST(PreTokenizerTest, RejectsABadRegexNamingIt) {
  absl::StatusOr<PreTokenizer> pre_tokenizer = PreTokenizer::create({RegexSplit{"(unclosed"}});
  ASSERT_FALSE(pre_tokenizer.ok());
  EXPECT_THAT(pre_tokenizer.status().message(), ::testing::HasSubstr("'(unclosed'"));
}

TEST(TextNormalizerTest, StepsApplyInOrder) {
  const std::vector<NormalizerStep> steps = {UnicodeNormalization{NormalForm::kNfc},
                                             Prepend{"\u2581"}, Replace{" ", "\u2581"}};
  EXPECT_EQ(normalize_text(steps, "e\u0301 a"), "\u2581\u00e9\u2581a");
  EXPECT_EQ(normalize_text(steps, ""), "");
  const std::vector<NormalizerStep> nfc = {UnicodeNormalization{NormalForm::kNfc}};
  EXPECT_EQ(normalize_text(nfc, std::string("e\u0301\0e\u0301", 7)),
            std::string("\u00e9\0\u00e9", 5));
}

}  // namespace
}  // namespace kiln::frontend
