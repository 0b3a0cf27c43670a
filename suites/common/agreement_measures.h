#pragma once
// Agreement measures (METRICS.md §4): how similarly two explanations of the same input rank and
// sign its features. Pure functions on the two attribution vectors of one example (restricted by
// the caller to the features that count, e.g. the real tokens). Shared by the agreement analysis
// (methods x methods matrices) and the randomisation sanity checks (original vs randomised).
//
// Conventions shared by every measure here:
//  - Ranking key: |a| when `abs` is true (METRICS.md §4: "unless stated otherwise, rankings use
//    |·|"), else the signed a. Signs (SA, SRA) always come from the signed values, with
//    sign(0) = 0, so a zero agrees only with a zero (numpy.sign, as OpenXAI).
//  - Top-k order: decreasing key; ties broken by an optional per-example tie key (the seeded
//    order the metrics use) and then by the lower feature index, the same for both explanations,
//    so the result is deterministic and symmetric in the two.
//  - Undefined: a vector holding a non-finite value, or an empty feature set, gives NaN; so do the
//    correlations when fewer than 2 features remain or either key vector is constant.
#include <ATen/ATen.h>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attrib {
namespace agreement {

/// Spearman's rho (§4.1): the Pearson correlation of the average (fractional) ranks of the keys.
double spearman(const std::vector<double>& a, const std::vector<double>& b, bool abs = true);

/// Kendall's tau-b (§4.2) of the keys (stats::kendall_tau_b, O(n log n)).
double kendall_tau_b(const std::vector<double>& a, const std::vector<double>& b, bool abs = true);

/// The k of a top-k measure for an example with `n_features` features: `k` in (0, 1) is a fraction
/// of the features rounded up (OpenXAI: ceil), `k` >= 1 must be an integer and is a count; either
/// way clamped to [1, n_features]. 0 when n_features is 0. Throws attrib::Error for any other k.
std::size_t resolve_k(double k, std::size_t n_features);

/// Krishna et al. 2022 (§4.3), with T = top_k(key a), T' = top_k(key b) and pi(j), pi'(j) the
/// feature at position j of the two top-k orders; each divides by k (k >= 1, clamped to n).
/// FA = |T ∩ T'| / k.
double feature_agreement(const std::vector<double>& a, const std::vector<double>& b, std::size_t k,
                         bool abs = true, const std::vector<double>* tie = nullptr);
/// RA = (1/k) sum_{j <= k} 1[pi(j) = pi'(j)] (with `dense_rank_match`, OpenXAI's rule: also the
/// dense rank of that feature, 1 = largest key, must agree).
double rank_agreement(const std::vector<double>& a, const std::vector<double>& b, std::size_t k,
                      bool abs = true, const std::vector<double>* tie = nullptr,
                      bool dense_rank_match = false);
/// SA = |{i in T ∩ T' : sign a_i = sign b_i}| / k.
double sign_agreement(const std::vector<double>& a, const std::vector<double>& b, std::size_t k,
                      bool abs = true, const std::vector<double>* tie = nullptr);
/// SRA = (1/k) sum_{j <= k} 1[pi(j) = pi'(j) and sign a_pi(j) = sign b_pi(j)].
double signed_rank_agreement(const std::vector<double>& a, const std::vector<double>& b,
                             std::size_t k, bool abs = true,
                             const std::vector<double>* tie = nullptr,
                             bool dense_rank_match = false);

/// Rank correlation RC (§4.4, OpenXAI): the Pearson correlation of the *dense* ranks of the keys
/// over all the given features (equals Spearman when there are no ties).
double rank_correlation(const std::vector<double>& a, const std::vector<double>& b,
                        bool abs = true);

/// Pairwise rank agreement PRA (§4.5, OpenXAI): over the C(n, 2) feature pairs (i < j), the
/// fraction for which "i ranks strictly above j" (dense rank of key a_i < dense rank of key a_j,
/// i.e. key a_i > key a_j) has the same truth value in both explanations; a tie counts as "not
/// above", as in OpenXAI. O(n^2). NaN for fewer than 2 features.
double pairwise_rank_agreement(const std::vector<double>& a, const std::vector<double>& b,
                               bool abs = true);

/// Names of every measure, in report order: spearman, kendall_tau_b, feature_agreement,
/// rank_agreement, sign_agreement, signed_rank_agreement, rank_correlation,
/// pairwise_rank_agreement.
const std::vector<std::string>& measure_names();

/// One measure by name (see measure_names()); `k` as for resolve_k() (ignored by non-top-k
/// measures). Throws attrib::Error for an unknown name.
double measure(const std::string& name, const std::vector<double>& a, const std::vector<double>& b,
               double k, bool abs = true, const std::vector<double>* tie = nullptr,
               bool dense_rank_match = false);

/// The definition of measure `name`, recorded with its results.
std::string definition(const std::string& name);

}  // namespace agreement

}  // namespace attrib
