#pragma once
// Perturbation helpers shared by the faithfulness metrics (deletion/insertion, ERASER, faithfulness
// correlation, monotonicity, infidelity, PGI/PGU): feature lists, rankings with seeded tie-breaks,
// random subsets, substrate replacement, dense noise and chunked model forwards.
#include <ATen/ATen.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "attrib/random.h"
#include "metric.h"

namespace attrib {
namespace perturb {

/// Parameter schema shared by the perturbation metrics (target, output, substrate and, when
/// `ranking`, rank_by and tie_break) merged with a metric's own parameters, given as JSON text; a
/// key in `extra` replaces the shared entry (e.g. another default).
nlohmann::json params_schema(const char* extra, bool ranking = true);

/// Per-example stream ids of the metrics' draws, distinct from each other and from explainer
/// streams (ASCII tags).
constexpr uint64_t kTieStream = kTieBreakStream;              ///< "tie-bre": tie-break order
constexpr uint64_t kSubsetStream = 0x6661697468636f72ULL;     ///< "faithcor": random subsets
constexpr uint64_t kMonotonicStream = 0x6d6f6e6f746f6e65ULL;  ///< "monotone": random substrate
constexpr uint64_t kInfidelityStream = 0x696e666964656cULL;   ///< "infidel": perturbations
constexpr uint64_t kGapStream = 0x7072656467617000ULL;        ///< "predgap": PGI/PGU noise

/// k = ceil(fraction * n) (a tolerance keeps exact products from rounding up), at least 1 and at
/// most n; 0 when n = 0.
int64_t fraction_count(double fraction, int64_t n);

/// Schema entries of a random subset's size (subset_fraction, subset_size), to merge into a
/// metric's schema, and the size they give for n features.
nlohmann::json subset_schema();
int64_t subset_size(const nlohmann::json& params, int64_t n);

/// `k` distinct members of `feats` drawn uniformly without replacement (a prefix of a random
/// permutation from `g`), in draw order.
std::vector<int64_t> random_subset(const std::vector<int64_t>& feats, int64_t k, at::Generator& g);

/// "auto" resolved (unk for text, zero for dense); throws if the substrate does not fit the
/// modality.
std::string resolve_substrate(const std::string& substrate, bool text, const std::string& metric);

/// The feature positions of example i: for text the first token of every word (word_starts;
/// all positions with word_ids >= 0 when tokens are words), every element for dense (n = number
/// of score columns).
std::vector<int64_t> features(const Batch& b, int64_t n_scores, int64_t i);

/// `feats` sorted by decreasing key (signed score, or |score| when `abs`); NaN scores last; ties
/// by a seeded per-example permutation ("random") or by position ("index"). `s` is a contiguous
/// double row.
std::vector<int64_t> rank(const std::vector<int64_t>& feats, const at::Tensor& s,
                          const std::string& id, uint64_t seed, bool abs,
                          const std::string& tie_break);

/// Example i with the features in `changed` replaced by the substrate (text: a token id or
/// deletion with left-packing, applied to every token of each changed word; dense: zero or the
/// example's mean). Returns the input row and,
/// for text, its attention mask.
std::pair<at::Tensor, at::Tensor> replace(const Batch& b, const at::Tensor& inputs, int64_t i,
                                          const std::vector<int64_t>& changed,
                                          const std::string& substrate, const ModelInfo& info,
                                          const std::string& metric);

/// Dense: the value the substrate puts into example i (0 for zero, the example's mean for mean).
double dense_fill(const at::Tensor& inputs, int64_t i, const std::string& substrate);

/// Dense example i (float, its own shape) with the flattened elements `changed` set to `values`
/// ([changed.size()]), or incremented by them when `add` (x + eps on those elements).
at::Tensor dense_with(const at::Tensor& inputs, int64_t i, const std::vector<int64_t>& changed,
                      const at::Tensor& values, bool add);

/// Logits of the unperturbed batch (CPU): the shared ones (in.shared) when there are some, else
/// forwarded here without autograd in chunks of at most max_rows, the same call, and shared.
at::Tensor base_logits(const MetricInput& in);

/// Counts `rows` forwards that a metric took from a cache instead of making them (in.shared).
void note_saved(const MetricInput& in, int64_t rows);

/// Tracked class per example: "predicted" (argmax of base_logits), "gold" or "explained".
at::Tensor target_classes(const MetricInput& in, const at::Tensor& base_logits,
                          const std::string& target, const std::string& metric);

/// output_score of each row for the class of its owner, evaluated in chunks of at most max_rows.
std::vector<double> evaluate(const MetricInput& in, const std::vector<at::Tensor>& rows,
                             const std::vector<at::Tensor>& masks,
                             const std::vector<int64_t>& owner, const at::Tensor& cls,
                             const std::string& output);

/// Collects perturbed rows and evaluates them (output_score of each row for the class of its
/// owner) in chunks of max_rows as soon as a chunk is full, so that at most max_rows perturbed
/// rows are held at a time (an image metric may build thousands per batch).
class RowEvaluator {
 public:
  RowEvaluator(const MetricInput& in, at::Tensor cls, std::string output);
  /// Queues a row as returned by replace() (an undefined mask for dense) for `example`; returns
  /// its index into values().
  size_t add(const std::pair<at::Tensor, at::Tensor>& row, int64_t example);
  /// The value of every queued row, in order (evaluates what is still pending).
  const std::vector<double>& values();

 private:
  void flush();
  const MetricInput& in_;
  at::Tensor cls_;
  std::string output_;
  std::vector<at::Tensor> rows_, masks_;
  std::vector<int64_t> owner_;
  std::vector<double> values_;
};

/// Model outputs of perturbations that do not depend on the attribution (random subsets, noise),
/// kept per (model, example, tracked class) by a metric instance that scores several methods on
/// the same examples, so that each perturbation is forwarded once per run, not once per method.
class OutputCache {
 public:
  static std::string key(const MetricInput& in, int64_t example, int64_t cls);
  /// The cached outputs, or nullptr.
  const std::vector<double>* find(const std::string& key) const;
  void put(const std::string& key, std::vector<double> values);
  /// The outputs cached under `key`, or else values[first, first + n), cached now.
  const std::vector<double>& take(const std::string& key, const std::vector<double>& values,
                                  size_t first, size_t n);

 private:
  std::map<std::string, std::vector<double>> values_;
};

/// The unperturbed batch forwarded once: the tracked class per example (target_classes) and its
/// output_score.
struct Base {
  at::Tensor cls;             ///< int64 [B]
  std::vector<double> score;  ///< f_y(x) per example
};
Base base(const MetricInput& in, const std::string& target, const std::string& output,
          const std::string& metric);

}  // namespace perturb
}  // namespace attrib
