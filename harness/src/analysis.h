#pragma once
// Analyses: studies over all the explanations of one (dataset, model) rather than scores of one
// explanation -- inter-method agreement, randomisation sanity checks, throughput. Like metrics,
// each lives with its family under suites/<name>/, declares its options as a parameter schema and
// is listed in suites/catalogue.cpp; the runner knows analyses only through this interface.
#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attrib/batch.h"
#include "attrib/method.h"
#include "attrib/model.h"
#include "progress.h"

namespace attrib {

/// One method's explanations of the explained split: the explain stage's product.
struct MethodExplanations {
  std::string name;                           ///< the suite's method name
  std::string plugin;                         ///< the method plugin
  std::shared_ptr<AttributionMethod> method;  ///< the configured method (null if creation failed)
  std::vector<at::Tensor> scores;      ///< per batch: float [B, n] feature scores (feature_scores)
  std::vector<std::string> unit_keys;  ///< per batch: the run store key of its explanation
  nlohmann::json info;                 ///< the choices the method recorded (first batch)
  std::string error;                   ///< why the method failed; empty when it succeeded
  bool isolated = false;               ///< `method` explains in a worker process (isolation.h)
  int64_t max_rows = 0;                ///< rows per model call it explains with (batch_plan.h)
  bool ok() const { return error.empty(); }
};

/// Feature scores of `method` on `batches` of `model` for per-batch targets, through the explain
/// stage's own loop and reduction (so re-explanations are computed exactly like the originals).
using ExplainFn = std::function<std::vector<at::Tensor>(
    AttributionMethod& method, ModelAdapter& model, const std::vector<Batch>& batches,
    const std::vector<at::Tensor>& targets)>;

/// A request to retrain the analysed model's architecture with its own training recipe on its
/// training split after rewriting that split's labels (data randomisation).
struct RetrainRequest {
  std::string variant;   ///< the retrained model is named "<model>[<variant>]"
  std::string data_tag;  ///< appended to the dataset hash, so the model cache keys the change
  /// Rewrites the labels of the training split, given in split order.
  std::function<void(std::vector<int64_t>& labels)> relabel;
  /// Changes the training options (e.g. disables early stopping).
  std::function<void(nlohmann::json& recipe)> edit_recipe;
};

/// A retrained model (cached like any trained model) and what it was trained on.
struct Retrained {
  std::shared_ptr<ModelAdapter> model;  ///< on the run's device
  Batch train_batch;                    ///< the relabelled training examples as trained on (CPU)
  std::string train_split;
  nlohmann::json report;  ///< the trainer's report: val_accuracy, epochs_run, cached, ...
  std::string checkpoint;
};
using RetrainFn = std::function<Retrained(const RetrainRequest&)>;

/// Everything an analysis may read about one (dataset, model) after the explain stage.
struct AnalysisInput {
  std::string dataset, model_name;
  ModelAdapter& model;
  const std::vector<Batch>& batches;       ///< the explained split, in order, on the device
  const std::vector<at::Tensor>& targets;  ///< int64 [B] per batch (CPU): the explained classes
  const std::vector<std::string>& ids;     ///< example ids in batch order
  const std::vector<MethodExplanations>& explanations;  ///< one per suite method, in suite order
  std::vector<int64_t> feature_shape;  ///< dense: the per-example feature shape; text: empty
  std::string device;                  ///< "cpu" | "cuda"
  /// Run seed, and the rows per forward-only model call (batch_plan.h); each method explains with
  /// its own MethodExplanations::max_rows.
  ExplainContext context;
  int64_t batch_cap = 256;         ///< the suite's upper bound of rows per model call
  int bootstrap_resamples = 2000;  ///< the suite's statistics block
  double confidence = 0.95;
  ExplainFn explain;
  RetrainFn retrain;  ///< null when the model has no training recipe (a loaded model)
  /// Records a failure (results.json errors and a progress note); the analysis goes on.
  std::function<void(const std::string& where, const std::string& message)> fail;
};

class Analysis {
 public:
  virtual ~Analysis() = default;
  /// The entries this analysis adds under its name in results.json.
  virtual std::vector<nlohmann::json> run(const AnalysisInput& in, Progress& progress) = 0;
};

/// An analysis the harness offers. A suite runs it when it has a block under `name`.
struct AnalysisSpec {
  std::string name;  ///< the suite block and the results.json key
  std::string description;
  nlohmann::json params;  ///< parameter schema of the block (see attrib/params.h)
  /// The block as given -> resolved options (schema defaults, profiles, cross-field checks);
  /// throws attrib::Error naming `path`.
  std::function<nlohmann::json(const nlohmann::json& given, const std::string& path)> resolve;
  std::function<std::unique_ptr<Analysis>(const nlohmann::json& resolved)> create;
};

/// Every analysis in the order a run performs them (defined in suites/catalogue.cpp).
const std::vector<AnalysisSpec>& analysis_catalogue();
/// The analysis `name`; throws attrib::Error listing the known names.
const AnalysisSpec& find_analysis(const std::string& name);

}  // namespace attrib
