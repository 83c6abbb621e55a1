// `kiln tokenize`: ids on one line, text back from --decode, and one-line
// errors that name the file.

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/commands.h"

namespace kiln::cli {
namespace {

using ::testing::HasSubstr;

std::string data_path(const std::string& name) {
  return std::string(KILN_SOURCE_DIR) + "/tests/frontend/data/" + name;
}

struct Result {
  int exit_code;
  std::string out;
  std::string err;
};

Result tokenize(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int exit_code = tokenize_command(argv);
  std::string out = ::testing::internal::GetCapturedStdout();
  return {exit_code, std::move(out), ::testing::internal::GetCapturedStderr()};
}

// Ids from HF tokenizers (tests/frontend/data/hf_expected.json).
TEST(TokenizeCommandTest, PrintsIdsOnOneLine) {
  const std::string path = data_path("hf_bytelevel_tokenizer.json");
  const Result plain = tokenize({path, "-p", "<|begin_of_text|>Hello<|eot_id|>"});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, "700 39 569 78 702\n");
  EXPECT_EQ(tokenize({path, "-p", "text<|eot_id|> after", "--add-special"}).out,
            "700 83 68 87 83 702 476\n");
}

TEST(TokenizeCommandTest, DecodesIdsShowingSpecialTokens) {
  const Result result =
      tokenize({data_path("hf_bytelevel_tokenizer.json"), "--decode", "700, 39,569,78,702"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "<|begin_of_text|>Hello<|eot_id|>\n");
}

TEST(TokenizeCommandTest, EncodesAFile) {
  const std::string text_path = ::testing::TempDir() + "tokenize_input.txt";
  std::ofstream(text_path) << "Hello";
  const Result result = tokenize({data_path("hf_bytelevel_tokenizer.json"), "-f", text_path});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "39 569 78\n");
}

TEST(TokenizeCommandTest, ErrorsNameTheFileOnOneLine) {
  Result result = tokenize({data_path("hf_bytelevel_tokenizer.json"), "--decode", "1,99999"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("hf_bytelevel_tokenizer.json: token id 99999 is out of range"));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1);

  result = tokenize({data_path("no_such_tokenizer.json"), "-p", "x"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("no_such_tokenizer.json"));

  result = tokenize({data_path("hf_bytelevel_tokenizer.json"), "--decode", "1,x"});
  EXPECT_THAT(result.err, HasSubstr("'x' is not a token id"));

  result = tokenize({data_path("hf_bytelevel_tokenizer.json")});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("give one of -p TEXT, -f FILE or --decode IDS"));
}

TEST(TokenizeCommandTest, DecodeReadsBackWhatEncodePrints) {
  const std::string path = data_path("hf_bytelevel_tokenizer.json");
  const Result encoded = tokenize({path, "-p", "<|begin_of_text|>Hello<|eot_id|>"});
  ASSERT_EQ(encoded.exit_code, 0) << encoded.err;
  const std::string ids = encoded.out.substr(0, encoded.out.size() - 1);  // without the newline
  for (const std::string& form : {ids, std::string("700,39,569,78,702"), std::string("[700, 39, 569, 78, 702]")}) {
    const Result decoded = tokenize({path, "--decode", form});
    EXPECT_EQ(decoded.exit_code, 0) << form << ": " << decoded.err;
    EXPECT_EQ(decoded.out, "<|begin_of_text|>Hello<|eot_id|>\n") << form;
  }
  EXPECT_THAT(tokenize({path, "--decode", "[1, 2"}).err, HasSubstr("'[' without a closing ']'"));
  EXPECT_THAT(tokenize({path, "--decode", " , "}).err, HasSubstr("--decode: no ids given"));
}

TEST(TokenizeCommandTest, ShowsPiecesAndCounts) {
  const std::string path = data_path("hf_bytelevel_tokenizer.json");
  const Result pieces = tokenize({"-m", path, "-p", "<|begin_of_text|>Hello", "--show-pieces"});
  EXPECT_EQ(pieces.exit_code, 0) << pieces.err;
  EXPECT_EQ(pieces.out, "700 -> '<|begin_of_text|>'\n39 -> 'H'\n569 -> 'ell'\n78 -> 'o'\n");
  const Result count = tokenize({path, "-p", "<|begin_of_text|>Hello", "--count"});
  EXPECT_EQ(count.exit_code, 0) << count.err;
  EXPECT_EQ(count.out, "4\n");
  EXPECT_THAT(tokenize({path, "-p", "x", "--count", "--show-pieces"}).err, HasSubstr("give one"));
  EXPECT_THAT(tokenize({path, "--decode", "1", "--count"}).err, HasSubstr("not --decode"));
}

TEST(TokenizeCommandTest, HelpListsTheOptions) {
  const Result result = tokenize({"--help"});
  EXPECT_EQ(result.exit_code, 0);
  for (const char* option : {"--add-special", "--decode IDS", "--show-pieces", "--count", "--model PATH"}) {
    EXPECT_THAT(result.out, HasSubstr(option));
  }
}

}  // namespace
}  // namespace kiln::cli
