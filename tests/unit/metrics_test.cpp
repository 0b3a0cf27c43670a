// Known-answer tests of the deletion and insertion curves (METRICS.md §1.1) on a linear model.
#include <gtest/gtest.h>

#include <cmath>

#include "attrib/error.h"
#include "attrib/params.h"
#include "metric.h"

namespace {

using nlohmann::json;

// logits = [w . x, 0]: the tracked logit of class 0 drops by w_i x_i when feature i is zeroed.
class LinearLogit : public attrib::ModelAdapter {
 public:
  explicit LinearLogit(std::vector<float> w) : w_(at::tensor(w)) {
    info_.name = "linear_logit";
    info_.num_classes = 2;
    info_.capabilities = ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT;
  }
  const attrib::ModelInfo& info() const override { return info_; }
  at::Tensor forward(const at::Tensor& x, const at::Tensor&) override {
    rows += x.size(0);
    max_rows_seen = std::max<int64_t>(max_rows_seen, x.size(0));
    at::Tensor z = (x.to(at::kFloat) * w_).sum(1, true);
    return at::cat({z, at::zeros_like(z)}, 1);
  }
  void to(const at::Device&) override {}
  at::Device device() const override { return at::kCPU; }
  int64_t rows = 0, max_rows_seen = 0;

