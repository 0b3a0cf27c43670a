// Known-answer tests of the controls (constant, input_independent), the noise and sampling gradient
// methods (smoothgrad, gradient_shap) and the coalition-based perturbation methods
// (feature_ablation, shapley_sampling, shapley_exact, kernel_shap, lime), on the analytic models.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "analytic_models.h"

using ::testing::HasSubstr;

namespace {

using namespace attrib_test;

// f = x0 * x1 (one class): Shapley values with baseline 0 are [x0 x1 / 2, x0 x1 / 2].
DenseModel product_model() {
  return DenseModel("product", 2, 1, [](const at::Tensor& x) {
    return (x.select(1, 0) * x.select(1, 1)).unsqueeze(1);
  });
}

// f = sum_j w_j x_j with w_j = j - 3.5 over `dim` features (one class).
DenseModel wide_linear_model(int64_t dim) {
  const at::Tensor w = at::arange(dim, at::kFloat) - 3.5;
  return DenseModel("wide_linear", dim, 1,
                    [=](const at::Tensor& x) { return x.matmul(w).unsqueeze(1); });
}

const std::vector<double> kWx = {2, -2, 1.5};  // linear model, class 0: w = [1, -2, 3], x = kX

attrib::Batch one_example() { return dense_batch(kX, {"e"}); }

// ---------------------------------------------------------------------------------------------
// Metadata.

TEST(MoreMethods, PluginsLoadWithMetadata) {
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

// ---------------------------------------------------------------------------------------------
// Controls.

TEST(MoreMethods, ConstantFillsEveryFeature) {
  DenseModel model = linear_model();
  const at::Tensor x = at::tensor({2.0f, 1.0f, 0.5f, -1.0f, 0.0f, 3.0f}).view({2, 3});
  const attrib::Batch batch = dense_batch(x, {"p", "q"});
  const at::Tensor targets = at::zeros({2}, at::kLong);
  const attrib::Explanation e = run("constant", {}, model, batch, targets);
  expect_near(e.attributions, {1, 1, 1, 1, 1, 1}, 0);
  EXPECT_EQ(e.forward_rows, 0);
  EXPECT_EQ(model.count.rows, 0);
  EXPECT_EQ(e.info["value"], 1.0);
  expect_near(run("constant", {{"value", -2.5}}, model, batch, targets).attributions,
              {-2.5, -2.5, -2.5, -2.5, -2.5, -2.5}, 0);
  TextModel text;
  const attrib::Explanation t = run("constant", {{"value", 3}}, text, text_batch(), targets);
  expect_near(t.attributions, {0, 3, 3, 3, 0, 0, 0, 3, 3, 0, 0, 0}, 0);
  EXPECT_EQ(text.count.rows, 0);
}

TEST(MoreMethods, InputIndependentIgnoresTheModel) {
  DenseModel lin = linear_model(), smooth = smooth_model();
  const at::Tensor x = at::tensor({2.0f, -1.0f, 0.5f, -1.0f, 0.0f, 3.0f}).view({2, 3});
  const attrib::Batch batch = dense_batch(x, {"p", "q"});
  const at::Tensor targets = at::tensor({0, 1}, at::kLong);
  const attrib::Explanation p = run("input_independent", {}, lin, batch, targets);
  expect_near(p.attributions, {1, 0.5, 1.0 / 3, 1, 0.5, 1.0 / 3}, 1e-7);
  EXPECT_EQ(p.info["kind"], "positional");
  const attrib::Explanation a =
      run("input_independent", {{"kind", "abs_input"}}, lin, batch, targets);
  expect_near(a.attributions, {2, 1, 0.5, 1, 0, 3}, 0);
  EXPECT_TRUE(a.attributions.equal(
      run("input_independent", {{"kind", "abs_input"}}, smooth, batch, targets).attributions));
  EXPECT_EQ(lin.count.rows + smooth.count.rows, 0);
  // Images [B, C, H, W]: sum over channels, repeated on each channel.
  const at::Tensor img =
      at::tensor({1.0f, -2.0f, 3.0f, 0.5f, -1.0f, 1.0f, 0.0f, 2.0f}).view({1, 2, 2, 2});
  expect_near(
      run("input_independent", {{"kind", "abs_input"}}, lin, dense_batch(img, {"i"}), kTarget0)
          .attributions,
      {2, 3, 3, 2.5, 2, 3, 3, 2.5}, 0);

  TextModel text;
  const attrib::Explanation t = run("input_independent", {}, text, text_batch(), targets);
  expect_near(t.attributions, {0, 1, 0.5, 1.0 / 3, 0, 0, 0, 1, 0.5, 0, 0, 0}, 1e-7);
  EXPECT_THAT(error_of([&] {
                run("input_independent", {{"kind", "abs_input"}}, text, text_batch(), targets);
              }),
              HasSubstr("expected a dense batch"));
}

// ---------------------------------------------------------------------------------------------
// SmoothGrad and GradientSHAP.

TEST(MoreMethods, SmoothGradLinearKnownAnswers) {
  DenseModel model = linear_model();
  const attrib::Batch batch = one_example();
  const attrib::Explanation sg = run("smoothgrad", {}, model, batch, kTarget0);
  expect_near(sg.attributions, {1, -2, 3}, 0);  // the gradient of a linear model is w everywhere
  EXPECT_EQ(sg.forward_rows, 10);
  EXPECT_EQ(sg.backward_rows, 10);
  EXPECT_EQ(model.count.rows, 10);
  EXPECT_EQ(sg.info["mode"], "smoothgrad");
  EXPECT_EQ(sg.info["base"], "gradient");
  EXPECT_EQ(sg.info["n_samples"], 10);
  EXPECT_EQ(sg.info["noise_scale"], "absolute");
  expect_near(run("smoothgrad", {{"mode", "smoothgrad_sq"}}, model, batch, kTarget0).attributions,
              {1, 4, 9}, 0);
  expect_near(
      run("smoothgrad", {{"mode", "vargrad"}, {"noise_scale", "relative"}}, model, batch, kTarget0)
          .attributions,
      {0, 0, 0}, 0);
  expect_near(
      run("smoothgrad", {{"abs", true}, {"n_samples", 3}}, model, batch, kTarget0).attributions,
      {1, 2, 3}, 0);
  // Input x gradient of the noisy input: mean_s (x + eps_s) w, so it tends to w x; without
  // noise it is w x exactly.
  expect_near(
      run("smoothgrad", {{"base", "input_x_gradient"}, {"stdevs", 0.0}}, model, batch, kTarget0)
          .attributions,
      kWx, 1e-6);
  const at::Tensor noisy =
      run("smoothgrad", {{"base", "input_x_gradient"}, {"n_samples", 4000}}, model, batch, kTarget0)
          .attributions;
  expect_near(noisy, kWx, 0.02);
  // On a curved model the noise matters, and the same seed gives the same numbers.
  DenseModel smooth = smooth_model();
  const at::Tensor a = run("smoothgrad", {}, smooth, batch, kTarget0, 256, 3).attributions;
  EXPECT_TRUE(a.equal(run("smoothgrad", {}, smooth, batch, kTarget0, 256, 3).attributions));
  EXPECT_FALSE(a.equal(run("smoothgrad", {}, smooth, batch, kTarget0, 256, 4).attributions));
  EXPECT_FALSE(a.equal(run("saliency", {{"abs", false}}, smooth, batch, kTarget0).attributions));
  expect_close(run("smoothgrad", {{"stdevs", 0.0}}, smooth, batch, kTarget0).attributions,
               run("saliency", {{"abs", false}}, smooth, batch, kTarget0).attributions, 1e-7);
}

TEST(MoreMethods, SmoothGradTextNoiseOnRealTokensOnly) {
  TextModel model;
  const attrib::Batch batch = text_batch();
  const at::Tensor targets = at::tensor({1, 0}, at::kLong);
  const attrib::Explanation e = run("smoothgrad", {{"n_samples", 5}}, model, batch, targets);
  ASSERT_EQ(e.attributions.sizes(), (std::vector<int64_t>{2, 6, 4}));
  EXPECT_EQ(e.info["space"], "embeddings");
  // Padding has no effect on the model: zero gradient.
  EXPECT_TRUE(e.attributions[0][5].eq(0).all().item<bool>());
  // Example "b" alone with less padding draws the same noise.
  for (const std::string mode : {"smoothgrad", "vargrad"}) {
    const json params = {{"n_samples", 5}, {"mode", mode}, {"noise_scale", "relative"}};
    const at::Tensor full = run("smoothgrad", params, model, batch, targets).attributions;
    const at::Tensor alone =
        run("smoothgrad", params, model, text_b_alone(), targets.slice(0, 1, 2)).attributions;
    expect_close(alone[0], full[1].slice(0, 0, 4), 1e-6);
  }
  expect_close(run("smoothgrad", {{"stdevs", 0.0}}, model, batch, targets).attributions,
               run("saliency", {{"abs", false}}, model, batch, targets).attributions, 1e-7);
}

TEST(MoreMethods, GradientShapLinearKnownAnswers) {
  DenseModel model = linear_model();
  const attrib::Batch batch = one_example();
  // Zero baseline: (x - 0) * w for every sample, whatever alpha and the noise.
  const attrib::Explanation e = run("gradient_shap", {}, model, batch, kTarget0);
  expect_near(e.attributions, kWx, 1e-12);
  EXPECT_EQ(e.forward_rows, 20);
  EXPECT_EQ(e.backward_rows, 20);
  EXPECT_EQ(model.count.rows, 20);
  EXPECT_EQ(e.info["baseline"], "zero");
  expect_near(run("gradient_shap", {{"stdevs", 0.5}, {"n_samples", 7}}, model, batch, kTarget0)
                  .attributions,
              kWx, 1e-12);
  // Random baselines: phi = w * (x - mean_s b_s); uniform b ~ U(0, 1) has mean 0.5.
  const at::Tensor u =
      run("gradient_shap", {{"baseline", "uniform"}, {"n_samples", 4000}}, model, batch, kTarget0)
          .attributions;
  expect_near(u, {1 * 1.5, -2 * 0.5, 3 * 0.0}, 0.05);
  const at::Tensor g =
      run("gradient_shap", {{"baseline", "gaussian"}, {"n_samples", 4000}}, model, batch, kTarget0)
          .attributions;
  expect_near(g, kWx, 0.15);
  // Completeness in expectation on a curved model (smooth along every path here).
  DenseModel smooth = smooth_model();
  const attrib::Explanation s =
      run("gradient_shap", {{"n_samples", 4000}}, smooth, batch, kTarget0);
  const double fx = smooth_fn(kX)[0][0].item<double>(),
               f0 = smooth_fn(at::zeros_like(kX))[0][0].item<double>();
  EXPECT_NEAR(s.attributions.sum().item<double>(), fx - f0, 0.25);

  TextModel text;
  EXPECT_THAT(error_of([&] {
                run("gradient_shap", {{"baseline", "uniform"}}, text, text_batch(),
                    at::zeros({2}, at::kLong));
              }),
              HasSubstr("expected a dense batch"));
  const attrib::Explanation t = run("gradient_shap", {{"baseline", "mask"}, {"stdevs", 0.1}}, text,
                                    text_batch(), at::tensor({1, 0}, at::kLong));
  ASSERT_EQ(t.attributions.sizes(), (std::vector<int64_t>{2, 6, 4}));
  const at::Tensor alone = run("gradient_shap", {{"baseline", "mask"}, {"stdevs", 0.1}}, text,
                               text_b_alone(), at::tensor({0}, at::kLong))
                               .attributions;
  expect_close(alone[0], t.attributions[1].slice(0, 0, 4), 1e-6);
}

// ---------------------------------------------------------------------------------------------
// Perturbation methods.

TEST(MoreMethods, FeatureAblationLinearAndGroups) {
  DenseModel model = linear_model();
  const attrib::Batch batch = one_example();
  const attrib::Explanation e = run("feature_ablation", {}, model, batch, kTarget0);
  expect_near(e.attributions, kWx, 1e-6);
  EXPECT_EQ(e.forward_rows, 4);
  EXPECT_EQ(e.backward_rows, 0);
  EXPECT_EQ(e.info["layout"], "perturbation-major");
  // Groups {0, 1} and {2}: the group's difference is copied to each member.
  const attrib::Explanation g =
      run("feature_ablation", {{"groups", {5, 5, 9}}}, model, batch, kTarget0);
  expect_near(g.attributions, {0, 0, 1.5}, 1e-6);
  EXPECT_EQ(g.forward_rows, 3);
  // A negative id is never ablated; baseline 1: f(x) - f(x with x2 = 1) = 3 * (0.5 - 1).
  expect_near(run("feature_ablation", {{"groups", {-1, -1, 0}}, {"baseline_value", 1.0}}, model,
                  batch, kTarget0)
                  .attributions,
              {0, 0, -1.5}, 1e-6);
  EXPECT_THAT(error_of([&] {
                run("feature_ablation", {{"groups", {0, 1}}}, model, batch, kTarget0);
              }),
              HasSubstr("expected 3 group ids (one per input element), got 2"));
  // Text: leave-one-out with the mask token, as occlusion with window 1.
  TextModel text;
  const at::Tensor targets = at::tensor({1, 0}, at::kLong);
  const attrib::Explanation t = run("feature_ablation", {}, text, text_batch(), targets);
  expect_close(t.attributions, run("occlusion", {}, text, text_batch(), targets).attributions,
               1e-6);
  EXPECT_EQ(t.info["token_id"], 2);
  EXPECT_EQ(t.forward_rows, 2 + 3 + 2);
  TextModel no_mask(ATTRIB_CAP_FORWARD, -1);
  EXPECT_EQ(error_of([&] { run("feature_ablation", {}, no_mask, text_batch(), targets); }),
            "feature_ablation token \"mask\": model 'tiny_text' has no mask token (mask_id = -1)");
}

TEST(MoreMethods, ShapleyLinearAndProductKnownAnswers) {
  DenseModel model = linear_model();
  const attrib::Batch batch = one_example();
  for (const auto& [name, params] : std::vector<std::pair<std::string, json>>{
           {"shapley_exact", json::object()},
           {"shapley_sampling", json::object()},
           {"shapley_sampling", {{"antithetic", true}, {"n_permutations", 3}}},
           {"kernel_shap", json::object()},
           {"kernel_shap", {{"n_samples", 5}}}}) {
    SCOPED_TRACE(name + " " + params.dump());
    expect_near(run(name, params, model, batch, kTarget0).attributions, kWx, 1e-6);
  }
  EXPECT_EQ(run("shapley_exact", {}, model, batch, kTarget0).forward_rows, 8);
  EXPECT_EQ(run("shapley_sampling", {}, model, batch, kTarget0).forward_rows, 2 + 25 * 2);
  EXPECT_EQ(run("kernel_shap", {}, model, batch, kTarget0).forward_rows, 2 + 6);

  // f = x0 x1: the interaction is split equally.
  DenseModel product = product_model();
  const attrib::Batch pb = dense_batch(at::tensor({3.0f, -2.0f}).view({1, 2}), {"p"});
  expect_near(run("shapley_exact", {}, product, pb, kTarget0).attributions, {-3, -3}, 1e-12);
  expect_near(run("kernel_shap", {}, product, pb, kTarget0).attributions, {-3, -3}, 1e-9);
  expect_near(
      run("shapley_sampling", {{"antithetic", true}, {"n_permutations", 4}}, product, pb, kTarget0)
          .attributions,
      {-3, -3}, 1e-12);
  // Plain sampling: each permutation credits x0 x1 to one feature; efficiency always holds.
  const at::Tensor s =
      run("shapley_sampling", {{"n_permutations", 5}}, product, pb, kTarget0).attributions;
  EXPECT_NEAR(s.sum().item<double>(), -6, 1e-12);
  for (double v : values(s)) EXPECT_NEAR(std::remainder(v * 5, 6.0), 0.0, 1e-9) << v;

  DenseModel wide = wide_linear_model(20);
  const attrib::Batch wb = dense_batch(at::ones({1, 20}), {"w"});
  EXPECT_EQ(error_of([&] { run("shapley_exact", {}, wide, wb, kTarget0); }),
            "shapley_exact: 20 features, at most 12 supported (2^M coalitions); use "
            "shapley_sampling");
  EXPECT_EQ(wide.count.rows, 0);
}

TEST(MoreMethods, KernelShapAndShapleyAgreeWithExactOracle) {
  // Curved model, 3 features: KernelSHAP enumerates all coalitions and is exact; sampling
  // converges to the oracle.
  DenseModel model = smooth_model();
  const at::Tensor x = at::tensor({0.7f, -1.2f, 0.9f, 1.5f, 0.4f, -0.8f}).view({2, 3});
  const attrib::Batch batch = dense_batch(x, {"p", "q"});
  const at::Tensor targets = at::tensor({0, 1}, at::kLong);
  const attrib::Explanation exact = run("shapley_exact", {}, model, batch, targets);
  const attrib::Explanation kernel = run("kernel_shap", {}, model, batch, targets);
  expect_close(kernel.attributions, exact.attributions, 1e-9);
  EXPECT_EQ(kernel.info["coalitions"], "all 2^M - 2 proper coalitions");
  // Efficiency: sum phi = f(x) - f(0).
  const at::Tensor df = (attrib::select_targets(smooth_fn(x), targets) -
                         attrib::select_targets(smooth_fn(at::zeros_like(x)), targets))
                            .to(at::kDouble);
  expect_close(exact.attributions.sum(1), df, 1e-6);
  const attrib::Explanation sampled = run(
      "shapley_sampling", {{"n_permutations", 3000}, {"antithetic", true}}, model, batch, targets);
  expect_close(sampled.attributions.sum(1), df, 1e-6);
  expect_close(sampled.attributions, exact.attributions, 0.02);

  // Wide linear model, 10 features: 2^10 - 2 > 300, so KernelSHAP samples, and is still exact
  // on an additive game.
  DenseModel wide = wide_linear_model(10);
  const at::Tensor wx = at::linspace(-1, 2, 10, at::kFloat).view({1, 10});
  const attrib::Explanation k =
      run("kernel_shap", {{"n_samples", 300}}, wide, dense_batch(wx, {"w"}), kTarget0);
  EXPECT_EQ(k.info["coalitions"], "sampled (kernel absorbed), weight 1");
  EXPECT_EQ(k.forward_rows, 302);
  expect_close(k.attributions, wx * (at::arange(10, at::kFloat) - 3.5), 1e-4);
}

TEST(MoreMethods, LimeRecoversLinearModels) {
  DenseModel model = linear_model();
  const attrib::Batch batch = one_example();
  const attrib::Explanation e = run("lime", {{"alpha", 0.0}}, model, batch, kTarget0);
  expect_near(e.attributions, kWx, 1e-5);
  expect_near(e.extras.at("r2"), {1.0}, 1e-9);
  EXPECT_EQ(e.forward_rows, 200);
  EXPECT_EQ(e.info["kernel_width"], 0.25);
  // Ridge shrinks the coefficients towards 0 without changing their signs.
  const attrib::Explanation r = run("lime", {}, model, batch, kTarget0);
  const std::vector<double> shrunk = values(r.attributions);
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_LT(std::abs(shrunk[j]), std::abs(kWx[j])) << j;
    EXPECT_GT(shrunk[j] * kWx[j], 0) << j;
  }
  EXPECT_THAT(error_of([] {
                registry().create_method("lime", {{"kernel_width", 0.0}});
              }),
              HasSubstr("kernel_width > 0"));
}

// Every new method, explained as one batch, as single examples and under tight row caps; the same
// seed gives the same numbers.
TEST(MoreMethods, BatchInvariantWithinMaxRowsAndSeeded) {
  const at::Tensor x =
      at::tensor({0.7f, -1.2f, 0.9f, 1.5f, 0.4f, -0.8f, -0.3f, 2.0f, 1.1f}).view({3, 3});
  const at::Tensor targets = at::tensor({0, 1, 1}, at::kLong);
  const std::vector<std::string> ids = {"p", "q", "r"};
  const std::vector<std::pair<std::string, json>> configs = {
      {"constant", json::object()},
      {"input_independent", {{"kind", "abs_input"}}},
      {"smoothgrad", {{"n_samples", 5}}},
      {"smoothgrad", {{"n_samples", 4}, {"mode", "vargrad"}, {"noise_scale", "relative"}}},
      {"gradient_shap", {{"n_samples", 5}, {"stdevs", 0.1}, {"baseline", "gaussian"}}},
      {"feature_ablation", json::object()},
      {"feature_ablation", {{"groups", {0, 1, 0}}}},
      {"shapley_sampling", {{"n_permutations", 4}}},
      {"shapley_exact", json::object()},
      {"kernel_shap", {{"n_samples", 4}}},
      {"lime", {{"n_samples", 20}}}};
  for (const auto& [name, params] : configs) {
    SCOPED_TRACE(name + " " + params.dump());
    DenseModel full_model = smooth_model();
    const attrib::Explanation full =
        run(name, params, full_model, dense_batch(x, ids), targets, 256);
    EXPECT_EQ(full.forward_rows, full_model.count.rows);
    DenseModel again = smooth_model();
    EXPECT_TRUE(full.attributions.equal(
        run(name, params, again, dense_batch(x, ids), targets).attributions));
    for (int64_t i = 0; i < 3; ++i) {
      DenseModel one = smooth_model();
      const attrib::Explanation e =
          run(name, params, one, dense_batch(x.slice(0, i, i + 1), {ids[i]}),
              targets.slice(0, i, i + 1));
      expect_close(e.attributions[0], full.attributions[i], 1e-6);
      for (const auto& [key, value] : full.extras)
        expect_close(e.extras.at(key)[0], value[i], 1e-6);
    }
    for (int64_t cap : {1, 2, 4, 5}) {
      DenseModel capped = smooth_model();
      const attrib::Explanation e = run(name, params, capped, dense_batch(x, ids), targets, cap);
      EXPECT_LE(capped.count.largest, cap) << "max_rows " << cap;
      EXPECT_EQ(e.forward_rows, capped.count.rows) << "max_rows " << cap;
      expect_close(e.attributions, full.attributions, 1e-6);
    }
  }
}

TEST(MoreMethods, TextPerturbationMethodsOnWordTokens) {
  TextModel model;
  const attrib::Batch batch = text_batch();
  const at::Tensor targets = at::tensor({1, 0}, at::kLong);
  const at::Tensor special = batch.word_ids.lt(0);
  const at::Tensor masked =
      at::tensor({3, 2, 2, 2, 4, 0, 3, 2, 2, 4, 0, 0}, at::kLong).view({2, 6});
  const at::Tensor df = attrib::select_targets(model.forward(batch.inputs, batch.attention_mask) -
                                                   model.forward(masked, batch.attention_mask),
                                               targets)
                            .to(at::kDouble);
  const at::Tensor exact = run("shapley_exact", {}, model, batch, targets).attributions;
  ASSERT_EQ(exact.sizes(), (std::vector<int64_t>{2, 6}));
  expect_close(exact.sum(1), df, 1e-6);
  expect_close(run("kernel_shap", {}, model, batch, targets).attributions, exact, 1e-6);
  for (const auto& [name, params] :
       std::vector<std::pair<std::string, json>>{{"feature_ablation", json::object()},
                                                 {"shapley_sampling", {{"n_permutations", 6}}},
                                                 {"shapley_exact", json::object()},
                                                 {"kernel_shap", json::object()},
                                                 {"lime", {{"n_samples", 30}}}}) {
    SCOPED_TRACE(name);
    TextModel counted;
    const attrib::Explanation e = run(name, params, counted, batch, targets, 5);
    ASSERT_EQ(e.attributions.sizes(), (std::vector<int64_t>{2, 6}));
    EXPECT_LE(counted.count.largest, 5);
    EXPECT_EQ(e.forward_rows, counted.count.rows);
    EXPECT_TRUE(e.attributions.masked_select(special).eq(0).all().item<bool>());
    EXPECT_EQ(e.info["unit"], "word");
    const at::Tensor alone =
        run(name, params, model, text_b_alone(), targets.slice(0, 1, 2)).attributions;
    expect_close(alone[0], e.attributions[1].slice(0, 0, 4), 1e-6);
  }
  EXPECT_NO_THROW(run("shapley_sampling", {{"token", "unk"}}, model, batch, targets));
}

}  // namespace
