#pragma once
// Plausibility against human annotations: rationale agreement (plausibility.cpp) and
// localisation in masks (localisation.cpp); both score through common/annotated.h.
#include <vector>

#include "metric.h"

namespace attrib {

/// The plausibility family (METRICS.md §3): token_f1, iou_f1, auprc, average_precision, roc_auc.
std::vector<MetricSpec> plausibility_metrics();
/// pointing_game, attribution_localisation, relevance_mass_accuracy, relevance_rank_accuracy,
/// top_k_intersection (localisation.cpp, METRICS.md §3.5-3.9).
std::vector<MetricSpec> localisation_metrics();
}  // namespace attrib