 private:
  attrib::ModelInfo info_;
  at::Tensor w_;
};

std::vector<double> run_metric(const std::string& name, json params, attrib::ModelAdapter& model,
                               const at::Tensor& x, const at::Tensor& scores,
                               int64_t max_rows = 256) {
  const auto& spec = attrib::find_metric(name);
  params = attrib::resolve_params(spec.params, params, "params");
  auto metric = spec.create(params);
  attrib::Batch b;
  b.inputs = x;
  for (int64_t i = 0; i < x.size(0); ++i) b.ids.push_back("ex" + std::to_string(i));
  b.labels = at::zeros({x.size(0)}, at::kLong);
  at::Tensor targets = at::zeros({x.size(0)}, at::kLong);
  attrib::MetricInput in{model, b, scores, targets, nullptr, 0, max_rows};
  return metric->score(in);
}

const json kLogit = {
    {"output", "logit"}, {"target", "explained"}, {"substrate", "zero"}, {"tie_break", "index"}};

TEST(DeletionInsertion, LinearModelKnownCurves) {
  LinearLogit model({4, 3, 2, 1});
  at::Tensor x = at::ones({1, 4});
  at::Tensor a = at::tensor({4.0f, 3.0f, 2.0f, 1.0f}).view({1, -1});
  json p = kLogit;
  p["step_fraction"] = 0.25;  // one feature per step, K = 4
  // Deletion curve D = [10, 6, 3, 1, 0]: RISE AUC = (20 - (10 + 0) / 2) / 4 = 3.75.
  EXPECT_NEAR(run_metric("deletion", p, model, x, a)[0], 3.75, 1e-12);
  // Insertion curve I = [0, 4, 7, 9, 10]: (30 - 5) / 4 = 6.25.
  EXPECT_NEAR(run_metric("insertion", p, model, x, a)[0], 6.25, 1e-12);
  // Unit-spacing trapezoid of D: 8 + 4.5 + 2 + 0.5 = 15.
  p["auc"] = "trapezoid_unit";
  EXPECT_NEAR(run_metric("deletion", p, model, x, a)[0], 15.0, 1e-12);
  // The reversed (least relevant first) order deletes slowly: D = [10, 9, 7, 4, 0] -> 6.25.
  p["auc"] = "rise";
  EXPECT_NEAR(run_metric("deletion", p, model, x, -a)[0], 6.25, 1e-12);
}

TEST(DeletionInsertion, UnevenLastStep) {
  // n = 5, s = ceil(0.4 * 5) = 2: m = [0, 2, 4, 5]; D = [15, 6, 1, 0] with w = [5,4,3,2,1].
  LinearLogit model({5, 4, 3, 2, 1});
  at::Tensor x = at::ones({1, 5});
  at::Tensor a = at::tensor({5.0f, 4.0f, 3.0f, 2.0f, 1.0f}).view({1, -1});
  json p = kLogit;
  p["step_fraction"] = 0.4;
  // RISE treats the 3 steps as equal: (22 - 7.5) / 3.
  EXPECT_NEAR(run_metric("deletion", p, model, x, a)[0], 14.5 / 3, 1e-12);
  // Against the true fraction: 0.4*(15+6)/2 + 0.4*(6+1)/2 + 0.2*(1+0)/2 = 4.2 + 1.4 + 0.1.
  p["auc"] = "trapezoid_fraction";
  EXPECT_NEAR(run_metric("deletion", p, model, x, a)[0], 5.7, 1e-12);
}

TEST(DeletionInsertion, CurvesResampledOntoTheFractionGrid) {
  // As above: the curve D = [15, 6, 1, 0] at fractions [0, 0.4, 0.8, 1] of the 5 features.
  LinearLogit model({5, 4, 3, 2, 1});
  json p = kLogit;
  p["step_fraction"] = 0.4;
  const auto& spec = attrib::find_metric("deletion");
  auto metric = spec.create(attrib::resolve_params(spec.params, p, "params"));
  attrib::Batch b;
  b.inputs = at::ones({1, 5});
  b.ids = {"ex0"};
  b.labels = at::zeros({1}, at::kLong);
  const at::Tensor a = at::tensor({5.0f, 4.0f, 3.0f, 2.0f, 1.0f}).view({1, -1});
  const at::Tensor targets = at::zeros({1}, at::kLong);
  metric->score({model, b, a, targets, nullptr, 0, 256});
  const std::vector<double> c = metric->curves().at("deletion");
  ASSERT_EQ(c.size(), static_cast<size_t>(attrib::kCurvePoints));
  EXPECT_NEAR(c[0], 15.0, 1e-12);  // 0 %
  EXPECT_NEAR(c[4], 10.5, 1e-12);  // 20 %: halfway from 15 to 6
  EXPECT_NEAR(c[8], 6.0, 1e-12);   // 40 %
  EXPECT_NEAR(c[12], 3.5, 1e-12);  // 60 %
  EXPECT_NEAR(c[18], 0.5, 1e-12);  // 90 %
  EXPECT_NEAR(c[20], 0.0, 1e-12);  // 100 %
}

TEST(DeletionInsertion, ProbabilityOfPredictedClassAndTies) {
  LinearLogit model({1, 1});
  at::Tensor x = at::tensor({1.0f, 2.0f}).view({1, -1});
  at::Tensor a =
      at::tensor({1.0f, 1.0f}).view({1, -1});  // tied: index order deletes feature 0 first
  json p = {{"substrate", "zero"}, {"tie_break", "index"}, {"step_fraction", 0.5}};
  const double s3 = 1 / (1 + std::exp(-3.0)), s2 = 1 / (1 + std::exp(-2.0)), s0 = 0.5;
  EXPECT_NEAR(run_metric("deletion", p, model, x, a)[0], (s3 + 2 * s2 + s0) / 4, 1e-9);
  // Random tie-breaking is seeded per example: same result every time.
  p["tie_break"] = "random";
  EXPECT_EQ(run_metric("deletion", p, model, x, a), run_metric("deletion", p, model, x, a));
}

TEST(DeletionInsertion, BatchCapAndBatchInvariance) {
  LinearLogit model({4, 3, 2, 1});
  at::Tensor x = at::rand({6, 4});
  at::Tensor a = at::randn({6, 4});
  json p = kLogit;
  p["step_fraction"] = 0.25;
  auto all = run_metric("deletion", p, model, x, a, /*max_rows=*/7);
  EXPECT_LE(model.max_rows_seen, 7);
  for (int64_t i = 0; i < 6; ++i) {
    auto one = run_metric("deletion", p, model, x.slice(0, i, i + 1), a.slice(0, i, i + 1));
    EXPECT_NEAR(all[i], one[0], 1e-6);
  }
}

TEST(DeletionInsertion, TextSubstrateOnDenseInputIsAClearError) {
  LinearLogit model({1, 1});
  json p = {{"substrate", "unk"}};
  try {
    run_metric("deletion", p, model, at::ones({1, 2}), at::ones({1, 2}));
    FAIL() << "expected an error";
  } catch (const attrib::Error& e) {
    EXPECT_STREQ(e.what(), "metric deletion: substrate 'unk' does not apply to dense inputs");
  }
}

}  // namespace
