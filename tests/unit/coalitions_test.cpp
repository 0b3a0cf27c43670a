// The coalition-based perturbation plugins on text (plugins/common/coalitions.h): feature_ablation,
// shapley_sampling, shapley_exact, kernel_shap and lime perturb word tokens only, respect the
// batch cap and give an example the same numbers without the batch's padding.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "analytic_models.h"

namespace {

using namespace attrib_test;

TEST(Coalitions, TextPerturbationMethodsOnWordTokens) {
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
