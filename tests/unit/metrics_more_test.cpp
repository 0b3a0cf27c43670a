// Known-answer tests of faithfulness correlation, monotonicity, infidelity, PGI/PGU (METRICS.md
// §1.4, 1.6, 1.7, 1.10) and the localisation metrics (§3.5-3.9), computed by hand on linear models
// and small maps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "analytic_models.h"
#include "attrib/error.h"
#include "attrib/params.h"
#include "attrib/random.h"
#include "metric.h"

namespace {

using attrib_test::error_of;
using nlohmann::json;

// A float tensor from float or integer literals.
at::Tensor floats(std::vector<float> v) { return at::tensor(v); }

// Dense: logits = [w . x, 0]. Replacing feature i by 0 lowers the class-0 logit by w_i x_i.
class Linear : public attrib::ModelAdapter {
 public:
  explicit Linear(std::vector<float> w) : w_(at::tensor(w)) {
    info_.name = "linear";
    info_.num_classes = 2;
    info_.capabilities = ATTRIB_CAP_FORWARD;
  }
  const attrib::ModelInfo& info() const override { return info_; }
  at::Tensor forward(const at::Tensor& x, const at::Tensor&) override {
    count.add(x.size(0));
    at::Tensor z = (x.to(at::kFloat).reshape({x.size(0), -1}) * w_).sum(1, true);
    return at::cat({z, at::zeros_like(z)}, 1);
  }
  void to(const at::Device&) override {}
  at::Device device() const override { return at::kCPU; }
  attrib_test::RowCount count;

 private:
  attrib::ModelInfo info_;
  at::Tensor w_;
};

// Text: logits = [sum over attended tokens of w[id], 0]. Ids: 0 PAD, 1 UNK, 2 MASK, 3 CLS
// (weight 100, never a feature), 4 SEP, 5..10 words with weights 1..6.
class Bag : public attrib::ModelAdapter {
 public:
  Bag() : w_(floats({0.0f, 0.0f, 0.0f, 100.0f, 0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f})) {
    info_.name = "bag";
    info_.modality = attrib::Modality::kText;
    info_.num_classes = 2;
    info_.capabilities = ATTRIB_CAP_FORWARD;
    info_.pad_id = 0;
    info_.unk_id = 1;
    info_.mask_id = 2;
  }
  const attrib::ModelInfo& info() const override { return info_; }
  at::Tensor forward(const at::Tensor& x, const at::Tensor& mask) override {
    count.add(x.size(0));
    at::Tensor v = w_.index_select(0, x.reshape({-1})).view(x.sizes());
    at::Tensor z = (v * mask.to(at::kFloat)).sum(1, true);
    return at::cat({z, at::zeros_like(z)}, 1);
  }
  void to(const at::Device&) override {}
  at::Device device() const override { return at::kCPU; }
  attrib_test::RowCount count;

