// Statistics utilities (stats.h) and leaderboards (results.h), with hand-computed answers.
#include "common/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "attrib/error.h"
#include "leaderboard.h"
#include "reporters.h"
#include "results.h"

using nlohmann::json;
namespace st = attrib::stats;

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// O(n^2) Kendall tau-b straight from the definition, for cross-checking.
double brute_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  double p = 0, q = 0, tx = 0, ty = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t j = i + 1; j < x.size(); ++j) {
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      if (dx == 0 && dy == 0) continue;
      if (dx == 0) {
        tx += 1;
      } else if (dy == 0) {
        ty += 1;
      } else if ((dx > 0) == (dy > 0)) {
        p += 1;
      } else {
        q += 1;
      }
    }
  return (p - q) / std::sqrt((p + q + tx) * (p + q + ty));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::filesystem::path test_tmp() {
#ifdef ATTRIB_TEST_TMP
  return std::filesystem::path(ATTRIB_TEST_TMP);
#else
  return std::filesystem::temp_directory_path() / "attrib_stats_test";
#endif
}
}  // namespace

// ------------------------------------------------------------------------------------------------
// Location and percentiles

TEST(Stats, MeanMedianPercentile) {
  EXPECT_DOUBLE_EQ(st::mean({1, 2, 3, 4}), 2.5);
  EXPECT_DOUBLE_EQ(st::median({3, 1, 2}), 2.0);
  EXPECT_DOUBLE_EQ(st::median({4, 1, 3, 2}), 2.5);
  // Type 7: h = (n - 1) q / 100.
  EXPECT_DOUBLE_EQ(st::percentile({1, 2, 3, 4, 5}, 25), 2.0);    // h = 1
  EXPECT_DOUBLE_EQ(st::percentile({4, 3, 2, 1}, 10), 1.3);       // h = 0.3
  EXPECT_DOUBLE_EQ(st::percentile({1, 2, 3, 4}, 90), 3.7);       // h = 2.7
  EXPECT_DOUBLE_EQ(st::percentile({10, 20, 30, 40}, 50), 25.0);  // h = 1.5
  EXPECT_DOUBLE_EQ(st::percentile({5, 1, 9}, 0), 1.0);
  EXPECT_DOUBLE_EQ(st::percentile({5, 1, 9}, 100), 9.0);
  EXPECT_DOUBLE_EQ(st::percentile({7}, 33), 7.0);
  EXPECT_THROW(st::percentile({1, 2}, 101), attrib::Error);
}

TEST(Stats, UndefinedValuesAreExcludedAndCounted) {
  const std::vector<double> x = {1, kNaN, 3, std::numeric_limits<double>::infinity()};
  EXPECT_EQ(st::count_undefined(x), 2u);
  EXPECT_DOUBLE_EQ(st::mean(x), 2.0);
  EXPECT_DOUBLE_EQ(st::median(x), 2.0);
  EXPECT_EQ(st::defined_values(x), (std::vector<double>{1, 3}));
  EXPECT_TRUE(std::isnan(st::mean({kNaN})));
  EXPECT_TRUE(std::isnan(st::mean({})));
  EXPECT_TRUE(std::isnan(st::percentile({}, 50)));
  const std::vector<double> d = st::paired_differences({1, kNaN, 5}, {0.5, 1, kNaN});
  EXPECT_DOUBLE_EQ(d[0], 0.5);
  EXPECT_TRUE(std::isnan(d[1]));
  EXPECT_TRUE(std::isnan(d[2]));
}

// ------------------------------------------------------------------------------------------------
// Ranks and Kendall's tau-b

TEST(Stats, AverageRanksWithTies) {
  EXPECT_EQ(st::average_ranks({10, 20, 20, 30}), (std::vector<double>{1, 2.5, 2.5, 4}));
  EXPECT_EQ(st::average_ranks({3, 3, 3}), (std::vector<double>{2, 2, 2}));
  EXPECT_EQ(st::min_ranks({10, 20, 20, 30}), (std::vector<double>{1, 2, 2, 4}));
  const std::vector<double> r = st::average_ranks({3, kNaN, 1});
  EXPECT_DOUBLE_EQ(r[0], 2.0);
  EXPECT_TRUE(std::isnan(r[1]));
  EXPECT_DOUBLE_EQ(r[2], 1.0);
}

