// Randomisation sanity checks (suites/randomisation) and throughput workloads (suites/throughput):
// similarity measures by hand, re-initialisation, and the tests on the built-in transformer where
// the input-independent control must fail and a gradient method must pass.
#include "randomisation/randomisation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "analytic_models.h"
#include "runner.h"
#include "throughput/throughput.h"

namespace {

using attrib_test::json;
using attrib_test::registry;

at::Tensor row(std::vector<float> v) {
  return at::tensor(v).view({1, static_cast<int64_t>(v.size())});
}
at::Tensor all_valid(int64_t n) { return at::ones({1, n}, at::kBool); }

TEST(RandomisationSimilarity, SpearmanSignedAndAbsByHand) {
  // a = [-3, 1, 2], b = [3, 1, 2]: |a| = |b| => abs Spearman 1.
  // Signed ranks: a -> [1, 2, 3], b -> [3, 1, 2]; d = [-2, 1, 1], sum d^2 = 6,
  // rho = 1 - 6 * 6 / (3 * (9 - 1)) = 1 - 36 / 24 = -0.5.
  const at::Tensor a = row({-3, 1, 2}), b = row({3, 1, 2});
  EXPECT_NEAR(attrib::map_similarity(a, b, all_valid(3), "spearman_abs", 0.2)[0], 1.0, 1e-12);
  EXPECT_NEAR(attrib::map_similarity(a, b, all_valid(3), "spearman", 0.2)[0], -0.5, 1e-12);
  // Reversed order: -1.
  EXPECT_NEAR(attrib::map_similarity(row({1, 2, 3, 4}), row({4, 3, 2, 1}), all_valid(4), "spearman",
                                     0.2)[0],
              -1.0, 1e-12);
}

TEST(RandomisationSimilarity, SpearmanTiesUseAverageRanks) {
  // a = [1, 2, 2, 3] -> ranks [1, 2.5, 2.5, 4]; b = [1, 2, 3, 4] -> [1, 2, 3, 4].
  // Pearson of the ranks: mean 2.5 both; centred a = [-1.5, 0, 0, 1.5], b = [-1.5, -.5, .5, 1.5];
  // sxy = 2.25 + 2.25 = 4.5; sxx = 4.5; syy = 5 => rho = 4.5 / sqrt(22.5) = 0.9486832980505138.
  EXPECT_NEAR(attrib::map_similarity(row({1, 2, 2, 3}), row({1, 2, 3, 4}), all_valid(4), "spearman",
                                     0.2)[0],
              0.9486832980505138, 1e-12);
}

TEST(RandomisationSimilarity, TopKIntersectionAndValidMask) {
  // k = round(0.5 * 4) = 2. top2(|a|) = {0, 1}; top2(|b|) = {0, 2} => 1/2.
  EXPECT_NEAR(attrib::map_similarity(row({4, -3, 2, 1}), row({-4, 1, 3, 2}), all_valid(4),
                                     "top_k_intersection", 0.5)[0],
              0.5, 1e-12);
  // Masking out position 1 leaves a = [4, 2, 1], b = [-4, 3, 2]; k = round(1.5) = 2:
  // top2 {0, 2} vs {0, 2} => 1.
  const at::Tensor valid = at::tensor({1, 0, 1, 1}, at::kLong).view({1, 4}).ne(0);
  EXPECT_NEAR(attrib::map_similarity(row({4, -3, 2, 1}), row({-4, 1, 3, 2}), valid,
                                     "top_k_intersection", 0.5)[0],
              1.0, 1e-12);
  // Fewer than two comparable features, or a constant map: undefined.
  const at::Tensor one = at::tensor({1, 0, 0, 0}, at::kLong).view({1, 4}).ne(0);
  EXPECT_TRUE(std::isnan(
      attrib::map_similarity(row({4, 3, 2, 1}), row({1, 2, 3, 4}), one, "spearman", 0.5)[0]));
  EXPECT_TRUE(std::isnan(
      attrib::map_similarity(row({1, 1, 1}), row({1, 2, 3}), all_valid(3), "spearman", 0.5)[0]));
}

// SSIM by a direct, loop-based evaluation of the definition on the two min-max-normalised maps.
double ssim_by_loops(const std::vector<std::vector<double>>& x0,
                     const std::vector<std::vector<double>>& y0) {
  auto norm = [](std::vector<std::vector<double>> m) {
    double lo = 1e300, hi = -1e300;
    for (auto& r : m)
      for (double v : r) lo = std::min(lo, v), hi = std::max(hi, v);
    for (auto& r : m)
      for (double& v : r) v = hi > lo ? (v - lo) / (hi - lo) : 0.0;
    return m;
  };
  const auto x = norm(x0), y = norm(y0);
  const int H = static_cast<int>(x.size()), W = static_cast<int>(x[0].size());
  const int kh = std::min(11, H), kw = std::min(11, W);
  auto g = [](int k, int i) { return std::exp(-std::pow(i - (k - 1) / 2.0, 2) / (2 * 1.5 * 1.5)); };
  double gs_h = 0, gs_w = 0;
  for (int i = 0; i < kh; ++i) gs_h += g(kh, i);
  for (int j = 0; j < kw; ++j) gs_w += g(kw, j);
  double total = 0;
  int windows = 0;
  for (int r = 0; r + kh <= H; ++r)
    for (int c = 0; c + kw <= W; ++c) {
      double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
      for (int i = 0; i < kh; ++i)
        for (int j = 0; j < kw; ++j) {
          const double w = g(kh, i) / gs_h * g(kw, j) / gs_w;
          const double a = x[r + i][c + j], b = y[r + i][c + j];
          mx += w * a, my += w * b, xx += w * a * a, yy += w * b * b, xy += w * a * b;
        }
      const double sxx = xx - mx * mx, syy = yy - my * my, sxy = xy - mx * my;
      total += ((2 * mx * my + 1e-4) * (2 * sxy + 9e-4)) /
               ((mx * mx + my * my + 1e-4) * (sxx + syy + 9e-4));
      ++windows;
    }
  return total / windows;
}

TEST(RandomisationSimilarity, SsimMatchesTheDefinition) {
  // 12 x 13 maps: 2 x 3 window positions of the 11 x 11 Gaussian window.
  std::vector<std::vector<double>> x(12, std::vector<double>(13)), y = x;
  for (int i = 0; i < 12; ++i)
    for (int j = 0; j < 13; ++j) {
      x[i][j] = std::sin(0.7 * i) + 0.3 * j;
      y[i][j] = std::cos(0.4 * i * j) - 0.1 * i;
    }
  std::vector<float> fx, fy, fz;
  for (int i = 0; i < 12; ++i)
    for (int j = 0; j < 13; ++j) {
      fx.push_back(static_cast<float>(x[i][j]));
      fy.push_back(static_cast<float>(y[i][j]));
      fz.push_back(static_cast<float>(3 * x[i][j] + 2));  // same map after min-max
    }
  const at::Tensor a = at::tensor(fx).view({1, 12 * 13}), b = at::tensor(fy).view({1, 12 * 13}),
                   c = at::tensor(fz).view({1, 12 * 13});
  const at::Tensor valid = at::ones({1, 12 * 13}, at::kBool);
  std::vector<std::vector<double>> xf(12, std::vector<double>(13)), yf = xf;
  for (int i = 0; i < 12; ++i)
    for (int j = 0; j < 13; ++j) xf[i][j] = fx[i * 13 + j], yf[i][j] = fy[i * 13 + j];
  const double got = attrib::map_similarity(a, b, valid, "ssim", 0.2, {1, 12, 13})[0];
  EXPECT_NEAR(got, ssim_by_loops(xf, yf), 1e-9);
  EXPECT_LT(got, 0.9);
  EXPECT_NEAR(attrib::map_similarity(a, c, valid, "ssim", 0.2, {12, 13})[0], 1.0, 1e-6);
  // Text (no image shape) is refused with the reason.
  EXPECT_THROW(attrib::map_similarity(a, b, valid, "ssim", 0.2, {}), attrib::Error);
}

TEST(RandomisationReinit, FanInBoundAndSeeded) {
  at::Tensor w = at::full({2, 4}, 7.0f), b = at::full({2}, 7.0f);
  attrib::ParamLayer layer{"fc", {{"w", w}, {"b", b}}};
  attrib::reinitialise_layer(layer, "fan_in_uniform", 11);
  // fan_in = 8 / 2 = 4 => bound 1/2, applied to the bias too.
  EXPECT_LE(w.abs().max().item<float>(), 0.5f);
  EXPECT_LE(b.abs().max().item<float>(), 0.5f);
  EXPECT_GT(w.abs().sum().item<float>(), 0.0f);
  at::Tensor w2 = at::full({2, 4}, 7.0f), b2 = at::full({2}, 7.0f);
  attrib::ParamLayer again{"fc", {{"w", w2}, {"b", b2}}};
  attrib::reinitialise_layer(again, "fan_in_uniform", 11);
  EXPECT_TRUE(at::equal(w, w2));
  EXPECT_TRUE(at::equal(b, b2));
}

// The built-in transformer, untrained (randomisation does not need a trained model to show that
// an input-independent map is insensitive to the weights).
std::shared_ptr<attrib::ModelAdapter> transformer() {
  json vocab = json::array({"<pad>", "<unk>", "<mask>"});
  for (int i = 0; i < 20; ++i) vocab.push_back("w" + std::to_string(i));
  return registry().create_model("text_transformer",
                                 {{"vocab", vocab}, {"num_classes", 3}, {"seed", 3}}, "model");
}

attrib::Batch batch_of(int64_t n, int64_t T) {
  attrib::Batch b;
  b.modality = attrib::Modality::kText;
  for (int64_t i = 0; i < n; ++i) b.ids.push_back("ex" + std::to_string(i));
  b.inputs = (at::arange(n * T, at::kLong).view({n, T}) * 7 % 20) + 3;
  b.attention_mask = at::ones({n, T}, at::kLong);
  b.word_ids = at::arange(T, at::kLong).repeat({n, 1});
  b.labels = at::zeros({n}, at::kLong);
  return b;
}

json run_tests(const std::string& method_name) {
  auto model = transformer();
  auto method = registry().create_method(method_name, json::object());
  const std::vector<attrib::Batch> batches = {batch_of(6, 7), batch_of(5, 7)};
  std::vector<at::Tensor> targets, original, valid;
  auto explain = [&](attrib::ModelAdapter& m, const std::vector<at::Tensor>& t) {
    std::vector<at::Tensor> out;
    for (size_t i = 0; i < batches.size(); ++i)
      out.push_back(attrib::feature_scores(
          method->explain(m, batches[i], t[i], attrib::ExplainContext{0, 64}).attributions,
          batches[i], "sum"));
    return out;
  };
  for (const auto& b : batches) targets.push_back(at::zeros({b.size()}, at::kLong));
  original = explain(*model, targets);
  for (const auto& b : batches) valid.push_back(b.word_ids >= 0);
  attrib::RandomisationOptions o;
  o.tests = {"cascading", "independent", "random_logit"};
  o.similarity = {"spearman_abs", "spearman", "top_k_intersection"};
  attrib::RandomisationInput in{*model, batches, targets, original,
                                valid,  explain, 5,       {{"method", method_name}}};
  return attrib::run_randomisation(o, in, 500, 0.95);
}

const json* find(const json& entries, const std::string& test, const std::string& sim) {
  for (const auto& e : entries)
    if (e["test"] == test && e.value("similarity", "") == sim) return &e;
  return nullptr;
}

TEST(RandomisationRun, InputIndependentFailsEveryTest) {
  const json r = run_tests("input_independent");
  const json* c = find(r, "cascading", "spearman_abs");
  ASSERT_NE(c, nullptr) << r.dump(1);
  // transformer layers: embedding, 2 x (attention, mlp), classifier = 6, output first.
  ASSERT_EQ((*c)["layers"].size(), 6u);
  EXPECT_EQ((*c)["layers"][0]["layer"], "classifier");
  for (const auto& l : (*c)["layers"]) EXPECT_NEAR(l["mean"].get<double>(), 1.0, 1e-9);
  EXPECT_EQ((*c)["passes"], false);
  const json* rl = find(r, "random_logit", "spearman");
  ASSERT_NE(rl, nullptr);
  EXPECT_NEAR((*rl)["score"]["mean"].get<double>(), 1.0, 1e-9);
  EXPECT_EQ((*rl)["passes"], false);
}

TEST(RandomisationRun, SaliencyChangesWhenTheModelIsRandomised) {
  const json r = run_tests("saliency");
  const json* c = find(r, "cascading", "spearman_abs");
  ASSERT_NE(c, nullptr) << r.dump(1);
  EXPECT_EQ((*c)["passes"], true) << c->dump(1);
  EXPECT_LT((*c)["layers"].back()["mean"].get<double>(), 0.5);
  // Independent: 6 entries, each with one layer randomised.
  const json* ind = find(r, "independent", "spearman");
  ASSERT_NE(ind, nullptr);
  EXPECT_EQ((*ind)["layers"].size(), 6u);
  EXPECT_FALSE(ind->contains("passes"));
  // Deterministic: the same seed gives the same numbers.
  EXPECT_EQ(r.dump(), run_tests("saliency").dump());
}

TEST(Throughput, WorkloadCutsCallsAndTimesRepetitions) {
  auto model = transformer();
  auto method = registry().create_method("saliency", json::object());
  // 11 examples in batches of 6 and 5 (different lengths); 9 examples in calls of 4 => 4, 4, 1.
  const std::vector<attrib::Batch> batches = {batch_of(6, 7), batch_of(5, 4)};
  const std::vector<at::Tensor> targets = {at::zeros({6}, at::kLong), at::zeros({5}, at::kLong)};
  attrib::Workload w(*model, method.get(), batches, targets, 9, 4, attrib::ExplainContext{0, 64});
  EXPECT_EQ(w.examples(), 9);
  const json t = attrib::time_workload(w, 1, 3);
  EXPECT_EQ(t["seconds"].size(), 3u);
  EXPECT_EQ(t["examples_per_repetition"], 9);
  EXPECT_GT(t["explanations_per_second"]["median"].get<double>(), 0.0);
  EXPECT_LE(t["explanations_per_second"]["min"].get<double>(),
            t["explanations_per_second"]["max"].get<double>());
  // The reference workload (forward + backward) runs on the same examples.
  attrib::Workload ref(*model, nullptr, batches, targets, 20, 8, attrib::ExplainContext{0, 64});
  EXPECT_EQ(ref.examples(), 11);
  EXPECT_NO_THROW(ref.run());
}

}  // namespace
