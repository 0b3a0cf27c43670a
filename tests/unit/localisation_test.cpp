// Known-answer tests of the localisation metrics (METRICS.md §3.5-3.9;
// suites/plausibility/localisation.cpp), computed by hand on small maps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "attrib/random.h"
#include "metric_fixtures.h"

namespace {

using namespace metric_fixtures;

attrib::Batch zeros_batch(int64_t n) { return dense(at::zeros({1, n})); }

double loc(const std::string& name, json params, std::vector<float> a, std::vector<float> s) {
  const int64_t n = static_cast<int64_t>(a.size());
  attrib::Annotations ann{at::tensor(s).view({1, n}), at::ones({1}, at::kBool)};
  attrib_test::NoModel model;
  auto r = run(name, std::move(params), model, zeros_batch(n), at::tensor(a).view({1, n}), &ann);
  EXPECT_TRUE(r.info.contains("missing_annotation"));
  return r.scores[0];
}

// The 6-feature hand example: a = [0.9, -2, 0.5, 0.7, 0.1, 0.3], mask s = {0, 2, 4}.
const std::vector<float> kA = {0.9f, -2.0f, 0.5f, 0.7f, 0.1f, 0.3f};
const std::vector<float> kS = {1, 0, 1, 0, 1, 0};
const json kSigned = {{"sign", "signed"}}, kAbs = {{"sign", "abs"}};

TEST(Localisation, PointingGame) {
  // Signed maximum 0.9 at feature 0 (inside); |a| maximum 2 at feature 1 (outside).
  EXPECT_EQ(loc("pointing_game", json::object(), kA, kS), 1.0);
  EXPECT_EQ(loc("pointing_game", kAbs, kA, kS), 0.0);
  EXPECT_EQ(loc("pointing_game", json::object(), {1, 0, 2}, {1, 1, 0}), 0.0);
  // Tied maxima {0, 1, 3} with 1 inside: fractional credit 1/3 (the default); Quantus's "any"
  // gives 1, which a constant map would win on every example.
  const std::vector<float> tied = {1, 1, 0, 1}, mask = {0, 1, 0, 0};
  EXPECT_NEAR(loc("pointing_game", json::object(), tied, mask), 1.0 / 3, 1e-12);
  EXPECT_EQ(loc("pointing_game", {{"ties", "any"}}, tied, mask), 1.0);
  // random: one of the three maxima from the example's seeded stream -- 0 or 1, the same on
  // every call.
  const double r = loc("pointing_game", {{"ties", "random"}}, tied, mask);
  EXPECT_TRUE(r == 0.0 || r == 1.0);
  EXPECT_EQ(loc("pointing_game", {{"ties", "random"}}, tied, mask), r);
}

// The constant and random controls score at chance level |s| / n: 400 masks of 5..40 of 64
// features. The constant map ties every feature: pointing game (fractional) gives exactly |s| / n
// per example; relevance rank accuracy with seeded random ties has expectation |s| / n, and so
// have both for a uniformly random map. Tolerance: 4 standard errors of the mean.
TEST(Localisation, ControlsScoreAtChance) {
  const int64_t B = 400, n = 64;
  at::Generator g = attrib::example_generator(7, "chance", 1);
  at::Tensor area = at::randint(5, 41, {B, 1}, g, at::kLong);
  at::Tensor perm = at::rand({B, n}, g).argsort(int64_t{1}, false);
  at::Tensor mask = (perm < area).to(at::kFloat);
  const double chance = (area.to(at::kDouble) / n).mean().item<double>();
  attrib::Annotations ann{mask, at::ones({B}, at::kBool)};
  attrib_test::NoModel model;
  const attrib::Batch b = dense(at::zeros({B, n}));
  const at::Tensor constant = at::ones({B, n});
  const at::Tensor random = at::rand({B, n}, g);
  auto mean_and_se = [](const std::vector<double>& v) {
    double m = 0, q = 0;
    for (double x : v) m += x;
    m /= static_cast<double>(v.size());
    for (double x : v) q += (x - m) * (x - m);
    return std::make_pair(
        m, std::sqrt(q / static_cast<double>(v.size() - 1) / static_cast<double>(v.size())));
  };
  const auto exact = run("pointing_game", json::object(), model, b, constant, &ann).scores;
  EXPECT_NEAR(mean_and_se(exact).first, chance, 1e-12);
  const auto any = run("pointing_game", {{"ties", "any"}}, model, b, constant, &ann).scores;
  EXPECT_EQ(mean_and_se(any).first, 1.0);  // why "any" is not the default
  for (const auto& [metric, map] :
       std::vector<std::pair<std::string, at::Tensor>>{{"relevance_rank_accuracy", constant},
                                                       {"relevance_rank_accuracy", random},
                                                       {"pointing_game", random},
                                                       {"top_k_intersection", constant}}) {
    const auto [m, se] = mean_and_se(run(metric, json::object(), model, b, map, &ann).scores);
    EXPECT_NEAR(m, chance, 4 * std::max(se, 0.005)) << metric;
  }
  // By index, a constant map turns rank accuracy into a raster scan: a mask placed first wins.
  const auto raster =
      run("relevance_rank_accuracy", {{"tie_break", "index"}}, model, b, constant, &ann).scores;
  EXPECT_FALSE(std::isnan(raster[0]));
}

TEST(Localisation, PointingGameToleranceOnImages) {
  // Image [2, 3, 3]: the maximum at channel 1, pixel (0, 0) (flat 9), the mask at channel 0,
  // pixel (1, 1) (flat 4): distance sqrt(2) = 1.414 over (row, column).
  attrib::Batch b = dense(at::zeros({1, 2, 3, 3}));
  at::Tensor a = at::zeros({1, 18});
  a[0][9] = 5;
  at::Tensor s = at::zeros({1, 18});
  s[0][4] = 1;
  attrib::Annotations ann{s, at::ones({1}, at::kBool)};
  attrib_test::NoModel model;
  EXPECT_EQ(run("pointing_game", json::object(), model, b, a, &ann).scores[0], 0.0);
  EXPECT_EQ(run("pointing_game", {{"tolerance", 1.0}}, model, b, a, &ann).scores[0], 0.0);
  EXPECT_EQ(run("pointing_game", {{"tolerance", 1.5}}, model, b, a, &ann).scores[0], 1.0);
}

TEST(Localisation, MassByHand) {
  // a+ = [0.9, 0, 0.5, 0.7, 0.1, 0.3]: total 2.5, inside 1.5 -> 0.6.
  EXPECT_NEAR(loc("attribution_localisation", json::object(), kA, kS), 0.6, 1e-6);
  EXPECT_NEAR(loc("relevance_mass_accuracy", json::object(), kA, kS), 0.6, 1e-6);
  // |a|: total 4.5, inside 1.5 -> 1/3. Weighted by n / |s| = 2: 1.2.
  EXPECT_NEAR(loc("attribution_localisation", kAbs, kA, kS), 1.0 / 3, 1e-6);
  EXPECT_NEAR(loc("attribution_localisation", {{"weighted", true}}, kA, kS), 1.2, 1e-6);
  // A mask covering half of the features exceeds max_size 0.4: NaN.
  EXPECT_TRUE(std::isnan(loc("attribution_localisation", {{"max_size", 0.4}}, kA, kS)));
  // Signed RMA: total 0.5, inside 1.5 -> 3 (unbounded, as METRICS.md warns).
  EXPECT_NEAR(loc("relevance_mass_accuracy", kSigned, kA, kS), 3.0, 1e-6);
  // All positive attribution inside the mask: 1 for both.
  const std::vector<float> a = {1, 0, 2, -1, 0, 0}, s = {1, 0, 1, 0, 0, 0};
  EXPECT_DOUBLE_EQ(loc("attribution_localisation", json::object(), a, s), 1.0);
  EXPECT_DOUBLE_EQ(loc("relevance_mass_accuracy", json::object(), a, s), 1.0);
  // No positive mass at all: undefined.
  EXPECT_TRUE(std::isnan(loc("attribution_localisation", json::object(), {-1, -2, 0}, {1, 0, 0})));
}

TEST(Localisation, RankAndTopKByHand) {
  // K = |s| = 3. Signed top 3: {0 (0.9), 3 (0.7), 2 (0.5)}, 2 inside -> 2/3.
  EXPECT_NEAR(loc("relevance_rank_accuracy", json::object(), kA, kS), 2.0 / 3, 1e-12);
  // |a| top 3: {1 (2), 0 (0.9), 3 (0.7)}, 1 inside -> 1/3.
  EXPECT_NEAR(loc("relevance_rank_accuracy", kAbs, kA, kS), 1.0 / 3, 1e-12);
  // k = 2: {0, 3}, 1 inside -> 1/2; concept influence times n / |s| = 2 -> 1.
  EXPECT_NEAR(loc("top_k_intersection", {{"k", 2}}, kA, kS), 0.5, 1e-12);
  EXPECT_NEAR(loc("top_k_intersection", {{"k", 2}, {"concept_influence", true}}, kA, kS), 1.0,
              1e-12);
  // k_fraction 0.5 -> k = 3 -> 2/3; the default 0.1 -> k = ceil(0.6) = 1: {0} inside -> 1.
  EXPECT_NEAR(loc("top_k_intersection", {{"k_fraction", 0.5}}, kA, kS), 2.0 / 3, 1e-12);
  EXPECT_NEAR(loc("top_k_intersection", json::object(), kA, kS), 1.0, 1e-12);
  // k larger than n is clamped: k = 6 -> 3 / 6.
  EXPECT_NEAR(loc("top_k_intersection", {{"k", 100}}, kA, kS), 0.5, 1e-12);
}

TEST(Localisation, UnannotatedIsNaN) {
  // Example 0 annotated, 1 without annotation, 2 with an empty mask.
  at::Tensor a = floats({5.0f, 4.0f, 0.0f, 5.0f, 4.0f, 0.0f, 5.0f, 4.0f, 0.0f}).view({3, 3});
  attrib::Annotations ann{
      floats({1.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}).view({3, 3}),
      at::tensor({1, 0, 1}, at::kLong).to(at::kBool)};
  attrib_test::NoModel model;
  for (const char* m : {"pointing_game", "attribution_localisation", "relevance_mass_accuracy",
                        "relevance_rank_accuracy", "top_k_intersection"}) {
    auto out = run(m, json::object(), model, dense(at::zeros({3, 3})), a, &ann).scores;
    EXPECT_TRUE(std::isfinite(out[0])) << m;
    EXPECT_TRUE(std::isnan(out[1])) << m;
    EXPECT_TRUE(std::isnan(out[2])) << m;
    auto none = run(m, json::object(), model, dense(at::zeros({3, 3})), a, nullptr).scores;
    for (double v : none) EXPECT_TRUE(std::isnan(v)) << m;
    attrib::Annotations no_mask;
    auto undefined = run(m, json::object(), model, dense(at::zeros({3, 3})), a, &no_mask).scores;
    for (double v : undefined) EXPECT_TRUE(std::isnan(v)) << m;
  }
}

TEST(Localisation, TextUsesOnlyFeaturePositions) {
  // t0: the special [CLS] position holds the largest score 9 but is not a feature. Features
  // 1..4 carry [1, 3, 0, 0.5]; the mask marks position 2.
  attrib::Batch b = attrib::slice_batch(text(), 0, 1);
  at::Tensor a = floats({9.0f, 1, 3, 0, 0.5f, 0, 0}).view({1, 7});
  attrib::Annotations ann{floats({0.0f, 0, 1, 0, 0, 0, 0}).view({1, 7}), at::ones({1}, at::kBool)};
  attrib_test::NoModel model;
  EXPECT_EQ(run("pointing_game", json::object(), model, b, a, &ann).scores[0], 1.0);
  // Mass: 3 / 4.5.
  EXPECT_NEAR(run("attribution_localisation", json::object(), model, b, a, &ann).scores[0], 3 / 4.5,
              1e-12);
  EXPECT_EQ(run("relevance_rank_accuracy", json::object(), model, b, a, &ann).scores[0], 1.0);
  // Tolerance counts feature positions: max at feature index 1 (position 2) is inside anyway;
  // move the mask to position 4 (feature index 3): distance 2.
  ann.mask = floats({0.0f, 0, 0, 0, 1, 0, 0}).view({1, 7});
  EXPECT_EQ(run("pointing_game", json::object(), model, b, a, &ann).scores[0], 0.0);
  EXPECT_EQ(run("pointing_game", {{"tolerance", 2}}, model, b, a, &ann).scores[0], 1.0);
}

}  // namespace