TEST(Stats, KendallTauB) {
  // No ties: 7 concordant, 3 discordant pairs -> (7 - 3) / 10 (scipy.stats.kendalltau: 0.4).
  EXPECT_NEAR(st::kendall_tau_b({1, 2, 3, 4, 5}, {3, 1, 2, 5, 4}).tau, 0.4, 1e-15);
  // x=[1,1,2,3], y=[1,2,2,3]: P=4, Q=0, one pair tied only in x, one only in y:
  // 4 / sqrt(5 * 5) = 0.8.
  EXPECT_NEAR(st::kendall_tau_b({1, 1, 2, 3}, {1, 2, 2, 3}).tau, 0.8, 1e-15);
  // x=[1,2,2,3,3], y=[2,1,1,3,2]: P=5, Q=2, T_x=1, T_y=1, one joint tie:
  // 3 / sqrt(8 * 8) = 0.375.
  EXPECT_NEAR(st::kendall_tau_b({1, 2, 2, 3, 3}, {2, 1, 1, 3, 2}).tau, 0.375, 1e-15);
  EXPECT_NEAR(st::kendall_tau_b({1, 2, 3}, {3, 2, 1}).tau, -1.0, 1e-15);
  // Undefined pairs are dropped; constant input gives NaN.
  const st::KendallResult k = st::kendall_tau_b({1, 2, kNaN, 3, 4, 5}, {3, 1, 7, 2, 5, 4});
  EXPECT_NEAR(k.tau, 0.4, 1e-15);
  EXPECT_EQ(k.n_used, 5u);
  EXPECT_EQ(k.n_dropped, 1u);
  EXPECT_TRUE(std::isnan(st::kendall_tau_b({1, 1, 1}, {1, 2, 3}).tau));
  EXPECT_TRUE(std::isnan(st::kendall_tau_b({1}, {1}).tau));
}

TEST(Stats, KendallTauBMatchesDefinitionOnTiedData) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const std::size_t n = 2 + st::uniform_index(rng, 60);
    std::vector<double> x(n), y(n);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = static_cast<double>(st::uniform_index(rng, 6));  // many ties
      y[i] = static_cast<double>(st::uniform_index(rng, 4));
    }
    const double expected = brute_tau_b(x, y);
    const double got = st::kendall_tau_b(x, y).tau;
    if (std::isnan(expected))
      EXPECT_TRUE(std::isnan(got));
    else
      EXPECT_NEAR(got, expected, 1e-12) << "trial " << trial;
  }
}

// ------------------------------------------------------------------------------------------------
// Wilcoxon signed-rank

TEST(Stats, WilcoxonExactSmall) {
  // All 5 positive: W+ = 15 is the maximum, P(W+ >= 15) = 1/32, two-sided p = 2/32.
  st::WilcoxonResult w = st::wilcoxon_signed_rank({1, 2, 3, 4, 5});
  EXPECT_TRUE(w.exact);
  EXPECT_DOUBLE_EQ(w.w_plus, 15.0);
  EXPECT_DOUBLE_EQ(w.p_value, 0.0625);
  EXPECT_DOUBLE_EQ(w.rank_biserial, 1.0);
  // [1,-2,3,4,5]: W+ = 13, W- = 2; P(W- <= 2) = #{{}, {1}, {2}} / 32 = 3/32; p = 6/32 (R's
  // wilcox.test gives V = 13, p = 0.1875). Rank-biserial (13 - 2) / 15.
  w = st::wilcoxon_signed_rank({1, -2, 3, 4, 5});
  EXPECT_DOUBLE_EQ(w.w_plus, 13.0);
  EXPECT_DOUBLE_EQ(w.w_minus, 2.0);
  EXPECT_DOUBLE_EQ(w.p_value, 0.1875);
  EXPECT_DOUBLE_EQ(w.rank_biserial, 11.0 / 15.0);
  EXPECT_EQ(w.n_used, 5u);
  // Ties, exact conditional distribution: |d| = [1,1,2,2] -> ranks [1.5,1.5,3.5,3.5];
  // W+ = 6.5. Of the 16 sign patterns, W+ >= 6.5 in 6 -> p = 2 * 6/16.
  w = st::wilcoxon_signed_rank({1, 1, 2, -2});
  EXPECT_DOUBLE_EQ(w.w_plus, 6.5);
  EXPECT_DOUBLE_EQ(w.p_value, 0.75);
}

