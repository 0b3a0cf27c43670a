#pragma once
// The prepare stage: datasets loaded, vocabularies fitted, models trained or loaded, and the
// explained split of each (dataset, model) collated once with its explained classes.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "analysis.h"
#include "attrib/model.h"
#include "batch_plan.h"
#include "config.h"
#include "data/dataset.h"
#include "progress.h"
#include "registry.h"
#include "results.h"

namespace attrib {

/// One (dataset, model) pair of a suite, ready to explain: the explained split collated once.
struct PreparedModel {
  const Dataset* dataset = nullptr;
  const ModelConfig* config = nullptr;
  std::shared_ptr<ModelAdapter> model;
  std::vector<Batch> batches;            ///< explain_batch examples each, on `device`
  std::vector<Annotations> annotations;  ///< per batch
  std::vector<std::string> ids;          ///< example ids in order
  std::vector<at::Tensor> targets;       ///< per batch, int64 [B] on the CPU
  /// Per batch, float [B, C] on the CPU: the model's logits, batch_logits at batch_cap rows per
  /// call (the predicted targets come from them; metrics share them, score.cpp).
  std::vector<at::Tensor> logits;
  at::Device device = at::kCPU;
  const DatasetConfig* dataset_config = nullptr;
  Vocab vocab;             ///< text: the vocabulary the model was trained with
  std::string model_hash;  ///< content hash of the weights (store/unit_key.h)
  /// Every example id of the explained split, the unselected ones too (ExplainContext::split_ids).
  std::vector<std::string> split_ids;
  BatchPlan plan;  ///< rows per model call (batch_plan.h)
};

/// Loads every dataset and model of `suite` (training models or reusing cached ones), records
/// them in `res` (datasets, models with accuracy) and calls `fn` for each (dataset, model) pair.
/// A dataset or model that fails is recorded in res.errors and skipped.
void for_each_model(const SuiteConfig& suite, const Registry& registry, Progress& progress,
                    RunResults& res, const std::function<void(PreparedModel&)>& fn);

/// The retraining service analyses use (analysis.h): `p`'s model architecture retrained with its
/// own recipe on relabelled training data, through the model cache. Null when the model has no
/// training recipe.
RetrainFn retrainer(const PreparedModel& p, const Registry& registry, Progress& progress);

}  // namespace attrib
