#pragma once
// Scores of a run and their reporting: leaderboards (JSON, Markdown, CSV) with confidence
// intervals, ranks and paired tests. Data flows one way: the runner fills a RunResults, then
// write_results() computes the statistics and writes the files.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attrib {

/// Scores of one method under one metric on one (dataset, model): one value per explained
/// example, in example order (the same order for every method of the group, so scores pair up).
/// NaN marks an undefined example (excluded and counted).
struct ScoreRow {
  std::string dataset;
  std::string model;
  std::string method;          ///< method name as configured (unique within the suite)
  std::string metric;          ///< metric name, e.g. "deletion"
  int direction = +1;          ///< +1: higher is better; -1: lower is better
  nlohmann::json method_info;  ///< plugin, version, resolved params, explainer choices
  nlohmann::json metric_info;  ///< metric params and every choice behind the number
  std::vector<std::string> example_ids;
  std::vector<double> scores;
  /// The leaderboard aggregate of the scores (metric.h: "mean" or "f1_of_means") and the
  /// per-example components it needs (aligned with `scores`, NaN where undefined).
  std::string aggregation = "mean";
  std::map<std::string, std::vector<double>> components;
  std::string error;  ///< non-empty: the row failed; scores are empty
};

/// Statistics settings (suite "statistics" block).
struct StatsOptions {
  int bootstrap_resamples = 2000;
  double confidence = 0.95;
  uint64_t seed = 0;  ///< bootstrap seed (recorded)
};

/// Everything a run produced, before statistics.
struct RunResults {
  nlohmann::json context;  ///< versions, git commit, host, threads, device, seed, suite, ...
  nlohmann::json suite;    ///< the resolved suite configuration
  nlohmann::json datasets = nlohmann::json::array();
  nlohmann::json models = nlohmann::json::array();
  nlohmann::json explanations =
      nlohmann::json::array();  ///< per (dataset, model, method): cost, time
  std::vector<ScoreRow> rows;
  /// Per (dataset, model, method, metric) scored: seconds, units computed and reused, model rows
  /// forwarded, rows saved by shared forwards, seconds inside model calls (score.cpp).
  nlohmann::json scoring = nlohmann::json::array();
  /// Entries of each analysis that ran (analysis.h), by analysis name: "agreement" (matrices per
  /// (dataset, model)), "randomisation" (per (dataset, model, method, test)), "throughput" (per
  /// (dataset, model, method|reference, batch size)); the formats are documented with each
  /// analysis under suites/<name>/. results.json has one array per catalogue analysis.
  std::map<std::string, nlohmann::json> analyses;
  nlohmann::json errors =
      nlohmann::json::array();  ///< {"where", "message"} for everything that failed
};

/// The results document (json_schema_version, context, suite, datasets, models, explanations,
/// rows with per-example scores, leaderboards, errors).
nlohmann::json results_document(const RunResults& results, const nlohmann::json& leaderboards);

/// Writes results.json, leaderboard.md and leaderboard.csv into `dir` (created if needed).
void write_results(const std::string& dir, const RunResults& results, const StatsOptions& options);

/// Current version of the results document format. Bump on incompatible changes.
constexpr int kResultsSchemaVersion = 1;

}  // namespace attrib