TEST(Stats, WilcoxonNormalApproximation) {
  // d = [0, 1, -2, 3, 4, 5, 5] (paired as x - y). The zero is discarded: n = 6.
  // |d| ranks 1, 2, 3, 4, 5.5, 5.5 -> W+ = 1 + 3 + 4 + 5.5 + 5.5 = 19, W- = 2.
  // mu = 6*7/4 = 10.5; sigma^2 = 6*7*13/24 - (2^3 - 2)/48 = 22.625;
  // z = (19 - 10.5 - 0.5) / sqrt(22.625) = 1.6818826599...; p = erfc(z / sqrt 2) = 0.0925915957...
  // (R: wilcox.test(d, exact = FALSE) gives V = 19, p-value = 0.09259).
  const std::vector<double> x = {1, 2, 0, 6, 4, 9, 5, kNaN};
  const std::vector<double> y = {1, 1, 2, 3, 0, 4, 0, 1};
  const st::WilcoxonResult w = st::wilcoxon_signed_rank(x, y, /*exact_max_n=*/0);
  EXPECT_FALSE(w.exact);
  EXPECT_EQ(w.n_used, 6u);
  EXPECT_EQ(w.n_zero, 1u);
  EXPECT_EQ(w.n_undefined, 1u);
  EXPECT_DOUBLE_EQ(w.w_plus, 19.0);
  EXPECT_DOUBLE_EQ(w.w_minus, 2.0);
  EXPECT_NEAR(w.z, 1.6818826599284376, 1e-12);
  EXPECT_NEAR(w.p_value, 0.09259159575022997, 1e-12);
  EXPECT_DOUBLE_EQ(w.rank_biserial, 17.0 / 21.0);
  EXPECT_DOUBLE_EQ(w.median_difference, 3.0);  // of [0, 1, -2, 3, 4, 5, 5]
  // Swapping the pair flips the signs, not the p-value.
  const st::WilcoxonResult s = st::wilcoxon_signed_rank(y, x, 0);
  EXPECT_DOUBLE_EQ(s.p_value, w.p_value);
  EXPECT_DOUBLE_EQ(s.rank_biserial, -w.rank_biserial);
  // Nothing to test.
  EXPECT_TRUE(std::isnan(st::wilcoxon_signed_rank({0, 0, kNaN}).p_value));
}

TEST(Stats, WilcoxonExactAndNormalAgreeRoughly) {
  std::vector<double> d;
  for (int i = 1; i <= 25; ++i) d.push_back((i % 3 == 0 ? -1.0 : 1.0) * i);
  const double exact = st::wilcoxon_signed_rank(d).p_value;
  const double approx = st::wilcoxon_signed_rank(d, 0).p_value;
  EXPECT_TRUE(st::wilcoxon_signed_rank(d).exact);
  EXPECT_NEAR(exact, approx, 0.01);
}

// ------------------------------------------------------------------------------------------------
// Bootstrap

TEST(Stats, UniformIndexInRange) {
  std::mt19937_64 rng(1);
  std::vector<int> seen(7, 0);
  for (int i = 0; i < 7000; ++i) ++seen[st::uniform_index(rng, 7)];
  for (int c : seen) EXPECT_GT(c, 850);
  EXPECT_EQ(st::uniform_index(rng, 1), 0u);
}

TEST(Stats, BootstrapIsDeterministic) {
  std::vector<double> x;
  for (int i = 0; i < 50; ++i) x.push_back(std::sin(i) * 3 + i * 0.01);
  const st::BootstrapIndices a(x.size(), 500, 42), b(x.size(), 500, 42), c(x.size(), 500, 43);
  const st::MeanCI ca = st::bootstrap_mean_ci(x, a, 0.95);
  const st::MeanCI cb = st::bootstrap_mean_ci(x, b, 0.95);
  const st::MeanCI cc = st::bootstrap_mean_ci(x, c, 0.95);
  EXPECT_EQ(ca.ci.low, cb.ci.low);  // bit-identical
  EXPECT_EQ(ca.ci.high, cb.ci.high);
  EXPECT_NE(ca.ci.low, cc.ci.low);
  EXPECT_LT(ca.ci.low, ca.mean);
  EXPECT_GT(ca.ci.high, ca.mean);
  for (std::size_t r = 0; r < a.resamples(); ++r)
    for (std::size_t i = 0; i < a.n(); ++i) {
      ASSERT_LT(a.replicate(r)[i], x.size());
      ASSERT_EQ(a.replicate(r)[i], b.replicate(r)[i]);
    }
}

