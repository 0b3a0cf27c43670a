// The shared perturbation code of the metrics (suites/common/perturb.h): scores
// independent of batch composition, padding and the batch cap, seeded per example, and the output
// cache that forwards attribution-independent perturbations once per metric instance.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "metric_fixtures.h"

namespace {

using namespace metric_fixtures;

TEST(PerturbInvariance, BatchCompositionBatchCapAndSeed) {
  const std::vector<std::pair<std::string, json>> cases = {
      {"faithfulness_correlation", kLogit},
      {"monotonicity", {{"output", "logit"}, {"substrate", "uniform"}, {"n_samples", 3}}},
      {"infidelity", kLogit},
      {"infidelity", {{"output", "logit"}, {"perturbation", "gaussian"}}},
      {"pgi", {{"output", "logit"}}},
      {"pgu", {{"output", "logit"}}}};
  // The logit of class 0 (the predicted class's logit is the constant 0 for half of the rows).
  Linear model({4, -3, 2, 1, 0.5});
  const at::Tensor x = floats({0.3f,  1.2f, -0.7f, 2.0f, 0.1f,  1.0f, 1.5f, 0.2f,  -1.1f, 0.6f,
                               -0.4f, 0.8f, 1.9f,  0.5f, -0.2f, 0.7f, 0.9f, -1.3f, 0.4f,  1.1f})
                           .view({4, 5});
  const at::Tensor a = floats({1.0f,  -0.5f, 2.0f, 0.3f, 0.0f,  0.2f, 0.9f, -1.4f, 0.6f,  1.1f,
                               -0.3f, 0.8f,  0.1f, 1.7f, -0.9f, 0.4f, 0.5f, 1.2f,  -0.6f, 0.05f})
                           .view({4, 5});
  for (auto [name, params] : cases) {
    params["target"] = "explained";
    SCOPED_TRACE(name + " " + params.dump());
    model.count = {};
    const auto all = run(name, params, model, dense(x), a, nullptr, /*max_rows=*/7, 5).scores;
    EXPECT_LE(model.count.largest, 7);
    ASSERT_EQ(all.size(), 4u);
    for (int64_t i = 0; i < 4; ++i) {
      attrib::Batch alone = dense(x.slice(0, i, i + 1));
      alone.ids = {"ex" + std::to_string(i)};
      const auto one = run(name, params, model, alone, a.slice(0, i, i + 1), nullptr, 256, 5);
      EXPECT_NEAR(all[i], one.scores[0], 1e-9) << "example " << i;
      EXPECT_TRUE(std::isfinite(all[i]));
    }
    // The same seed repeats; another seed draws other perturbations.
    EXPECT_EQ(all, run(name, params, model, dense(x), a, nullptr, 256, 5).scores);
    EXPECT_NE(all, run(name, params, model, dense(x), a, nullptr, 256, 6).scores);
    EXPECT_EQ(run(name, params, model, dense(x), a, nullptr, 256, 5).info["seed"], 5);
  }
}

TEST(PerturbInvariance, TextPaddingAndBatch) {
  Bag model;
  attrib::Batch b = text();
  // t1 alone without the extra padding.
  attrib::Batch alone = attrib::slice_batch(b, 1, 2);
  alone.inputs = alone.inputs.slice(1, 0, 4);
  alone.attention_mask = alone.attention_mask.slice(1, 0, 4);
  alone.word_ids = alone.word_ids.slice(1, 0, 4);
  at::Tensor a = floats({0.0f, 0.5f, -1, 2, 0.2f, 0, 0, 0, 1.5f, -0.3f, 0, 0, 0, 0}).view({2, 7});
  for (const char* name : {"faithfulness_correlation", "infidelity", "pgi", "pgu"}) {
    json p = {{"output", "logit"}, {"substrate", "delete"}};
    if (std::string(name).rfind("pg", 0) == 0) p["p_flip"] = 0.5;
    auto all = run(name, p, model, b, a, nullptr, 3).scores;
    auto one = run(name, p, model, alone, a.slice(0, 1, 2).slice(1, 0, 4)).scores;
    EXPECT_NEAR(all[1], one[0], 1e-9) << name;
  }
}

// ------------------------------------------------------------------------------------------------

// One metric instance scoring several methods on the same examples (as the runner does) forwards
// the attribution-independent perturbations once, and gives exactly the fresh-instance numbers.
TEST(PerturbCache, SharedInstanceForwardsPerturbationsOnce) {
  for (const std::string name : {"faithfulness_correlation", "infidelity"}) {
    const auto& spec = attrib::find_metric(name);
    const json params =
        attrib::resolve_params(spec.params, {{"n_samples", 7}, {"output", "logit"}}, "params");
    const attrib::Batch b = text();
    const at::Tensor targets = at::zeros({b.size()}, at::kLong);
    const at::Tensor other = kTextWeights * kTextWeights - 3 * kTextWeights;  // a second "method"
    Bag fresh_model;
    std::vector<double> fresh_a, fresh_b;
    {
      attrib::MetricInput in{fresh_model, b, kTextWeights, targets, nullptr, 5, 256};
      fresh_a = spec.create(params)->score(in);
      attrib::MetricInput in2{fresh_model, b, other, targets, nullptr, 5, 256};
      fresh_b = spec.create(params)->score(in2);
    }
    Bag shared_model;
    auto metric = spec.create(params);
    attrib::MetricInput in{shared_model, b, kTextWeights, targets, nullptr, 5, 256};
    const std::vector<double> a = metric->score(in);
    const int64_t rows_first = shared_model.count.rows;
    attrib::MetricInput in2{shared_model, b, other, targets, nullptr, 5, 256};
    const std::vector<double> c = metric->score(in2);
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_TRUE(std::isfinite(a[i]) && std::isfinite(c[i])) << name;
      EXPECT_EQ(a[i], fresh_a[i]) << name;
      EXPECT_EQ(c[i], fresh_b[i]) << name;
      EXPECT_NE(a[i], c[i]) << name;
    }
    // First call: 2 unperturbed + 2 x 7 perturbed rows; second: the 2 unperturbed rows only.
    EXPECT_EQ(rows_first, 2 + 2 * 7) << name;
    EXPECT_EQ(shared_model.count.rows - rows_first, 2) << name;
  }
}

