// The metrics' reference profiles against independent restatements of the reference code
// (tests/python/metric_reference.py: ERASER's metrics.py, ferret's evaluators, Quantus 0.6.0 and
// OpenXAI's metrics.py, on sklearn and scipy): 300 random maps and rationales with ties, zeros,
// negative scores and whole-input rationales. Per example and on the leaderboard aggregate.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/agreement_measures.h"
#include "analytic_models.h"
#include "attrib/params.h"
#include "attrib/random.h"
#include "metric.h"
#include "leaderboard.h"
#include "reporters.h"
#include "results.h"
#include "test_files.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct Case {
  std::vector<double> a, b;
  std::vector<int> s;
};

// Random cases: lengths 3..40, scores rounded to a coarse grid (ties), some zeros, some negative;
// rationales of 1..n features (every 12th covers the whole input).
std::vector<Case> make_cases(int count) {
  at::Generator g = attrib::example_generator(11, "metric_reference", 1);
  std::vector<Case> cases;
  for (int c = 0; c < count; ++c) {
    Case x;
    const int64_t n = at::randint(3, 41, {1}, g).item<int64_t>();
    const at::Tensor a = (at::randn({n}, g, at::kDouble) * 4).round() / 4;
    const at::Tensor b = (at::randn({n}, g, at::kDouble) * 3).round() / 3;
    const at::Tensor keep = at::rand({n}, g, at::kDouble) < 0.35;
    int64_t m = at::randint(1, n + 1, {1}, g).item<int64_t>();
    if (c % 12 == 0) m = n;
    const at::Tensor order = at::rand({n}, g, at::kDouble).argsort(int64_t{0}, false);
    for (int64_t i = 0; i < n; ++i) {
      x.a.push_back(a[i].item<double>());
      x.b.push_back(keep[i].item<bool>() ? 0.0 : b[i].item<double>());
      x.s.push_back(order[i].item<int64_t>() < m ? 1 : 0);
    }
    cases.push_back(std::move(x));
  }
  return cases;
}

struct Scored {
  std::vector<double> per_case;
  double aggregate = NAN;
};

// attrib's metric `name` under `profile` (plus `extra` params) on every case, and the leaderboard
// number of the row (compute_leaderboards, so ERASER's F1-of-means goes through its real path).
Scored score(const std::vector<Case>& cases, const std::string& name, const std::string& profile,
             const json& extra = json::object()) {
  const attrib::MetricSpec& spec = attrib::find_metric(name);
  json params = attrib::find_profile(spec, profile).params;
  for (const auto& [k, v] : extra.items()) params[k] = v;
  auto metric = spec.create(attrib::resolve_params(spec.params, params, "params"));
  attrib::ScoreRow row;
  row.dataset = "cases";
  row.model = "none";
  row.method = "map";
  row.metric = name;
  row.direction = spec.direction;
  attrib_test::NoModel model;
  for (size_t c = 0; c < cases.size(); ++c) {
    const int64_t n = static_cast<int64_t>(cases[c].a.size());
    attrib::Batch b;
    b.inputs = at::zeros({1, n});
    b.ids = {"case" + std::to_string(c)};
    b.labels = at::zeros({1}, at::kLong);
    std::vector<float> mask(cases[c].s.begin(), cases[c].s.end());
    attrib::Annotations ann{at::tensor(mask).view({1, n}), at::ones({1}, at::kBool)};
    const at::Tensor scores = at::tensor(cases[c].a, at::kDouble).view({1, n});
    const at::Tensor targets = at::zeros({1}, at::kLong);
    attrib::MetricInput in{model, b, scores, targets, &ann, 0, 256};
    row.scores.push_back(metric->score(in)[0]);
    row.example_ids.push_back(b.ids[0]);
    for (const auto& [part, values] : metric->components())
      row.components[part].push_back(values[0]);
  }
  row.aggregation = metric->aggregation();
  Scored out{row.scores};
  attrib::RunResults results;
  results.rows.push_back(row);
  attrib::StatsOptions stats;
  stats.bootstrap_resamples = 0;
  const json lb = attrib::compute_leaderboards(results, stats);
  const json& mean = lb["boards"][0]["metrics"][0]["entries"][0]["mean"];
  out.aggregate = mean.is_number() ? mean.get<double>() : NAN;
  return out;
}

// The OpenXAI agreement measures of map a against map b (k = 0.25, ranks of |.|, ties by index,
// RA/SRA also requiring equal dense ranks: the agreement block's "openxai" profile).
Scored agreement(const std::vector<Case>& cases, const std::string& measure) {
  Scored out;
  double sum = 0;
  for (const Case& c : cases) {
    const double v = attrib::agreement::measure(measure, c.a, c.b, 0.25, true, nullptr, true);
    out.per_case.push_back(v);
    sum += v;  // OpenXAI's np.mean: one NaN makes the mean NaN
  }
  out.aggregate = sum / static_cast<double>(cases.size());
  return out;
}

