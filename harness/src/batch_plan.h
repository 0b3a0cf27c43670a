#pragma once
// Rows per model call for one (dataset, model): the suite's batch_cap, or (batch_rows
// "measured") the model's fastest rows per call on this device and threads, measured once over a
// ladder of row counts up to batch_cap (common/model_limit.h) and cached per (model content
// hash, device, threads, batch_cap, machine). batch_cap stays the upper bound for memory.
//
// The plan changes which rows share a model call, and a row's output can differ in its last bits
// with its call's size (kernels block differently), so the plan is recorded in the results and
// keys the run store, and the measured plan is opt-in: "cap" keeps every number as it was.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "config.h"
#include "registry.h"

namespace attrib {

struct PreparedModel;

struct BatchPlan {
  int64_t forward_rows = 256;   ///< calls without backward: perturbation methods, metrics
  int64_t gradient_rows = 256;  ///< calls with a backward: gradient methods
  bool measured = false;
  /// {"mode", "forward_rows", "gradient_rows"} and, when measured, "cached", "cache_file" and the
  /// "limit" it was chosen from.
  nlohmann::json record;

  /// Rows per call for `method`: gradient_rows when its cost formula has backward rows (anything
  /// but "0"), else forward_rows.
  int64_t rows_for(const PluginInfo& method) const;
};

/// The machine a measurement belongs to: host name, CPU model and logical CPU count.
nlohmann::json machine_identity();

/// The plan for `p` under `suite.batch_rows`; measures (or reads from the cache) when "measured".
BatchPlan plan_batches(const SuiteConfig& suite, const PreparedModel& p);

}  // namespace attrib
