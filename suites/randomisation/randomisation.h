#pragma once
// Randomisation sanity checks (Adebayo et al. 2018; Sixt et al. 2020; METRICS.md section 2):
// model-parameter randomisation (cascading from the output layer down, and independent per layer),
// the random-logit test and data randomisation (a model retrained on permuted labels). Each
// compares the explanations of the trained model with those of a randomised one, example by
// example; lower similarity is better.
#include <ATen/ATen.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis.h"
#include "attrib/batch.h"
#include "attrib/model.h"

namespace attrib {

/// The suite's "randomisation" block, resolved.
struct RandomisationOptions {
  std::vector<std::string> tests;  ///< "cascading", "independent", "random_logit", "data"
  std::vector<std::string>
      similarity;             ///< "spearman_abs", "spearman", "top_k_intersection", "ssim"
  double top_k = 0.2;         ///< fraction of an example's features for top-k
  int64_t max_examples = 64;  ///< explained examples re-explained per randomised model
  std::string reinit = "fan_in_uniform";
  double fail_threshold = 0.5;  ///< a method fails when the end-point similarity CI reaches it
  /// The similarity the verdict is taken on (random-logit uses its signed form: Quantus abs=False).
  std::string decisive = "spearman_abs";
};

/// Parameter schema of the block (for suite validation); `resolved` -> options.
nlohmann::json randomisation_schema();
RandomisationOptions randomisation_options(const nlohmann::json& resolved, const std::string& path);

/// Re-initialises every parameter of `layer` in place. "fan_in_uniform": U(-b, b) with
/// b = 1/sqrt(fan_in), fan_in = numel / size(0) of the layer's first tensor with >= 2 dimensions
/// (PyTorch's Linear/Conv default; 1-D tensors use the same bound, or 1/sqrt(numel) without one);
/// "gaussian": N(0, sd) with sd the standard deviation of the trained tensor (1 when it is 0).
/// Draws come from a generator seeded with `seed`.
void reinitialise_layer(const ParamLayer& layer, const std::string& scheme, uint64_t seed);

/// Similarity of two maps per example: a and b [B, n], valid bool [B, n] (features to compare).
/// "spearman_abs": Spearman of |a| and |b|; "spearman": signed; "top_k_intersection":
/// |top_k(|a|) ∩ top_k(|b|)| / k with k = ceil(top_k * n_valid) (agreement::resolve_k);
/// "ssim": structural similarity of the 2-D maps (needs `shape`, the per-example feature shape
/// [C, H, W] or [H, W]; see ssim_2d). NaN where undefined (fewer than 2 features, or a constant
/// map for Spearman).
std::vector<double> map_similarity(const at::Tensor& a, const at::Tensor& b,
                                   const at::Tensor& valid, const std::string& measure,
                                   double top_k, const std::vector<int64_t>& shape = {});

/// SSIM (Wang et al. 2004) of two maps [H, W] as in Adebayo et al.: each min-max normalised to
/// [0, 1] (a constant map becomes 0), Gaussian window 11 x 11 with sigma 1.5 (shrunk to the map
/// when smaller), C1 = 0.01^2, C2 = 0.03^2 (data range 1), mean over the window positions that fit
/// (no padding).
double ssim_2d(const at::Tensor& x, const at::Tensor& y);

/// Explains the given batches with `model` for the given per-batch targets and returns feature
/// scores per batch [B, n] (the runner's explanation path).
using ExplainScoresFn = std::function<std::vector<at::Tensor>(
    ModelAdapter& model, const std::vector<at::Tensor>& targets)>;

/// What a randomisation run needs about one (dataset, model, method).
struct RandomisationInput {
  ModelAdapter& model;
  const std::vector<Batch>& batches;        ///< the examples tested (already truncated)
  const std::vector<at::Tensor>& targets;   ///< explained classes per batch (kept fixed)
  const std::vector<at::Tensor>& original;  ///< feature scores of the trained model
  const std::vector<at::Tensor>& valid;     ///< bool [B, n] per batch: comparable features
  ExplainScoresFn explain;
  uint64_t seed = 0;
  nlohmann::json where;  ///< {"dataset", "model", "method"} copied into every entry
  /// Test "data": the same architecture trained on permuted labels (null: not available, and
  /// `data_error` says why) and the record of its training.
  ModelAdapter* data_model = nullptr;
  nlohmann::json data_record;
  std::string data_error;
  /// Dense inputs: the per-example feature shape (for SSIM); empty for text.
  std::vector<int64_t> feature_shape;
};

/// Runs every configured test; one JSON entry per (test, similarity) with a score per layer (or
/// the single random-logit score), its bootstrap CI, and for the decisive similarity a verdict.
nlohmann::json run_randomisation(const RandomisationOptions& options, const RandomisationInput& in,
                                 int bootstrap_resamples, double confidence);

/// The "randomisation" analysis (randomisation_analysis.cpp): run_randomisation for every method
/// of a (dataset, model); test "data" retrains the model once on permuted labels.
AnalysisSpec randomisation_analysis();

}  // namespace attrib
