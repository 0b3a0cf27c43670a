// Known-answer tests of faithfulness correlation and monotonicity (METRICS.md §1.4, 1.6;
// suites/faithfulness/correlation.cpp), computed by hand on linear models.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "metric_fixtures.h"

namespace {

using namespace metric_fixtures;

TEST(FaithfulnessCorrelation, LinearModelInputTimesWeightIsOne) {
  Linear model({4, 3, 2, 1, -1, 0.5});
  at::Tensor x = floats({0.7f, 1.3f, 2.0f, 0.4f, 1.1f, 0.9f}).view({1, 6});
  at::Tensor a = floats({4.0f, 3.0f, 2.0f, 1.0f, -1.0f, 0.5f}).view({1, 6}) * x;
  // A_r = sum_S w_i x_i = D_r exactly for every subset: rho = 1; for -a, rho = -1.
  EXPECT_NEAR(one("faithfulness_correlation", kLogit, model, x, a), 1.0, 1e-9);
  EXPECT_NEAR(one("faithfulness_correlation", kLogit, model, x, -a), -1.0, 1e-9);
  json p = kLogit;
  p["subset_size"] = 4;
  EXPECT_NEAR(one("faithfulness_correlation", p, model, x, a), 1.0, 1e-9);
}

TEST(FaithfulnessCorrelation, TwoFeaturesByHand) {
  // x = [4, 3], w = [1, 1], |S| = 1: removing feature 0 drops 4, feature 1 drops 3. With
  // a = [1, 2] the draws are pairs (A, D) = (1, 4) or (2, 3): rho = -1 (both occur in 100 draws).
  Linear model({1, 1});
  at::Tensor x = floats({4.0f, 3.0f}).view({1, 2});
  json p = kLogit;
  p["subset_size"] = 1;
  EXPECT_NEAR(one("faithfulness_correlation", p, model, x, floats({1.0f, 2.0f}).view({1, 2})), -1.0,
              1e-12);
  EXPECT_NEAR(one("faithfulness_correlation", p, model, x, floats({5.0f, 2.0f}).view({1, 2})), 1.0,
              1e-12);
  // A constant map has no variance: NaN, never 0.
  EXPECT_TRUE(
      std::isnan(one("faithfulness_correlation", p, model, x, floats({1.0f, 1.0f}).view({1, 2}))));
  // R forwards per example plus the unperturbed one.
  model.count = {};
  p["n_samples"] = 30;
  one("faithfulness_correlation", p, model, x, floats({1.0f, 2.0f}).view({1, 2}));
  EXPECT_EQ(model.count.rows, 31);
}

TEST(FaithfulnessCorrelation, TextUsesOnlyWordPositions) {
  Bag model;
  // a = w[id] on the features: removing any subset drops exactly its mass ([CLS] weighs 100 but
  // is never removed). t1 has two features, |S| = ceil(0.25 * 2) = 1.
  for (const char* s : {"unk", "pad", "mask", "delete"}) {
    json p = {{"output", "logit"}, {"substrate", s}};
    auto r = run("faithfulness_correlation", p, model, text(), kTextWeights);
    EXPECT_NEAR(r.scores[0], 1.0, 1e-9) << s;
    EXPECT_NEAR(r.scores[1], 1.0, 1e-9) << s;
    EXPECT_EQ(r.info["substrate"], s);
    EXPECT_EQ(r.info["seed"], 0);
  }
  EXPECT_THAT(
      error_of([&] {
        run("faithfulness_correlation", {{"substrate", "zero"}}, model, text(), kTextWeights);
      }),
      ::testing::HasSubstr("substrate 'zero' does not apply to text inputs"));
}

// ------------------------------------------------------------------------------------------------

TEST(Monotonicity, LinearPositiveContributionsIsOne) {
  // x = 1, a = |w x| = w: v_k = (w_k)^2 / f(x)^2 increases with a_k: rho = 1.
  Linear model({4, 3, 2, 1});
  at::Tensor x = at::ones({1, 4});
  EXPECT_NEAR(one("monotonicity", kLogit, model, x, floats({4.0f, 3, 2, 1}).view({1, 4})), 1.0,
              1e-12);
  // Default output (probability of the predicted class) is monotone in the drop too.
  EXPECT_NEAR(
      one("monotonicity", {{"substrate", "zero"}}, model, x, floats({4.0f, 3, 2, 1}).view({1, 4})),
      1.0, 1e-12);
}

TEST(Monotonicity, SpearmanByHand) {
  Linear model({4, 3, 2, 1});
  at::Tensor x = at::ones({1, 4});
  // a = [4, 3, 1, 2]: s in ascending order [1, 2, 3, 4] (features 2, 3, 1, 0) against
  // v ∝ [4, 1, 9, 16], ranks [2, 1, 3, 4]: sum d^2 = 2, rho = 1 - 6 * 2 / (4 * 15) = 0.8.
  EXPECT_NEAR(one("monotonicity", kLogit, model, x, floats({4.0f, 3, 1, 2}).view({1, 4})), 0.8,
              1e-12);
  // The key is |a| by default: the signs of a do not matter; signed ranks -4 lowest.
  EXPECT_NEAR(one("monotonicity", kLogit, model, x, floats({-4.0f, 3, 1, 2}).view({1, 4})), 0.8,
              1e-12);
  json p = kLogit;
  p["rank_by"] = "signed";
  // Signed s = [-4, 1, 2, 3] for features 0, 2, 3, 1; v ∝ [16, 4, 1, 9] -> ranks [4, 2, 1, 3]:
  // d = [-3, 0, 2, 1], sum d^2 = 14, rho = 1 - 84 / 60 = -0.4.
  EXPECT_NEAR(one("monotonicity", p, model, x, floats({-4.0f, 3, 1, 2}).view({1, 4})), -0.4, 1e-12);
}

TEST(Monotonicity, GroupsOfTwo) {
  // w = [1, 2, 3, 10, 1, 1], x = 1, a = [1..6], q = 2: groups {0,1} s = 3, D = 3; {2,3} s = 7,
  // D = 13; {4,5} s = 11, D = 2. v ranks [2, 3, 1] against [1, 2, 3]: d = [1, 1, -2],
  // rho = 1 - 6 * 6 / (3 * 8) = -0.5.
  Linear model({1, 2, 3, 10, 1, 1});
  json p = kLogit;
  p["features_in_step"] = 2;
  p["tie_break"] = "index";
  model.count = {};
  EXPECT_NEAR(
      one("monotonicity", p, model, at::ones({1, 6}), floats({1.0f, 2, 3, 4, 5, 6}).view({1, 6})),
      -0.5, 1e-12);
  // A deterministic substrate is evaluated once per group: 3 rows + the unperturbed one.
  EXPECT_EQ(model.count.rows, 4);
}

TEST(Monotonicity, UniformSubstrateDrawsNSamples) {
  // v_k = w_k^2 mean_s (1 - u_s)^2 with w spaced by factors of 4: the sample means (about 1/3)
  // cannot reverse the order with 100 draws, so rho = 1.
  Linear model({64, 16, 4, 1});
  json p = {{"output", "logit"}, {"substrate", "uniform"}, {"n_samples", 100}};
  at::Tensor x = at::ones({1, 4}), a = floats({64.0f, 16, 4, 1}).view({1, 4});
  model.count = {};
  auto r = run("monotonicity", p, model, dense(x), a, nullptr, 256, 3);
  EXPECT_NEAR(r.scores[0], 1.0, 1e-12);
  EXPECT_EQ(model.count.rows, 4 * 100 + 1);
  EXPECT_EQ(r.info["n_samples_effective"], 100);
  EXPECT_EQ(r.info["substrate"], "uniform");
  // Same seed, same numbers; the draws enter the score: with equal weights v_k = (1 - u_k)^2
  // (one draw) orders the 12 features at random.
  p["n_samples"] = 1;
  Linear flat(std::vector<float>(12, 1.0f));
  const at::Tensor x12 = at::ones({1, 12}), a12 = at::arange(12, at::kFloat).view({1, 12});
  auto s1 = run("monotonicity", p, flat, dense(x12), a12, nullptr, 256, 1).scores[0];
  auto s1b = run("monotonicity", p, flat, dense(x12), a12, nullptr, 256, 1).scores[0];
  auto s2 = run("monotonicity", p, flat, dense(x12), a12, nullptr, 256, 2).scores[0];
  EXPECT_EQ(s1, s1b);
  EXPECT_NE(s1, s2);
  Bag bag;
  EXPECT_THAT(error_of([&] { run("monotonicity", p, bag, text(), kTextWeights); }),
              ::testing::HasSubstr("substrate 'uniform' does not apply to text inputs"));
}

TEST(Monotonicity, TextBagOfWords) {
  // Single-word removal drops w (1..4 for t0, 5, 6 for t1); a = w: rho = 1 on both.
  Bag model;
  auto r = run("monotonicity", {{"output", "logit"}}, model, text(), kTextWeights);
  EXPECT_NEAR(r.scores[0], 1.0, 1e-12);
  EXPECT_NEAR(r.scores[1], 1.0, 1e-12);
  EXPECT_EQ(r.info["substrate"], "unk");
}

}  // namespace
