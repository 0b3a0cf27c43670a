// Known-answer tests of the plausibility metrics (METRICS.md §3), computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "analytic_models.h"
#include "attrib/error.h"
#include "attrib/params.h"
#include "metric.h"

namespace {

using nlohmann::json;

attrib::Batch dense(int64_t B, int64_t n) {
  attrib::Batch b;
  b.inputs = at::zeros({B, n});
  for (int64_t i = 0; i < B; ++i) b.ids.push_back("ex" + std::to_string(i));
  b.labels = at::zeros({B}, at::kLong);
  return b;
}

std::vector<double> run(const std::string& name, json params, const attrib::Batch& b,
                        const at::Tensor& scores, const attrib::Annotations* ann) {
  const auto& spec = attrib::find_metric(name);
  params = attrib::resolve_params(spec.params, params, "params");
  auto metric = spec.create(params);
  attrib_test::NoModel model;
  at::Tensor targets = at::zeros({b.size()}, at::kLong);
  attrib::MetricInput in{model, b, scores, targets, ann, 0, 256};
  auto out = metric->score(in);
  EXPECT_TRUE(metric->info().contains("missing_annotation"));
  return out;
}

// One example: scores a and rationale mask s (both length n).
double one(const std::string& name, json params, std::vector<float> a, std::vector<float> s) {
  const int64_t n = static_cast<int64_t>(a.size());
  attrib::Annotations ann{at::tensor(s).view({1, n}), at::ones({1}, at::kBool)};
  return run(name, std::move(params), dense(1, n), at::tensor(a).view({1, n}), &ann)[0];
}

const json kIndex = {{"tie_break", "index"}};

TEST(Plausibility, Registered) {
  for (const char* m : {"token_f1", "iou_f1", "auprc", "average_precision", "roc_auc"}) {
    const auto& spec = attrib::find_metric(m);
    EXPECT_EQ(spec.family, "plausibility");
    EXPECT_EQ(spec.direction, +1);
    EXPECT_EQ(spec.needs, std::vector<std::string>{"annotations"});
  }
}

TEST(Plausibility, PerfectRanking) {
  const std::vector<float> a = {5, 4, 3, 2, 1, 0}, s = {1, 1, 0, 0, 0, 0};
  EXPECT_DOUBLE_EQ(one("token_f1", kIndex, a, s), 1.0);
  EXPECT_DOUBLE_EQ(one("iou_f1", kIndex, a, s), 1.0);
  EXPECT_DOUBLE_EQ(one("auprc", json::object(), a, s), 1.0);
  EXPECT_DOUBLE_EQ(one("roc_auc", json::object(), a, s), 1.0);
}

TEST(Plausibility, TokenF1TopK) {
  const std::vector<float> a = {5, 1, 4, 0, 0, 0}, s = {1, 1, 0, 0, 0, 0};
  // k = |s| = 2: top {0, 2}, one hit: P = R = 1/2.
  EXPECT_DOUBLE_EQ(one("token_f1", kIndex, a, s), 0.5);
  // Fixed k = 3: top {0, 2, 1}, two hits: P = 2/3, R = 1, F1 = 0.8.
  json p = kIndex;
  p["k_mode"] = "fixed";
  p["k"] = 3;
  EXPECT_NEAR(one("token_f1", p, a, s), 0.8, 1e-12);
  // No hit -> 0.
  EXPECT_DOUBLE_EQ(one("token_f1", kIndex, {0, 0, 5, 4, 0, 0}, s), 0.0);
  // only_pos: of the top 2 only feature 0 is positive: P = 1, R = 1/2, F1 = 2/3.
  p = kIndex;
  p["only_pos"] = true;
  EXPECT_NEAR(one("token_f1", p, {5, -1, -2, -3, -4, -5}, s), 2.0 / 3, 1e-12);
  // Sign: signed ranking picks {1, 2}; |a| picks {0, 1}.
  EXPECT_DOUBLE_EQ(one("token_f1", kIndex, {-5, 4, 0, 0, 0, 0}, s), 0.5);
  p = kIndex;
  p["sign"] = "abs";
  EXPECT_DOUBLE_EQ(one("token_f1", p, {-5, 4, 0, 0, 0, 0}, s), 1.0);
}

TEST(Plausibility, IouF1PartialSpanMatch) {
  // Gold span [2, 6) (k = 4). Top 4 = {2, 3, 4, 8}: predicted spans [2, 5) and [8, 9).
  const std::vector<float> s = {0, 0, 1, 1, 1, 1, 0, 0, 0, 0};
  const std::vector<float> a = {0, 0, 9, 8, 7, 0, 0, 0, 6, 0};
  // IOU([2,5), [2,6)) = 3/4 >= 0.5: TP; [8,9) has IOU 0. P = 1/2, R = 1/1, F1 = 2/3.
  EXPECT_NEAR(one("iou_f1", kIndex, a, s), 2.0 / 3, 1e-12);
  json p = kIndex;
  p["threshold"] = 0.75;  // inclusive
  EXPECT_NEAR(one("iou_f1", p, a, s), 2.0 / 3, 1e-12);
  p["threshold"] = 0.8;
  EXPECT_DOUBLE_EQ(one("iou_f1", p, a, s), 0.0);
  // Token F1 on the same example: 3 hits of 4: 0.75.
  EXPECT_NEAR(one("token_f1", kIndex, a, s), 0.75, 1e-12);
  // Separate one-token spans never reach IOU 0.5 with a 4-token gold span, although token F1
  // rewards them: fixed k = 2 picks {0, 2}, each with IOU 1/4.
  p = kIndex;
  p["k_mode"] = "fixed";
  p["k"] = 2;
  EXPECT_DOUBLE_EQ(one("iou_f1", p, {9, 0, 8, 0, 0, 0}, {1, 1, 1, 1, 0, 0}), 0.0);
  EXPECT_NEAR(one("token_f1", p, {9, 0, 8, 0, 0, 0}, {1, 1, 1, 1, 0, 0}), 2.0 / 3, 1e-12);
}

TEST(Plausibility, AveragePrecisionByHand) {
  // Order 0(+), 2(-), 1(+), then a tied block {3,4,5}(-):
  // AP = (1/2)(1/1) + (1/2)(2/3) = 5/6.
  const json none = json::object();
  EXPECT_NEAR(one("average_precision", none, {5, 1, 4, 0, 0, 0}, {1, 1, 0, 0, 0, 0}), 5.0 / 6,
              1e-12);
  // A tie between a positive and a negative enters as one threshold:
  // thresholds 2: R 0; 1: R 1/2, P 1/3; 0: R 1, P 1/2 -> 1/6 + 1/4 = 5/12 (sklearn's step
  // definition).
  EXPECT_NEAR(one("average_precision", none, {2, 1, 1, 0}, {0, 1, 0, 1}), 5.0 / 12, 1e-12);
  // A constant map: one threshold, AP = positive rate.
  EXPECT_NEAR(one("average_precision", none, {1, 1, 1, 1}, {1, 0, 0, 0}), 0.25, 1e-12);
  // All positive: undefined by default; 1 as sklearn under all_positive = score.
  EXPECT_TRUE(std::isnan(one("average_precision", none, {3, 1, 2}, {1, 1, 1})));
  EXPECT_DOUBLE_EQ(one("average_precision", {{"all_positive", "score"}}, {3, 1, 2}, {1, 1, 1}),
                   1.0);
}

TEST(Plausibility, AuprcIsTheTrapezoidOfSklearnsCurve) {
  const json none = json::object();
  // Points (R, P): (0, 1) appended, then thresholds 5: (1/2, 1); 4: (1/2, 1/2); 1: (1, 2/3);
  // 0: (1, 1/3). Trapezoids: 1/2 * (1 + 1)/2 + 0 + 1/2 * (1/2 + 2/3)/2 + 0 = 19/24, below the
  // step-function AP of 20/24: the trapezoid joins (1/2, 1/2) to (1, 2/3) linearly.
  EXPECT_NEAR(one("auprc", none, {5, 1, 4, 0, 0, 0}, {1, 1, 0, 0, 0, 0}), 19.0 / 24, 1e-12);
  // Every score tied: points (0, 1) and (1, 1/2): (1 + 1/2) / 2 = 0.75 (sklearn 1.2.1 gives 0.75).
  EXPECT_NEAR(one("auprc", none, {0.3f, 0.3f, 0.3f, 0.3f}, {0, 1, 0, 1}), 0.75, 1e-12);
  // A tie across classes: thresholds 2: (0, 0); 1: (1/2, 1/3); 0: (1, 1/2):
  // 0 * ... + 1/2 (0 + 1/3)/2 + 1/2 (1/3 + 1/2)/2 = 1/12 + 5/24 = 7/24. The first point
  // (0, 1) -> (0, 0) has no width.
  EXPECT_NEAR(one("auprc", none, {2, 1, 1, 0}, {0, 1, 0, 1}), 7.0 / 24, 1e-12);
  // A perfect ranking: 1.
  EXPECT_DOUBLE_EQ(one("auprc", none, {3, 2, 1, 0}, {1, 1, 0, 0}), 1.0);
  // All positive: NaN by default (every map would score 1); 1 under the ERASER profile's rule.
  EXPECT_TRUE(std::isnan(one("auprc", none, {3, 1, 2}, {1, 1, 1})));
  EXPECT_DOUBLE_EQ(one("auprc", {{"all_positive", "score"}}, {3, 1, 2}, {1, 1, 1}), 1.0);
}

TEST(Plausibility, AllPositiveRationaleIsUndefinedForEveryAnnotatedMetric) {
  // A rationale covering the whole input cannot tell maps apart: a random map and a perfect one
  // would score alike. Every annotated metric gives NaN (skipped and counted) by default.
  for (const auto& spec : attrib::metric_catalogue()) {
    if (spec.needs != std::vector<std::string>{"annotations"}) continue;
    EXPECT_TRUE(std::isnan(one(spec.name, json::object(), {0.2f, 0.9f, 0.4f}, {1, 1, 1})))
        << spec.name;
    EXPECT_FALSE(std::isnan(one(spec.name, json::object(), {0.2f, 0.9f, 0.4f}, {1, 1, 0})))
        << spec.name;
  }
}

TEST(Plausibility, IouF1ComponentsAndAggregation) {
  // Two examples. 0: gold [2, 6), top 4 = {2, 3, 4, 8} -> spans [2,5) (TP) and [8,9): P 1/2, R 1.
  // 1: gold [0, 2) and [4, 6), only_pos leaves no prediction -> P undefined, R 0, F1 0.
  attrib::Annotations ann{at::tensor({0.f, 0.f, 1.f, 1.f, 1.f, 1.f, 0.f, 0.f, 0.f, 0.f,  //
                                      1.f, 1.f, 0.f, 0.f, 1.f, 1.f, 0.f, 0.f, 0.f, 0.f})
                              .view({2, 10}),
                          at::ones({2}, at::kBool)};
  at::Tensor a = at::tensor({0.f,  0.f,  9.f,  8.f,  7.f,  0.f,  0.f,  0.f,  6.f,  0.f,  //
                             -1.f, -2.f, -3.f, -4.f, -5.f, -6.f, -7.f, -8.f, -9.f, -1.f})
                     .view({2, 10});
  const auto& spec = attrib::find_metric("iou_f1");
  auto metric = spec.create(
      attrib::resolve_params(spec.params, {{"tie_break", "index"}, {"only_pos", true}}, "params"));
  EXPECT_EQ(metric->aggregation(), attrib::kAggregateF1OfMeans);
  attrib_test::NoModel model;
  at::Tensor targets = at::zeros({2}, at::kLong);
  const attrib::Batch b = dense(2, 10);
  attrib::MetricInput in{model, b, a, targets, &ann, 0, 256};
  const auto f1 = metric->score(in);
  EXPECT_NEAR(f1[0], 2.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(f1[1], 0.0);
  const auto parts = metric->components();
  EXPECT_DOUBLE_EQ(parts.at("precision")[0], 0.5);
  EXPECT_TRUE(std::isnan(parts.at("precision")[1]));
  EXPECT_DOUBLE_EQ(parts.at("recall")[0], 1.0);
  EXPECT_DOUBLE_EQ(parts.at("recall")[1], 0.0);
  // aggregation = mean: no components.
  auto mean_metric =
      spec.create(attrib::resolve_params(spec.params, {{"aggregation", "mean"}}, "params"));
  EXPECT_EQ(mean_metric->aggregation(), attrib::kAggregateMean);
  mean_metric->score(in);
  EXPECT_TRUE(mean_metric->components().empty());
}

TEST(Plausibility, ProfilesReproduceTheReferenceSettings) {
  for (const char* m : {"token_f1", "iou_f1", "auprc", "average_precision", "roc_auc"}) {
    const auto& spec = attrib::find_metric(m);
    const auto& eraser = attrib::find_profile(spec, "eraser");
    EXPECT_NE(eraser.reference.find("ERASER"), std::string::npos) << m;
    // Every profile parameter is a parameter of the metric, with a valid value.
    EXPECT_NO_THROW(attrib::resolve_params(spec.params, eraser.params, "params")) << m;
  }
  EXPECT_EQ(attrib::find_profile(attrib::find_metric("auprc"), "eraser").params["all_positive"],
            "score");
  EXPECT_EQ(attrib::find_profile(attrib::find_metric("roc_auc"), "eraser").params["all_positive"],
            "undefined");
  try {
    attrib::find_profile(attrib::find_metric("auprc"), "quantus");
    FAIL() << "expected an error";
  } catch (const attrib::Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"eraser\", \"ferret\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("got \"quantus\""), std::string::npos) << e.what();
  }
}