 private:
  attrib::ModelInfo info_;
  at::Tensor w_;
};

attrib::Batch dense(const at::Tensor& x, const std::string& prefix = "ex") {
  attrib::Batch b;
  b.inputs = x;
  for (int64_t i = 0; i < x.size(0); ++i) b.ids.push_back(prefix + std::to_string(i));
  b.labels = at::zeros({x.size(0)}, at::kLong);
  return b;
}

// "t0": [CLS w1 w2 w3 w4 SEP PAD] (f = 110), "t1": [CLS w5 w6 SEP PAD PAD PAD] (f = 111).
attrib::Batch text() {
  attrib::Batch b;
  b.modality = attrib::Modality::kText;
  b.ids = {"t0", "t1"};
  b.inputs = at::tensor({3, 5, 6, 7, 8, 4, 0, 3, 9, 10, 4, 0, 0, 0}, at::kLong).view({2, 7});
  b.attention_mask = at::tensor({1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0}, at::kLong).view({2, 7});
  b.word_ids =
      at::tensor({-1, 0, 1, 2, 3, -1, -1, -1, 0, 1, -1, -1, -1, -1}, at::kLong).view({2, 7});
  b.labels = at::zeros({2}, at::kLong);
  return b;
}
// The word weights of text() at their positions (0 elsewhere): a = w[id] on features.
const at::Tensor kTextWeights = floats({0.0f, 1, 2, 3, 4, 0, 0, 0, 5, 6, 0, 0, 0, 0}).view({2, 7});

struct Result {
  std::vector<double> scores;
  json info;
};

Result run(const std::string& name, json params, attrib::ModelAdapter& model,
           const attrib::Batch& b, const at::Tensor& scores,
           const attrib::Annotations* ann = nullptr, int64_t max_rows = 256, uint64_t seed = 0) {
  const auto& spec = attrib::find_metric(name);
  params = attrib::resolve_params(spec.params, params, "params");
  auto metric = spec.create(params);
  at::Tensor targets = at::zeros({b.size()}, at::kLong);
  attrib::MetricInput in{model, b, scores, targets, ann, seed, max_rows};
  Result r;
  r.scores = metric->score(in);
  r.info = metric->info();
  return r;
}

double one(const std::string& name, json params, attrib::ModelAdapter& model, const at::Tensor& x,
           const at::Tensor& a) {
  return run(name, std::move(params), model, dense(x), a).scores[0];
}

const double kPi = std::acos(-1.0);

const json kLogit = {{"output", "logit"}, {"target", "explained"}, {"substrate", "zero"}};

// ------------------------------------------------------------------------------------------------

TEST(MetricsMoreCatalogue, RegisteredWithValidSchemas) {
  const std::vector<std::pair<std::string, int>> expected = {{"faithfulness_correlation", +1},
                                                             {"monotonicity", +1},
                                                             {"infidelity", -1},
                                                             {"pgi", +1},
                                                             {"pgu", -1},
                                                             {"pointing_game", +1},
                                                             {"attribution_localisation", +1},
                                                             {"relevance_mass_accuracy", +1},
                                                             {"relevance_rank_accuracy", +1},
                                                             {"top_k_intersection", +1}};
  std::set<std::string> names;
  for (const auto& m : attrib::metric_catalogue()) names.insert(m.name);
  EXPECT_EQ(names.size(), attrib::metric_catalogue().size()) << "duplicate metric names";
  for (const auto& [name, direction] : expected) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(names.count(name));
    const auto& spec = attrib::find_metric(name);
    EXPECT_EQ(spec.direction, direction);
    const bool plaus = name.find("accuracy") != std::string::npos || name == "pointing_game" ||
                       name == "attribution_localisation" || name == "top_k_intersection";
    EXPECT_EQ(spec.family, plaus ? "plausibility" : "faithfulness");
    EXPECT_EQ(spec.needs, std::vector<std::string>{plaus ? "annotations" : "model"});
    EXPECT_FALSE(spec.description.empty());
    EXPECT_FALSE(spec.citation.empty());
    ASSERT_TRUE(spec.params.is_object());
    for (const auto& [key, p] : spec.params.items()) {
      EXPECT_TRUE(p.contains("type") && p.contains("default")) << key;
      // Every default satisfies its own schema.
      EXPECT_NO_THROW(attrib::resolve_params(spec.params, json{{key, p["default"]}}, "params"))
          << key;
    }
    const json resolved = attrib::resolve_params(spec.params, json::object(), "params");
    EXPECT_NO_THROW(spec.create(resolved));
  }
  // Defaults of the reference libraries (METRICS.md).
  auto dflt = [](const std::string& m, const std::string& k) {
    return attrib::find_metric(m).params[k]["default"];
  };
  EXPECT_EQ(dflt("faithfulness_correlation", "n_samples"), 100);
  EXPECT_EQ(dflt("faithfulness_correlation", "output"), "logit");
  EXPECT_EQ(dflt("monotonicity", "output"), "probability");
  EXPECT_EQ(dflt("monotonicity", "rank_by"), "abs");
  EXPECT_EQ(dflt("infidelity", "n_samples"), 10);
  EXPECT_EQ(dflt("infidelity", "normalize"), false);
  EXPECT_EQ(dflt("pgi", "k_fraction"), 0.25);
  EXPECT_EQ(dflt("pgu", "n_samples"), 100);
  EXPECT_EQ(dflt("attribution_localisation", "sign"), "positive");
  // Every reference profile of every metric names its code and resolves against the schema.
  std::set<std::string> with_profiles;
  for (const auto& spec : attrib::metric_catalogue()) {
    std::set<std::string> seen;
    for (const auto& profile : spec.profiles) {
      SCOPED_TRACE(spec.name + " profile " + profile.name);
      EXPECT_TRUE(seen.insert(profile.name).second);
      EXPECT_FALSE(profile.reference.empty());
      json resolved;
      EXPECT_NO_THROW(resolved = attrib::resolve_params(spec.params, profile.params, "params"));
      EXPECT_NO_THROW(spec.create(resolved));
      with_profiles.insert(spec.name);
    }
  }
  for (const char* m :
       {"token_f1", "iou_f1", "auprc", "average_precision", "roc_auc", "comprehensiveness",
        "sufficiency", "pointing_game", "attribution_localisation", "relevance_mass_accuracy",
        "relevance_rank_accuracy", "top_k_intersection", "sparseness", "complexity",
        "effective_complexity"})
    EXPECT_TRUE(with_profiles.count(m)) << m;
  // Metrics without ranking take no ranking parameters.
  EXPECT_FALSE(attrib::find_metric("infidelity").params.contains("tie_break"));
  EXPECT_FALSE(attrib::find_metric("faithfulness_correlation").params.contains("rank_by"));
}

