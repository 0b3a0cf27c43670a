// Known-answer tests of smoothgrad (and its smoothgrad_sq and vargrad modes) on the analytic
// models.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analytic_models.h"

namespace {

using namespace attrib_test;

TEST(SmoothGrad, LinearKnownAnswers) {
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

TEST(SmoothGrad, TextNoiseOnRealTokensOnly) {
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

}  // namespace