TEST(Plausibility, RocAucMannWhitneyWithTies) {
  // Positives 5, 1 against negatives 4, 0, 0, 0: (4 + 3) / 8.
  EXPECT_NEAR(one("roc_auc", json::object(), {5, 1, 4, 0, 0, 0}, {1, 1, 0, 0, 0, 0}), 0.875, 1e-12);
  // A tie counts 1/2: positive 1 against negatives 1 and 0 -> (0.5 + 1) / 2.
  EXPECT_NEAR(one("roc_auc", json::object(), {1, 1, 0}, {1, 0, 0}), 0.75, 1e-12);
  EXPECT_NEAR(one("roc_auc", json::object(), {2, 2, 2, 2}, {1, 0, 1, 0}), 0.5, 1e-12);
  // Single-class masks are undefined.
  EXPECT_TRUE(std::isnan(one("roc_auc", json::object(), {3, 1, 2}, {1, 1, 1})));
  // sign = abs: |-5| ranks first.
  json p = {{"sign", "abs"}};
  EXPECT_NEAR(one("roc_auc", p, {-5, 1, 0}, {1, 0, 0}), 1.0, 1e-12);
  EXPECT_NEAR(one("roc_auc", json::object(), {-5, 1, 0}, {1, 0, 0}), 0.0, 1e-12);
}

