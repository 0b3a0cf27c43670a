#pragma once
// The model's own speed limit: rows per second of its forward alone and of forward+backward,
// measured over a ladder of row counts on the run's device and threads, best batch kept. A method
// is then judged by the fraction of this limit it reaches for the rows it needs (Explanation's
// forward_rows / backward_rows), which unlike raw speed can be compared between machines.
#include <ATen/ATen.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "attrib/batch.h"
#include "attrib/model.h"

namespace attrib {

/// One mode (forward, or forward+backward) of the limit.
struct LimitMode {
  int64_t best_rows = 0;         ///< rows per call at which the model was fastest
  double rows_per_second = 0.0;  ///< at best_rows (median over the timed calls)
  /// [{"rows", "rows_per_second", "calls" (timed), "warmup_calls"}]
  nlohmann::json ladder = nlohmann::json::array();
};

struct ModelLimit {
  LimitMode forward, forward_backward;
  double min_seconds = 0.0;  ///< timed per rung (on average)
  int measurements = 1;      ///< ladders merged by better_of

  /// Seconds the model alone needs, at its best batches, for `forward_rows` rows of which
  /// `backward_rows` are also differentiated (a gradient row is one forward and one backward row).
  double seconds(double forward_rows, double backward_rows) const;
  nlohmann::json to_json() const;
};

/// Per rung the faster of two measurements of the same ladder (calls added up), best rung
/// chosen again: a slow spell of a shared machine only ever slows a measurement.
ModelLimit better_of(const ModelLimit& a, const ModelLimit& b);

/// Row counts tried: powers of two from 8 (or max_rows when smaller) up to max_rows, and
/// max_rows itself.
std::vector<int64_t> limit_ladder(int64_t max_rows);

/// Measures the limit on `examples` (one batch; its rows are repeated to fill each rung) and
/// their `targets`. The ladder is climbed up, then down; each time a rung runs 2 untimed calls,
/// then timed calls until half of `min_seconds` has passed and at least 5 calls were made. A
/// rung's rate is the better of its two block medians. The forward runs without autograd, as the
/// perturbation methods' forwards do; forward+backward differentiates the target logits with
/// respect to the input (embeddings for text), as the gradient methods do.
ModelLimit measure_limit(ModelAdapter& model, const Batch& examples, const at::Tensor& targets,
                         int64_t max_rows, double min_seconds);

}  // namespace attrib