// ------------------------------------------------------------------------------------------------

TEST(MetricsMoreFaithfulnessCorrelation, LinearModelInputTimesWeightIsOne) {
  Linear model({4, 3, 2, 1, -1, 0.5});
  at::Tensor x = floats({0.7f, 1.3f, 2.0f, 0.4f, 1.1f, 0.9f}).view({1, 6});
  at::Tensor a = floats({4.0f, 3.0f, 2.0f, 1.0f, -1.0f, 0.5f}).view({1, 6}) * x;
  // A_r = sum_S w_i x_i = D_r exactly for every subset: rho = 1; for -a, rho = -1.
  EXPECT_NEAR(one("faithfulness_correlation", kLogit, model, x, a), 1.0, 1e-9);
  EXPECT_NEAR(one("faithfulness_correlation", kLogit, model, x, -a), -1.0, 1e-9);
  json p = kLogit;
  p["subset_size"] = 4;
  EXPECT_NEAR(one("faithfulness_correlation", p, model, x, a), 1.0, 1e-9);
}

TEST(MetricsMoreFaithfulnessCorrelation, TwoFeaturesByHand) {
  // x = [4, 3], w = [1, 1], |S| = 1: removing feature 0 drops 4, feature 1 drops 3. With
  // a = [1, 2] the draws are pairs (A, D) = (1, 4) or (2, 3): rho = -1 (both occur in 100 draws).
  Linear model({1, 1});
  at::Tensor x = floats({4.0f, 3.0f}).view({1, 2});
  json p = kLogit;
  p["subset_size"] = 1;
  EXPECT_NEAR(one("faithfulness_correlation", p, model, x, floats({1.0f, 2.0f}).view({1, 2})), -1.0,
              1e-12);
  EXPECT_NEAR(one("faithfulness_correlation", p, model, x, floats({5.0f, 2.0f}).view({1, 2})), 1.0,
              1e-12);
  // A constant map has no variance: NaN, never 0.
  EXPECT_TRUE(
      std::isnan(one("faithfulness_correlation", p, model, x, floats({1.0f, 1.0f}).view({1, 2}))));
  // R forwards per example plus the unperturbed one.
  model.count = {};
  p["n_samples"] = 30;
  one("faithfulness_correlation", p, model, x, floats({1.0f, 2.0f}).view({1, 2}));
  EXPECT_EQ(model.count.rows, 31);
}

TEST(MetricsMoreFaithfulnessCorrelation, TextUsesOnlyWordPositions) {
  Bag model;
  // a = w[id] on the features: removing any subset drops exactly its mass ([CLS] weighs 100 but
  // is never removed). t1 has two features, |S| = ceil(0.25 * 2) = 1.
  for (const char* s : {"unk", "pad", "mask", "delete"}) {
    json p = {{"output", "logit"}, {"substrate", s}};
    auto r = run("faithfulness_correlation", p, model, text(), kTextWeights);
    EXPECT_NEAR(r.scores[0], 1.0, 1e-9) << s;
    EXPECT_NEAR(r.scores[1], 1.0, 1e-9) << s;
    EXPECT_EQ(r.info["substrate"], s);
    EXPECT_EQ(r.info["seed"], 0);
  }
  EXPECT_THAT(
      error_of([&] {
        run("faithfulness_correlation", {{"substrate", "zero"}}, model, text(), kTextWeights);
      }),
      ::testing::HasSubstr("substrate 'zero' does not apply to text inputs"));
}

