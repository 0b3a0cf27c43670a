#pragma once
// The one rule by which every annotated metric (plausibility, localisation) reads an annotated
// example and decides when its score is undefined.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "metric.h"

namespace attrib {

/// One annotated example as the plausibility metrics see it: its feature indices, the attribution
/// of each after `sign` ("signed", "abs" or "positive"), whether each is marked (mask > 0.5), and
/// how many are.
struct AnnotatedExample {
  std::vector<int64_t> feats;
  std::vector<double> a;
  std::vector<char> s;
  int64_t positives = 0;
};

/// Schema entry "all_positive" shared by the annotated metrics (merge into a metric's schema).
nlohmann::json single_class_schema();

/// Scores every annotated example of `in` by fn(example index, example). The same rule for every
/// annotated metric: an example without an annotation, with no marked feature, or with every
/// feature marked stays NaN (skipped and counted, never 0) -- a rationale covering the whole input
/// cannot tell one map from another -- unless params.all_positive is "score" (reference profiles
/// whose code keeps such examples). `params` gives "sign" ("signed", "abs", "positive") and
/// "all_positive". Checks that the mask matches the scores (errors name `metric`).
std::vector<double> score_annotated(
    const MetricInput& in, const std::string& metric, const nlohmann::json& params,
    const std::function<double(int64_t, const AnnotatedExample&)>& fn);

}  // namespace attrib
