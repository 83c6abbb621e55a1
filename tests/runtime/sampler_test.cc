#include "runtime/sampler.h"

#include <cmath>
#include <map>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

SamplingOptions options(double temperature, int64_t top_k = 0, double top_p = 1.0) {
  return {.temperature = temperature, .top_k = top_k, .top_p = top_p, .repeat_penalty = 1.0, .seed = 7};
}

// log of each probability: softmax(logits) gives the probabilities back.
std::vector<float> logits_of(const std::vector<double>& probabilities) {
  std::vector<float> logits;
  for (double p : probabilities) logits.push_back(static_cast<float>(std::log(p)));
  return logits;
}

TEST(SamplerTest, GreedyPicksTheArgmaxAndTheLowerIdOnTies) {
  Sampler sampler(options(0.0));
  EXPECT_EQ(sampler.sample(std::vector<float>{0.5f, 2.0f, -1.0f, 2.0f}, {}), 1);
}

TEST(SamplerTest, TopKOfOneEqualsGreedy) {
  std::vector<float> logits = {0.1f, 3.0f, 2.9f, 3.0f, -2.0f};
  Sampler greedy(options(0.0));
  Sampler top1(options(1.5, /*top_k=*/1));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(top1.sample(logits, {}), greedy.sample(logits, {}));
}

TEST(SamplerTest, SameSeedSameTokensAndAnotherSeedDiffers) {
  const std::vector<float> logits = logits_of({0.2, 0.2, 0.2, 0.2, 0.2});
  SamplingOptions a = options(1.0);
  SamplingOptions b = a;
  b.seed = 8;
  Sampler first(a), second(a), other(b);
  std::vector<int32_t> x, y, z;
  for (int i = 0; i < 64; ++i) {
    x.push_back(first.sample(logits, {}));
    y.push_back(second.sample(logits, {}));
    z.push_back(other.sample(logits, {}));
  }
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
}

// The draw is portable: mt19937_64's output is fixed by the standard, and
// the uniform takes its top 53 bits. Seed 7's first outputs, mapped to
// [0, 1), pick these tokens from five equally likely ones (u * 5, floored).
TEST(SamplerTest, DrawsArePortable) {
  std::mt19937_64 engine(7);
  std::vector<int32_t> expected;
  for (int i = 0; i < 8; ++i) {
    const double u = static_cast<double>(engine() >> 11) * 0x1.0p-53;
    expected.push_back(static_cast<int32_t>(u * 5));
  }
  Sampler sampler(options(1.0));
  std::vector<int32_t> drawn;
  for (int i = 0; i < 8; ++i) drawn.push_back(sampler.sample(logits_of({0.2, 0.2, 0.2, 0.2, 0.2}), {}));
  EXPECT_EQ(drawn, expected);
}

// Probabilities 0.5, 0.3, 0.15, 0.05: top-p 0.75 needs 0.5 + 0.3 = 0.8
// (the fewest tokens reaching 0.75), renormalised to 0.625 and 0.375.
TEST(SamplerTest, TopPKeepsTheFewestTokensReachingTheMass) {
  Sampler sampler(options(1.0, 0, 0.75));
  const std::vector<TokenProbability> kept = sampler.distribution(logits_of({0.05, 0.5, 0.15, 0.3}), {});
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].id, 1);
  EXPECT_NEAR(kept[0].probability, 0.625, 1e-6);
  EXPECT_EQ(kept[1].id, 3);
  EXPECT_NEAR(kept[1].probability, 0.375, 1e-6);
}

TEST(SamplerTest, TopPBelowTheFirstMassKeepsOneToken) {
  Sampler sampler(options(1.0, 0, 0.45));
  const std::vector<TokenProbability> kept = sampler.distribution(logits_of({0.05, 0.5, 0.15, 0.3}), {});
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].id, 1);
  EXPECT_NEAR(kept[0].probability, 1.0, 1e-12);
}

// Temperature 2 on probabilities 0.8, 0.2 gives sqrt weights: 2/3 and 1/3.
TEST(SamplerTest, TemperatureFlattensBeforeTopP) {
  Sampler sampler(options(2.0));
  const std::vector<TokenProbability> kept = sampler.distribution(logits_of({0.8, 0.2}), {});
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_NEAR(kept[0].probability, 2.0 / 3.0, 1e-7);
  EXPECT_NEAR(kept[1].probability, 1.0 / 3.0, 1e-7);
}

TEST(SamplerTest, TopKThenTopP) {
  Sampler sampler(options(1.0, /*top_k=*/3, /*top_p=*/0.9));
  // Top 3 of {0.4, 0.3, 0.2, 0.1} renormalise to 4/9, 3/9, 2/9; 4/9 + 3/9 =
  // 0.78 < 0.9, so all three stay.
  const std::vector<TokenProbability> kept = sampler.distribution(logits_of({0.1, 0.2, 0.3, 0.4}), {});
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_NEAR(kept[0].probability, 4.0 / 9.0, 1e-7);
  EXPECT_EQ(kept[2].id, 1);
}

TEST(SamplerTest, EmpiricalFrequenciesFollowTheDistribution) {
  Sampler sampler(options(1.0));
  const std::vector<float> logits = logits_of({0.1, 0.6, 0.3});
  std::map<int32_t, int> counts;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) ++counts[sampler.sample(logits, {})];
  EXPECT_NEAR(counts[0] / double(draws), 0.1, 0.015);
  EXPECT_NEAR(counts[1] / double(draws), 0.6, 0.015);
  EXPECT_NEAR(counts[2] / double(draws), 0.3, 0.015);
}

// Logits 2 and -1 for recent tokens become 2 / 2 = 1 and -1 * 2 = -2, so
// token 2 (logit 1.5, unpenalised) wins.
TEST(SamplerTest, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  SamplingOptions penalised = options(0.0);
  penalised.repeat_penalty = 2.0;
  Sampler sampler(penalised);
  const std::vector<float> logits = {2.0f, -1.0f, 1.5f};
  EXPECT_EQ(sampler.sample(logits, std::vector<int32_t>{0, 1, 0}), 2);
  penalised.repeat_last_n = 1;  // only the last token (1) is penalised: 0 wins again
  Sampler recent_only(penalised);
  EXPECT_EQ(recent_only.sample(logits, std::vector<int32_t>{0, 1}), 0);
}

TEST(SamplerTest, NanLogitsNeverWin) {
  Sampler sampler(options(0.0));
  EXPECT_EQ(sampler.sample(std::vector<float>{NAN, -3.0f, NAN}, {}), 1);
}

TEST(SamplerTest, ValidateNamesTheOption) {
  EXPECT_THAT(std::string(validate_sampling(options(-1.0)).message()), HasSubstr("--temp -1 must be >= 0"));
  EXPECT_THAT(std::string(validate_sampling(options(1.0, 0, 1.5)).message()), HasSubstr("--top-p 1.5"));
  EXPECT_THAT(std::string(validate_sampling(options(1.0, -2)).message()), HasSubstr("--top-k -2"));
  EXPECT_TRUE(validate_sampling(options(0.7, 40, 0.95)).ok());
}

}  // namespace
}  // namespace kiln::runtime