// The host's unperturbed logits (SharedForwards) stand in for the metric's own forward of the
// batch: the same numbers, the batch's rows not forwarded again, and counted as saved.
TEST(PerturbShared, HostLogitsGiveTheSameScoresWithoutForwardingTheBatch) {
  const attrib::Batch b = text();
  const at::Tensor targets = at::zeros({b.size()}, at::kLong);
  for (const std::string name :
       {"deletion", "insertion", "comprehensiveness", "sufficiency", "faithfulness_correlation",
        "monotonicity", "infidelity", "pgi", "pgu"}) {
    SCOPED_TRACE(name);
    const auto& spec = attrib::find_metric(name);
    json p = {{"output", "logit"}};
    if (name == "pgi" || name == "pgu") p["p_flip"] = 0.5;
    const json params = attrib::resolve_params(spec.params, p, "params");
    Bag own_model, host_model;
    attrib::MetricInput own{own_model, b, kTextWeights, targets, nullptr, 5, 3};
    const std::vector<double> expected = spec.create(params)->score(own);

    attrib::SharedForwards shared;
    shared.base_logits = attrib::batch_logits(host_model, b, 3);
    host_model.count = {};
    attrib::MetricInput in{host_model, b, kTextWeights, targets, nullptr, 5, 3, &shared};
    const std::vector<double> got = spec.create(params)->score(in);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(std::isfinite(got[i]));
      EXPECT_EQ(got[i], expected[i]) << "example " << i;
    }
    EXPECT_EQ(own_model.count.rows - host_model.count.rows, b.size());
    EXPECT_EQ(shared.saved_rows, b.size());

    // Without host logits the first metric forwards the batch and shares it with the next.
    attrib::SharedForwards lazy;
    Bag lazy_model;
    attrib::MetricInput first{lazy_model, b, kTextWeights, targets, nullptr, 5, 3, &lazy};
    EXPECT_EQ(spec.create(params)->score(first), expected);
    EXPECT_TRUE(at::equal(lazy.base_logits, shared.base_logits));
    EXPECT_EQ(lazy.saved_rows, 0);
    EXPECT_EQ(lazy_model.count.rows, own_model.count.rows);
    EXPECT_EQ(spec.create(params)->score(first), expected);
    EXPECT_EQ(lazy.saved_rows, b.size());
  }
}

// A metric instance's own cache (faithfulness correlation, infidelity) counts what it saved.
TEST(PerturbShared, CacheHitsCountAsSavedRows) {
  for (const std::string name : {"faithfulness_correlation", "infidelity"}) {
    const auto& spec = attrib::find_metric(name);
    const json params =
        attrib::resolve_params(spec.params, {{"n_samples", 7}, {"output", "logit"}}, "params");
    const attrib::Batch b = text();
    const at::Tensor targets = at::zeros({b.size()}, at::kLong);
    Bag model;
    auto metric = spec.create(params);
    attrib::SharedForwards first, second;
    attrib::MetricInput in{model, b, kTextWeights, targets, nullptr, 5, 256, &first};
    metric->score(in);
    const at::Tensor other = kTextWeights * 2 - 1;
    attrib::MetricInput in2{model, b, other, targets, nullptr, 5, 256, &second};
    metric->score(in2);
    EXPECT_EQ(first.saved_rows, 0) << name;  // nothing known yet, no host logits
    EXPECT_EQ(second.saved_rows, 2 * 7) << name;
  }
}

}  // namespace
