// Known-answer tests of the Shapley value estimators shapley_exact, shapley_sampling and
// kernel_shap on the analytic models, against each other and the exact oracle.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "analytic_models.h"

namespace {

using namespace attrib_test;

TEST(Shapley, LinearAndProductKnownAnswers) {
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

TEST(Shapley, KernelShapAndShapleyAgreeWithExactOracle) {
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

}  // namespace