TEST(Stats, PairedBootstrapOfConstantDifference) {
  // b = a + 1 exactly: the per-example difference is always 1, so its interval is [1, 1] (not
  // tied), although the two means' own intervals overlap widely.
  std::vector<double> a, b;
  for (int i = 0; i < 40; ++i) {
    a.push_back(((i * 13) % 40) / 4.0);
    b.push_back(a.back() + 1.0);
  }
  const st::BootstrapIndices idx(a.size(), 2000, 0);
  const st::MeanCI d = st::paired_difference_ci(b, a, idx, 0.95);
  EXPECT_EQ(d.mean, 1.0);
  EXPECT_EQ(d.ci.low, 1.0);
  EXPECT_EQ(d.ci.high, 1.0);
  EXPECT_FALSE(d.ci.contains(0.0));
  const st::MeanCI ma = st::bootstrap_mean_ci(a, idx, 0.95);
  const st::MeanCI mb = st::bootstrap_mean_ci(b, idx, 0.95);
  EXPECT_GT(ma.ci.high, mb.ci.low);  // unpaired intervals overlap
}

TEST(Stats, BootstrapSkipsUndefined) {
  const std::vector<double> x = {1, kNaN, 3, kNaN};
  const st::BootstrapIndices idx(x.size(), 300, 5);
  const st::MeanCI m = st::bootstrap_mean_ci(x, idx, 0.9);
  EXPECT_EQ(m.n, 2u);
  EXPECT_EQ(m.n_undefined, 2u);
  EXPECT_DOUBLE_EQ(m.mean, 2.0);
  EXPECT_GE(m.ci.low, 1.0);
  EXPECT_LE(m.ci.high, 3.0);
  EXPECT_GT(m.undefined_replicates, 0u);  // some replicates draw only NaNs (p = 1/16 each)
  EXPECT_LT(m.undefined_replicates, 60u);
}

TEST(Stats, PercentileInterval) {
  std::vector<double> reps;
  for (int i = 0; i <= 100; ++i) reps.push_back(i);
  const st::Interval ci = st::percentile_interval(reps, 0.9);
  EXPECT_DOUBLE_EQ(ci.low, 5.0);
  EXPECT_DOUBLE_EQ(ci.high, 95.0);
  EXPECT_THROW(st::percentile_interval(reps, 1.0), attrib::Error);
}

// ------------------------------------------------------------------------------------------------
// Leaderboards

namespace {

attrib::ScoreRow make_row(const std::string& method, const std::string& metric, int direction,
                          std::vector<double> scores, const std::vector<std::string>& ids) {
  attrib::ScoreRow row;
  row.dataset = "toy";
  row.model = "mlp";
  row.method = method;
  row.metric = metric;
  row.direction = direction;
  row.method_info = {{"plugin", "builtin"}, {"params", {{"name", method}, {"n_steps", 8}}}};
  row.metric_info = {{"baseline", "zero"}, {"steps", 10}};
  row.example_ids = ids;
  row.scores = std::move(scores);
  return row;
}

// 30 examples. Lower is better for "deletion":
//  good:  base
//  twin:  base +- 0.05 (16 up, 14 down): mean diff +0.0033, tied with good
//  worse: base + 1 exactly, two examples undefined (NaN)
//  broken: error row
// "insertion" (higher is better) ranks them the other way round for good vs worse.
attrib::RunResults synthetic_results() {
  attrib::RunResults r;
  r.context = json::object();
  r.context["suite"] = "toy-suite";
  r.context["seed"] = 3;
  r.context["device"] = "cpu";
  r.context["threads"] = {{"intra_op", 2}, {"inter_op", 1}};
  r.context["attrib_version"] = "0.1.0";
  r.context["git_commit"] = "abc123";
  r.context["git_dirty"] = true;
  r.suite = {{"name", "toy-suite"}};
  std::vector<std::string> ids;
  std::vector<double> base, twin, worse, ins_good, ins_twin, ins_worse;
  for (int i = 0; i < 30; ++i) {
    ids.push_back("ex" + std::to_string(i));
    base.push_back(((i * 7) % 32) / 8.0);
    twin.push_back(base.back() + (i < 16 ? 0.05 : -0.05));
    worse.push_back(i == 3 || i == 17 ? kNaN : base.back() + 1.0);
    ins_good.push_back(1.0 + base.back());
    ins_twin.push_back(0.9 + base.back());
    ins_worse.push_back(0.1 + base.back());
  }
  r.rows.push_back(make_row("good", "deletion", -1, base, ids));
  r.rows.push_back(make_row("twin", "deletion", -1, twin, ids));
  r.rows.push_back(make_row("smooth, \"worse\"", "deletion", -1, worse, ids));
  attrib::ScoreRow broken = make_row("broken", "deletion", -1, {}, {});
  broken.error = "plugin crashed: out of memory";
  r.rows.push_back(broken);
  r.rows.push_back(make_row("good", "insertion", +1, ins_good, ids));
  r.rows.push_back(make_row("twin", "insertion", +1, ins_twin, ids));
  r.rows.push_back(make_row("smooth, \"worse\"", "insertion", +1, ins_worse, ids));
  r.errors.push_back({{"where", "toy/mlp/broken"}, {"message", "plugin crashed: out of memory"}});
  return r;
}

const json& entry(const json& metric_board, const std::string& method) {
  for (const json& e : metric_board["entries"])
    if (e["method"] == method) return e;
  throw std::runtime_error("no entry for " + method);
}

attrib::StatsOptions options() {
  attrib::StatsOptions o;
  o.bootstrap_resamples = 1000;
  o.confidence = 0.95;
  o.seed = 11;
  return o;
}

}  // namespace

