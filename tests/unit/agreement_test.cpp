// Inter-method agreement (agreement.h, METRICS.md §4), with hand-computed answers.
#include "agreement/agreement.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "attrib/error.h"

using nlohmann::json;
namespace ag = attrib::agreement;

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

TEST(Agreement, SpearmanAverageRanksWithTies) {
  // keys a = [0.1, 0.4, 0.4, 0.9] -> average ranks [1, 2.5, 2.5, 4];
  //      b = [0.2, 0.1, 0.5, 0.8] -> ranks [2, 1, 3, 4].
  // Centred (mean 2.5): da = [-1.5, 0, 0, 1.5], db = [-0.5, -1.5, 0.5, 1.5];
  // sxy = 0.75 + 2.25 = 3, sxx = 4.5, syy = 0.25 + 2.25 + 0.25 + 2.25 = 5;
  // rho = 3 / sqrt(22.5) = 0.632455532.
  const std::vector<double> a = {-0.1, 0.4, -0.4, 0.9}, b = {0.2, 0.1, 0.5, 0.8};
  EXPECT_NEAR(ag::spearman(a, b), 3.0 / std::sqrt(22.5), 1e-12);
  EXPECT_NEAR(ag::spearman(b, a), 3.0 / std::sqrt(22.5), 1e-12);
  // Signed keys: a -> ranks [2, 3, 1, 4], b -> [2, 1, 3, 4]; d = [0, 2, -2, 0], no ties:
  // rho = 1 - 6 * 8 / (4 * 15) = 0.2.
  EXPECT_NEAR(ag::spearman(a, b, /*abs=*/false), 0.2, 1e-12);
  // Constant key, fewer than 2 features, non-finite values, empty: undefined.
  EXPECT_TRUE(std::isnan(ag::spearman({1, -1, 1}, {1, 2, 3})));
  EXPECT_TRUE(std::isnan(ag::spearman({1}, {2})));
  EXPECT_TRUE(std::isnan(ag::spearman({1, kNaN, 3}, {1, 2, 3})));
  EXPECT_TRUE(std::isnan(ag::spearman({}, {})));
  EXPECT_THROW(ag::spearman({1, 2}, {1, 2, 3}), attrib::Error);
}

TEST(Agreement, KendallTauBWithTies) {
  // Same keys as above. Pairs (i < j): (0,1) discordant; (0,2), (0,3), (1,3), (2,3) concordant;
  // (1,2) tied in a only. P = 4, Q = 1, T_a = 1, T_b = 0:
  // tau_b = (4 - 1) / sqrt((5 + 1) (5 + 0)) = 3 / sqrt(30) = 0.547722558.
  const std::vector<double> a = {-0.1, 0.4, -0.4, 0.9}, b = {0.2, 0.1, 0.5, 0.8};
  EXPECT_NEAR(ag::kendall_tau_b(a, b), 3.0 / std::sqrt(30.0), 1e-12);
  EXPECT_NEAR(ag::kendall_tau_b(b, a), 3.0 / std::sqrt(30.0), 1e-12);
  // Signed keys a = [-0.1, 0.4, -0.4, 0.9], b as above, no ties. Pairs: (0,1) a up, b down: D;
  // (0,2) a down, b up: D; (0,3) C; (1,2) a down, b up: D; (1,3) C; (2,3) C. P = Q = 3: tau = 0.
  EXPECT_NEAR(ag::kendall_tau_b(a, b, false), 0.0, 1e-12);
}

TEST(Agreement, ResolveK) {
  EXPECT_EQ(ag::resolve_k(0.25, 10), 3u);  // ceil(2.5)
  EXPECT_EQ(ag::resolve_k(0.25, 4), 1u);   // ceil(1.0)
  EXPECT_EQ(ag::resolve_k(0.01, 5), 1u);   // ceil(0.05) = 1
  EXPECT_EQ(ag::resolve_k(3, 10), 3u);
  EXPECT_EQ(ag::resolve_k(30, 10), 10u);  // clamped to n
  EXPECT_EQ(ag::resolve_k(0.5, 0), 0u);
  EXPECT_THROW(ag::resolve_k(2.5, 10), attrib::Error);
  EXPECT_THROW(ag::resolve_k(0, 10), attrib::Error);
  EXPECT_THROW(ag::resolve_k(-1, 10), attrib::Error);
}

