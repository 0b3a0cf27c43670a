#pragma once
#include <vector>

#include "metric.h"

namespace attrib {
/// The faithfulness suite's metrics: deletion, insertion.
std::vector<MetricSpec> faithfulness_metrics();
}  // namespace attrib
