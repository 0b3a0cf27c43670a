#pragma once
#include <functional>
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

/// Scores every example of `in` that has an annotation with at least one marked feature by
/// fn(example index, example); the others stay NaN (skipped and counted, never 0). Checks that
/// the mask matches the scores (errors name `metric`).
std::vector<double> score_annotated(
    const MetricInput& in, const std::string& metric, const std::string& sign,
    const std::function<double(int64_t, const AnnotatedExample&)>& fn);

/// The plausibility suite's metrics: token_f1, iou_f1, auprc, roc_auc, then the localisation
/// metrics (METRICS.md §3).
std::vector<MetricSpec> plausibility_metrics();
/// pointing_game, attribution_localisation, relevance_mass_accuracy, relevance_rank_accuracy,
/// top_k_intersection (localisation.cpp, METRICS.md §3.5-3.9).
std::vector<MetricSpec> localisation_metrics();
}  // namespace attrib
