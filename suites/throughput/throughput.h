#pragma once
// Throughput: explanations per second per method x model x batch size x device, after warm-up,
// over repeated timed runs, with the model's raw forward+backward throughput on the same examples
// measured in the same run as the reference limit. `attrib run` records it in results.json
// ("throughput"); `attrib bench` runs the same workloads through Google Benchmark.
#include <ATen/ATen.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis.h"
#include "attrib/batch.h"
#include "attrib/method.h"
#include "attrib/model.h"
#include "common/model_limit.h"

namespace attrib {

/// The suite's "throughput" block, resolved.
struct ThroughputOptions {
  std::vector<int64_t> batch_sizes;  ///< examples per explain call
  int64_t repetitions = 9;           ///< timed repetitions (>= 9 for the speed tests of compare)
  int64_t warmup = 1;                ///< untimed repetitions first
  int64_t examples = 64;             ///< examples explained per repetition
  bool limit = true;                 ///< measure the model's limit and each method's fraction
  double limit_min_seconds = 0.2;    ///< timed per rung of the limit's ladder
};

nlohmann::json throughput_schema();
ThroughputOptions throughput_options(const nlohmann::json& resolved, const std::string& path);

/// The first `n` examples of `batches` (fewer when the split is smaller) as one batch, text
/// right-padded to the longest, with their targets in `*targets_out`.
Batch first_examples(const std::vector<Batch>& batches, const std::vector<at::Tensor>& targets,
                     int64_t n, at::Tensor* targets_out);

/// One timed workload: explains (or, for the reference, runs forward+backward on) `examples`
/// examples in calls of `batch_size`. Built once; run() may be called many times.
class Workload {
 public:
  /// `method` null: the reference (forward + backward of the target logit w.r.t. the input).
  Workload(ModelAdapter& model, AttributionMethod* method, const std::vector<Batch>& batches,
           const std::vector<at::Tensor>& targets, int64_t examples, int64_t batch_size,
           ExplainContext ctx);
  /// Runs the workload once (synchronising CUDA before returning).
  void run();
  int64_t examples() const { return examples_; }
  /// Model rows of the last run(): forward rows, and the backward rows among them.
  int64_t forward_rows() const { return forward_rows_; }
  int64_t backward_rows() const { return backward_rows_; }

 private:
  ModelAdapter& model_;
  AttributionMethod* method_;
  std::vector<Batch> calls_;
  std::vector<at::Tensor> call_targets_;
  int64_t examples_ = 0;
  int64_t forward_rows_ = 0, backward_rows_ = 0;
  ExplainContext ctx_;
};

/// Times `workload`: `warmup` untimed runs, then `repetitions` timed ones. Returns the entry fields
/// "seconds" (per repetition), "explanations_per_second" {median, min, max}, "warmup",
/// "examples_per_repetition" and "peak_rss_bytes" (process peak resident set during the timed runs,
/// Linux; null elsewhere).
nlohmann::json time_workload(Workload& workload, int64_t warmup, int64_t repetitions);

/// Adds to a timed entry the rows its workload needs per explanation and, with `limit`, the
/// explanations per second the model alone would allow for those rows and the fraction of that
/// reached: "rows_per_explanation" {"forward", "backward"}, "limit_explanations_per_second" and
/// "fraction_of_limit" (null for a method that needs no model rows).
void add_fraction_of_limit(nlohmann::json& entry, const Workload& workload,
                           const ModelLimit* limit);
/// The same from the entry's recorded "rows_per_explanation" and median explanations/s.
void add_fraction_of_limit(nlohmann::json& entry, const ModelLimit& limit);

/// The "throughput" analysis: every method and the reference timed at each batch size. One entry
/// per (dataset, model, method|reference, device, batch size):
///   {"dataset", "model", "method" (a method name, or "model_forward_backward" for the model's raw
///   forward+backward reference), "kind": "method"|"reference", "device", "batch_size", "threads",
///   the fields of time_workload() and add_fraction_of_limit(), or "error"}; reference entries
///   also hold the measured "limit" (ModelLimit::to_json).
AnalysisSpec throughput_analysis();

}  // namespace attrib
