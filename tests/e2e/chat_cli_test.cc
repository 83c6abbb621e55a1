// `kiln chat` through the binary on small random models whose files carry a
// chat template (make_chat_models.py), the KV cache carried between turns,
// and HF folders whose tokenizer is smaller than the model's vocabulary.

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "frontend/chat_template.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/generator.h"
#include "runtime/session.h"
#include "tests/e2e/kiln_command.h"
#include "tests/e2e/llama_model_fixture.h"

namespace kiln::runtime {
namespace {

using ::kiln::testing::CommandResult;
using ::kiln::testing::ModelDir;
using ::kiln::testing::read_file;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class ChatCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    models_ = std::make_unique<ModelDir>();
    const std::string command = absl::StrCat(KILN_PYTHON, " ", KILN_SOURCE_DIR, "/tests/e2e/make_chat_models.py ",
                                             models_->path());
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  static void TearDownTestSuite() { models_.reset(); }

  static std::string model(const std::string& name) { return models_->path() + "/" + name; }

  CommandResult kiln(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    return ::kiln::testing::run_kiln(args, dir_.path(), stdin_text);
  }

  static std::unique_ptr<ModelDir> models_;
  ModelDir dir_;
};

std::unique_ptr<ModelDir> ChatCliTest::models_;

// What `kiln chat -v` reports after each reply.
struct TurnReport {
  int64_t position = 0, fed = 0, reply = 0;
};

std::vector<TurnReport> turn_reports(const std::string& err) {
  static const std::regex kLine(R"(kiln chat: turn \d+ \| position (\d+) \| fed (\d+) tokens.*\| reply (\d+) tokens)");
  std::vector<TurnReport> reports;
  for (std::sregex_iterator it(err.begin(), err.end(), kLine), end; it != end; ++it) {
    reports.push_back({std::stoll((*it)[1]), std::stoll((*it)[2]), std::stoll((*it)[3])});
  }
  return reports;
}

// The tokens of one turn's text as kiln chat formats it (qwen2 row, which
// chatml.gguf's template is recognised as).
int64_t turn_tokens(const frontend::Tokenizer& tokenizer, const std::string& user, const std::string& system,
                    bool first) {
  const frontend::ChatTemplateRow* row = frontend::find_chat_template_row("qwen2");
  absl::StatusOr<frontend::ChatFormatter> formatter = frontend::ChatFormatter::create(*row, tokenizer);
  EXPECT_TRUE(formatter.ok()) << formatter.status();
  return static_cast<int64_t>(
      tokenizer.encode(formatter->turn(user, system, first), frontend::EncodeOptions{.add_special = false, .parse_special = true}).size());
}

// The second turn feeds its own tokens (and the last reply token that was
// sampled but not yet fed) at the position the first turn left: the history
// is never prefilled again.
TEST_F(ChatCliTest, APipedSecondTurnFeedsOnlyItsOwnTokens) {
  const CommandResult result = kiln(
      {"chat", model("chatml.gguf"), "--temp", "0", "-n", "3", "--system", "Be brief.", "-v"},
      "hi there\nhow are you\n");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("kiln chat: load"));
  EXPECT_THAT(result.err, HasSubstr("2 turns | template qwen2"));
  const std::vector<TurnReport> turns = turn_reports(result.err);
  ASSERT_EQ(turns.size(), 2u) << result.err;

  absl::StatusOr<std::unique_ptr<Session>> session = Session::open(model("chatml.gguf"), {});
  ASSERT_TRUE(session.ok()) << session.status();
  const frontend::Tokenizer& tokenizer = **(*session)->tokenizer();
  const int64_t first = turn_tokens(tokenizer, "hi there", "Be brief.", true);
  const int64_t second = turn_tokens(tokenizer, "how are you", "Be brief.", false);
  EXPECT_EQ(turns[0].position, 0);
  EXPECT_EQ(turns[0].fed, first);
  EXPECT_GT(turns[1].position, first);
  // Every token of the conversation is fed exactly once.
  EXPECT_EQ(turns[1].position + turns[1].fed, first + turns[0].reply + second);
  EXPECT_LE(turns[1].fed, second + 1);
}

