// Known-answer tests of PGI/PGU (METRICS.md §1.10; suites/faithfulness/prediction_gap.cpp),
// computed by hand on linear models.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "metric_fixtures.h"

namespace {

using namespace metric_fixtures;

TEST(PredictionGap, ZeroWeightFeatures) {
  // w = [4, 3, 0, 0], k = 2. a ranks {0, 1} on top: PGU perturbs {2, 3}, which carry no weight.
  Linear model({4, 3, 0, 0});
  json p = {{"output", "logit"}, {"target", "explained"}, {"k_fraction", 0.5}};
  at::Tensor x = at::ones({1, 4});
  at::Tensor good = floats({4.0f, -3.0f, 0.1f, 0.2f}).view({1, 4});  // |a| ranks 0, 1 first
  EXPECT_DOUBLE_EQ(one("pgu", p, model, x, good), 0.0);
  EXPECT_GT(one("pgi", p, model, x, good), 0.1);
  at::Tensor bad = floats({0.1f, 0.2f, 4.0f, 3.0f}).view({1, 4});
  EXPECT_DOUBLE_EQ(one("pgi", p, model, x, bad), 0.0);
  // Fixed k = 1 on the good map: PGU perturbs {1, 2, 3} and now sees w_1 = 3.
  p["k"] = 1;
  EXPECT_GT(one("pgu", p, model, x, good), 0.1);
}

TEST(PredictionGap, GaussianExpectation) {
  // PGI on {0, 1} of w = [4, 3, 0, 0]: |D| = |4 e0 + 3 e1| ~ |N(0, 0.25)|, mean
  // 0.5 sqrt(2 / pi) = 0.39894; sd 0.5 sqrt(1 - 2 / pi) = 0.30, standard error with 4000 draws
  // 0.0048, tolerance 6 of them.
  Linear model({4, 3, 0, 0});
  json p = {{"output", "logit"}, {"k_fraction", 0.5}, {"n_samples", 4000}};
  EXPECT_NEAR(one("pgi", p, model, at::ones({1, 4}), floats({4.0f, 3, 0, 0}).view({1, 4})),
              0.5 * std::sqrt(2 / kPi), 0.03);
}

TEST(PredictionGap, TextFlips) {
  Bag model;
  // t0: features w = [1, 2, 3, 4], k = ceil(0.5 * 4) = 2: top {w3, w4}. p_flip = 1 flips every
  // perturbed token to UNK (weight 0) in every draw: PGI = |110 - 103| = 7, PGU = |110 - 107| = 3.
  // t1: k = 1, top {w6}: PGI = 6, PGU = 5.
  json p = {{"output", "logit"}, {"k_fraction", 0.5}, {"p_flip", 1.0}, {"n_samples", 5}};
  auto pgi = run("pgi", p, model, text(), kTextWeights);
  EXPECT_NEAR(pgi.scores[0], 7.0, 1e-9);
  EXPECT_NEAR(pgi.scores[1], 6.0, 1e-9);
  auto pgu = run("pgu", p, model, text(), kTextWeights);
  EXPECT_NEAR(pgu.scores[0], 3.0, 1e-9);
  EXPECT_NEAR(pgu.scores[1], 5.0, 1e-9);
  // p_flip = 0 never changes the input: gap 0 and only the unperturbed batch is forwarded.
  p["p_flip"] = 0.0;
  model.count = {};
  auto none = run("pgi", p, model, text(), kTextWeights);
  EXPECT_EQ(none.scores, (std::vector<double>{0.0, 0.0}));
  EXPECT_EQ(model.count.rows, 2);
  // The default flip probability is OpenXAI's sqrt(2/pi) * sigma.
  p.erase("p_flip");
  auto d = run("pgi", p, model, text(), kTextWeights);
  EXPECT_NEAR(d.info["p_flip_resolved"].get<double>(), std::sqrt(2 / kPi) * 0.1, 1e-15);
  // With 5 draws and p = 0.08 the gap is a multiple of 3 or 4 (one flip) or 7, averaged over 5.
  EXPECT_GE(d.scores[0], 0.0);
  EXPECT_LE(d.scores[0], 7.0);
  Linear lin({1, 1});
  EXPECT_THAT(error_of([&] {
                run("pgi", {{"substrate", "unk"}}, lin, dense(at::ones({1, 2})), at::ones({1, 2}));
              }),
              ::testing::HasSubstr("expected substrate 'auto', got 'unk'"));
}

// distinct_rows: the same draws and values, each distinct flipped row forwarded once, the repeats
// counted as saved.
TEST(PredictionGap, DistinctRowsForwardEachRowOnce) {
  const attrib::Batch b = text();
  const at::Tensor targets = at::zeros({b.size()}, at::kLong);
  for (const std::string name : {"pgi", "pgu"}) {
    SCOPED_TRACE(name);
    const auto& spec = attrib::find_metric(name);
    json p = {{"output", "logit"}, {"p_flip", 0.3}, {"n_samples", 60}};
    Bag all_model, distinct_model;
    attrib::MetricInput all{all_model, b, kTextWeights, targets, nullptr, 4, 7};
    const std::vector<double> expected =
        spec.create(attrib::resolve_params(spec.params, p, "params"))->score(all);
    p["distinct_rows"] = true;
    auto metric = spec.create(attrib::resolve_params(spec.params, p, "params"));
    attrib::SharedForwards shared;
    attrib::MetricInput in{distinct_model, b, kTextWeights, targets, nullptr, 4, 7, &shared};
    const std::vector<double> got = metric->score(in);
    EXPECT_EQ(metric->info()["distinct_rows"], true);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_GT(expected[i], 0.0);
      EXPECT_NEAR(got[i], expected[i], 1e-12 * std::fabs(expected[i])) << "example " << i;
    }
    // At most 2^k distinct flipped sets of an example's k perturbed words: most of the 60 draws
    // repeat one. Every repeat is a row not forwarded, and counted.
    EXPECT_LT(distinct_model.count.rows * 3, all_model.count.rows);
    EXPECT_EQ(all_model.count.rows - distinct_model.count.rows, shared.saved_rows);
  }
}

}  // namespace
