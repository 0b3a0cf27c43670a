// Known-answer tests of gradient_shap on the analytic models.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "analytic_models.h"

using ::testing::HasSubstr;

namespace {

using namespace attrib_test;

TEST(GradientShap, LinearKnownAnswers) {
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

}  // namespace
