#pragma once
// What scoring cost per metric: results.json's `scoring` entries (score.cpp) summed over the
// methods, for the leaderboard's "Scoring cost" table and the report's cost section.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attrib {

/// One metric on one (dataset, model), summed over the methods it scored.
struct MetricCost {
  std::string dataset, model, metric;
  double seconds = 0, model_seconds = 0;
  int64_t forward_rows = 0, saved_rows = 0;
  /// False when an entry has no row counts (units of a store written before attrib kept them):
  /// the rows, rows saved and model seconds are then unknown.
  bool rows_known = true;
};

/// The `scoring` entries of `doc` summed per (dataset, model, metric), in order of first
/// appearance (the suite's); empty when the document has none.
std::vector<MetricCost> metric_costs(const nlohmann::json& doc);

}  // namespace attrib
