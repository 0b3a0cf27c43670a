#pragma once
// The attribution-method side of the plugin interface.
#include <ATen/ATen.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attrib/batch.h"
#include "attrib/export.h"
#include "attrib/model.h"

namespace attrib {

/// Per-call settings the harness passes to a method.
struct ExplainContext {
  uint64_t seed = 0;       ///< run seed; random draws use attrib::example_generator(seed, id, k)
  int64_t max_rows = 256;  ///< batch cap: at most this many rows per model forward/backward
  /// Every example id of the dataset split being explained, including the examples this run does
  /// not select (max_examples, another shard's): a method that reads per-example data from
  /// elsewhere checks that the data belongs to this split. Null when the caller has no dataset.
  const std::vector<std::string>* split_ids = nullptr;
};

/// The result of explaining a batch.
struct Explanation {
  /// Shape of the attributed tensor: dense [B, ...]; text [B, T, d] (embedding space) or [B, T]
  /// (token level, e.g. perturbation methods). Float32 or float64 on any device.
  at::Tensor attributions;
  /// Per-example extras, each [B], e.g. "convergence_delta".
  std::map<std::string, at::Tensor> extras;
  /// The choices behind the numbers, resolved (baseline, steps, rule, ...).
  nlohmann::json info = nlohmann::json::object();
  int64_t forward_rows = 0;   ///< rows passed through the model forward
  int64_t backward_rows = 0;  ///< rows passed through a backward
};

/// An attribution method. Instances are created by the plugin factory from resolved parameters
/// and may be reused for many batches. explain() may throw; the host turns that into an error row.
class ATTRIB_SDK_API AttributionMethod {
 public:
  virtual ~AttributionMethod();

  /// Explains `targets` (int64 [B], class per example) of `model` on `batch`.
  /// Must respect ctx.max_rows, draw randomness only from per-example streams, and give the same
  /// result for an example whatever else is in the batch.
  virtual Explanation explain(ModelAdapter& model, const Batch& batch, const at::Tensor& targets,
                              const ExplainContext& ctx) = 0;
};

}  // namespace attrib
