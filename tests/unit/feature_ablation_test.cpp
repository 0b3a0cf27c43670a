// Known-answer tests of feature_ablation on the analytic models.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analytic_models.h"

using ::testing::HasSubstr;

namespace {

using namespace attrib_test;

TEST(FeatureAblation, LinearAndGroups) {
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

}  // namespace