TEST(Plausibility, MissingAndEmptyAnnotationsAreNaN) {
  // Example 0 annotated, example 1 without annotation, example 2 with an empty mask.
  at::Tensor a = at::tensor({5.0f, 4.0f, 0.0f, 5.0f, 4.0f, 0.0f, 5.0f, 4.0f, 0.0f}).view({3, 3});
  attrib::Annotations ann{
      at::tensor({1.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}).view({3, 3}),
      at::tensor({1, 0, 1}, at::kLong).to(at::kBool)};
  for (const char* m : {"token_f1", "iou_f1", "auprc", "average_precision", "roc_auc"}) {
    auto out = run(m, json::object(), dense(3, 3), a, &ann);
    EXPECT_DOUBLE_EQ(out[0], 1.0) << m;
    EXPECT_TRUE(std::isnan(out[1])) << m;
    EXPECT_TRUE(std::isnan(out[2])) << m;
    // No annotations at all: every example NaN.
    auto none = run(m, json::object(), dense(3, 3), a, nullptr);
    for (double v : none) EXPECT_TRUE(std::isnan(v)) << m;
  }
}

TEST(Plausibility, TextUsesOnlyFeaturePositions) {
  attrib::Batch b;
  b.modality = attrib::Modality::kText;
  b.ids = {"t0"};
  b.inputs = at::tensor({2, 3, 4, 5, 1}, at::kLong).view({1, -1});
  b.attention_mask = at::tensor({1, 1, 1, 1, 0}, at::kLong).view({1, -1});
  b.word_ids = at::tensor({-1, 0, 1, 2, -1}, at::kLong).view({1, -1});
  b.labels = at::zeros({1}, at::kLong);
  at::Tensor a = at::tensor({0.0f, 1.0f, 2.0f, 0.5f, 0.0f}).view({1, -1});
  attrib::Annotations ann{at::tensor({0.0f, 1.0f, 0.0f, 0.0f, 0.0f}).view({1, -1}),
                          at::ones({1}, at::kBool)};
  // Features 1, 2, 3: the positive (1) beats 0.5 but not 2 -> 0.5. Counting the two special
  // positions as negatives would give 3/4.
  EXPECT_NEAR(run("roc_auc", json::object(), b, a, &ann)[0], 0.5, 1e-12);
  // k = 1: the top feature is position 2, not annotated.
  EXPECT_DOUBLE_EQ(run("token_f1", json::object(), b, a, &ann)[0], 0.0);
  // AP: thresholds 2 (R 0), 1 (R 1, P 1/2), 0.5 (R 1) -> 1/2.
  EXPECT_NEAR(run("average_precision", json::object(), b, a, &ann)[0], 0.5, 1e-12);
  // Trapezoid: (0, 1) -> (0, 0) -> (1, 1/2) -> (1, 1/3): 1/4.
  EXPECT_NEAR(run("auprc", json::object(), b, a, &ann)[0], 0.25, 1e-12);
}

}  // namespace
