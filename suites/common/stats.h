#pragma once
// Small statistics utilities for leaderboards: location, percentiles, a seeded paired bootstrap,
// percentile intervals, the Wilcoxon signed-rank and Mann–Whitney U tests, ranks with ties and
// Kendall's tau-b.
//
// Undefined values: every function treats a non-finite value (NaN, +-Inf) as "undefined". It is
// excluded (per pair for paired computations) and counted, never propagated into a statistic.
// A statistic with nothing left to compute it from is NaN.
//
// Everything here is deterministic: no dependence on time, hash order or the standard library's
// distribution implementations (bootstrap indices are drawn from std::mt19937_64, whose output is
// fixed by the standard, with our own unbiased reduction to [0, n)).
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace attrib::stats {

/// True when `x` is a defined score (finite).
bool is_defined(double x);

/// Number of undefined (non-finite) values in `x`.
std::size_t count_undefined(const std::vector<double>& x);

/// The defined values of `x`, in order.
std::vector<double> defined_values(const std::vector<double>& x);

/// Arithmetic mean of the defined values (summed in index order); NaN if there are none.
double mean(const std::vector<double>& x);

/// Median of the defined values (mean of the two middle values for an even count); NaN if none.
double median(const std::vector<double>& x);

/// Percentile `q` in [0, 100] of the defined values by linear interpolation between order
/// statistics: with the sorted values v[0..n-1], h = (n - 1) q / 100 and
/// P = v[floor h] + (h - floor h) (v[floor h + 1] - v[floor h]). This is Hyndman & Fan's type 7,
/// the default of numpy.percentile ("linear") and R's quantile(). NaN if there are no values.
double percentile(const std::vector<double>& x, double q);

/// a[i] - b[i], NaN where either is undefined (the pairing is by index).
std::vector<double> paired_differences(const std::vector<double>& a, const std::vector<double>& b);

/// Ranks in ascending order starting at 1; tied values share the mean of the positions they
/// occupy ("average" / fractional ranks): [10, 20, 20, 30] -> [1, 2.5, 2.5, 4]. Undefined values
/// get NaN and the defined ones are ranked among themselves.
std::vector<double> average_ranks(const std::vector<double>& x);

/// Ranks in ascending order starting at 1; tied values share the lowest position they occupy
/// ("competition" / min ranks): [10, 20, 20, 30] -> [1, 2, 2, 4]. Undefined values get NaN.
std::vector<double> min_ranks(const std::vector<double>& x);

/// Kendall's rank correlation, variant tau-b (SciPy's default):
/// tau_b = (P - Q) / sqrt((P + Q + T_x) (P + Q + T_y)) where P, Q count concordant and discordant
/// pairs and T_x, T_y pairs tied only in x, only in y. O(n log n) (Knight 1966). Pairs where x or y
/// is undefined are dropped. tau is NaN for fewer than 2 pairs or when x or y is constant.
struct KendallResult {
  double tau = 0.0;
  std::size_t n_used = 0;     ///< pairs with both values defined
  std::size_t n_dropped = 0;  ///< pairs with an undefined value
};
KendallResult kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);

/// A uniformly distributed integer in [0, n) from `rng` (n >= 1): rejection of the biased top of
/// the 64-bit range, then modulo. Portable, unlike std::uniform_int_distribution.
std::uint64_t uniform_index(std::mt19937_64& rng, std::uint64_t n);

/// The resampled index sets of a nonparametric bootstrap over `n` examples: `resamples`
/// replicates of `n` indices drawn uniformly with replacement from [0, n) by one
/// std::mt19937_64(seed), replicate after replicate. Share one object between all the methods (and
/// metrics) scored on the same examples: that makes the bootstrap paired.
class BootstrapIndices {
 public:
  BootstrapIndices() = default;
  BootstrapIndices(std::size_t n, std::size_t resamples, std::uint64_t seed);

  std::size_t n() const { return n_; }
  std::size_t resamples() const { return resamples_; }
  std::uint64_t seed() const { return seed_; }
  /// The `n` indices of replicate `b` (b < resamples()).
  const std::uint32_t* replicate(std::size_t b) const { return indices_.data() + b * n_; }

 private:
  std::size_t n_ = 0;
  std::size_t resamples_ = 0;
  std::uint64_t seed_ = 0;
  std::vector<std::uint32_t> indices_;  // resamples x n, row-major
};

/// Mean of x over replicate `b`: the mean of the defined x[i] at the drawn indices i (counted with
/// multiplicity); NaN if all drawn values are undefined. x.size() must equal indices.n().
double replicate_mean(const std::vector<double>& x, const BootstrapIndices& indices, std::size_t b);

/// replicate_mean for every replicate.
std::vector<double> bootstrap_means(const std::vector<double>& x, const BootstrapIndices& indices);

/// A two-sided interval.
struct Interval {
  double low = 0.0;
  double high = 0.0;
  bool contains(double v) const { return low <= v && v <= high; }
};

/// Percentile bootstrap interval from the replicate statistics: the (1 - confidence)/2 and
/// (1 + confidence)/2 percentiles (see percentile()) of the defined replicate values. NaN bounds
/// if there are none. `confidence` in (0, 1).
Interval percentile_interval(const std::vector<double>& replicates, double confidence);

/// Point estimate and percentile bootstrap interval of a mean.
struct MeanCI {
  double mean = 0.0;
  Interval ci;
  std::size_t n = 0;                     ///< defined values
  std::size_t n_undefined = 0;           ///< undefined values (excluded)
  std::size_t undefined_replicates = 0;  ///< replicates that drew no defined value (excluded)
};
MeanCI bootstrap_mean_ci(const std::vector<double>& x, const BootstrapIndices& indices,
                         double confidence);

