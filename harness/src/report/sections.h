#pragma once
// The report's sections, each a <section> with a stable id (the ids are listed in kSectionIds and
// checked by the tests): report.cpp puts them in one page.
#include <nlohmann/json.hpp>
#include <string>

#include "report/report.h"

namespace attrib::report {

/// Every section's id, in page order.
inline constexpr const char* kSectionIds[] = {"run",           "leaderboards", "curves",
                                              "randomisation", "throughput",   "cost",
                                              "agreement",     "examples"};

/// The id of the leaderboard row of (dataset, model, metric, method); the header's error list
/// links to it.
std::string row_anchor(const std::string& dataset, const std::string& model,
                       const std::string& metric, const std::string& method);

/// Run header: suite, seed, commit, device, versions, and every error linked to its row.
std::string run_section(const nlohmann::json& doc);
/// Per (dataset, model): the overall ranking, then per metric a table beside a forest plot.
std::string leaderboards_section(const nlohmann::json& doc);
/// Mean deletion and insertion curves per method with 95 % bands, from the store (curves.cpp).
std::string curves_section(RunStore* store);
/// Similarity per randomised layer (line charts) and single-point tests (forest plots).
std::string randomisation_section(const nlohmann::json& doc);
/// Explanations per second per method against the model's forward+backward.
std::string throughput_section(const nlohmann::json& doc);
/// Where the time went per (dataset, model): explanations and metrics, model rows (cost.cpp).
std::string cost_section(const nlohmann::json& doc);
/// Methods x methods heatmaps per agreement measure.
std::string agreement_section(const nlohmann::json& doc);
/// Selected examples' attributions from the store (examples.cpp).
std::string examples_section(const nlohmann::json& doc, RunStore* store,
                             const ReportOptions& options);

}  // namespace attrib::report