TEST(Leaderboard, RanksTiesErrorsAndUndefined) {
  const json lb = attrib::compute_leaderboards(synthetic_results(), options());
  ASSERT_EQ(lb["boards"].size(), 1u);
  const json& board = lb["boards"][0];
  EXPECT_EQ(board["dataset"], "toy");
  EXPECT_EQ(board["model"], "mlp");
  EXPECT_EQ(board["n_examples"], 30);
  ASSERT_EQ(board["metrics"].size(), 2u);
  const json& del = board["metrics"][0];
  EXPECT_EQ(del["metric"], "deletion");
  EXPECT_EQ(del["direction"], -1);
  EXPECT_EQ(del["best"], "good");
  EXPECT_EQ(del["metric_info"], json({{"baseline", "zero"}, {"steps", 10}}));

  // Entries: ranked ones by rank, then the error row.
  ASSERT_EQ(del["entries"].size(), 4u);
  EXPECT_EQ(del["entries"][0]["method"], "good");
  EXPECT_EQ(del["entries"][1]["method"], "twin");
  EXPECT_EQ(del["entries"][2]["method"], "smooth, \"worse\"");
  EXPECT_EQ(del["entries"][3]["method"], "broken");

  const json& good = entry(del, "good");
  EXPECT_EQ(good["rank"], 1);
  EXPECT_TRUE(good["best"].get<bool>());
  EXPECT_TRUE(good["diff_to_best"].is_null());
  EXPECT_EQ(good["n"], 30);
  EXPECT_EQ(good["n_undefined"], 0);
  EXPECT_LE(good["ci_low"].get<double>(), good["mean"].get<double>());
  EXPECT_GE(good["ci_high"].get<double>(), good["mean"].get<double>());
  EXPECT_EQ(good["method_info"]["plugin"], "builtin");

  const json& twin = entry(del, "twin");
  EXPECT_EQ(twin["rank"], 2);
  EXPECT_NEAR(twin["diff_to_best"]["mean"].get<double>(), 0.1 / 30.0, 1e-12);
  EXPECT_TRUE(twin["tied_with_best"].get<bool>());
  EXPECT_GT(twin["wilcoxon_p_vs_best"].get<double>(), 0.5);
  EXPECT_GT(twin["p_rank1"].get<double>(), 0.0);
  // Exactly one of them is first in each replicate, or both when their means tie.
  EXPECT_GE(good["p_rank1"].get<double>() + twin["p_rank1"].get<double>(), 1.0 - 1e-12);

  const json& worse = entry(del, "smooth, \"worse\"");
  EXPECT_EQ(worse["rank"], 3);
  EXPECT_EQ(worse["n"], 28);
  EXPECT_EQ(worse["n_undefined"], 2);
  EXPECT_FALSE(worse["tied_with_best"].get<bool>());
  EXPECT_EQ(worse["diff_to_best"]["mean"], 1.0);
  EXPECT_EQ(worse["diff_to_best"]["ci_low"], 1.0);
  EXPECT_EQ(worse["diff_to_best"]["ci_high"], 1.0);
  EXPECT_EQ(worse["diff_to_best"]["n"], 28);
  EXPECT_LT(worse["wilcoxon_p_vs_best"].get<double>(), 1e-5);
  EXPECT_EQ(worse["wilcoxon"]["n_undefined"], 2);
  EXPECT_EQ(worse["p_rank1"], 0.0);

  const json& broken = entry(del, "broken");
  EXPECT_TRUE(broken["rank"].is_null());
  EXPECT_EQ(broken["error"], "plugin crashed: out of memory");

  const json& ins = board["metrics"][1];
  EXPECT_EQ(ins["direction"], 1);
  EXPECT_EQ(entry(ins, "good")["rank"], 1);
  EXPECT_EQ(entry(ins, "twin")["rank"], 2);
  EXPECT_EQ(entry(ins, "smooth, \"worse\"")["rank"], 3);
  EXPECT_EQ(entry(ins, "good")["p_rank1"], 1.0);

  // Overall: good has ranks (1, 1), twin (2, 2), worse (3, 3); "broken" is not ranked.
  const json& overall = board["overall"];
  EXPECT_EQ(overall["metrics"], json({"deletion", "insertion"}));
  EXPECT_EQ(overall["top"], "good");
  ASSERT_EQ(overall["entries"].size(), 3u);
  EXPECT_EQ(overall["entries"][0]["method"], "good");
  EXPECT_EQ(overall["entries"][0]["mean_rank"], 1.0);
  EXPECT_EQ(overall["entries"][1]["mean_rank"], 2.0);
  EXPECT_EQ(overall["entries"][2]["rank"], 3);
  EXPECT_EQ(overall["entries"][2]["metric_ranks"]["deletion"], 3.0);
  const double stability = overall["rank_stability"].get<double>();
  EXPECT_EQ(stability, overall["entries"][0]["p_rank1"].get<double>());
  EXPECT_GT(stability, 0.0);
  EXPECT_LE(stability, 1.0);
  EXPECT_EQ(overall["entries"][2]["p_rank1"], 0.0);
  ASSERT_EQ(overall["not_ranked"].size(), 1u);
  EXPECT_EQ(overall["not_ranked"][0]["method"], "broken");

  EXPECT_EQ(lb["settings"]["bootstrap_resamples"], 1000);
  EXPECT_EQ(lb["settings"]["seed"], 11);
  EXPECT_EQ(lb["settings"]["ci_method"], "percentile");
  EXPECT_EQ(lb["settings"]["test"].get<std::string>().rfind(
                "wilcoxon signed-rank, zeros discarded, normal approx.", 0),
            0u);
}