// Compares per case and on the aggregate. With `keep`, only the kept cases count, and both
// aggregates become the mean of the kept defined values.
void expect_match(const std::string& name, Scored ours, json ref,
                  const std::function<bool(size_t)>& keep = nullptr) {
  SCOPED_TRACE(name);
  ASSERT_TRUE(ref.contains("per_case")) << ref.dump();
  ASSERT_EQ(ref["per_case"].size(), ours.per_case.size());
  if (keep) {
    double a = 0, b = 0;
    int n = 0;
    for (size_t c = 0; c < ours.per_case.size(); ++c) {
      if (!keep(c)) {
        ours.per_case[c] = NAN;
        ref["per_case"][c] = nullptr;
      } else if (!ref["per_case"][c].is_null()) {
        a += ours.per_case[c];
        b += ref["per_case"][c].get<double>();
        ++n;
      }
    }
    ours.aggregate = a / n;
    ref["aggregate"] = b / n;
  }
  for (size_t c = 0; c < ours.per_case.size(); ++c) {
    const json& r = ref["per_case"][c];
    if (r.is_null()) {
      EXPECT_TRUE(std::isnan(ours.per_case[c])) << "case " << c << ": " << ours.per_case[c];
    } else {
      EXPECT_NEAR(ours.per_case[c], r.get<double>(), 1e-8) << "case " << c;
    }
  }
  if (ref["aggregate"].is_null())
    EXPECT_TRUE(std::isnan(ours.aggregate)) << ours.aggregate;
  else
    EXPECT_NEAR(ours.aggregate, ref["aggregate"].get<double>(), 1e-8);
}

TEST(MetricReference, ProfilesReproduceEraserFerretQuantusOpenXai) {
  if (std::system("'" ATTRIB_PYTHON "' -c 'import numpy, scipy, sklearn' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << ATTRIB_PYTHON << " lacks numpy, scipy or sklearn (python3-sklearn)";
  const std::vector<Case> cases = make_cases(300);
  const fs::path dir = attrib_test::files::fresh_dir("metric_reference", "cases");
  json in = {{"cases", json::array()}};
  for (const Case& c : cases) in["cases"].push_back({{"a", c.a}, {"b", c.b}, {"s", c.s}});
  attrib_test::files::write(dir / "in.json", in.dump());
  const std::string cmd = "'" ATTRIB_PYTHON "' '" ATTRIB_SOURCE_DIR
                          "/tests/python/metric_reference.py' '" +
                          (dir / "in.json").string() + "' '" + (dir / "out.json").string() +
                          "' 2>'" + (dir / "err.txt").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream f(dir / "out.json");
  const json ref = json::parse(f)["values"];

  const json index = {{"tie_break", "index"}};
  expect_match("eraser.token_f1", score(cases, "token_f1", "eraser", index),
               ref["eraser.token_f1"]);
  expect_match("eraser.iou_f1", score(cases, "iou_f1", "eraser", index), ref["eraser.iou_f1"]);
  expect_match("eraser.auprc", score(cases, "auprc", "eraser"), ref["eraser.auprc"]);
  expect_match("eraser.average_precision", score(cases, "average_precision", "eraser"),
               ref["eraser.average_precision"]);
  expect_match("eraser.roc_auc", score(cases, "roc_auc", "eraser"), ref["eraser.roc_auc"]);
  expect_match("ferret.token_f1", score(cases, "token_f1", "ferret"), ref["ferret.token_f1"]);
  expect_match("ferret.auprc", score(cases, "auprc", "ferret"), ref["ferret.auprc"]);
  for (const char* m : {"pointing_game", "attribution_localisation", "relevance_rank_accuracy",
                        "roc_auc", "sparseness", "complexity", "effective_complexity"})
    expect_match(std::string("quantus.") + m, score(cases, m, "quantus"),
                 ref[std::string("quantus.") + m]);
  // Quantus divides by the signed sum unguarded: where it is 0 in exact arithmetic its value is
  // rounding noise (up to 1e16) and attrib's NaN; compared where the sum is not ~0.
  expect_match("quantus.relevance_mass_accuracy",
               score(cases, "relevance_mass_accuracy", "quantus"),
               ref["quantus.relevance_mass_accuracy"], [&](size_t c) {
                 double sum = 0, mass = 0;
                 for (double v : cases[c].a) sum += v, mass += std::fabs(v);
                 return std::fabs(sum) > 1e-9 * mass;
               });
  // Quantus raises for k >= n (k = 5 here) where attrib clamps k to n: compared on n > 5.
  for (size_t c = 0; c < cases.size(); ++c)
    if (cases[c].a.size() <= 5)
      EXPECT_TRUE(ref["quantus.top_k_intersection"]["per_case"][c].is_null());
  expect_match("quantus.top_k_intersection",
               score(cases, "top_k_intersection", "quantus", {{"k", 5}}),
               ref["quantus.top_k_intersection"], [&](size_t c) { return cases[c].a.size() > 5; });
  const std::vector<std::pair<std::string, std::string>> openxai = {
      {"FA", "feature_agreement"}, {"RA", "rank_agreement"},
      {"SA", "sign_agreement"},    {"SRA", "signed_rank_agreement"},
      {"RC", "rank_correlation"},  {"PRA", "pairwise_rank_agreement"}};
  for (const auto& [ox, ours] : openxai)
    expect_match("openxai." + ox, agreement(cases, ours), ref["openxai." + ox]);
}

}  // namespace
