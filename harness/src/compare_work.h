#pragma once
// `attrib compare`'s work check: the model rows each method's explanations and each metric's
// scoring needed, from results.json's `explanations` and `scoring`. Row counts do not depend on
// the machine or its load, so a change in them is a speed change that no timing noise hides:
// with the same choices, examples and methods, more rows forwarded is a regression.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attrib {

/// Entries per (dataset, model, method, stage), stage "explain" or the metric's name, in baseline
/// order then new ones: {"dataset", "model", "method", "stage", "baseline" and "current"
/// ({"rows", "n_examples"}: forward + backward rows for explain, rows forwarded for a metric),
/// "ratio", "status", "regression", "reason"}. Status: "regression" (more rows), "improvement"
/// (fewer), "unchanged", "not_comparable" (other choices, examples or, for a metric, another list
/// of methods, whose shared forwards fall differently), or "missing"/"new" (not regressions: the
/// metric and throughput comparisons report what is absent). `metric_entries` are
/// compare_results' metric entries, whose not_comparable status a metric's work inherits.
/// Results without `scoring` or row counts compare nothing. Throws attrib::Error naming the source
/// and JSON path of a malformed entry.
std::vector<nlohmann::json> compare_work(const nlohmann::json& baseline,
                                         const nlohmann::json& current,
                                         const std::vector<nlohmann::json>& metric_entries,
                                         const std::string& baseline_source,
                                         const std::string& current_source);

}  // namespace attrib
