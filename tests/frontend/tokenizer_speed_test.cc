// Encoding stays O(n log n): a megabyte of mixed text takes well under a
// second, also where the whole text is one BPE word (SentencePiece-style
// vocabularies do not pre-tokenise). The time measured is the thread's CPU
// time, so that other work on a shared machine does not count.

#include <time.h>

#include <string>

#include "frontend/tokenizer_loader.h"
#include "gtest/gtest.h"
#include "tests/frontend/tokenizer_fixtures.h"

namespace kiln::frontend {
namespace {

using ::kiln::frontend::testing::read_json_file;
using ::kiln::frontend::testing::spm_gguf_keys;
using ::kiln::frontend::testing::tokenizer_data_path;
using ::kiln::frontend::testing::write_tokenizer_gguf;

// Sanitizers slow everything down several times; the bound is for release.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
constexpr bool kSanitized = __has_feature(address_sanitizer);
#else
constexpr bool kSanitized = false;
#endif

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

std::string megabyte_of_text() {
  const nlohmann::json texts = read_json_file(tokenizer_data_path("tokenizer_texts.json"))["texts"];
  std::string sample;
  for (const nlohmann::json& text : texts) sample += text.get<std::string>() + "\n";
  std::string text;
  while (text.size() < (1 << 20)) text += sample;
  return text;
}

class TokenizerSpeedTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerSpeedTest, EncodesAMegabyteWellUnderASecond) {
  const std::string source = GetParam();
  absl::StatusOr<Tokenizer> tokenizer =
      source == "spm_gguf" ? load_tokenizer(write_tokenizer_gguf(spm_gguf_keys(), "speed.gguf"))
                           : load_tokenizer(tokenizer_data_path(source));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const std::string text = megabyte_of_text();

  const double start = thread_cpu_seconds();
  const std::vector<int32_t> ids = tokenizer->encode(text, EncodeOptions{.parse_special = false});
  const double seconds = thread_cpu_seconds() - start;

  RecordProperty("cpu_seconds", std::to_string(seconds));
  std::printf("%s: %zu bytes -> %zu tokens in %.3f s of CPU time\n", source.c_str(), text.size(),
              ids.size(), seconds);
  if (!kSanitized) {
    EXPECT_LT(seconds, 0.5);
  }
  if (source != "hf_bytelevel_tokenizer.json") {  // NFC changes the text
    absl::StatusOr<std::string> decoded = tokenizer->decode(ids);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    // Not EXPECT_EQ: gtest's diff of two megabytes would take minutes.
    EXPECT_TRUE(*decoded == text) << "decoding does not give the text back";
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, TokenizerSpeedTest,
                         ::testing::Values("spm_gguf", "hf_spm_legacy_tokenizer.json",
                                           "hf_bytelevel_tokenizer.json"),
                         [](const auto& info) {
                           std::string name = info.param.substr(0, info.param.find('.'));
                           return name;
                         });

}  // namespace
}  // namespace kiln::frontend
