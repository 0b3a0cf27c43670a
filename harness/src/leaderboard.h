#pragma once
// Leaderboards with bootstrap CIs and paired tests, computed from a run's score rows.
#include <nlohmann/json.hpp>

#include "results.h"

namespace attrib {

/// Computes leaderboards from `results`: for each (dataset, model, metric) group, every method's
/// mean, median, percentile bootstrap CI (paired: the same resampled example indices for every
/// method of a group), rank by mean in the metric's direction, the paired-bootstrap CI of its
/// difference to the best method, a tie flag when that CI contains 0, a Wilcoxon signed-rank
/// p-value against the best, and P(rank = 1) over the bootstrap replicates; then an overall ranking
/// per (dataset, model) by mean rank across metrics with its bootstrap rank stability.
nlohmann::json compute_leaderboards(const RunResults& results, const StatsOptions& options);

}  // namespace attrib
