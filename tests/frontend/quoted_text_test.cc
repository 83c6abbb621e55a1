#include "frontend/quoted_text.h"

#include <string>

#include "gtest/gtest.h"

namespace kiln::frontend {
namespace {

TEST(QuotedTextTest, QuotesShortTextAsIs) {
  EXPECT_EQ(quoted_text("model.embed_tokens.weight"), "'model.embed_tokens.weight'");
}

TEST(QuotedTextTest, EscapesBytesThatAreNotPrintable) {
  EXPECT_EQ(quoted_text(std::string("a\nb'\x01\xff", 6)), "'a\\nb\\'\\x01\\xff'");
}

TEST(QuotedTextTest, CutsLongTextAndGivesItsLength) {
  EXPECT_EQ(quoted_text(std::string(1000, 'x'), 4), "'xxxx'... (1000 bytes)");
  EXPECT_EQ(quoted_text("xxxx", 4), "'xxxx'");
}

}  // namespace
}  // namespace kiln::frontend