TEST(Agreement, TopKAgreementsKrishna) {
  // |a| = [0.9, 0.5, 0.3, 0.1, 0.7] -> order 0, 4, 1, 2, 3: T = top3 = (0, 4, 1).
  // |b| = [0.8, 0.6, 0.2, 0.05, 0.4] -> order 0, 1, 4, 2, 3: T' = (0, 1, 4).
  // FA = |{0, 1, 4}| / 3 = 1. RA: position 1 both 0; 2: 4 vs 1; 3: 1 vs 4 -> 1/3.
  // SA over {0, 4, 1}: feature 0 (+, +) agrees, 4 (-, +) not, 1 (-, -) agrees -> 2/3.
  // SRA: only position 1 matches, and its signs agree -> 1/3.
  const std::vector<double> a = {0.9, -0.5, 0.3, 0.1, -0.7};
  const std::vector<double> b = {0.8, -0.6, -0.2, 0.05, 0.4};
  EXPECT_DOUBLE_EQ(ag::feature_agreement(a, b, 3), 1.0);
  EXPECT_DOUBLE_EQ(ag::rank_agreement(a, b, 3), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(ag::sign_agreement(a, b, 3), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(ag::signed_rank_agreement(a, b, 3), 1.0 / 3.0);
  // k = 0.5 of 5 features -> ceil(2.5) = 3: the same values through measure().
  EXPECT_DOUBLE_EQ(ag::measure("sign_agreement", a, b, 0.5), 2.0 / 3.0);
  // k = 2: T = (0, 4), T' = (0, 1): FA = 1/2, RA = 1/2, SA = 1/2, SRA = 1/2.
  EXPECT_DOUBLE_EQ(ag::feature_agreement(a, b, 2), 0.5);
  EXPECT_DOUBLE_EQ(ag::rank_agreement(a, b, 2), 0.5);
  // Signed keys: a order 0 (0.9), 2 (0.3), 3 (0.1), 1, 4 -> T = (0, 2, 3);
  // b order 0 (0.8), 4 (0.4), 3 (0.05), 2, 1 -> T' = (0, 4, 3).
  // FA = |{0, 3}| / 3 = 2/3; RA: positions 1 and 3 match -> 2/3; SA: 0 (+, +), 3 (+, +) -> 2/3;
  // SRA = 2/3.
  EXPECT_DOUBLE_EQ(ag::feature_agreement(a, b, 3, false), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(ag::rank_agreement(a, b, 3, false), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(ag::sign_agreement(a, b, 3, false), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(ag::signed_rank_agreement(a, b, 3, false), 2.0 / 3.0);
  // Ties go to the lower index: a = constant -> T = (0, 1); b -> (3, 0).
  // FA = |{0}| / 2 = 1/2; RA = 0 (0 vs 3, 1 vs 0).
  EXPECT_DOUBLE_EQ(ag::feature_agreement({1, 1, 1, 1}, {0, 0, 0, 5}, 2), 0.5);
  EXPECT_DOUBLE_EQ(ag::rank_agreement({1, 1, 1, 1}, {0, 0, 0, 5}, 2), 0.0);
  // Zero sign agrees only with zero: top1 both feature 0 (|0| ties -> index 0 first).
  EXPECT_DOUBLE_EQ(ag::sign_agreement({0, 0}, {0, 0}, 1), 1.0);
  EXPECT_DOUBLE_EQ(ag::sign_agreement({0.0, 0.0}, {1e-9, 0.0}, 1), 0.0);
  EXPECT_TRUE(std::isnan(ag::feature_agreement({kNaN, 1}, {1, 2}, 1)));
}

TEST(Agreement, RankCorrelationUsesDenseRanks) {
  // a = [0.1, 0.1, 0.1, 0.5, 0.9]: average ranks [2, 2, 2, 4, 5], dense ranks [1, 1, 1, 2, 3];
  // b = [0.3, 0.1, 0.2, 0.9, 0.5]: ranks [3, 1, 2, 5, 4] (no ties, dense = average).
  // Spearman: da = [-1, -1, -1, 1, 2], db = [0, -2, -1, 2, 1]; sxy = 7, sxx = 8, syy = 10:
  //   rho = 7 / sqrt(80) = 0.782623792.
  // RC: dense a mean 1.6, da = [-0.6, -0.6, -0.6, 0.4, 1.4]; sxy = 1.2 + 0.6 + 0.8 + 1.4 = 4,
  //   sxx = 3 * 0.36 + 0.16 + 1.96 = 3.2, syy = 10: RC = 4 / sqrt(32) = 0.707106781.
  const std::vector<double> a = {0.1, 0.1, -0.1, 0.5, 0.9}, b = {0.3, 0.1, 0.2, 0.9, -0.5};
  EXPECT_NEAR(ag::spearman(a, b), 7.0 / std::sqrt(80.0), 1e-12);
  EXPECT_NEAR(ag::rank_correlation(a, b), 4.0 / std::sqrt(32.0), 1e-12);
  EXPECT_NEAR(ag::rank_correlation(b, a), 4.0 / std::sqrt(32.0), 1e-12);
  // Without ties RC equals Spearman.
  const std::vector<double> c = {0.3, 0.2, 0.9, 0.1}, d = {0.1, 0.4, 0.2, 0.3};
  EXPECT_NEAR(ag::rank_correlation(c, d), ag::spearman(c, d), 1e-12);
}

TEST(Agreement, PairwiseRankAgreement) {
  // Keys a = [0.1, 0.1, 0.1, 0.5, 0.9], b = [0.3, 0.1, 0.2, 0.9, 0.5]. "i above j" (i < j):
  // a: false for all 10 pairs (ties and increasing values are "not above").
  // b: true for (0,1) 0.3 > 0.1, (0,2) 0.3 > 0.2, (3,4) 0.9 > 0.5; false for the other 7.
  // PRA = 7 / 10.
  const std::vector<double> a = {0.1, 0.1, -0.1, 0.5, 0.9}, b = {0.3, 0.1, 0.2, 0.9, -0.5};
  EXPECT_DOUBLE_EQ(ag::pairwise_rank_agreement(a, b), 0.7);
  EXPECT_DOUBLE_EQ(ag::pairwise_rank_agreement(b, a), 0.7);
  EXPECT_DOUBLE_EQ(ag::pairwise_rank_agreement(b, b), 1.0);
  // Reversed order: every strict pair flips -> 0.
  EXPECT_DOUBLE_EQ(ag::pairwise_rank_agreement({1, 2, 3}, {3, 2, 1}), 0.0);
  EXPECT_TRUE(std::isnan(ag::pairwise_rank_agreement({1}, {1})));
}

TEST(Agreement, MeasureByNameRejectsUnknown) {
  EXPECT_THROW(ag::measure("cosine", {1, 2}, {1, 2}, 0.25), attrib::Error);
  EXPECT_EQ(ag::measure_names().size(), 8u);
}

TEST(Agreement, MatricesSymmetricOnesOnDiagonalAndMatchPerExampleMeans) {
  // Three methods, two batches: batch 0 has 2 examples of 4 features (the second with 3 valid),
  // batch 1 one example of 5 features. Method m2 has a NaN in the batch-1 example.
  at::manual_seed(7);
  const std::vector<std::string> methods = {"m0", "m1", "m2"};
  std::vector<std::vector<at::Tensor>> scores(3);
  for (int m = 0; m < 3; ++m) {
    scores[m].push_back(at::randn({2, 4}, at::kFloat));
    scores[m].push_back(at::randn({1, 5}, at::kFloat));
  }
  scores[2][1][0][2] = std::numeric_limits<float>::quiet_NaN();
  at::Tensor mask0 = at::ones({2, 4}, at::kBool);
  mask0[1][3] = false;
  const std::vector<at::Tensor> masks = {mask0, at::Tensor()};

  attrib::AgreementOptions options;
  options.bootstrap_resamples = 200;
  options.seed = 3;
  const json out = attrib::agreement_matrices(methods, scores, masks, options);
  EXPECT_EQ(out["n_examples"], 3);
  EXPECT_EQ(out["features_per_example"]["min"], 3.0);
  EXPECT_EQ(out["features_per_example"]["max"], 5.0);
  EXPECT_EQ(out["settings"]["rank_key"], "abs");
  EXPECT_EQ(out["settings"]["k"], 0.25);
  ASSERT_EQ(out["measures"].size(), 8u);

  // The per-example vectors, by hand from the tensors and masks.
  auto vec = [&](int m, int b, int i, int n) {
    std::vector<double> v;
    for (int f = 0; f < n; ++f) v.push_back(scores[m][b][i][f].item<float>());
    return v;
  };
  for (const json& entry : out["measures"]) {
    const std::string name = entry["measure"];
    for (int i = 0; i < 3; ++i) {
      // Diagonal: a method agrees perfectly with itself (m2's NaN example is undefined).
      EXPECT_NEAR(entry["mean"][i][i].get<double>(), 1.0, 1e-12) << name << " " << i;
      for (int j = 0; j < 3; ++j) {
        EXPECT_EQ(entry["mean"][i][j], entry["mean"][j][i]) << name;
        EXPECT_EQ(entry["n"][i][j], entry["n"][j][i]) << name;
        std::vector<double> values = {ag::measure(name, vec(i, 0, 0, 4), vec(j, 0, 0, 4), 0.25),
                                      ag::measure(name, vec(i, 0, 1, 3), vec(j, 0, 1, 3), 0.25),
                                      ag::measure(name, vec(i, 1, 0, 5), vec(j, 1, 0, 5), 0.25)};
        double sum = 0;
        int n = 0;
        for (double v : values)
          if (std::isfinite(v)) sum += v, ++n;
        const int expected_n = (i == 2 || j == 2) ? 2 : 3;
        EXPECT_EQ(n, expected_n) << name;
        EXPECT_EQ(entry["n"][i][j], expected_n) << name;
        EXPECT_EQ(entry["n_undefined"][i][j], 3 - expected_n) << name;
        EXPECT_NEAR(entry["mean"][i][j].get<double>(), sum / n, 1e-12) << name;
        EXPECT_LE(entry["ci_low"][i][j].get<double>(), entry["mean"][i][j].get<double>() + 1e-12);
        EXPECT_GE(entry["ci_high"][i][j].get<double>(), entry["mean"][i][j].get<double>() - 1e-12);
      }
    }
  }

  // Options: a subset of measures in the given order, signed keys, no bootstrap.
  options.measures = {"rank_correlation", "spearman"};
  options.abs = false;
  options.bootstrap_resamples = 0;
  const json sub = attrib::agreement_matrices(methods, scores, masks, options);
  ASSERT_EQ(sub["measures"].size(), 2u);
  EXPECT_EQ(sub["measures"][0]["measure"], "rank_correlation");
  EXPECT_FALSE(sub["measures"][0].contains("ci_low"));
  EXPECT_EQ(sub["settings"]["rank_key"], "signed");
  EXPECT_TRUE(sub["settings"]["bootstrap"].is_null());
  EXPECT_NEAR(sub["measures"][1]["mean"][0][1].get<double>(),
              (ag::spearman(vec(0, 0, 0, 4), vec(1, 0, 0, 4), false) +
               ag::spearman(vec(0, 0, 1, 3), vec(1, 0, 1, 3), false) +
               ag::spearman(vec(0, 1, 0, 5), vec(1, 1, 0, 5), false)) /
                  3.0,
              1e-12);

  // Errors name what was expected.
  options.measures = {"cosine"};
  EXPECT_THROW(attrib::agreement_matrices(methods, scores, masks, options), attrib::Error);
  options.measures = {};
  scores[1][0] = at::randn({2, 3});
  EXPECT_THROW(attrib::agreement_matrices(methods, scores, masks, options), attrib::Error);
}

TEST(Agreement, OpenXaiRankAgreementNeedsEqualDenseRanks) {
  // OpenXAI metrics.py: e = [3, 3, 1, 0], g = [3, 2, 1, .5], K = 2. Both top-2 orders are
  // (0, 1), so FA = 1 and the position rule gives RA = 1; but feature 1 has dense rank 1 in e
  // (tied with feature 0) and 2 in g, so OpenXAI's RA = 1/2 (and SRA likewise).
  const std::vector<double> e = {3, 3, 1, 0}, g = {3, 2, 1, 0.5};
  EXPECT_DOUBLE_EQ(ag::feature_agreement(e, g, 2), 1.0);
  EXPECT_DOUBLE_EQ(ag::rank_agreement(e, g, 2), 1.0);
  EXPECT_DOUBLE_EQ(ag::rank_agreement(e, g, 2, true, nullptr, true), 0.5);
  EXPECT_DOUBLE_EQ(ag::signed_rank_agreement(e, g, 2, true, nullptr, true), 0.5);
  // Without ties both rules agree.
  const std::vector<double> a = {4, 3, 1, 0};
  EXPECT_DOUBLE_EQ(ag::rank_agreement(a, g, 3, true, nullptr, true), ag::rank_agreement(a, g, 3));
}

TEST(Agreement, TieBreakFollowsTheTieKeys) {
  // Four tied features: by index the top 2 is {0, 1}; a tie key ranks 3 and 2 first.
  const std::vector<double> flat = {1, 1, 1, 1}, other = {0, 0, 5, 4};
  const std::vector<double> tie = {0.9, 0.8, 0.2, 0.1};
  EXPECT_DOUBLE_EQ(ag::feature_agreement(flat, other, 2), 0.0);
  EXPECT_DOUBLE_EQ(ag::feature_agreement(flat, other, 2, true, &tie), 1.0);
  // ... and the same tie keys apply to both vectors: RA for the order (3, 2) vs (2, 3) is 0.
  EXPECT_DOUBLE_EQ(ag::rank_agreement(flat, other, 2, true, &tie), 0.0);

  // In the matrices, "random" ties use the example's seeded stream: a constant map's top-k is a
  // seeded random set, so FA against a fixed map is near k/n on average, not the index-order
  // value; and the same seed gives the same numbers.
  const int64_t B = 300, n = 20;
  std::vector<std::vector<at::Tensor>> scores(2);
  scores[0].push_back(at::ones({B, n}));
  at::Tensor ramp = at::arange(n, 0, -1, at::kFloat).repeat({B, 1});  // index order = rank order
  scores[1].push_back(ramp);
  attrib::AgreementOptions options;
  options.bootstrap_resamples = 0;
  options.measures = {"feature_agreement"};
  const std::vector<at::Tensor> masks = {at::Tensor()};
  const json by_index = attrib::agreement_matrices({"constant", "ramp"}, scores, masks, options);
  EXPECT_DOUBLE_EQ(by_index["measures"][0]["mean"][0][1].get<double>(), 1.0);
  options.tie_break = "random";
  options.tie_seed = 5;
  for (int64_t i = 0; i < B; ++i) options.example_ids.push_back("ex" + std::to_string(i));
  const json random = attrib::agreement_matrices({"constant", "ramp"}, scores, masks, options);
  const double fa = random["measures"][0]["mean"][0][1].get<double>();
  EXPECT_NEAR(fa, 5.0 / 20, 0.05);  // k = ceil(0.25 * 20) = 5 of 20
  EXPECT_EQ(random["settings"]["tie_break"], "random");
  EXPECT_EQ(attrib::agreement_matrices({"constant", "ramp"}, scores, masks, options), random);
  options.example_ids.pop_back();
  EXPECT_THROW(attrib::agreement_matrices({"constant", "ramp"}, scores, masks, options),
               attrib::Error);
}