// ------------------------------------------------------------------------------------------------

TEST(MetricsMoreMonotonicity, LinearPositiveContributionsIsOne) {
  // x = 1, a = |w x| = w: v_k = (w_k)^2 / f(x)^2 increases with a_k: rho = 1.
  Linear model({4, 3, 2, 1});
  at::Tensor x = at::ones({1, 4});
  EXPECT_NEAR(one("monotonicity", kLogit, model, x, floats({4.0f, 3, 2, 1}).view({1, 4})), 1.0,
              1e-12);
  // Default output (probability of the predicted class) is monotone in the drop too.
  EXPECT_NEAR(
      one("monotonicity", {{"substrate", "zero"}}, model, x, floats({4.0f, 3, 2, 1}).view({1, 4})),
      1.0, 1e-12);
}

TEST(MetricsMoreMonotonicity, SpearmanByHand) {
  Linear model({4, 3, 2, 1});
  at::Tensor x = at::ones({1, 4});
  // a = [4, 3, 1, 2]: s in ascending order [1, 2, 3, 4] (features 2, 3, 1, 0) against
  // v ∝ [4, 1, 9, 16], ranks [2, 1, 3, 4]: sum d^2 = 2, rho = 1 - 6 * 2 / (4 * 15) = 0.8.
  EXPECT_NEAR(one("monotonicity", kLogit, model, x, floats({4.0f, 3, 1, 2}).view({1, 4})), 0.8,
              1e-12);
  // The key is |a| by default: the signs of a do not matter; signed ranks -4 lowest.
  EXPECT_NEAR(one("monotonicity", kLogit, model, x, floats({-4.0f, 3, 1, 2}).view({1, 4})), 0.8,
              1e-12);
  json p = kLogit;
  p["rank_by"] = "signed";
  // Signed s = [-4, 1, 2, 3] for features 0, 2, 3, 1; v ∝ [16, 4, 1, 9] -> ranks [4, 2, 1, 3]:
  // d = [-3, 0, 2, 1], sum d^2 = 14, rho = 1 - 84 / 60 = -0.4.
  EXPECT_NEAR(one("monotonicity", p, model, x, floats({-4.0f, 3, 1, 2}).view({1, 4})), -0.4, 1e-12);
}

TEST(MetricsMoreMonotonicity, GroupsOfTwo) {
  // w = [1, 2, 3, 10, 1, 1], x = 1, a = [1..6], q = 2: groups {0,1} s = 3, D = 3; {2,3} s = 7,
  // D = 13; {4,5} s = 11, D = 2. v ranks [2, 3, 1] against [1, 2, 3]: d = [1, 1, -2],
  // rho = 1 - 6 * 6 / (3 * 8) = -0.5.
  Linear model({1, 2, 3, 10, 1, 1});
  json p = kLogit;
  p["features_in_step"] = 2;
  p["tie_break"] = "index";
  model.count = {};
  EXPECT_NEAR(
      one("monotonicity", p, model, at::ones({1, 6}), floats({1.0f, 2, 3, 4, 5, 6}).view({1, 6})),
      -0.5, 1e-12);
  // A deterministic substrate is evaluated once per group: 3 rows + the unperturbed one.
  EXPECT_EQ(model.count.rows, 4);
}

TEST(MetricsMoreMonotonicity, UniformSubstrateDrawsNSamples) {
  // v_k = w_k^2 mean_s (1 - u_s)^2 with w spaced by factors of 4: the sample means (about 1/3)
  // cannot reverse the order with 100 draws, so rho = 1.
  Linear model({64, 16, 4, 1});
  json p = {{"output", "logit"}, {"substrate", "uniform"}, {"n_samples", 100}};
  at::Tensor x = at::ones({1, 4}), a = floats({64.0f, 16, 4, 1}).view({1, 4});
  model.count = {};
  auto r = run("monotonicity", p, model, dense(x), a, nullptr, 256, 3);
  EXPECT_NEAR(r.scores[0], 1.0, 1e-12);
  EXPECT_EQ(model.count.rows, 4 * 100 + 1);
  EXPECT_EQ(r.info["n_samples_effective"], 100);
  EXPECT_EQ(r.info["substrate"], "uniform");
  // Same seed, same numbers; the draws enter the score: with equal weights v_k = (1 - u_k)^2
  // (one draw) orders the 12 features at random.
  p["n_samples"] = 1;
  Linear flat(std::vector<float>(12, 1.0f));
  const at::Tensor x12 = at::ones({1, 12}), a12 = at::arange(12, at::kFloat).view({1, 12});
  auto s1 = run("monotonicity", p, flat, dense(x12), a12, nullptr, 256, 1).scores[0];
  auto s1b = run("monotonicity", p, flat, dense(x12), a12, nullptr, 256, 1).scores[0];
  auto s2 = run("monotonicity", p, flat, dense(x12), a12, nullptr, 256, 2).scores[0];
  EXPECT_EQ(s1, s1b);
  EXPECT_NE(s1, s2);
  Bag bag;
  EXPECT_THAT(error_of([&] { run("monotonicity", p, bag, text(), kTextWeights); }),
              ::testing::HasSubstr("substrate 'uniform' does not apply to text inputs"));
}

