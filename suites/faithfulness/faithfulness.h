#pragma once
#include <vector>

#include "metric.h"

namespace attrib {
/// The faithfulness suite's metrics: deletion, insertion, comprehensiveness, sufficiency.
std::vector<MetricSpec> faithfulness_metrics();
/// ERASER comprehensiveness and sufficiency (eraser.cpp).
std::vector<MetricSpec> eraser_metrics();
}  // namespace attrib
