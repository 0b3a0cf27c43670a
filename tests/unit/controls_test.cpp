// Known-answer tests of the controls constant and input_independent, which never run the model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analytic_models.h"

using ::testing::HasSubstr;

namespace {

using namespace attrib_test;

TEST(Controls, ConstantFillsEveryFeature) {
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

TEST(Controls, InputIndependentIgnoresTheModel) {
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

}  // namespace