TEST(MetricsMoreMonotonicity, TextBagOfWords) {
  // Single-word removal drops w (1..4 for t0, 5, 6 for t1); a = w: rho = 1 on both.
  Bag model;
  auto r = run("monotonicity", {{"output", "logit"}}, model, text(), kTextWeights);
  EXPECT_NEAR(r.scores[0], 1.0, 1e-12);
  EXPECT_NEAR(r.scores[1], 1.0, 1e-12);
  EXPECT_EQ(r.info["substrate"], "unk");
}

// ------------------------------------------------------------------------------------------------

TEST(MetricsMoreInfidelity, ZeroForInputTimesWeight) {
  Linear model({4, 3, 2, 1, -1, 0.5});
  at::Tensor x = floats({0.7f, 1.3f, 2.0f, -0.4f, 1.1f, 0.9f}).view({1, 6});
  at::Tensor w = floats({4.0f, 3.0f, 2.0f, 1.0f, -1.0f, 0.5f}).view({1, 6});
  // Subset removal: I^T a = sum_S w_i x_i = D.
  EXPECT_NEAR(one("infidelity", kLogit, model, x, w * x), 0.0, 1e-9);
  // Gaussian with I divided by (x - 0): I^T a = sum eps_i w_i = D.
  json p = kLogit;
  p["perturbation"] = "gaussian";
  EXPECT_NEAR(one("infidelity", p, model, x, w * x), 0.0, 1e-8);
  // Raw I (gradient maps): a = w is exact, a = w x is not.
  p["multiply_by_inputs"] = false;
  EXPECT_NEAR(one("infidelity", p, model, x, w), 0.0, 1e-8);
  EXPECT_GT(one("infidelity", p, model, x, w * x), 1e-3);
  // Mean substrate (3 for x = [1, 2, 3, 6]): a = w (x - 3) is exact, I / (x - 3) = 1 on S.
  Linear ones({1, 1, 1, 1});
  at::Tensor x2 = floats({1.0f, 2, 3, 6}).view({1, 4});
  json m = kLogit;
  m["substrate"] = "mean";
  EXPECT_NEAR(one("infidelity", m, ones, x2, x2 - 3), 0.0, 1e-9);
}

TEST(MetricsMoreInfidelity, ValuesByHand) {
  // w = [1, -1], x = [1, 1], |S| = 1: removing feature 0 gives D = 1, feature 1 gives D = -1.
  // a = [2, 0]: errors (2 - 1)^2 = 1 and (0 + 1)^2 = 1, whatever is drawn: 1.
  Linear model({1, -1});
  at::Tensor x = at::ones({1, 2});
  json p = kLogit;
  p["subset_size"] = 1;
  EXPECT_NEAR(one("infidelity", p, model, x, floats({2.0f, 0.0f}).view({1, 2})), 1.0, 1e-12);
  // Everything removed: D = 0 - 0 = 0, I^T a = 3 - 1 = 2: 4.
  p["subset_size"] = 2;
  EXPECT_NEAR(one("infidelity", p, model, x, floats({3.0f, -1.0f}).view({1, 2})), 4.0, 1e-12);
  // Scale dependence and the normalised form: w = [4, 3, 2, 1], x = 1, a = 2 w, all removed:
  // I^T a = 20, D = 10: (20 - 10)^2 = 100; beta = 200 / 400 = 1/2 gives 0.
  Linear lin({4, 3, 2, 1});
  json q = kLogit;
  q["subset_fraction"] = 1.0;
  at::Tensor a = floats({8.0f, 6, 4, 2}).view({1, 4});
  EXPECT_NEAR(one("infidelity", q, lin, at::ones({1, 4}), a), 100.0, 1e-9);
  q["normalize"] = true;
  EXPECT_NEAR(one("infidelity", q, lin, at::ones({1, 4}), a), 0.0, 1e-9);
}

