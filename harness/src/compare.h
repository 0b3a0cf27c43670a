#pragma once
// `attrib compare`: regression tracking between two results documents (results.json) of the same
// suite, e.g. the committed baseline and a fresh run.
//
// Metric rows are matched by (dataset, model, method, metric). Rows whose recorded choices differ
// (method_info / metric_info, apart from the plugin `version`, which is reported as a note) or
// whose direction differs are "not comparable", with the differing keys. Otherwise examples are
// paired by example id when both rows carry ids (paired bootstrap CI of the mean difference and a
// Wilcoxon signed-rank test), else compared unpaired (independent bootstrap CI of the difference
// of means and a Mann–Whitney U test). A row is a regression when it is worse in the metric's
// direction by more than the tolerance AND the test gives p < alpha; an improvement likewise.
//
// Throughput entries are matched by (dataset, model, method, device, batch_size); the seconds per
// repetition are compared with a two-sided Mann–Whitney U test; a regression is a current median
// slower than (1 + speed_tolerance) x the baseline median with p < alpha.
//
// Anything present (and not failed) in the baseline but missing or failed in the current run is a
// regression; rows only in the current run are "new".
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace attrib {

/// Settings of compare_results().
struct CompareOptions {
  double tolerance = 0.01;          ///< smallest metric change that counts (metric units)
  bool relative_tolerance = false;  ///< tolerance is a fraction of |baseline mean| instead
  double speed_tolerance = 0.10;    ///< slowdown fraction of the median that counts
  double alpha = 0.05;              ///< significance level; CIs use confidence 1 - alpha
  int bootstrap_resamples = 2000;   ///< for the CIs of the differences (0: no CI)
  std::uint64_t seed = 0;           ///< bootstrap seed
};

/// Checks that `doc` is a results document that compare can read (json_schema_version, rows,
/// optional throughput, context). Throws attrib::Error naming `source` and the JSON path:
///   baseline.json: rows[3].scores: expected array of numbers, got string
void check_results_document(const nlohmann::json& doc, const std::string& source);

/// Compares `current` against `baseline` (both checked with check_results_document, naming the
/// given sources). Returns the report: {"json_schema_version", "baseline" and "current" (source,
/// git commit, date, versions, the full context), "settings" (every choice), "summary" (counts,
/// "regressions", "exit_code" 0 or 6), "metrics": [...], "throughput": [...]}; each entry has a
/// "status" (regression, missing, errored, improvement, unchanged, not_comparable, new, fixed,
/// still_failing) and "regression" (bool); regressions come first.
nlohmann::json compare_results(const nlohmann::json& baseline, const nlohmann::json& current,
                               const CompareOptions& options,
                               const std::string& baseline_source = "baseline",
                               const std::string& current_source = "current");

/// Markdown summary of a report: both runs, the settings, then a table of every metric and every
/// throughput comparison, regressions first.
std::string compare_markdown(const nlohmann::json& report);

/// Whether a compare status counts against the current run: "regression", "missing" (in the
/// baseline, absent now) or "errored" (failed now).
bool is_regression(const std::string& status);

/// Exit code of `attrib compare` when at least one regression was found.
constexpr int kCompareRegressionExit = 6;

/// Version of the compare report format. Bump on incompatible changes.
constexpr int kCompareSchemaVersion = 1;

}  // namespace attrib