// Continuing the context gives the reply a fresh prefill of the whole
// conversation gives: the KV cache carried over is the history's.
TEST_F(ChatCliTest, ASecondTurnContinuesAsAFreshPrefillOfTheHistory) {
  SamplingOptions greedy;
  greedy.temperature = 0;
  SessionOptions options;
  options.sampling = greedy;
  absl::StatusOr<std::unique_ptr<Session>> session = Session::open(model("chatml.gguf"), options);
  ASSERT_TRUE(session.ok()) << session.status();
  Session& chat = **session;
  const frontend::Tokenizer& tokenizer = **chat.tokenizer();
  absl::StatusOr<frontend::ChatFormatter> formatter =
      frontend::ChatFormatter::create(*frontend::find_chat_template_row("qwen2"), tokenizer);
  ASSERT_TRUE(formatter.ok()) << formatter.status();
  const auto encode = [&](const std::string& text) {
    return tokenizer.encode(text, frontend::EncodeOptions{.add_special = false, .parse_special = true});
  };

  GenerateOptions generate_options;
  generate_options.max_new_tokens = 4;
  generate_options.sampling = *options.sampling;
  generate_options.stop_at_eos = false;
  generate_options.continue_context = true;
  std::vector<int32_t> history = encode(formatter->turn("hi", "", true));
  absl::StatusOr<GenerationResult> first = generate(chat, history, generate_options);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->tokens.size(), 4u);
  history.insert(history.end(), first->tokens.begin(), first->tokens.end());
  std::vector<int32_t> turn(first->tokens.begin() + first->decode_steps, first->tokens.end());
  const std::vector<int32_t> second_text = encode(formatter->turn("and then?", "", false));
  turn.insert(turn.end(), second_text.begin(), second_text.end());
  history.insert(history.end(), second_text.begin(), second_text.end());
  const int64_t position = chat.position();
  absl::StatusOr<GenerationResult> second = generate(chat, turn, generate_options);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(chat.position(), position + static_cast<int64_t>(turn.size()) + second->decode_steps)
      << "before " << position << " turn " << turn.size() << " steps " << second->decode_steps << " first "
      << first->decode_steps << " prompt " << second->prompt_tokens;

  generate_options.continue_context = false;
  absl::StatusOr<GenerationResult> fresh = generate(chat, history, generate_options);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(second->tokens, fresh->tokens);
}

TEST_F(ChatCliTest, TemplatesThatKilnCannotUseAreNamed) {
  CommandResult result = kiln({"chat", model("unknown.gguf")}, "hi\n");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("chat template is not one kiln knows: '{% for m in messages %}\\n### {{ m["));
  EXPECT_THAT(result.err, HasSubstr("choose a format with --chat-template NAME (llama3, llama2, mistral"));
  result = kiln({"chat", model("unknown.gguf"), "--chat-template", "chatml", "-n", "2", "--temp", "0"}, "hi\n");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("1 turns | template chatml"));

  result = kiln({"chat", model("plain.gguf")}, "hi\n");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("plain.gguf has no chat template; choose one with --chat-template NAME"));
  result = kiln({"chat", model("plain.gguf"), "--chat-template", "vicuna"}, "hi\n");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("--chat-template 'vicuna' is not a template kiln knows (llama3, llama2"));
  // Llama 3's rows need <|eot_id|>, which this vocabulary lacks.
  result = kiln({"chat", model("plain.gguf"), "--chat-template", "llama3"}, "hi\n");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("chat template llama3 needs the token '<|eot_id|>'"));
}

TEST_F(ChatCliTest, HelpListsTheTemplates) {
  const CommandResult result = kiln({"chat", "--help"});
  EXPECT_EQ(result.exit_code, 0);
  for (const frontend::ChatTemplateRow& row : frontend::chat_template_rows()) {
    EXPECT_THAT(result.out, HasSubstr(absl::StrCat("  ", std::string(row.name), " "))) << row.name;
  }
  EXPECT_THAT(result.out, HasSubstr("--system-file"));
}

// ---- tokenizers smaller than the model's vocabulary -----------------------

// padded/ has vocab_size 700 and a 600-piece tokenizer.model (no
// tokenizer.json): it runs, its text read through the SentencePiece model.
TEST_F(ChatCliTest, ATokenizerSmallerThanTheVocabularyWorks) {
  const CommandResult result = kiln({"run", model("padded"), "-p", "In the beginning", "-n", "4", "--temp", "0"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, StartsWith("In the beginning"));
}

TEST_F(ChatCliTest, ASampledIdTheTokenizerLacksIsAnErrorNamingIt) {
  const CommandResult result = kiln({"run", model("beyond"), "-p", "In", "-n", "2", "--temp", "0"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, ContainsRegex("the model generated a token its tokenizer lacks: .*tokenizer.model: "
                                        "token id 6[0-9][0-9] is out of range for a vocabulary of 600 tokens"));
}

TEST_F(ChatCliTest, ATokenizerThatCannotCoverTheSpecialTokensIsRefusedAtLoad) {
  const CommandResult result = kiln({"run", model("eos_beyond"), "--prompt-ids", "1,5", "-n", "1"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("(600 tokens) cannot serve this model (vocabulary of 700): the model's EOS id "
                                    "650 is beyond the tokenizer"));
}

}  // namespace
}  // namespace kiln::runtime
