#pragma once
// Evaluation metrics. Each metric scores every example of a batch from the model, the inputs and
// one attribution map per example; the runner computes each map once and shares it across metrics.
// Implementations live with their suite under suites/<suite>/.
#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attrib/batch.h"
#include "attrib/model.h"

namespace attrib {

/// What a metric sees for one batch.
struct MetricInput {
  ModelAdapter& model;
  const Batch& batch;
  /// float [B, n] feature-level attribution scores. Text: n = T; the first token of each word
  /// (word_starts) stands for the word and is a feature (a word's score is the sum of its
  /// subword tokens'; later tokens are 0). Dense: n = number of elements per example.
  const at::Tensor& scores;
  const at::Tensor& targets;       ///< int64 [B], the class the explanations explain
  const Annotations* annotations;  ///< nullptr when the dataset has none
  uint64_t seed = 0;               ///< metric seed; draws use per-example streams
  int64_t max_rows = 256;          ///< batch cap for model forwards
};

class Metric {
 public:
  virtual ~Metric() = default;
  /// One score per example (NaN when undefined for that example).
  virtual std::vector<double> score(const MetricInput& input) = 0;
  /// Every choice behind the numbers, resolved (recorded with each result row).
  virtual nlohmann::json info() const = 0;
};

/// A metric the harness offers.
struct MetricSpec {
  std::string name;
  std::string suite;  ///< e.g. "faithfulness"
  std::string description;
  std::string citation;
  int direction = +1;              ///< +1: higher is better; -1: lower is better
  std::vector<std::string> needs;  ///< "model", "annotations", ...
  nlohmann::json params;           ///< parameter schema (see attrib/params.h)
  std::function<std::unique_ptr<Metric>(const nlohmann::json& resolved)> create;
};

/// Every metric, in a stable order.
const std::vector<MetricSpec>& metric_catalogue();
/// The metric `name`; throws attrib::Error listing the known names.
const MetricSpec& find_metric(const std::string& name);

/// Output space helper shared by metrics: "probability" | "logit" | "log_probability" of class
/// `cls` ([N]) from logits [N, C].
at::Tensor output_score(const at::Tensor& logits, const at::Tensor& cls, const std::string& space);

}  // namespace attrib