/// Paired: the mean and interval of the per-example differences a - b (examples where either is
/// undefined are dropped and counted in n_undefined). Use the same `indices` for every pair of a
/// group.
MeanCI paired_difference_ci(const std::vector<double>& a, const std::vector<double>& b,
                            const BootstrapIndices& indices, double confidence);

/// Wilcoxon signed-rank test of the paired differences d = x - y against symmetry around 0.
///
/// Zero handling: "wilcox" (zero differences are discarded before ranking, as in R's wilcox.test
/// and SciPy's default). The remaining |d| get average ranks. W+ (W-) is the rank sum of the
/// positive (negative) differences; n the number of non-zero differences.
///
/// p-value, two-sided:
///  - n <= exact_max_n: exact, from the permutation distribution of W+ given the ranks (each rank
///    positive with probability 1/2; with tied ranks this is the exact conditional distribution):
///    p = min(1, 2 min(P(W+ <= w), P(W+ >= w))).
///  - otherwise the normal approximation with tie and continuity correction:
///    mu = n (n + 1) / 4, sigma^2 = n (n + 1) (2n + 1) / 24 - sum_t (t^3 - t) / 48 over the tie
///    groups of |d|, z = (W+ - mu - 0.5 sign(W+ - mu)) / sigma, p = erfc(|z| / sqrt 2)
///    (identical to R's wilcox.test(correct = TRUE, exact = FALSE) and SciPy's
///    wilcoxon(correction=True, method="approx")).
/// With n = 0 (all differences zero or undefined) p is NaN.
///
/// Effect size: the matched-pairs rank-biserial correlation r = (W+ - W-) / (W+ + W-), in [-1, 1],
/// positive when x tends to exceed y; NaN when n = 0. Also the median of all defined differences
/// (zeros included).
struct WilcoxonResult {
  double w_plus = 0.0;
  double w_minus = 0.0;
  double statistic = 0.0;  ///< = w_plus
  double z = 0.0;          ///< NaN when the p-value is exact
  double p_value = 0.0;
  double rank_biserial = 0.0;
  double median_difference = 0.0;
  std::size_t n_used = 0;       ///< non-zero differences (the n of the test)
  std::size_t n_zero = 0;       ///< zero differences (discarded)
  std::size_t n_undefined = 0;  ///< pairs with an undefined value (dropped)
  bool exact = false;
};
constexpr std::size_t kWilcoxonExactMaxN = 25;
WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& x, const std::vector<double>& y,
                                    std::size_t exact_max_n = kWilcoxonExactMaxN);
/// The same on differences d (x - y) given directly.
WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& d,
                                    std::size_t exact_max_n = kWilcoxonExactMaxN);

/// Mann–Whitney U test (Wilcoxon rank-sum) of two independent samples x and y, two-sided.
/// Undefined values are dropped (per sample) and counted.
///
/// U_x = R_x - n_x (n_x + 1) / 2 with R_x the sum of the average ranks of x in the pooled sample:
/// the number of pairs (x_i, y_j) with x_i > y_j plus half the tied pairs. U_y = n_x n_y - U_x.
///
/// p-value, two-sided:
///  - exact when there are no ties and min(n_x, n_y) <= exact_max_n (SciPy's "auto" rule with the
///    default 8) and max(n_x, n_y) <= kMannWhitneyExactMaxOther (the cost of the exact
///    distribution grows with the square of both sizes): from the permutation distribution of
///    U_x (all C(n_x + n_y, n_x) rank arrangements equally likely),
///    p = min(1, 2 min(P(U <= U_x), P(U >= U_x)));
///  - otherwise the normal approximation with tie and continuity correction:
///    mu = n_x n_y / 2, sigma^2 = n_x n_y / 12 ((n + 1) - sum_t (t^3 - t) / (n (n - 1))) over the
///    tie groups of the pooled sample (n = n_x + n_y), z = (U_x - mu - 0.5 sign(U_x - mu)) / sigma,
///    p = erfc(|z| / sqrt 2) (R's wilcox.test(correct = TRUE, exact = FALSE), SciPy's
///    mannwhitneyu(use_continuity=True, method="asymptotic")).
/// p is NaN when either sample has no defined value, or when sigma = 0 (every value tied).
///
/// Effect sizes: the common-language effect U_x / (n_x n_y) = P(X > Y) + P(X = Y) / 2 and the
/// rank-biserial correlation 2 U_x / (n_x n_y) - 1, positive when x tends to exceed y.
struct MannWhitneyResult {
  double u_x = 0.0;
  double u_y = 0.0;
  double statistic = 0.0;  ///< = u_x
  double z = 0.0;          ///< NaN when the p-value is exact
  double p_value = 0.0;
  double common_language = 0.0;
  double rank_biserial = 0.0;
  std::size_t n_x = 0;  ///< defined values of x
  std::size_t n_y = 0;  ///< defined values of y
  std::size_t n_undefined = 0;
  bool ties = false;  ///< the pooled sample has tied values
  bool exact = false;
};
constexpr std::size_t kMannWhitneyExactMaxN = 8;
constexpr std::size_t kMannWhitneyExactMaxOther = 1000;
MannWhitneyResult mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y,
                                 std::size_t exact_max_n = kMannWhitneyExactMaxN);

}  // namespace attrib::stats
