// Known-answer tests of infidelity (METRICS.md §1.7; suites/faithfulness/infidelity.cpp), computed
// by hand on linear models.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "metric_fixtures.h"

namespace {

using namespace metric_fixtures;

TEST(Infidelity, ZeroForInputTimesWeight) {
  Linear model({4, 3, 2, 1, -1, 0.5});
  at::Tensor x = floats({0.7f, 1.3f, 2.0f, -0.4f, 1.1f, 0.9f}).view({1, 6});
  at::Tensor w = floats({4.0f, 3.0f, 2.0f, 1.0f, -1.0f, 0.5f}).view({1, 6});
  // Subset removal: I^T a = sum_S w_i x_i = D.
  EXPECT_NEAR(one("infidelity", kLogit, model, x, w * x), 0.0, 1e-9);
  // Gaussian with I divided by (x - 0): I^T a = sum eps_i w_i = D.
  json p = kLogit;
  p["perturbation"] = "gaussian";
  EXPECT_NEAR(one("infidelity", p, model, x, w * x), 0.0, 1e-8);
  // Raw I (gradient maps): a = w is exact, a = w x is not.
  p["multiply_by_inputs"] = false;
  EXPECT_NEAR(one("infidelity", p, model, x, w), 0.0, 1e-8);
  EXPECT_GT(one("infidelity", p, model, x, w * x), 1e-3);
  // Mean substrate (3 for x = [1, 2, 3, 6]): a = w (x - 3) is exact, I / (x - 3) = 1 on S.
  Linear ones({1, 1, 1, 1});
  at::Tensor x2 = floats({1.0f, 2, 3, 6}).view({1, 4});
  json m = kLogit;
  m["substrate"] = "mean";
  EXPECT_NEAR(one("infidelity", m, ones, x2, x2 - 3), 0.0, 1e-9);
}

TEST(Infidelity, ValuesByHand) {
  // w = [1, -1], x = [1, 1], |S| = 1: removing feature 0 gives D = 1, feature 1 gives D = -1.
  // a = [2, 0]: errors (2 - 1)^2 = 1 and (0 + 1)^2 = 1, whatever is drawn: 1.
  Linear model({1, -1});
  at::Tensor x = at::ones({1, 2});
  json p = kLogit;
  p["subset_size"] = 1;
  EXPECT_NEAR(one("infidelity", p, model, x, floats({2.0f, 0.0f}).view({1, 2})), 1.0, 1e-12);
  // Everything removed: D = 0 - 0 = 0, I^T a = 3 - 1 = 2: 4.
  p["subset_size"] = 2;
  EXPECT_NEAR(one("infidelity", p, model, x, floats({3.0f, -1.0f}).view({1, 2})), 4.0, 1e-12);
  // Scale dependence and the normalised form: w = [4, 3, 2, 1], x = 1, a = 2 w, all removed:
  // I^T a = 20, D = 10: (20 - 10)^2 = 100; beta = 200 / 400 = 1/2 gives 0.
  Linear lin({4, 3, 2, 1});
  json q = kLogit;
  q["subset_fraction"] = 1.0;
  at::Tensor a = floats({8.0f, 6, 4, 2}).view({1, 4});
  EXPECT_NEAR(one("infidelity", q, lin, at::ones({1, 4}), a), 100.0, 1e-9);
  q["normalize"] = true;
  EXPECT_NEAR(one("infidelity", q, lin, at::ones({1, 4}), a), 0.0, 1e-9);
}

TEST(Infidelity, GaussianNoiseExpectation) {
  // a = 0: E[(w . eps)^2] = sigma^2 |w|^2 = 0.01 * 30 = 0.3; with 4000 draws the standard error
  // is 0.3 * sqrt(2 / 4000) = 0.0067, the tolerance 6 of them.
  Linear model({4, 3, 2, 1});
  json p = kLogit;
  p["perturbation"] = "gaussian";
  p["n_samples"] = 4000;
  EXPECT_NEAR(one("infidelity", p, model, at::ones({1, 4}), at::zeros({1, 4})), 0.3, 0.04);
}

TEST(Infidelity, Text) {
  // UNK weighs 0: removing S drops sum_S w = sum_S a.
  Bag model;
  auto r = run("infidelity", {{"output", "logit"}}, model, text(), kTextWeights);
  EXPECT_NEAR(r.scores[0], 0.0, 1e-9);
  EXPECT_NEAR(r.scores[1], 0.0, 1e-9);
  EXPECT_TRUE(r.info.contains("text_perturbation"));
  // Half the true contributions: (D / 2)^2 per draw.
  EXPECT_GT(run("infidelity", {{"output", "logit"}}, model, text(), kTextWeights / 2).scores[0],
            0.1);
  EXPECT_THAT(error_of([&] {
                run("infidelity", {{"perturbation", "gaussian"}}, model, text(), kTextWeights);
              }),
              ::testing::HasSubstr("perturbation 'gaussian' does not apply to text inputs"));
  EXPECT_THAT(error_of([&] {
                run("infidelity", {{"multiply_by_inputs", false}}, model, text(), kTextWeights);
              }),
              ::testing::HasSubstr("text inputs need multiply_by_inputs = true"));
}

}  // namespace
