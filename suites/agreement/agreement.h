#pragma once
// The agreement analysis (METRICS.md §4): methods x methods matrices of the mean pairwise
// agreement measures (common/agreement_measures.h) over the explained examples.
#include <ATen/ATen.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis.h"
#include "common/agreement_measures.h"

namespace attrib {

/// Settings of agreement_matrices().
struct AgreementOptions {
  /// Top-k size for FA/RA/SA/SRA: a fraction in (0, 1) of each example's features (rounded up),
  /// or an integer count >= 1; clamped to [1, n]. Default 0.25 (OpenXAI, METRICS.md §4.3).
  double k = 0.25;
  /// Measures to compute, in output order; empty means all of agreement::measure_names().
  std::vector<std::string> measures;
  /// Rank by |a| (default, METRICS.md §4) or by the signed a.
  bool abs = true;
  /// Percentile bootstrap over examples for a CI per cell; 0 disables it. The same resampled
  /// examples serve every cell (paired).
  int bootstrap_resamples = 2000;
  double confidence = 0.95;
  std::uint64_t seed = 0;  ///< bootstrap seed
  /// Ties in the top-k orders: "random" (default in suites: the example's seeded order from the
  /// metrics' tie stream, so agreement and metrics break one example's ties alike) or "index".
  std::string tie_break = "index";
  std::uint64_t tie_seed = 0;            ///< run seed of the tie stream
  std::vector<std::string> example_ids;  ///< one per example, in batch order (for "random")
  /// RA/SRA also require the feature's dense rank to agree (OpenXAI's string keys 'feat..rank..').
  bool dense_rank_match = false;
};

/// Mean pairwise agreement between methods over examples (METRICS.md §4).
///
/// `methods`: the M method names (matrix row/column order). `scores_per_method_per_batch[m][b]`:
/// method m's feature scores for batch b, shape [B_b, F_b] (further dimensions are flattened into
/// features; any floating dtype and device). `valid_mask_per_batch[b]`: [B_b, F_b] (bool or 0/1),
/// true where a feature counts (e.g. real tokens); an undefined tensor means every feature counts.
/// Examples are taken in batch order; every method must have the same batches and shapes.
///
/// Returns {"methods", "n_examples", "features_per_example": {min, mean, max}, "settings": every
/// choice, "measures": [{"measure", "definition", "mean": MxM, "n": MxM (examples with a defined
/// value), "n_undefined": MxM, "ci_low"/"ci_high": MxM (when bootstrapped)}, ...]}. Cells are the
/// mean over examples of the defined values (NaN excluded and counted; null when none). Matrices
/// are symmetric; the diagonal is each method against itself (1 unless undefined, e.g. a constant
/// map for the correlations). Throws attrib::Error on inconsistent shapes or unknown measures.
nlohmann::json agreement_matrices(
    const std::vector<std::string>& methods,
    const std::vector<std::vector<at::Tensor>>& scores_per_method_per_batch,
    const std::vector<at::Tensor>& valid_mask_per_batch, const AgreementOptions& options);

/// The "agreement" analysis: agreement_matrices() over the methods whose explanations succeeded
/// (at least two), on every explained example; text compares words (at their first token).
/// Profile "openxai" fills OpenXAI's settings for the keys the block leaves out.
AnalysisSpec agreement_analysis();

}  // namespace attrib