TEST(Leaderboard, EqualMeansShareTheRank) {
  attrib::RunResults r;
  const std::vector<std::string> ids = {"a", "b", "c", "d"};
  r.rows.push_back(make_row("m1", "pointing", +1, {1, 0, 1, 1}, ids));
  r.rows.push_back(make_row("m2", "pointing", +1, {1, 1, 0, 1}, ids));
  r.rows.push_back(make_row("m3", "pointing", +1, {0, 0, 1, 0}, ids));
  r.rows.push_back(make_row("m4", "pointing", +1, {kNaN, kNaN, kNaN, kNaN}, ids));
  const json lb = attrib::compute_leaderboards(r, options());
  const json& m = lb["boards"][0]["metrics"][0];
  EXPECT_EQ(entry(m, "m1")["rank"], 1);
  EXPECT_EQ(entry(m, "m2")["rank"], 1);
  EXPECT_EQ(entry(m, "m3")["rank"], 3);
  EXPECT_TRUE(entry(m, "m1")["best"].get<bool>());
  EXPECT_TRUE(entry(m, "m2")["tied_with_best"].get<bool>());
  EXPECT_EQ(entry(m, "m2")["diff_to_best"]["mean"], 0.0);
  // All undefined: listed, not ranked, counted.
  const json& m4 = entry(m, "m4");
  EXPECT_TRUE(m4["rank"].is_null());
  EXPECT_TRUE(m4["mean"].is_null());
  EXPECT_EQ(m4["n"], 0);
  EXPECT_EQ(m4["n_undefined"], 4);
  EXPECT_EQ(lb["boards"][0]["overall"]["not_ranked"][0]["method"], "m4");
}

