#pragma once
#include <vector>

#include "metric.h"

namespace attrib {
/// The plausibility suite's metrics: token_f1, iou_f1, auprc, roc_auc, then the localisation
/// metrics (METRICS.md §3).
std::vector<MetricSpec> plausibility_metrics();
/// pointing_game, attribution_localisation, relevance_mass_accuracy, relevance_rank_accuracy,
/// top_k_intersection (localisation.cpp, METRICS.md §3.5-3.9).
std::vector<MetricSpec> localisation_metrics();
}  // namespace attrib
