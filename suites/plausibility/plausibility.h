#pragma once
#include <vector>

#include "metric.h"

namespace attrib {
/// The plausibility suite's metrics: token_f1, iou_f1, auprc, roc_auc (METRICS.md §3).
std::vector<MetricSpec> plausibility_metrics();
}  // namespace attrib