TEST(Leaderboard, F1OfMeansAggregatesErasersWay) {
  // Per-example precision (NaN: nothing predicted) and recall; the leaderboard number is
  // F1(mean P over defined, mean R), not the mean per-example F1.
  attrib::RunResults r;
  const std::vector<std::string> ids = {"a", "b", "c", "d"};
  auto row = [&](const std::string& method, std::vector<double> p, std::vector<double> rec) {
    std::vector<double> f1;
    for (std::size_t i = 0; i < p.size(); ++i)
      f1.push_back(std::isnan(p[i]) || p[i] + rec[i] == 0 ? 0.0
                                                          : 2 * p[i] * rec[i] / (p[i] + rec[i]));
    attrib::ScoreRow x = make_row(method, "iou_f1", +1, f1, ids);
    x.aggregation = "f1_of_means";
    x.components = {{"precision", p}, {"recall", rec}};
    return x;
  };
  r.rows.push_back(row("m1", {1.0, 0.5, kNaN, 0.0}, {1.0, 1.0, 0.0, 0.0}));
  r.rows.push_back(row("m2", {1.0, 1.0, 1.0, 1.0}, {0.5, 0.5, 0.5, 0.5}));
  const json lb = attrib::compute_leaderboards(r, options());
  const json& m = lb["boards"][0]["metrics"][0];
  EXPECT_EQ(m["aggregation"], "f1_of_means");
  // m1: mean P = 1.5 / 3 = 0.5, mean R = 0.5 -> 0.5 (the mean per-example F1 would be 0.4167).
  EXPECT_NEAR(entry(m, "m1")["mean"].get<double>(), 0.5, 1e-12);
  // m2: P 1, R 0.5 -> 2/3.
  EXPECT_NEAR(entry(m, "m2")["mean"].get<double>(), 2.0 / 3, 1e-12);
  EXPECT_EQ(entry(m, "m2")["rank"], 1);
  EXPECT_NEAR(entry(m, "m1")["diff_to_best"]["mean"].get<double>(), 0.5 - 2.0 / 3, 1e-12);
  // The interval brackets the point estimate of the same aggregate.
  EXPECT_LE(entry(m, "m2")["ci_low"].get<double>(), 2.0 / 3 + 1e-12);
  EXPECT_GE(entry(m, "m2")["ci_high"].get<double>(), 2.0 / 3 - 1e-12);
  // A row without components is an error row, not a crash.
  attrib::ScoreRow bad = make_row("m3", "iou_f1", +1, {0, 0, 0, 0}, ids);
  bad.aggregation = "f1_of_means";
  r.rows.push_back(bad);
  const json lb2 = attrib::compute_leaderboards(r, options());
  EXPECT_TRUE(entry(lb2["boards"][0]["metrics"][0], "m3")["error"].is_string());
  // The document keeps the components; the Markdown names the aggregation.
  const json doc = attrib::results_document(r, lb);
  EXPECT_EQ(doc["rows"][0]["aggregation"], "f1_of_means");
  EXPECT_TRUE(doc["rows"][0]["components"]["precision"][2].is_null());
  EXPECT_NE(attrib::leaderboard_markdown(doc).find("F1 of means"), std::string::npos);
}

TEST(Leaderboard, PairsByExampleIdAndFlagsBadRows) {
  attrib::RunResults r;
  // Same examples in a different order: the difference per example is exactly 2.
  r.rows.push_back(make_row("a", "m", -1, {1, 2, 3, 4}, {"w", "x", "y", "z"}));
  r.rows.push_back(make_row("b", "m", -1, {6, 5, 4, 3}, {"z", "y", "x", "w"}));
  r.rows.push_back(make_row("c", "m", -1, {1, 2}, {"w"}));  // ids do not match scores
  r.rows.push_back(make_row("a", "m", -1, {9, 9, 9, 9}, {"w", "x", "y", "z"}));  // duplicate
  r.rows.push_back(make_row("d", "m", +1, {1, 1, 1, 1}, {"w", "x", "y", "z"}));  // direction
  const json lb = attrib::compute_leaderboards(r, options());
  const json& m = lb["boards"][0]["metrics"][0];
  const json& b = entry(m, "b");
  EXPECT_EQ(b["diff_to_best"]["ci_low"], 2.0);
  EXPECT_EQ(b["diff_to_best"]["ci_high"], 2.0);
  ASSERT_EQ(m["entries"].size(), 5u);
  int errors = 0;
  for (const json& e : m["entries"])
    if (e["error"].is_string()) ++errors;
  EXPECT_EQ(errors, 3);
  EXPECT_EQ(lb["errors"].size(), 3u);
}

TEST(Leaderboard, DeterministicForTheSameSeed) {
  const attrib::RunResults r = synthetic_results();
  const json a = attrib::compute_leaderboards(r, options());
  const json b = attrib::compute_leaderboards(r, options());
  EXPECT_EQ(a.dump(), b.dump());
  attrib::StatsOptions other = options();
  other.seed = 12;
  EXPECT_NE(a.dump(), attrib::compute_leaderboards(r, other).dump());
}

