#pragma once
// Suite configuration: datasets x models x methods x metrics, validated up front. Every error
// names the JSON path and what was expected, e.g.
//   methods[2].params.n_steps: expected integer >= 1, got "fifty"
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "isolation.h"
#include "registry.h"
#include "results.h"

namespace attrib {

constexpr int kSuiteSchemaVersion = 1;

struct DatasetConfig {
  std::string name, spec;
  nlohmann::json params;     ///< resolved generator/reader options
  std::string split;         ///< split that is explained and scored
  int64_t max_examples = 0;  ///< 0 = all
  int64_t vocab_min_freq = 2;
  int64_t max_len = 128;
  std::string tokenizer = "word";  ///< "word" | "wordpiece"
  int64_t vocab_size = 8000;       ///< wordpiece: target vocabulary size
};

struct ModelConfig {
  std::string name, plugin;
  nlohmann::json params;  ///< as given (the runner adds dataset-derived values, then validates)
  nlohmann::json train;   ///< resolved training options, or null for a model used as loaded
};

struct MethodConfig {
  std::string name, plugin;
  nlohmann::json params;  ///< resolved against the plugin's schema
};

struct MetricConfig {
  std::string name, metric;
  std::string profile;    ///< reference profile ("eraser", "quantus", ...) or empty
  nlohmann::json params;  ///< resolved: schema defaults <- profile <- the suite's params
};

/// An analysis block of the suite (see analysis.h): the analysis name and its resolved options.
struct AnalysisConfig {
  std::string name;
  nlohmann::json params;
};

struct SuiteConfig {
  std::string name, description;
  uint64_t seed = 0;
  std::string device = "cpu";
  int64_t batch_cap = 256;
  std::string batch_rows = "cap";  ///< "cap" or "measured" (batch_plan.h)
  int64_t explain_batch = 32;
  int64_t threads = 0;
  std::string target = "predicted";
  std::string token_reduction = "sum";
  StatsOptions stats;
  std::vector<DatasetConfig> datasets;
  std::vector<ModelConfig> models;
  std::vector<MethodConfig> methods;
  std::vector<MetricConfig> metrics;
  /// The analyses whose blocks the suite has ("agreement", "randomisation", "throughput"), in the
  /// catalogue's run order, resolved.
  std::vector<AnalysisConfig> analyses;
  /// The resolved block of analysis `name`, or null when the suite leaves it out.
  const nlohmann::json& analysis(const std::string& name) const;
  nlohmann::json resolved;  ///< the whole configuration with defaults filled (recorded)
  /// The document as given, with the command line's overrides: what a shard records so that
  /// `attrib merge` runs exactly the same suite.
  nlohmann::json document;
  /// `attrib run --force`: run methods whose estimated cost exceeds kMaxEstimatedRows (cost.h).
  bool force = false;
  /// `attrib run --isolate/--method-timeout`: which method plugins run in a child process.
  IsolationOptions isolation;
};

/// Validates a suite document. `registry` resolves plugin names and parameter schemas.
SuiteConfig parse_suite(const nlohmann::json& doc, const Registry& registry);

/// Parses JSON text; syntax errors name `source:line:column`.
nlohmann::json parse_json_text(const std::string& text, const std::string& source);

/// Reads and parses a JSON file (errors name the file and line).
nlohmann::json read_json_file(const std::string& path);

}  // namespace attrib
