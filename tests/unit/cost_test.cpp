// Cost formulas of the plugins (cost.h): evaluated exactly, unknown ones never guessed, and an
// absurd setting refused with a message naming the parameter and the estimate.
#include "cost.h"

#include <gtest/gtest.h>

#include "attrib/error.h"

namespace {

using nlohmann::json;

TEST(Cost, EvaluatesThePluginFormulas) {
  const std::map<std::string, double> v = {
      {"n_steps", 50}, {"n_features", 10}, {"n_samples", 200}, {"window", 3}, {"stride", 2}};
  EXPECT_EQ(attrib::evaluate_cost("n_steps + 2", v), 52.0);
  EXPECT_EQ(attrib::evaluate_cost("2 + min(n_samples, 2^n_features - 2)", v), 202.0);
  EXPECT_EQ(attrib::evaluate_cost("2 + ceil(max(n_features - window, 0) / stride)", v), 6.0);
  EXPECT_EQ(attrib::evaluate_cost("2^n_features", v), 1024.0);
  EXPECT_EQ(attrib::evaluate_cost("2 (+ 1 row per explain call checking the architecture)", v),
            2.0);
  EXPECT_EQ(attrib::evaluate_cost("-(1 - 3) * 2", v), 4.0);
  // Unknown variables, functions or syntax: no estimate.
  EXPECT_FALSE(attrib::evaluate_cost("n_layers * 2", v).has_value());
  EXPECT_FALSE(attrib::evaluate_cost("sqrt(4)", v).has_value());
  EXPECT_FALSE(attrib::evaluate_cost("2 +", v).has_value());
  EXPECT_FALSE(attrib::evaluate_cost("1 / 0", v).has_value());
}

TEST(Cost, EstimatesAndRefuses) {
  const json meta = {{"cost", {{"forward_rows", "n_steps + 2"}, {"backward_rows", "n_steps"}}}};
  // 3 examples x (50 + 2 + 50) rows.
  EXPECT_EQ(attrib::estimate_rows(meta, {{"n_steps", 50}}, {4, 5, 6}), 306.0);
  EXPECT_NO_THROW(attrib::check_cost("ig", meta, {{"n_steps", 50}}, {4, 5, 6}));
  try {
    attrib::check_cost("ig", meta, {{"n_steps", 1e9}}, std::vector<int64_t>(200, 12));
    FAIL() << "expected a refusal";
  } catch (const attrib::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("method 'ig'"), std::string::npos) << m;
    EXPECT_NE(m.find("n_steps = 1000000000"), std::string::npos) << m;
    EXPECT_NE(m.find("4e+11"), std::string::npos) << m;
    EXPECT_NE(m.find("--force"), std::string::npos) << m;
  }
  // Per-example features: exact Shapley on 40 words is refused, on 8 it is not.
  const json shapley = {{"cost", {{"forward_rows", "2^n_features"}, {"backward_rows", "0"}}}};
  EXPECT_THROW(attrib::check_cost("shap", shapley, json::object(), {40}), attrib::Error);
  EXPECT_NO_THROW(attrib::check_cost("shap", shapley, json::object(), {8, 8}));
  // feature_ablation groups: distinct non-negative ids.
  const json ablation = {{"cost", {{"forward_rows", "1 + n_groups"}}}};
  EXPECT_EQ(attrib::estimate_rows(ablation, {{"groups", {0, 0, 1, -1}}}, {4}), 3.0);
  EXPECT_EQ(attrib::estimate_rows(ablation, {{"groups", json::array()}}, {4}), 5.0);
  // No cost in the metadata: unknown, and never refused.
  EXPECT_FALSE(attrib::estimate_rows(json::object(), json::object(), {4}).has_value());
  EXPECT_NO_THROW(attrib::check_cost("x", json::object(), json::object(), {4}));
}

}  // namespace
