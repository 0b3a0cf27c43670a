// Known-answer tests of sparseness (Gini) and complexity (entropy) (METRICS.md §5).
#include <gtest/gtest.h>

#include <cmath>

#include "analytic_models.h"
#include "attrib/params.h"
#include "metric.h"

namespace {

using nlohmann::json;

std::vector<double> run(const std::string& name, json params, const at::Tensor& scores,
                        const attrib::Batch* text = nullptr) {
  const auto& spec = attrib::find_metric(name);
  params = attrib::resolve_params(spec.params, params, "params");
  auto metric = spec.create(params);
  attrib::Batch b;
  if (text) {
    b = *text;
  } else {
    b.inputs = at::zeros_like(scores);
    for (int64_t i = 0; i < scores.size(0); ++i) b.ids.push_back("ex" + std::to_string(i));
    b.labels = at::zeros({scores.size(0)}, at::kLong);
  }
  attrib_test::NoModel model;
  at::Tensor targets = at::zeros({b.size()}, at::kLong);
  attrib::MetricInput in{model, b, scores, targets, nullptr, 0, 256};
  auto out = metric->score(in);
  EXPECT_TRUE(metric->info().contains("definition"));
  return out;
}

at::Tensor row(std::vector<float> v) { return at::tensor(v).view({1, -1}); }

TEST(Complexity, Registered) {
  EXPECT_EQ(attrib::find_metric("sparseness").direction, +1);
  EXPECT_EQ(attrib::find_metric("complexity").direction, -1);
  EXPECT_EQ(attrib::find_metric("sparseness").family, "complexity");
}

TEST(Complexity, ConstantMap) {
  // Gini of a constant map is 0; its entropy is ln n.
  EXPECT_NEAR(run("sparseness", json::object(), row({2, 2, 2, 2}))[0], 0.0, 1e-12);
  EXPECT_NEAR(run("sparseness", json::object(), row({-2, 2, -2, 2}))[0], 0.0, 1e-12);
  EXPECT_NEAR(run("complexity", json::object(), row({3, -3, 3, 3, 3}))[0], std::log(5.0), 1e-9);
  // All-zero map: Gini of the constant delta is 0; entropy undefined.
  EXPECT_NEAR(run("sparseness", json::object(), row({0, 0, 0}))[0], 0.0, 1e-12);
  EXPECT_TRUE(std::isnan(run("complexity", json::object(), row({0, 0, 0}))[0]));
}

TEST(Complexity, OneHotMap) {
  // v = (0, 0, 0, 1) with delta = 0: G = (2*4 - 4 - 1) * 1 / (4 * 1) = 3/4 = (n-1)/n.
  json p = {{"delta", 0.0}};
  EXPECT_NEAR(run("sparseness", p, row({0, 0, -7, 0}))[0], 0.75, 1e-12);
  // Entropy of a one-hot distribution: -1 * ln(1 + 1e-12) ~ 0.
  EXPECT_NEAR(run("complexity", json::object(), row({0, 0, 5, 0}))[0], 0.0, 1e-9);
}

TEST(Complexity, SmallExamplesByHand) {
  json p = {{"delta", 0.0}};
  // |a| = (3, 1, 2) sorted (1, 2, 3), sum 6: G = (-2*1 + 0*2 + 2*3) / (3 * 6) = 4/18.
  EXPECT_NEAR(run("sparseness", p, row({-3, 1, 2}))[0], 4.0 / 18, 1e-12);
  // p = (1/2, 1/4, 1/4): H = 1/2 ln 2 + 2 * 1/4 ln 4 = 1.5 ln 2.
  EXPECT_NEAR(run("complexity", p, row({2, -1, 1}))[0], 1.5 * std::log(2.0), 1e-12);
  // Batch rows are independent.
  auto two = run("complexity", p, at::tensor({2.0f, -1.0f, 1.0f, 1.0f, 1.0f, 1.0f}).view({2, 3}));
  EXPECT_NEAR(two[0], 1.5 * std::log(2.0), 1e-12);
  EXPECT_NEAR(two[1], std::log(3.0), 1e-12);
}

TEST(Complexity, QuantusNormalisationAndEffectiveComplexity) {
  // Quantus's sparseness divides by max |a| before adding delta = 1e-7: |a| = (4, 0, 2) becomes
  // (1, 0, 0.5), + delta, sorted (d, 0.5 + d, 1 + d), sum 1.5 + 3d:
  // G = (-2 d + 0 + 2 (1 + d)) / (3 (1.5 + 3 d)) = 2 / (4.5 + 9 d).
  const double d = 1e-7;
  EXPECT_NEAR(run("sparseness", {{"normalise", "max_abs"}}, row({4, 0, -2}))[0], 2 / (4.5 + 9 * d),
              1e-15);
  // Without normalisation the delta weighs 4x less: 2 * 4 / (3 * (6 + 3d)) with |a| sum 6.
  EXPECT_NEAR(run("sparseness", json::object(), row({4, 0, -2}))[0],
              (-2 * d + 2 * (4 + d)) / (3 * (6 + 3 * d)), 1e-15);
  // Effective complexity: |a| / max > 1e-5: (1, 0, 0.5, 1e-6) -> 2 features.
  EXPECT_EQ(run("effective_complexity", json::object(), row({-4, 0, 2, 4e-6f}))[0], 2.0);
  EXPECT_EQ(run("effective_complexity", json::object(), row({0, 0, 0}))[0], 0.0);
  EXPECT_EQ(attrib::find_metric("effective_complexity").direction, -1);
  // The profile is Quantus's settings.
  const auto& q = attrib::find_profile(attrib::find_metric("sparseness"), "quantus");
  EXPECT_EQ(q.params["normalise"], "max_abs");
  EXPECT_EQ(q.params["delta"], 1e-7);
}

TEST(Complexity, TextCountsOnlyFeatures) {
  attrib::Batch b;
  b.modality = attrib::Modality::kText;
  b.ids = {"t0"};
  b.inputs = at::tensor({2, 3, 4, 1}, at::kLong).view({1, -1});
  b.attention_mask = at::tensor({1, 1, 1, 0}, at::kLong).view({1, -1});
  b.word_ids = at::tensor({-1, 0, 1, -1}, at::kLong).view({1, -1});
  b.labels = at::zeros({1}, at::kLong);
  // Two features with equal |a|: entropy ln 2 (ln 4 if the special positions counted).
  EXPECT_NEAR(run("complexity", json::object(), row({0, 1, -1, 0}), &b)[0], std::log(2.0), 1e-9);
  EXPECT_NEAR(run("sparseness", json::object(), row({0, 1, -1, 0}), &b)[0], 0.0, 1e-12);
}

}  // namespace
