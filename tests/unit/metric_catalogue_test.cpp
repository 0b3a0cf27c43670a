// The metric catalogue (metric.h): every faithfulness and localisation metric is registered with a
// valid schema, the reference defaults and the reference profiles of every metric.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "metric_fixtures.h"

namespace {

using namespace metric_fixtures;

TEST(MetricCatalogue, RegisteredWithValidSchemas) {
  const std::vector<std::pair<std::string, int>> expected = {{"faithfulness_correlation", +1},
                                                             {"monotonicity", +1},
                                                             {"infidelity", -1},
                                                             {"pgi", +1},
                                                             {"pgu", -1},
                                                             {"pointing_game", +1},
                                                             {"attribution_localisation", +1},
                                                             {"relevance_mass_accuracy", +1},
                                                             {"relevance_rank_accuracy", +1},
                                                             {"top_k_intersection", +1}};
  std::set<std::string> names;
  for (const auto& m : attrib::metric_catalogue()) names.insert(m.name);
  EXPECT_EQ(names.size(), attrib::metric_catalogue().size()) << "duplicate metric names";
  for (const auto& [name, direction] : expected) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(names.count(name));
    const auto& spec = attrib::find_metric(name);
    EXPECT_EQ(spec.direction, direction);
    const bool plaus = name.find("accuracy") != std::string::npos || name == "pointing_game" ||
                       name == "attribution_localisation" || name == "top_k_intersection";
    EXPECT_EQ(spec.family, plaus ? "plausibility" : "faithfulness");
    EXPECT_EQ(spec.needs, std::vector<std::string>{plaus ? "annotations" : "model"});
    EXPECT_FALSE(spec.description.empty());
    EXPECT_FALSE(spec.citation.empty());
    ASSERT_TRUE(spec.params.is_object());
    for (const auto& [key, p] : spec.params.items()) {
      EXPECT_TRUE(p.contains("type") && p.contains("default")) << key;
      // Every default satisfies its own schema.
      EXPECT_NO_THROW(attrib::resolve_params(spec.params, json{{key, p["default"]}}, "params"))
          << key;
    }
    const json resolved = attrib::resolve_params(spec.params, json::object(), "params");
    EXPECT_NO_THROW(spec.create(resolved));
  }
  // Defaults of the reference libraries (METRICS.md).
  auto dflt = [](const std::string& m, const std::string& k) {
    return attrib::find_metric(m).params[k]["default"];
  };
  EXPECT_EQ(dflt("faithfulness_correlation", "n_samples"), 100);
  EXPECT_EQ(dflt("faithfulness_correlation", "output"), "logit");
  EXPECT_EQ(dflt("monotonicity", "output"), "probability");
  EXPECT_EQ(dflt("monotonicity", "rank_by"), "abs");
  EXPECT_EQ(dflt("infidelity", "n_samples"), 10);
  EXPECT_EQ(dflt("infidelity", "normalize"), false);
  EXPECT_EQ(dflt("pgi", "k_fraction"), 0.25);
  EXPECT_EQ(dflt("pgu", "n_samples"), 100);
  EXPECT_EQ(dflt("attribution_localisation", "sign"), "positive");
  // Every reference profile of every metric names its code and resolves against the schema.
  std::set<std::string> with_profiles;
  for (const auto& spec : attrib::metric_catalogue()) {
    std::set<std::string> seen;
    for (const auto& profile : spec.profiles) {
      SCOPED_TRACE(spec.name + " profile " + profile.name);
      EXPECT_TRUE(seen.insert(profile.name).second);
      EXPECT_FALSE(profile.reference.empty());
      json resolved;
      EXPECT_NO_THROW(resolved = attrib::resolve_params(spec.params, profile.params, "params"));
      EXPECT_NO_THROW(spec.create(resolved));
      with_profiles.insert(spec.name);
    }
  }
  for (const char* m :
       {"token_f1", "iou_f1", "auprc", "average_precision", "roc_auc", "comprehensiveness",
        "sufficiency", "pointing_game", "attribution_localisation", "relevance_mass_accuracy",
        "relevance_rank_accuracy", "top_k_intersection", "sparseness", "complexity",
        "effective_complexity"})
    EXPECT_TRUE(with_profiles.count(m)) << m;
  // Metrics without ranking take no ranking parameters.
  EXPECT_FALSE(attrib::find_metric("infidelity").params.contains("tie_break"));
  EXPECT_FALSE(attrib::find_metric("faithfulness_correlation").params.contains("rank_by"));
}

}  // namespace