TEST(Leaderboard, DocumentCsvAndMarkdown) {
  const attrib::RunResults r = synthetic_results();
  const json doc = attrib::results_document(r, attrib::compute_leaderboards(r, options()));
  EXPECT_EQ(doc["json_schema_version"], attrib::kResultsSchemaVersion);
  for (const char* key :
       {"context", "suite", "datasets", "models", "explanations", "rows", "leaderboards", "errors"})
    EXPECT_TRUE(doc.contains(key)) << key;
  ASSERT_EQ(doc["rows"].size(), 7u);
  EXPECT_TRUE(doc["rows"][2]["scores"][3].is_null());  // NaN written as null
  EXPECT_EQ(doc["rows"][2]["example_ids"][3], "ex3");
  EXPECT_EQ(doc["rows"][2]["n_undefined"], 2);
  EXPECT_EQ(doc["rows"][3]["error"], "plugin crashed: out of memory");
  EXPECT_EQ(doc["errors"].size(), 1u);

  const std::string csv = attrib::leaderboard_csv(doc);
  const std::vector<std::string> lines = lines_of(csv);
  ASSERT_EQ(lines.size(), 1u + 4u + 3u);
  EXPECT_EQ(lines[0],
            "dataset,model,metric,direction,method,rank,mean,median,ci_low,ci_high,n,n_undefined,"
            "diff_to_best,diff_ci_low,diff_ci_high,tied_with_best,wilcoxon_p_vs_best,p_rank1,"
            "error,method_info,metric_info");
  EXPECT_EQ(lines[1].rfind("toy,mlp,deletion,-1,good,1,", 0), 0u) << lines[1];
  EXPECT_EQ(lines[3].rfind("toy,mlp,deletion,-1,\"smooth, \"\"worse\"\"\",3,", 0), 0u) << lines[3];
  EXPECT_NE(lines[3].find(",1.0,1.0,1.0,false,"), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find("\"{\"\"baseline\"\":\"\"zero\"\",\"\"steps\"\":10}\""),
            std::string::npos)
      << lines[3];
  EXPECT_EQ(lines[4].rfind("toy,mlp,deletion,-1,broken,,,,,,,,,,,,,,plugin crashed: out of "
                           "memory,",
                           0),
            0u)
      << lines[4];

  const std::string md = attrib::leaderboard_markdown(doc);
  for (const char* needle :
       {"# attrib leaderboard",
        "| suite | toy-suite |",
        "| seed | 3 |",
        "| device | cpu |",
        "| threads | inter_op=1, intra_op=2 |",
        "| attrib version | 0.1.0 |",
        "| git commit | abc123 (dirty) |",
        "## toy / mlp",
        "### Overall",
        "| rank | method | mean rank |",
        "### deletion (↓ lower is better)",
        "### insertion (↑ higher is better)",
        "Choices: baseline=zero, steps=10",
        "| rank | method | mean | 95% CI | Δ vs best [95% CI] | ≈ | p | P(rank 1) | n |",
        "| 2 | twin |",
        " | ≈ | ",
        "28 (2 NaN)",
        "- `broken`: plugin crashed: out of memory",
        "#### Methods",
        "- `good`: params={n_steps=8, name=good}, plugin=builtin",
        "| 3 | smooth, \"worse\" |",
        "+1 [+1, +1]"})
    EXPECT_NE(md.find(needle), std::string::npos) << "missing: " << needle << "\n" << md;
}

TEST(Leaderboard, UndefinedRankConcordanceIsADashNotACrash) {
  // A suite whose methods all tie (a dataset block with max_len 1: one token per example) has an
  // undefined Kendall tau, written as null; rendering it threw json type_error 302 (exit 1).
  const attrib::RunResults r = synthetic_results();
  json doc = attrib::results_document(r, attrib::compute_leaderboards(r, options()));
  json& overall = doc["leaderboards"]["boards"][0]["overall"];
  ASSERT_TRUE(overall.is_object());
  overall["concordance"] = {{"kendall_tau_b_mean", nullptr}, {"kendall_tau_b_low", nullptr}};
  for (json& e : overall["entries"]) e["mean_rank"] = nullptr;
  std::string md;
  EXPECT_NO_THROW(md = attrib::leaderboard_markdown(doc));
  EXPECT_NE(md.find("replicate rankings: mean —, 2.5% quantile —."), std::string::npos) << md;
}

TEST(Leaderboard, WriteResultsWritesThreeFiles) {
  const std::filesystem::path dir = test_tmp() / "stats_test_write" / "nested";
  std::filesystem::remove_all(dir);
  attrib::write_results(dir.string(), synthetic_results(), options());
  for (const char* name : {"results.json", "leaderboard.md", "leaderboard.csv"})
    EXPECT_TRUE(std::filesystem::exists(dir / name)) << name;
  std::ifstream in(dir / "results.json");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().rfind("{\n  \"", 0), 0u);  // pretty-printed, 2-space indent
  const json doc = json::parse(text.str());
  EXPECT_EQ(doc["json_schema_version"], attrib::kResultsSchemaVersion);
  EXPECT_EQ(doc["leaderboards"]["boards"][0]["metrics"][0]["best"], "good");
}
