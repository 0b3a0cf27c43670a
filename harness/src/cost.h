#pragma once
// Cost of a method run, from the plugins' cost formulas (metadata "cost": forward_rows and
// backward_rows per explanation, e.g. "n_steps + 2", "2 + min(n_samples, 2^n_features - 2)"),
// checked before the work starts so that an absurd setting (n_steps 1e9) is refused with a
// message instead of running for days.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace attrib {

/// Value of a cost formula: numbers, variables, + - * / ^ (power), parentheses and the functions
/// min, max, ceil, floor. Trailing remarks in parentheses that start with "+ " and contain words
/// ("2 (+ 1 row per explain call ...)") are ignored. nullopt when the formula uses a variable
/// not in `vars` or does not parse: the cost is then unknown, never guessed.
std::optional<double> evaluate_cost(const std::string& formula,
                                    const std::map<std::string, double>& vars);

/// Rows (forward + backward) that `metadata.cost` predicts for explaining examples with the given
/// feature counts under the resolved `params` (numeric params are the formula's variables, with
/// n_features and n_groups per example). nullopt if any formula is unknown.
std::optional<double> estimate_rows(const nlohmann::json& metadata, const nlohmann::json& params,
                                    const std::vector<int64_t>& features_per_example);

/// The most rows a method may be estimated to need on one (dataset, model) before the run refuses
/// it (about a day of model calls at 10,000 rows/s); `attrib run --force` lifts the check.
constexpr double kMaxEstimatedRows = 1e9;

/// Throws attrib::Error when estimate_rows exceeds `limit`, naming the method, the numeric
/// parameters the formulas use, the formulas and the estimate.
void check_cost(const std::string& method, const nlohmann::json& metadata,
                const nlohmann::json& params, const std::vector<int64_t>& features_per_example,
                double limit = kMaxEstimatedRows);

}  // namespace attrib
