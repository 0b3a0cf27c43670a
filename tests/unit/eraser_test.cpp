// Known-answer tests of ERASER comprehensiveness and sufficiency (METRICS.md §1.3), computed by
// hand on linear models.
#include <gtest/gtest.h>

#include <cmath>

#include "attrib/error.h"
#include "attrib/params.h"
#include "metric.h"

namespace {

using nlohmann::json;

// Dense: logits = [w . x, 0]. Zeroing feature i lowers the class-0 logit by w_i x_i.
class EraserLinear : public attrib::ModelAdapter {
 public:
  explicit EraserLinear(std::vector<float> w) : w_(at::tensor(w)) {
    info_.name = "eraser_linear";
    info_.num_classes = 2;
    info_.capabilities = ATTRIB_CAP_FORWARD;
  }
  const attrib::ModelInfo& info() const override { return info_; }
  at::Tensor forward(const at::Tensor& x, const at::Tensor&) override {
    max_rows_seen = std::max<int64_t>(max_rows_seen, x.size(0));
    at::Tensor z = (x.to(at::kFloat) * w_).sum(1, true);
    return at::cat({z, at::zeros_like(z)}, 1);
  }
  void to(const at::Device&) override {}
  at::Device device() const override { return at::kCPU; }
  int64_t max_rows_seen = 0;

 private:
  attrib::ModelInfo info_;
  at::Tensor w_;
};

// Text: logits = [sum over attended tokens of w[id], 0] (a bag of words).
class EraserBag : public attrib::ModelAdapter {
 public:
  explicit EraserBag(std::vector<float> w) : w_(at::tensor(w)) {
    info_.name = "eraser_bag";
    info_.num_classes = 2;
    info_.capabilities = ATTRIB_CAP_FORWARD;
    info_.unk_id = 0;
    info_.pad_id = 1;
  }
  const attrib::ModelInfo& info() const override { return info_; }
  at::Tensor forward(const at::Tensor& x, const at::Tensor& mask) override {
    at::Tensor v = w_.index_select(0, x.reshape({-1})).view(x.sizes());
    at::Tensor z = (v * mask.to(at::kFloat)).sum(1, true);
    return at::cat({z, at::zeros_like(z)}, 1);
  }
  void to(const at::Device&) override {}
  at::Device device() const override { return at::kCPU; }

