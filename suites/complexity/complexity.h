#pragma once
#include <vector>

#include "metric.h"

namespace attrib {
/// The complexity family: sparseness (Gini), complexity (entropy) (METRICS.md §5).
std::vector<MetricSpec> complexity_metrics();
}  // namespace attrib
