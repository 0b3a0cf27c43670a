#pragma once
// Evaluation metrics. Each metric scores every example of a batch from the model, the inputs and
// one attribution map per example; the runner computes each map once and shares it across metrics.
// Implementations live with their family under suites/<family>/.
#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attrib/batch.h"
#include "attrib/model.h"

namespace attrib {

/// Model outputs the host shares between the metrics and methods that score one batch, and the
/// forward rows that sharing saved. Sharing is exact: a shared output is the same call, on the
/// same rows in the same chunks, that the metric would make itself.
struct SharedForwards {
  /// float [B, C] CPU: the batch unperturbed, forwarded without autograd in chunks of max_rows
  /// (batch_logits); undefined until the host or the first metric that needs it forwards it.
  at::Tensor base_logits;
  int64_t saved_rows = 0;  ///< rows metrics took from here or from their own caches
};

/// What a metric sees for one batch.
struct MetricInput {
  ModelAdapter& model;
  const Batch& batch;
  /// float [B, n] feature-level attribution scores. Text: n = T; the first token of each word
  /// (word_starts) stands for the word and is a feature (a word's score is the sum of its
  /// subword tokens'; later tokens are 0). Dense: n = number of elements per example.
  const at::Tensor& scores;
  const at::Tensor& targets;         ///< int64 [B], the class the explanations explain
  const Annotations* annotations;    ///< nullptr when the dataset has none
  uint64_t seed = 0;                 ///< metric seed; draws use per-example streams
  int64_t max_rows = 256;            ///< batch cap for model forwards
  SharedForwards* shared = nullptr;  ///< null: nothing shared, every forward is the metric's own
};

/// How the leaderboard summarises a metric's per-example values into its headline number.
/// "mean": the mean of the defined per-example scores (the default).
/// "f1_of_means": ERASER's macro aggregation (DeYoung et al. 2020, rationale_benchmark/metrics.py):
///   the harmonic mean of the mean per-example "precision" (over the examples where it is defined)
///   and the mean per-example "recall"; the metric supplies both as components. Bootstrap CIs
///   resample examples and recompute the same aggregate.
constexpr const char* kAggregateMean = "mean";
constexpr const char* kAggregateF1OfMeans = "f1_of_means";

class Metric {
 public:
  virtual ~Metric() = default;
  /// One score per example (NaN when undefined for that example).
  virtual std::vector<double> score(const MetricInput& input) = 0;
  /// Every choice behind the numbers, resolved (recorded with each result row).
  virtual nlohmann::json info() const = 0;
  /// The leaderboard aggregate (kAggregateMean or kAggregateF1OfMeans).
  virtual std::string aggregation() const { return kAggregateMean; }
  /// Per-example components of the examples of the last score() call that aggregation() needs,
  /// by name (NaN where undefined); empty for the mean.
  virtual std::map<std::string, std::vector<double>> components() const { return {}; }
  /// Per-example curves of the last score() call, by name, each example resampled onto
  /// kCurvePoints evenly spaced fractions 0..1 of the perturbed features (linear interpolation),
  /// row-major [B x kCurvePoints], NaN rows where undefined; kept in the run store for the
  /// report's mean curves. Empty for metrics without a curve.
  virtual std::map<std::string, std::vector<double>> curves() const { return {}; }
};

/// Points of the curves Metric::curves() returns (fractions 0, 0.05, ..., 1).
constexpr int64_t kCurvePoints = 21;

/// A named parameter set that reproduces a reference implementation's numbers (e.g. "eraser":
/// the ERASER benchmark code). Suites select it with "profile"; explicit params override it.
struct MetricProfile {
  std::string name;
  std::string reference;  ///< the code whose numbers it reproduces (file, function, version)
  nlohmann::json params;  ///< parameter overrides of the schema defaults
};

/// A metric the harness offers.
struct MetricSpec {
  std::string name;
  std::string family;  ///< the metric family, e.g. "faithfulness" (suites/<family>/)
  std::string description;
  std::string citation;
  int direction = +1;                   ///< +1: higher is better; -1: lower is better
  std::vector<std::string> needs;       ///< "model", "annotations", ...
  nlohmann::json params;                ///< parameter schema (see attrib/params.h)
  std::vector<MetricProfile> profiles;  ///< reference profiles (may be empty)
  std::function<std::unique_ptr<Metric>(const nlohmann::json& resolved)> create;
};

/// The profile `name` of `spec`; throws attrib::Error listing the known ones.
const MetricProfile& find_profile(const MetricSpec& spec, const std::string& name);

/// Every metric, in a stable order (defined in suites/catalogue.cpp, which lists the families).
const std::vector<MetricSpec>& metric_catalogue();
/// The metric `name`; throws attrib::Error listing the known names.
const MetricSpec& find_metric(const std::string& name);

/// `logits` that `model` returned, checked to be finite: a model whose logits go NaN or Inf (e.g.
/// only for some batch sizes) makes the metric row or the model fail with an error naming it,
/// instead of a score that silently turns undefined.
const at::Tensor& checked_logits(const at::Tensor& logits, const ModelAdapter& model);

/// The logits of every example of `b` (CPU), forwarded in chunks of at most `max_rows` rows without
/// autograd and checked with checked_logits.
at::Tensor batch_logits(ModelAdapter& model, const Batch& b, int64_t max_rows);

/// Output space helper shared by metrics: "probability" | "logit" | "log_probability" of class
/// `cls` ([N]) from logits [N, C].
at::Tensor output_score(const at::Tensor& logits, const at::Tensor& cls, const std::string& space);

}  // namespace attrib