 private:
  attrib::ModelInfo info_;
  at::Tensor w_;
};

std::vector<double> run(const std::string& name, json params, attrib::ModelAdapter& model,
                        const attrib::Batch& b, const at::Tensor& scores, int64_t max_rows = 256) {
  const auto& spec = attrib::find_metric(name);
  params = attrib::resolve_params(spec.params, params, "params");
  auto metric = spec.create(params);
  at::Tensor targets = at::zeros({b.size()}, at::kLong);
  attrib::MetricInput in{model, b, scores, targets, nullptr, 0, max_rows};
  auto out = metric->score(in);
  EXPECT_TRUE(metric->info().contains("rounding"));
  return out;
}

attrib::Batch dense(const at::Tensor& x) {
  attrib::Batch b;
  b.inputs = x;
  for (int64_t i = 0; i < x.size(0); ++i) b.ids.push_back("ex" + std::to_string(i));
  b.labels = at::zeros({x.size(0)}, at::kLong);
  return b;
}

const json kLogit = {{"output", "logit"},
                     {"target", "explained"},
                     {"substrate", "zero"},
                     {"tie_break", "index"},
                     {"bins", {0.25, 0.5}}};

TEST(Eraser, Registered) {
  EXPECT_EQ(attrib::find_metric("comprehensiveness").direction, +1);
  EXPECT_EQ(attrib::find_metric("sufficiency").direction, -1);
  EXPECT_EQ(attrib::find_metric("comprehensiveness").suite, "faithfulness");
}

TEST(Eraser, LinearModelBins25And50) {
  EraserLinear model({4, 3, 2, 1});
  auto b = dense(at::ones({1, 4}));
  at::Tensor a = at::tensor({4.0f, 3.0f, 2.0f, 1.0f}).view({1, -1});
  // f(x) = 10; k = 1, 2. Removing {0} -> 6, {0,1} -> 3: comp = ((10-6) + (10-3)) / 2 = 5.5.
  EXPECT_NEAR(run("comprehensiveness", kLogit, model, b, a)[0], 5.5, 1e-12);
  // Keeping {0} -> 4, {0,1} -> 7: suff = ((10-4) + (10-7)) / 2 = 4.5.
  EXPECT_NEAR(run("sufficiency", kLogit, model, b, a)[0], 4.5, 1e-12);
  // Reversed ranking: remove {3} -> 9, {3,2} -> 7: comp = (1 + 3) / 2 = 2.
  EXPECT_NEAR(run("comprehensiveness", kLogit, model, b, -a)[0], 2.0, 1e-12);
  // Keep {3} -> 1, {3,2} -> 3: suff = (9 + 7) / 2 = 8.
  EXPECT_NEAR(run("sufficiency", kLogit, model, b, -a)[0], 8.0, 1e-12);
}

TEST(Eraser, RoundingDefaultBinsAndDuplicates) {
  EraserLinear model({5, 4, 3, 2, 1});
  auto b = dense(at::ones({1, 5}));
  at::Tensor a = at::tensor({5.0f, 4.0f, 3.0f, 2.0f, 1.0f}).view({1, -1});
  json p = kLogit;
  p["bins"] = {0.3};                                                     // 0.3 * 5 = 1.5
  EXPECT_NEAR(run("comprehensiveness", p, model, b, a)[0], 9.0, 1e-12);  // ceil: k = 2
  p["rounding"] = "floor";
  EXPECT_NEAR(run("comprehensiveness", p, model, b, a)[0], 5.0, 1e-12);  // k = 1
  p["rounding"] = "round";
  EXPECT_NEAR(run("comprehensiveness", p, model, b, a)[0], 9.0, 1e-12);  // k = 2
  // floor(0.1 * 5) = 0: the only bin is skipped, nothing is left -> NaN.
  p["rounding"] = "floor";
  p["bins"] = {0.1};
  EXPECT_TRUE(std::isnan(run("comprehensiveness", p, model, b, a)[0]));
  // Exact products are not pushed up by float error: ceil(0.2 * 5) = 1, not 2.
  p["rounding"] = "ceil";
  p["bins"] = {0.2};
  EXPECT_NEAR(run("comprehensiveness", p, model, b, a)[0], 5.0, 1e-12);

  // Default bins {1,5,10,20,50}% with n = 4 and ceil: k = 1,1,1,1,2.
  EraserLinear m4({4, 3, 2, 1});
  auto b4 = dense(at::ones({1, 4}));
  at::Tensor a4 = at::tensor({4.0f, 3.0f, 2.0f, 1.0f}).view({1, -1});
  json q = kLogit;
  q.erase("bins");
  EXPECT_NEAR(run("comprehensiveness", q, m4, b4, a4)[0], (4 * 4.0 + 7) / 5, 1e-12);
  // ferret-style de-duplication keeps k = 1 and k = 2 only.
  q["skip_duplicates"] = true;
  EXPECT_NEAR(run("comprehensiveness", q, m4, b4, a4)[0], 5.5, 1e-12);
}

TEST(Eraser, ProbabilityOfPredictedClassByDefault) {
  EraserLinear model({1, 1});
  at::Tensor a = at::tensor({2.0f, 1.0f}).view({1, -1});
  const json p = {{"bins", {0.5}}};
  auto sig = [](double z) { return 1 / (1 + std::exp(-z)); };
  // x = (1, 2): predicted class 0, p = sig(3). Removing feature 0 -> sig(2); keeping it -> sig(1).
  auto b = dense(at::tensor({1.0f, 2.0f}).view({1, -1}));
  EXPECT_NEAR(run("comprehensiveness", p, model, b, a)[0], sig(3) - sig(2), 1e-9);
  EXPECT_NEAR(run("sufficiency", p, model, b, a)[0], sig(3) - sig(1), 1e-9);
  // x = (-1, -2): the prediction is class 1 (the explained target 0 is ignored):
  // p_1 = 1 - sig(-3) = sig(3), and after removing feature 0, 1 - sig(-2) = sig(2).
  auto c = dense(at::tensor({-1.0f, -2.0f}).view({1, -1}));
  EXPECT_NEAR(run("comprehensiveness", p, model, c, a)[0], sig(3) - sig(2), 1e-9);
}

TEST(Eraser, DenseMeanSubstrate) {
  EraserLinear model({1, 1, 1, 1});
  auto b = dense(at::tensor({1.0f, 2.0f, 3.0f, 6.0f}).view({1, -1}));
  at::Tensor a = at::tensor({4.0f, 3.0f, 2.0f, 1.0f}).view({1, -1});
  json p = kLogit;
  p["substrate"] = "mean";
  p["bins"] = {0.25};
  // Feature 0 (x = 1) becomes the mean 3: the logit rises from 12 to 14, comp = -2.
  EXPECT_NEAR(run("comprehensiveness", p, model, b, a)[0], -2.0, 1e-12);
}

TEST(Eraser, TextSubstratesKeepSpecialTokens) {
  // Vocabulary weights: unk 0, pad 1, [CLS] 2 (weight 100, not a feature), words 3..6.
  EraserBag model({0, 0, 100, 1, 2, 3, 4});
  attrib::Batch b;
  b.modality = attrib::Modality::kText;
  b.ids = {"t0"};
  b.inputs = at::tensor({2, 3, 4, 5, 1}, at::kLong).view({1, -1});
  b.attention_mask = at::tensor({1, 1, 1, 1, 0}, at::kLong).view({1, -1});
  b.word_ids = at::tensor({-1, 0, 1, 2, -1}, at::kLong).view({1, -1});
  b.labels = at::zeros({1}, at::kLong);
  at::Tensor a = at::tensor({0.0f, 1.0f, 3.0f, 2.0f, 0.0f}).view({1, -1});
  json p = {{"output", "logit"}, {"target", "explained"}, {"bins", {0.3, 0.6}}};
  // n = 3, k = 1, 2; ranking: position 2 (w 2), 3 (w 3), 1 (w 1); f(x) = 106.
  for (const char* s : {"unk", "pad", "delete"}) {
    p["substrate"] = s;
    // Remove {2} -> 104, {2,3} -> 101: comp = (2 + 5) / 2.
    EXPECT_NEAR(run("comprehensiveness", p, model, b, a)[0], 3.5, 1e-9) << s;
    // Keep [CLS] + {2} -> 102, [CLS] + {2,3} -> 105: suff = (4 + 1) / 2.
    EXPECT_NEAR(run("sufficiency", p, model, b, a)[0], 2.5, 1e-9) << s;
  }
  p["substrate"] = "mask";
  EXPECT_THROW(run("comprehensiveness", p, model, b, a), attrib::Error);
  p["substrate"] = "zero";
  EXPECT_THROW(run("comprehensiveness", p, model, b, a), attrib::Error);
}

TEST(Eraser, BatchCapAndBatchInvariance) {
  EraserLinear model({4, 3, 2, 1});
  auto b = dense(at::rand({6, 4}));
  at::Tensor a = at::randn({6, 4});
  json p = kLogit;
  p.erase("bins");
  for (const char* name : {"comprehensiveness", "sufficiency"}) {
    model.max_rows_seen = 0;
    auto all = run(name, p, model, b, a, /*max_rows=*/4);
    EXPECT_LE(model.max_rows_seen, 4);
    for (int64_t i = 0; i < 6; ++i) {
      auto one = run(name, p, model, dense(b.inputs.slice(0, i, i + 1)), a.slice(0, i, i + 1));
      EXPECT_NEAR(all[i], one[0], 1e-6);
    }
  }
}

}  // namespace