TEST(MetricsMoreInfidelity, GaussianNoiseExpectation) {
  // a = 0: E[(w . eps)^2] = sigma^2 |w|^2 = 0.01 * 30 = 0.3; with 4000 draws the standard error
  // is 0.3 * sqrt(2 / 4000) = 0.0067, the tolerance 6 of them.
  Linear model({4, 3, 2, 1});
  json p = kLogit;
  p["perturbation"] = "gaussian";
  p["n_samples"] = 4000;
  EXPECT_NEAR(one("infidelity", p, model, at::ones({1, 4}), at::zeros({1, 4})), 0.3, 0.04);
}

TEST(MetricsMoreInfidelity, Text) {
  // UNK weighs 0: removing S drops sum_S w = sum_S a.
  Bag model;
  auto r = run("infidelity", {{"output", "logit"}}, model, text(), kTextWeights);
  EXPECT_NEAR(r.scores[0], 0.0, 1e-9);
  EXPECT_NEAR(r.scores[1], 0.0, 1e-9);
  EXPECT_TRUE(r.info.contains("text_perturbation"));
  // Half the true contributions: (D / 2)^2 per draw.
  EXPECT_GT(run("infidelity", {{"output", "logit"}}, model, text(), kTextWeights / 2).scores[0],
            0.1);
  EXPECT_THAT(error_of([&] {
                run("infidelity", {{"perturbation", "gaussian"}}, model, text(), kTextWeights);
              }),
              ::testing::HasSubstr("perturbation 'gaussian' does not apply to text inputs"));
  EXPECT_THAT(error_of([&] {
                run("infidelity", {{"multiply_by_inputs", false}}, model, text(), kTextWeights);
              }),
              ::testing::HasSubstr("text inputs need multiply_by_inputs = true"));
}

// ------------------------------------------------------------------------------------------------

TEST(MetricsMorePredictionGap, ZeroWeightFeatures) {
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

TEST(MetricsMorePredictionGap, GaussianExpectation) {
  // PGI on {0, 1} of w = [4, 3, 0, 0]: |D| = |4 e0 + 3 e1| ~ |N(0, 0.25)|, mean
  // 0.5 sqrt(2 / pi) = 0.39894; sd 0.5 sqrt(1 - 2 / pi) = 0.30, standard error with 4000 draws
  // 0.0048, tolerance 6 of them.
  Linear model({4, 3, 0, 0});
  json p = {{"output", "logit"}, {"k_fraction", 0.5}, {"n_samples", 4000}};
  EXPECT_NEAR(one("pgi", p, model, at::ones({1, 4}), floats({4.0f, 3, 0, 0}).view({1, 4})),
              0.5 * std::sqrt(2 / kPi), 0.03);
}

TEST(MetricsMorePredictionGap, TextFlips) {
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

// ------------------------------------------------------------------------------------------------

TEST(MetricsMoreInvariance, BatchCompositionBatchCapAndSeed) {
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

TEST(MetricsMoreInvariance, TextPaddingAndBatch) {
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

TEST(MetricsMoreLocalisation, PointingGame) {
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
TEST(MetricsMoreLocalisation, ControlsScoreAtChance) {
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

TEST(MetricsMoreLocalisation, PointingGameToleranceOnImages) {
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

TEST(MetricsMoreLocalisation, MassByHand) {
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

TEST(MetricsMoreLocalisation, RankAndTopKByHand) {
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

TEST(MetricsMoreLocalisation, UnannotatedIsNaN) {
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

TEST(MetricsMoreLocalisation, TextUsesOnlyFeaturePositions) {
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

namespace {

// One metric instance scoring several methods on the same examples (as the runner does) forwards
// the attribution-independent perturbations once, and gives exactly the fresh-instance numbers.
TEST(MetricsMoreCache, SharedInstanceForwardsPerturbationsOnce) {
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

}  // namespace
