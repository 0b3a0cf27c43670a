#pragma once
// Perturbation helpers shared by the faithfulness metrics (deletion/insertion, ERASER): feature
// lists, rankings with seeded tie-breaks, substrate replacement and chunked model forwards.
#include <ATen/ATen.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "metric.h"

namespace attrib {
namespace perturb {

/// Parameter schema shared by the perturbation metrics (target, output, substrate, rank_by,
/// tie_break) merged with a metric's own parameters, given as JSON text.
nlohmann::json params_schema(const char* extra);

/// Stream id of the tie-break permutation, distinct from explainer streams.
constexpr uint64_t kTieStream = 0x7469652d627265ULL;

/// "auto" resolved (unk for text, zero for dense); throws if the substrate does not fit the
/// modality.
std::string resolve_substrate(const std::string& substrate, bool text, const std::string& metric);

/// The feature positions of example i: word_ids >= 0 for text, every element for dense
/// (n = number of score columns).
std::vector<int64_t> features(const Batch& b, int64_t n_scores, int64_t i);

/// `feats` sorted by decreasing key (signed score, or |score| when `abs`); NaN scores last; ties
/// by a seeded per-example permutation ("random") or by position ("index"). `s` is a contiguous
/// double row.
std::vector<int64_t> rank(const std::vector<int64_t>& feats, const at::Tensor& s,
                          const std::string& id, uint64_t seed, bool abs,
                          const std::string& tie_break);

/// Example i with the features in `changed` replaced by the substrate (text: a token id or
/// deletion with left-packing; dense: zero or the example's mean). Returns the input row and,
/// for text, its attention mask.
std::pair<at::Tensor, at::Tensor> replace(const Batch& b, const at::Tensor& inputs, int64_t i,
                                          const std::vector<int64_t>& changed,
                                          const std::string& substrate, const ModelInfo& info,
                                          const std::string& metric);

/// Logits of the unperturbed batch, in chunks of at most max_rows (CPU).
at::Tensor forward_rows(const MetricInput& in, const at::Tensor& inputs, const at::Tensor& mask);

/// Tracked class per example: "predicted" (argmax of base_logits), "gold" or "explained".
at::Tensor target_classes(const MetricInput& in, const at::Tensor& base_logits,
                          const std::string& target, const std::string& metric);

/// output_score of each row for the class of its owner, evaluated in chunks of at most max_rows.
std::vector<double> evaluate(const MetricInput& in, const std::vector<at::Tensor>& rows,
                             const std::vector<at::Tensor>& masks,
                             const std::vector<int64_t>& owner, const at::Tensor& cls,
                             const std::string& output);

}  // namespace perturb
}  // namespace attrib
