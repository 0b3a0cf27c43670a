// Known-answer tests of the built-in attribution methods and their SDK helpers (quadrature, random
// streams, InputSpace), on small analytic models whose attributions can be worked out by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "analytic_models.h"
#include "attrib/error.h"
#include "attrib/input_space.h"
#include "attrib/quadrature.h"
#include "attrib/random.h"
#include "registry.h"

using nlohmann::json;
using ::testing::HasSubstr;

namespace {

using namespace attrib_test;

// ---------------------------------------------------------------------------------------------
// Quadrature.

TEST(Quadrature, WeightsSumToOneExceptCaptumTrapezoid) {
  for (const auto& rule : attrib::quadrature_rules()) {
    for (int m : {2, 3, 7, 50}) {
      const attrib::Quadrature q = attrib::quadrature(rule, m);
      ASSERT_EQ(q.nodes.size(), static_cast<size_t>(m));
      ASSERT_EQ(q.weights.size(), static_cast<size_t>(m));
      double sum = 0;
      for (double w : q.weights) sum += w;
      EXPECT_NEAR(sum, rule == "captum_trapezoid" ? 1.0 - 1.0 / m : 1.0, 1e-14) << rule << m;
      EXPECT_TRUE(std::is_sorted(q.nodes.begin(), q.nodes.end())) << rule;
      EXPECT_GE(q.nodes.front(), 0.0);
      EXPECT_LE(q.nodes.back(), 1.0);
    }
  }
}

TEST(Quadrature, GaussLegendreIsExactUpToDegree2mMinus1) {
  auto integrate = [](int m, int power) {
    const attrib::Quadrature q = attrib::quadrature("gausslegendre", m);
    double s = 0;
    for (int k = 0; k < m; ++k) s += q.weights[k] * std::pow(q.nodes[k], power);
    return s;
  };
  EXPECT_NEAR(integrate(3, 5), 1.0 / 6.0, 1e-15);
  EXPECT_GT(std::abs(integrate(3, 6) - 1.0 / 7.0), 1e-5);  // degree 2m is not exact
  EXPECT_NEAR(integrate(50, 99), 1.0 / 100.0, 1e-13);
  EXPECT_NEAR(integrate(1, 1), 0.5, 1e-15);
}

TEST(Quadrature, GaussLegendreMatchesTabulatedFivePointRule) {
  const attrib::Quadrature q = attrib::quadrature("gausslegendre", 5);
  const double t1 = 0.5384693101056831, t2 = 0.9061798459386640;
  const std::vector<double> nodes = {(1 - t2) / 2, (1 - t1) / 2, 0.5, (1 + t1) / 2, (1 + t2) / 2};
  const std::vector<double> weights = {0.2369268850561891 / 2, 0.4786286704993665 / 2,
                                       0.5688888888888889 / 2, 0.4786286704993665 / 2,
                                       0.2369268850561891 / 2};
  for (int k = 0; k < 5; ++k) {
    EXPECT_NEAR(q.nodes[k], nodes[k], 1e-15);
    EXPECT_NEAR(q.weights[k], weights[k], 1e-15);
  }
}

TEST(Quadrature, RiemannAndTrapezoidNodesAndWeights) {
  using V = std::vector<double>;
  EXPECT_EQ(attrib::quadrature("riemann_left", 4).nodes, (V{0, 0.25, 0.5, 0.75}));
  EXPECT_EQ(attrib::quadrature("riemann_right", 4).nodes, (V{0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(attrib::quadrature("riemann_middle", 4).nodes, (V{0.125, 0.375, 0.625, 0.875}));
  EXPECT_EQ(attrib::quadrature("riemann_left", 4).weights, (V{0.25, 0.25, 0.25, 0.25}));
  const attrib::Quadrature textbook = attrib::quadrature("riemann_trapezoid", 5);
  const attrib::Quadrature captum = attrib::quadrature("captum_trapezoid", 5);
  EXPECT_EQ(textbook.nodes, (V{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(captum.nodes, textbook.nodes);
  EXPECT_EQ(textbook.weights, (V{0.125, 0.25, 0.25, 0.25, 0.125}));
  expect_near(at::tensor(captum.weights), {0.1, 0.2, 0.2, 0.2, 0.1}, 1e-16);
}

TEST(Quadrature, RejectsUnknownRulesAndTooFewSteps) {
  EXPECT_THAT(error_of([] { attrib::quadrature("simpson", 5); }),
              HasSubstr("unknown rule 'simpson' (known: gausslegendre, riemann_left"));
  EXPECT_EQ(error_of([] { attrib::quadrature("captum_trapezoid", 1); }),
            "quadrature 'captum_trapezoid': expected n_steps >= 2, got 1");
  EXPECT_EQ(error_of([] { attrib::quadrature("gausslegendre", 0); }),
            "quadrature 'gausslegendre': expected n_steps >= 1, got 0");
}

// ---------------------------------------------------------------------------------------------
// Random streams.

TEST(Random, StreamKeyDependsOnEveryComponent) {
  EXPECT_EQ(attrib::splitmix64(0), 0xe220a8397b1dcdafull);  // reference splitmix64 output
  const uint64_t k = attrib::stream_key(1, "a", 0);
  EXPECT_EQ(k, attrib::stream_key(1, "a", 0));
  EXPECT_NE(k, attrib::stream_key(2, "a", 0));
  EXPECT_NE(k, attrib::stream_key(1, "b", 0));
  EXPECT_NE(k, attrib::stream_key(1, "a", 1));
  EXPECT_NE(attrib::stream_key(0, "", 0), attrib::stream_key(0, "", 1));
}

TEST(Random, ExampleGeneratorsAreReproducible) {
  auto draw = [](uint64_t seed, const std::string& id, uint64_t stream) {
    at::Generator g = attrib::example_generator(seed, id, stream);
    return at::randn({5}, g, at::kFloat);
  };
  EXPECT_TRUE(draw(3, "x", 0).equal(draw(3, "x", 0)));
  EXPECT_FALSE(draw(3, "x", 0).equal(draw(3, "y", 0)));
  EXPECT_FALSE(draw(3, "x", 0).equal(draw(4, "x", 0)));
  EXPECT_FALSE(draw(3, "x", 0).equal(draw(3, "x", 1)));
}

TEST(Random, ControlIsSeededPerExampleAndModelIndependent) {
  DenseModel lin = linear_model(), smooth = smooth_model();
  const at::Tensor x =
      at::tensor({2.0f, 1.0f, 0.5f, 2.0f, 1.0f, 0.5f, -1.0f, 0.0f, 3.0f}).view({3, 3});
  const attrib::Batch batch = dense_batch(x, {"p", "q", "r"});
  const at::Tensor targets = at::zeros({3}, at::kLong);
  const attrib::Explanation e = run("random", json::object(), lin, batch, targets, 256, 11);
  ASSERT_EQ(e.attributions.sizes(), x.sizes());
  EXPECT_EQ(e.forward_rows, 0);
  EXPECT_EQ(lin.count.rows, 0);
  EXPECT_EQ(e.info["distribution"], "normal");
  // Same seed and ids: same numbers, whatever the model.
  EXPECT_TRUE(
      e.attributions.equal(run("random", {}, smooth, batch, targets, 256, 11).attributions));
  // Examples "p" and "q" have equal inputs but different ids: different numbers.
  EXPECT_FALSE(e.attributions[0].equal(e.attributions[1]));
  EXPECT_FALSE(e.attributions.equal(run("random", {}, lin, batch, targets, 256, 12).attributions));
  // Batch composition does not matter.
  const attrib::Batch alone = dense_batch(x.slice(0, 2, 3), {"r"});
  EXPECT_TRUE(
      e.attributions[2].equal(run("random", {}, lin, alone, kTarget0, 256, 11).attributions[0]));

  const at::Tensor u =
      run("random", {{"distribution", "uniform"}}, lin, batch, targets, 256, 11).attributions;
  EXPECT_GE(u.min().item<float>(), 0.0f);
  EXPECT_LT(u.max().item<float>(), 1.0f);
}

TEST(Random, TextControlSkipsSpecialTokensAndIgnoresPadding) {
  TextModel model;
  const attrib::Explanation e = run("random", {}, model, text_batch(), at::zeros({2}, at::kLong));
  ASSERT_EQ(e.attributions.sizes(), (std::vector<int64_t>{2, 6}));
  const at::Tensor special = text_batch().word_ids.lt(0);
  EXPECT_TRUE(e.attributions.masked_select(special).eq(0).all().item<bool>());
  EXPECT_TRUE(e.attributions.masked_select(special.logical_not()).ne(0).all().item<bool>());
  const at::Tensor alone = run("random", {}, model, text_b_alone(), kTarget0).attributions;
  EXPECT_TRUE(alone[0].equal(e.attributions[1].slice(0, 0, 4)));
}

// ---------------------------------------------------------------------------------------------
// InputSpace.

TEST(InputSpace, DenseGradientIsPerExampleAndStepMajor) {
  DenseModel model = linear_model();
  const at::Tensor x = at::tensor({2.0f, 1.0f, 0.5f, -1.0f, 0.0f, 3.0f}).view({2, 3});
  const attrib::Batch batch = dense_batch(x, {"p", "q"});
  attrib::InputSpace space(model, batch);
  EXPECT_FALSE(space.is_embedding());
  at::Tensor selected;
  // Two blocks of the two examples; targets [0, 1] are tiled per block.
  const at::Tensor g =
      space.gradient(at::cat({x, x * 2}), at::tensor({0, 1}, at::kLong), &selected);
  expect_near(g, {1, -2, 3, 0.5, 1, -1, 1, -2, 3, 0.5, 1, -1}, 0);
  expect_near(selected, {1.75, -4.0, 3.25, -7.5}, 1e-6);
  EXPECT_FALSE(g.requires_grad());
  expect_near(space.baseline("zero"), {0, 0, 0, 0, 0, 0}, 0);
  EXPECT_THAT(error_of([&] { space.baseline("mask"); }), HasSubstr("expected a text model"));
  EXPECT_THAT(error_of([&] { space.baseline("blur"); }), HasSubstr("got \"blur\""));
}

TEST(InputSpace, HelpersTileTargetsAndCountBlocks) {
  const at::Tensor logits = at::arange(12, at::kFloat).view({4, 3});
  expect_near(attrib::select_targets(logits, at::tensor({2, 0}, at::kLong)), {2, 3, 8, 9}, 0);
  EXPECT_THAT(error_of([&] {
                attrib::select_targets(logits, at::tensor({3, 0}, at::kLong));
              }),
              HasSubstr("expected classes in [0, 3), got values in [0, 3]"));
  EXPECT_EQ(attrib::blocks_per_chunk(256, 3), 85);
  EXPECT_EQ(attrib::blocks_per_chunk(2, 3), 1);
}

TEST(InputSpace, TextUsesEmbeddingsAndTokenBaselines) {
  TextModel model;
  const attrib::Batch batch = text_batch();
  attrib::InputSpace space(model, batch);
  EXPECT_TRUE(space.is_embedding());
  EXPECT_TRUE(space.x().equal(model.embed(batch.inputs)));
  // Word tokens become MASK (2); CLS, SEP and PAD keep their ids.
  const at::Tensor masked =
      at::tensor({3, 2, 2, 2, 4, 0, 3, 2, 2, 4, 0, 0}, at::kLong).view({2, 6});
  EXPECT_TRUE(space.baseline("mask").equal(model.embed(masked)));
  expect_close(space.logits(at::cat({space.x(), space.x()})).slice(0, 2, 4),
               model.forward(batch.inputs, batch.attention_mask), 1e-6);

  TextModel no_mask(ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT | ATTRIB_CAP_EMBEDDINGS, -1);
  attrib::InputSpace space2(no_mask, batch);
  EXPECT_EQ(error_of([&] { space2.baseline("mask"); }),
            "baseline \"mask\": model 'tiny_text' has no mask token (mask_id = -1)");

  TextModel no_embeddings(ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT);
  EXPECT_THAT(error_of([&] { attrib::InputSpace s(no_embeddings, batch); }),
              HasSubstr("need capability 'embeddings'"));
  DenseModel dense = linear_model();
  EXPECT_THAT(error_of([&] { attrib::InputSpace s(dense, batch); }),
              HasSubstr("expected a dense batch, got a text batch"));
}

// ---------------------------------------------------------------------------------------------
// Methods through the plugin registry.

TEST(Methods, BuiltinPluginsLoadWithMetadata) {
  const std::vector<std::pair<std::string, uint64_t>> expected = {
      {"random", 0},
      {"saliency", ATTRIB_CAP_INPUT_GRADIENT},
      {"input_x_gradient", ATTRIB_CAP_INPUT_GRADIENT},
      {"integrated_gradients", ATTRIB_CAP_INPUT_GRADIENT},
      {"occlusion", ATTRIB_CAP_FORWARD}};
  for (const auto& [name, caps] : expected) {
    const attrib::PluginInfo* p = registry().find(name, ATTRIB_KIND_METHOD);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(p->capabilities, caps) << name;
    for (const char* key : {"description", "citation", "params", "cost", "extras"})
      EXPECT_TRUE(p->metadata.contains(key)) << name << " lacks " << key;
    EXPECT_TRUE(p->metadata["cost"].contains("forward_rows")) << name;
    EXPECT_TRUE(p->metadata["cost"].contains("backward_rows")) << name;
  }
  const json& ig = registry().find("integrated_gradients", ATTRIB_KIND_METHOD)->metadata;
  EXPECT_EQ(ig["params"]["method"]["enum"].get<std::vector<std::string>>(),
            attrib::quadrature_rules());
  EXPECT_THAT(error_of([] {
                registry().create_method("occlusion", {{"window", 2}, {"stride", 3}});
              }),
              HasSubstr("expected stride <= window (2), got 3"));
  EXPECT_THAT(error_of([] {
                registry().create_method("integrated_gradients",
                                         {{"method", "captum_trapezoid"}, {"n_steps", 1}});
              }),
              HasSubstr("expected n_steps >= 2, got 1"));
}

TEST(Methods, ControlAndPerturbationPluginsLoadWithMetadata) {
  const std::vector<std::pair<std::string, uint64_t>> expected = {
      {"constant", 0},
      {"input_independent", 0},
      {"smoothgrad", ATTRIB_CAP_INPUT_GRADIENT},
      {"gradient_shap", ATTRIB_CAP_INPUT_GRADIENT},
      {"feature_ablation", ATTRIB_CAP_FORWARD},
      {"shapley_sampling", ATTRIB_CAP_FORWARD},
      {"shapley_exact", ATTRIB_CAP_FORWARD},
      {"kernel_shap", ATTRIB_CAP_FORWARD},
      {"lime", ATTRIB_CAP_FORWARD}};
  for (const auto& [name, caps] : expected) {
    const attrib::PluginInfo* p = registry().find(name, ATTRIB_KIND_METHOD);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(p->capabilities, caps) << name;
    for (const char* key : {"description", "citation", "params", "cost", "extras"})
      EXPECT_TRUE(p->metadata.contains(key)) << name << " lacks " << key;
    EXPECT_TRUE(p->metadata["cost"].contains("forward_rows")) << name;
    EXPECT_TRUE(p->metadata["cost"].contains("backward_rows")) << name;
    EXPECT_NO_THROW(registry().create_method(name, json::object())) << name;
  }
  EXPECT_THAT(error_of([] {
                registry().create_method("smoothgrad", {{"mode", "median"}});
              }),
              HasSubstr("mode"));
}

TEST(Methods, LinearModelKnownAnswers) {
  DenseModel model = linear_model();
  const attrib::Batch batch = dense_batch(kX, {"e"});
  const std::vector<double> wx = {2, -2, 1.5};  // w = [1, -2, 3], x = [2, 1, 0.5]
  for (const auto& rule : attrib::quadrature_rules()) {
    if (rule == "captum_trapezoid") continue;
    const attrib::Explanation e =
        run("integrated_gradients", {{"method", rule}, {"n_steps", 7}}, model, batch, kTarget0);
    expect_near(e.attributions, wx, 1e-6);
    expect_near(e.extras.at("convergence_delta"), {0}, 1e-6);
    EXPECT_EQ(e.info["rule"], rule);
  }
  expect_near(run("input_x_gradient", {}, model, batch, kTarget0).attributions, wx, 0);
  expect_near(run("occlusion", {}, model, batch, kTarget0).attributions, wx, 1e-6);
  expect_near(run("saliency", {}, model, batch, kTarget0).attributions, {1, 2, 3}, 0);
  expect_near(run("saliency", {{"abs", false}}, model, batch, kTarget0).attributions, {1, -2, 3},
              0);
  // Class 1: w = [0.5, 1, -1].
  expect_near(run("input_x_gradient", {}, model, batch, at::tensor({1}, at::kLong)).attributions,
              {1, 1, -0.5}, 0);
}

TEST(Methods, CaptumTrapezoidLosesOneOverM) {
  DenseModel model = linear_model();
  const attrib::Explanation e =
      run("integrated_gradients", {{"method", "captum_trapezoid"}, {"n_steps", 10}}, model,
          dense_batch(kX, {"e"}), kTarget0);
  expect_near(e.attributions, {0.9 * 2, 0.9 * -2, 0.9 * 1.5}, 1e-6);
  // delta = -(f(x) - f(0)) / m = -1.5 / 10.
  expect_near(e.extras.at("convergence_delta"), {-0.15}, 1e-6);
  expect_near(e.extras.at("relative_delta"), {0.1}, 1e-6);
}

TEST(Methods, OcclusionAveragesOverlappingWindows) {
  DenseModel model = linear_model();
  const attrib::Batch batch = dense_batch(kX, {"e"});
  // w*x = [2, -2, 1.5]. Windows {0,1}, {1,2}: deltas 0 and -0.5.
  expect_near(run("occlusion", {{"window", 2}}, model, batch, kTarget0).attributions,
              {0, -0.25, -0.5}, 1e-6);
  // Windows {0,1}, {2} (clipped at the edge).
  expect_near(run("occlusion", {{"window", 2}, {"stride", 2}}, model, batch, kTarget0).attributions,
              {0, 0, 1.5}, 1e-6);
  // One window over everything, b = 1: every element gets f(x) - f(1) = w.(x - 1) = -0.5.
  const attrib::Explanation e =
      run("occlusion", {{"window", 5}, {"baseline_value", 1.0}}, model, batch, kTarget0);
  expect_near(e.attributions, {-0.5, -0.5, -0.5}, 1e-6);
  EXPECT_EQ(e.forward_rows, 2);
  EXPECT_EQ(e.backward_rows, 0);
}

TEST(Methods, IntegratedGradientsCompletenessOnSmoothModel) {
  DenseModel model = smooth_model();
  const at::Tensor x = at::tensor({0.7f, -1.2f, 0.9f, 1.5f, 0.4f, -0.8f}).view({2, 3});
  const at::Tensor targets = at::tensor({0, 1}, at::kLong);
  const attrib::Batch batch = dense_batch(x, {"p", "q"});
  const attrib::Explanation e = run("integrated_gradients", {}, model, batch, targets);
  ASSERT_EQ(e.attributions.sizes(), x.sizes());
  const at::Tensor fx = attrib::select_targets(smooth_fn(x), targets).to(at::kDouble);
  const at::Tensor f0 =
      attrib::select_targets(smooth_fn(at::zeros_like(x)), targets).to(at::kDouble);
  const at::Tensor sum = e.attributions.to(at::kDouble).sum(1);
  EXPECT_LT((sum - (fx - f0)).abs().max().item<double>(), 1e-4);
  expect_close(e.extras.at("convergence_delta"), sum - (fx - f0), 1e-6);
  expect_close(e.extras.at("relative_delta"), (sum - (fx - f0)).abs() / (fx - f0).abs(), 1e-6);
  EXPECT_EQ(e.forward_rows, 52 * 2);
  EXPECT_EQ(e.backward_rows, 50 * 2);
  EXPECT_EQ(model.count.rows, 52 * 2);
  EXPECT_EQ(e.info, (json{{"rule", "gausslegendre"},
                          {"n_steps", 50},
                          {"baseline", "zero"},
                          {"multiply_by_inputs", true},
                          {"space", "input"},
                          {"output", "logit"},
                          {"accumulation", "float64"}}));
  // Without the multiplication: the path-averaged gradient; the delta is unchanged.
  const attrib::Explanation avg =
      run("integrated_gradients", {{"multiply_by_inputs", false}}, model, batch, targets);
  expect_close(avg.attributions * x, e.attributions, 1e-6);
  expect_close(avg.extras.at("convergence_delta"), e.extras.at("convergence_delta"), 1e-9);
}

TEST(Methods, TextIntegratedGradientsInEmbeddingSpace) {
  TextModel model;
  const attrib::Batch batch = text_batch();
  const at::Tensor targets = at::tensor({1, 0}, at::kLong);
  const attrib::Explanation e =
      run("integrated_gradients", {{"baseline", "mask"}}, model, batch, targets);
  ASSERT_EQ(e.attributions.sizes(), (std::vector<int64_t>{2, 6, 4}));
  EXPECT_EQ(e.info["space"], "embeddings");
  EXPECT_EQ(e.info["baseline"], "mask");
  // Special tokens and padding are the same in x and x': no attribution.
  const at::Tensor tokens = e.attributions.sum(2);
  EXPECT_TRUE(tokens.masked_select(batch.word_ids.lt(0)).eq(0).all().item<bool>());
  // Completeness against the model's own outputs.
  const at::Tensor masked =
      at::tensor({3, 2, 2, 2, 4, 0, 3, 2, 2, 4, 0, 0}, at::kLong).view({2, 6});
  const at::Tensor df = attrib::select_targets(model.forward(batch.inputs, batch.attention_mask) -
                                                   model.forward(masked, batch.attention_mask),
                                               targets)
                            .to(at::kDouble);
  const at::Tensor sum = e.attributions.to(at::kDouble).sum({1, 2});
  EXPECT_LT((sum - df).abs().max().item<double>(), 1e-4);
  expect_close(e.extras.at("convergence_delta"), sum - df, 1e-6);
  // Example "b" alone with less padding gives the same token attributions.
  const attrib::Explanation alone = run("integrated_gradients", {{"baseline", "mask"}}, model,
                                        text_b_alone(), targets.slice(0, 1, 2));
  expect_close(alone.attributions[0], e.attributions[1].slice(0, 0, 4), 1e-6);
  // Zero baseline and gradient-only methods give embedding-shaped maps too.
  EXPECT_EQ(
      run("integrated_gradients", {{"n_steps", 4}}, model, batch, targets).attributions.sizes(),
      e.attributions.sizes());
  const at::Tensor grad = run("saliency", {{"abs", false}}, model, batch, targets).attributions;
  EXPECT_EQ(grad.sizes(), e.attributions.sizes());
  expect_close(run("input_x_gradient", {}, model, batch, targets).attributions,
               model.embed(batch.inputs) * grad, 1e-7);
}

TEST(Methods, TextOcclusionReplacesWordTokensOnly) {
  TextModel model;
  const attrib::Batch batch = text_batch();
  const at::Tensor targets = at::tensor({1, 0}, at::kLong);
  auto f = [&](const at::Tensor& ids, int64_t i) {
    return attrib::select_targets(
               model.forward(ids.unsqueeze(0), batch.attention_mask.slice(0, i, i + 1)),
               targets.slice(0, i, i + 1))
        .item<double>();
  };
  // Reference: one forward per window, the windows listed by hand (feature positions per example).
  auto reference = [&](const std::vector<std::vector<std::vector<int64_t>>>& windows) {
    at::Tensor want = at::zeros({2, 6}, at::kDouble);
    for (int64_t i = 0; i < 2; ++i) {
      const at::Tensor ids = batch.inputs[i];
      at::Tensor count = at::zeros({6}, at::kDouble);
      for (const auto& w : windows[i]) {
        at::Tensor occluded = ids.clone();
        for (int64_t t : w) occluded[t] = 2;
        const double delta = f(ids, i) - f(occluded, i);
        for (int64_t t : w) {
          want[i][t] += delta;
          count[t] += 1;
        }
      }
      want[i] = want[i] / count.clamp_min(1);
    }
    return want;
  };
  const attrib::Explanation loo = run("occlusion", {}, model, batch, targets);
  ASSERT_EQ(loo.attributions.sizes(), (std::vector<int64_t>{2, 6}));
  expect_close(loo.attributions, reference({{{1}, {2}, {3}}, {{1}, {2}}}), 1e-6);
  EXPECT_EQ(loo.info["token"], "mask");
  EXPECT_EQ(loo.info["token_id"], 2);
  // Window 2: "a" has windows {1,2}, {2,3}; "b" has the single window {1,2} (its block 1 row is
  // unperturbed filler and must not count).
  const attrib::Explanation w2 = run("occlusion", {{"window", 2}}, model, batch, targets);
  expect_close(w2.attributions, reference({{{1, 2}, {2, 3}}, {{1, 2}}}), 1e-6);
  EXPECT_EQ(w2.forward_rows, 2 + 2 * 2);
  const attrib::Explanation alone =
      run("occlusion", {{"window", 2}}, model, text_b_alone(), targets.slice(0, 1, 2));
  expect_close(alone.attributions[0], w2.attributions[1].slice(0, 0, 4), 1e-6);

  TextModel no_mask(ATTRIB_CAP_FORWARD, -1);
  EXPECT_EQ(error_of([&] { run("occlusion", {}, no_mask, batch, targets); }),
            "occlusion token \"mask\": model 'tiny_text' has no mask token (mask_id = -1)");
  EXPECT_NO_THROW(run("occlusion", {{"token", "unk"}}, no_mask, batch, targets));
}

}  // namespace
