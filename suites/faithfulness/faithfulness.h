#pragma once
#include <vector>

#include "metric.h"

namespace attrib {
/// The faithfulness family: deletion, insertion, comprehensiveness, sufficiency,
/// faithfulness_correlation, monotonicity, infidelity, pgi, pgu.
std::vector<MetricSpec> faithfulness_metrics();
/// ERASER comprehensiveness and sufficiency (eraser.cpp).
std::vector<MetricSpec> eraser_metrics();
/// Faithfulness correlation and monotonicity correlation (correlation.cpp).
std::vector<MetricSpec> correlation_metrics();
/// Infidelity (infidelity.cpp).
std::vector<MetricSpec> infidelity_metrics();
/// PGI and PGU (prediction_gap.cpp).
std::vector<MetricSpec> prediction_gap_metrics();
}  // namespace attrib
