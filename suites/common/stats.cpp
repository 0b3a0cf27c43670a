#include "common/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>

#include "attrib/error.h"

namespace attrib::stats {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Indices of the defined values of x, sorted ascending by value (stable: equal values keep their
// index order).
std::vector<std::size_t> sorted_defined(const std::vector<double>& x) {
  std::vector<std::size_t> order;
  order.reserve(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    if (is_defined(x[i])) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  return order;
}

// Sum over tie groups of t (t - 1) / 2 (tied pairs) in an already sorted sequence.
template <typename Equal>
std::int64_t tied_pairs(std::size_t n, Equal equal) {
  std::int64_t pairs = 0;
  std::size_t start = 0;
  for (std::size_t i = 1; i <= n; ++i) {
    if (i == n || !equal(i - 1, i)) {
      const auto t = static_cast<std::int64_t>(i - start);
      pairs += t * (t - 1) / 2;
      start = i;
    }
  }
  return pairs;
}

// Sorts v ascending with a merge sort and returns the number of inversions (i < j, v[i] > v[j]).
std::int64_t merge_sort_inversions(std::vector<double>& v) {
  const std::size_t n = v.size();
  std::vector<double> buffer(n);
  std::int64_t inversions = 0;
  for (std::size_t width = 1; width < n; width *= 2) {
    for (std::size_t lo = 0; lo < n; lo += 2 * width) {
      const std::size_t mid = std::min(lo + width, n);
      const std::size_t hi = std::min(lo + 2 * width, n);
      std::size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (v[j] < v[i]) {
          inversions += static_cast<std::int64_t>(mid - i);
          buffer[k++] = v[j++];
        } else {
          buffer[k++] = v[i++];
        }
      }
      while (i < mid) buffer[k++] = v[i++];
      while (j < hi) buffer[k++] = v[j++];
    }
    std::swap(v, buffer);
  }
  return inversions;
}

}  // namespace

bool is_defined(double x) { return std::isfinite(x); }

std::size_t count_undefined(const std::vector<double>& x) {
  return static_cast<std::size_t>(
      std::count_if(x.begin(), x.end(), [](double v) { return !is_defined(v); }));
}

std::vector<double> defined_values(const std::vector<double>& x) {
  std::vector<double> out;
  out.reserve(x.size());
  for (double v : x)
    if (is_defined(v)) out.push_back(v);
  return out;
}

double mean(const std::vector<double>& x) {
  double sum = 0.0;
  std::size_t n = 0;
  for (double v : x) {
    if (!is_defined(v)) continue;
    sum += v;
    ++n;
  }
  return n == 0 ? kNaN : sum / static_cast<double>(n);
}

double median(const std::vector<double>& x) { return percentile(x, 50.0); }

double percentile(const std::vector<double>& x, double q) {
  ATTRIB_CHECK(q >= 0.0 && q <= 100.0, "percentile: expected q in [0, 100], got ", q);
  std::vector<double> v = defined_values(x);
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const double h = (static_cast<double>(v.size()) - 1.0) * q / 100.0;
  const double lo = std::floor(h);
  const auto i = static_cast<std::size_t>(lo);
  if (i + 1 >= v.size()) return v.back();
  const double frac = h - lo;
  if (frac == 0.0) return v[i];
  return v[i] + frac * (v[i + 1] - v[i]);
}

std::vector<double> paired_differences(const std::vector<double>& a, const std::vector<double>& b) {
  ATTRIB_CHECK(a.size() == b.size(), "paired_differences: expected equal lengths, got ", a.size(),
               " and ", b.size());
  std::vector<double> d(a.size(), kNaN);
  for (std::size_t i = 0; i < a.size(); ++i)
    if (is_defined(a[i]) && is_defined(b[i])) d[i] = a[i] - b[i];
  return d;
}

std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<double> ranks(x.size(), kNaN);
  const std::vector<std::size_t> order = sorted_defined(x);
  std::size_t start = 0;
  for (std::size_t i = 1; i <= order.size(); ++i) {
    if (i == order.size() || x[order[i]] != x[order[start]]) {
      // Positions start..i-1 (0-based) -> ranks start+1..i; their mean is (start + 1 + i) / 2.
      const double rank = (static_cast<double>(start) + 1.0 + static_cast<double>(i)) / 2.0;
      for (std::size_t k = start; k < i; ++k) ranks[order[k]] = rank;
      start = i;
    }
  }
  return ranks;
}

std::vector<double> min_ranks(const std::vector<double>& x) {
  std::vector<double> ranks(x.size(), kNaN);
  const std::vector<std::size_t> order = sorted_defined(x);
  std::size_t start = 0;
  for (std::size_t i = 1; i <= order.size(); ++i) {
    if (i == order.size() || x[order[i]] != x[order[start]]) {
      for (std::size_t k = start; k < i; ++k) ranks[order[k]] = static_cast<double>(start + 1);
      start = i;
    }
  }
  return ranks;
}

KendallResult kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  ATTRIB_CHECK(x.size() == y.size(), "kendall_tau_b: expected equal lengths, got ", x.size(),
               " and ", y.size());
  KendallResult result;
  std::vector<std::pair<double, double>> pairs;
  pairs.reserve(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (is_defined(x[i]) && is_defined(y[i]))
      pairs.emplace_back(x[i], y[i]);
    else
      ++result.n_dropped;
  }
  result.n_used = pairs.size();
  const std::size_t n = pairs.size();
  if (n < 2) {
    result.tau = kNaN;
    return result;
  }
  std::sort(pairs.begin(), pairs.end());  // by x, then y
  const auto n0 = static_cast<std::int64_t>(n) * static_cast<std::int64_t>(n - 1) / 2;
  const std::int64_t tx =
      tied_pairs(n, [&](std::size_t a, std::size_t b) { return pairs[a].first == pairs[b].first; });
  const std::int64_t txy =
      tied_pairs(n, [&](std::size_t a, std::size_t b) { return pairs[a] == pairs[b]; });
  std::vector<double> ys(n);
  for (std::size_t i = 0; i < n; ++i) ys[i] = pairs[i].second;
  // Ties in x are sorted by y, so every inversion is a discordant pair.
  const std::int64_t discordant = merge_sort_inversions(ys);
  const std::int64_t ty =
      tied_pairs(n, [&](std::size_t a, std::size_t b) { return ys[a] == ys[b]; });
  const std::int64_t untied_x = n0 - tx;  // P + Q + T_y
  const std::int64_t untied_y = n0 - ty;  // P + Q + T_x
  if (untied_x == 0 || untied_y == 0) {
    result.tau = kNaN;
    return result;
  }
  // P + Q = n0 - tx - ty + txy, so P - Q = n0 - tx - ty + txy - 2Q.
  const std::int64_t p_minus_q = n0 - tx - ty + txy - 2 * discordant;
  result.tau = static_cast<double>(p_minus_q) /
               std::sqrt(static_cast<double>(untied_x) * static_cast<double>(untied_y));
  result.tau = std::clamp(result.tau, -1.0, 1.0);
  return result;
}

std::uint64_t uniform_index(std::mt19937_64& rng, std::uint64_t n) {
  ATTRIB_CHECK(n >= 1, "uniform_index: expected n >= 1, got 0");
  // 2^64 mod n: the values below it would make the modulo biased.
  const std::uint64_t threshold = (std::uint64_t{0} - n) % n;
  for (;;) {
    const std::uint64_t r = rng();
    if (r >= threshold) return r % n;
  }
}

BootstrapIndices::BootstrapIndices(std::size_t n, std::size_t resamples, std::uint64_t seed)
    : n_(n), resamples_(resamples), seed_(seed) {
  ATTRIB_CHECK(n <= std::numeric_limits<std::uint32_t>::max(),
               "bootstrap: expected at most 2^32 - 1 examples, got ", n);
  if (n == 0) return;
  indices_.resize(n * resamples);
  std::mt19937_64 rng(seed);
  for (std::size_t k = 0; k < indices_.size(); ++k)
    indices_[k] = static_cast<std::uint32_t>(uniform_index(rng, n));
}

double replicate_mean(const std::vector<double>& x, const BootstrapIndices& indices,
                      std::size_t b) {
  ATTRIB_CHECK(x.size() == indices.n(), "bootstrap: expected ", indices.n(), " values, got ",
               x.size());
  ATTRIB_CHECK(b < indices.resamples(), "bootstrap: replicate ", b, " out of range (",
               indices.resamples(), " resamples)");
  const std::uint32_t* idx = indices.replicate(b);
  double sum = 0.0;
  std::size_t count = 0;
  for (std::size_t k = 0; k < indices.n(); ++k) {
    const double v = x[idx[k]];
    if (!is_defined(v)) continue;
    sum += v;
    ++count;
  }
  return count == 0 ? kNaN : sum / static_cast<double>(count);
}

std::vector<double> bootstrap_means(const std::vector<double>& x, const BootstrapIndices& indices) {
  std::vector<double> out(indices.resamples());
  for (std::size_t b = 0; b < out.size(); ++b) out[b] = replicate_mean(x, indices, b);
  return out;
}

Interval percentile_interval(const std::vector<double>& replicates, double confidence) {
  ATTRIB_CHECK(confidence > 0.0 && confidence < 1.0,
               "percentile_interval: expected confidence in (0, 1), got ", confidence);
  const double alpha = 1.0 - confidence;
  return {percentile(replicates, 100.0 * alpha / 2.0),
          percentile(replicates, 100.0 * (1.0 - alpha / 2.0))};
}

MeanCI bootstrap_mean_ci(const std::vector<double>& x, const BootstrapIndices& indices,
                         double confidence) {
  MeanCI out;
  out.mean = mean(x);
  out.n_undefined = count_undefined(x);
  out.n = x.size() - out.n_undefined;
  const std::vector<double> reps = bootstrap_means(x, indices);
  out.undefined_replicates = count_undefined(reps);
  out.ci = percentile_interval(reps, confidence);
  return out;
}

MeanCI paired_difference_ci(const std::vector<double>& a, const std::vector<double>& b,
                            const BootstrapIndices& indices, double confidence) {
  return bootstrap_mean_ci(paired_differences(a, b), indices, confidence);
}

WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& x, const std::vector<double>& y,
                                    std::size_t exact_max_n) {
  return wilcoxon_signed_rank(paired_differences(x, y), exact_max_n);
}

WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& d, std::size_t exact_max_n) {
  WilcoxonResult r;
  r.n_undefined = count_undefined(d);
  r.median_difference = median(d);
  std::vector<double> nonzero;
  std::vector<double> abs_nonzero;
  for (double v : d) {
    if (!is_defined(v)) continue;
    if (v == 0.0) {
      ++r.n_zero;
      continue;
    }
    nonzero.push_back(v);
    abs_nonzero.push_back(std::fabs(v));
  }
  const std::size_t n = nonzero.size();
  r.n_used = n;
  if (n == 0) {
    r.z = kNaN;
    r.p_value = kNaN;
    r.rank_biserial = kNaN;
    return r;
  }
  const std::vector<double> ranks = average_ranks(abs_nonzero);
  for (std::size_t i = 0; i < n; ++i) (nonzero[i] > 0 ? r.w_plus : r.w_minus) += ranks[i];
  r.statistic = r.w_plus;
  r.rank_biserial = (r.w_plus - r.w_minus) / (r.w_plus + r.w_minus);
  const double nd = static_cast<double>(n);

  if (n <= exact_max_n) {
    // Distribution of 2 W+ (average ranks are multiples of 1/2, so doubled ranks are integers).
    r.exact = true;
    r.z = kNaN;
    const auto total = static_cast<std::size_t>(n * (n + 1));  // max of 2 W+
    std::vector<double> counts(total + 1, 0.0);
    counts[0] = 1.0;
    for (double rank : ranks) {
      const auto r2 = static_cast<std::size_t>(std::llround(2.0 * rank));
      for (std::size_t s = total; s >= r2; --s) {
        counts[s] += counts[s - r2];
        if (s == 0) break;
      }
    }
    const auto w2 = static_cast<std::size_t>(std::llround(2.0 * r.w_plus));
    double below = 0.0, above = 0.0, all = 0.0;
    for (std::size_t s = 0; s <= total; ++s) {
      all += counts[s];
      if (s <= w2) below += counts[s];
      if (s >= w2) above += counts[s];
    }
    r.p_value = std::min(1.0, 2.0 * std::min(below, above) / all);
    return r;
  }

  const double mu = nd * (nd + 1.0) / 4.0;
  double var = nd * (nd + 1.0) * (2.0 * nd + 1.0) / 24.0;
  std::vector<double> sorted_abs = abs_nonzero;
  std::sort(sorted_abs.begin(), sorted_abs.end());
  std::size_t start = 0;
  for (std::size_t i = 1; i <= n; ++i) {
    if (i == n || sorted_abs[i] != sorted_abs[start]) {
      const double t = static_cast<double>(i - start);
      var -= (t * t * t - t) / 48.0;
      start = i;
    }
  }
  const double diff = r.w_plus - mu;
  const double correction = diff > 0 ? 0.5 : (diff < 0 ? -0.5 : 0.0);
  r.z = (diff - correction) / std::sqrt(var);
  r.p_value = std::min(1.0, std::erfc(std::fabs(r.z) / std::sqrt(2.0)));
  return r;
}

MannWhitneyResult mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y,
                                 std::size_t exact_max_n) {
  MannWhitneyResult r;
  r.n_undefined = count_undefined(x) + count_undefined(y);
  const std::vector<double> xs = defined_values(x);
  const std::vector<double> ys = defined_values(y);
  r.n_x = xs.size();
  r.n_y = ys.size();
  if (r.n_x == 0 || r.n_y == 0) {
    r.u_x = r.u_y = r.statistic = r.z = r.p_value = r.common_language = r.rank_biserial = kNaN;
    return r;
  }
  std::vector<double> pooled = xs;
  pooled.insert(pooled.end(), ys.begin(), ys.end());
  const std::vector<double> ranks = average_ranks(pooled);
  double rank_sum_x = 0.0;
  for (std::size_t i = 0; i < r.n_x; ++i) rank_sum_x += ranks[i];
  const double nx = static_cast<double>(r.n_x), ny = static_cast<double>(r.n_y);
  const double nn = nx + ny;
  r.u_x = rank_sum_x - nx * (nx + 1.0) / 2.0;
  r.u_y = nx * ny - r.u_x;
  r.statistic = r.u_x;
  r.common_language = r.u_x / (nx * ny);
  r.rank_biserial = 2.0 * r.common_language - 1.0;

  std::sort(pooled.begin(), pooled.end());
  double tie_sum = 0.0;  // sum over tie groups of t^3 - t
  std::size_t start = 0;
  for (std::size_t i = 1; i <= pooled.size(); ++i) {
    if (i == pooled.size() || pooled[i] != pooled[start]) {
      const double t = static_cast<double>(i - start);
      tie_sum += t * t * t - t;
      start = i;
    }
  }
  r.ties = tie_sum > 0.0;

  if (!r.ties && std::min(r.n_x, r.n_y) <= exact_max_n &&
      std::max(r.n_x, r.n_y) <= kMannWhitneyExactMaxOther) {
    // Counts of the rank arrangements by U for m = min(n_x, n_y) and n = max(n_x, n_y) (the
    // distribution of U is the same with the roles swapped). Recurrence on the largest value:
    // c(m', n', u) = c(m' - 1, n', u - n') (it belongs to the m-sample and exceeds all n' others)
    //              + c(m', n' - 1, u) (it belongs to the n-sample); rows m' = 0..m, n' grows.
    r.exact = true;
    r.z = kNaN;
    const std::size_t m = std::min(r.n_x, r.n_y), n = std::max(r.n_x, r.n_y);
    const std::size_t width = m * n + 1;
    std::vector<double> c((m + 1) * width, 0.0);
    for (std::size_t mi = 0; mi <= m; ++mi) c[mi * width] = 1.0;  // n' = 0: one arrangement, U = 0
    for (std::size_t ni = 1; ni <= n; ++ni)
      for (std::size_t mi = 1; mi <= m; ++mi)
        for (std::size_t u = mi * ni; u >= ni; --u)
          c[mi * width + u] += c[(mi - 1) * width + u - ni];
    const auto u = static_cast<std::size_t>(std::llround(r.u_x));
    double below = 0.0, above = 0.0, all = 0.0;
    for (std::size_t s = 0; s < width; ++s) {
      const double count = c[m * width + s];
      all += count;
      if (s <= u) below += count;
      if (s >= u) above += count;
    }
    r.p_value = std::min(1.0, 2.0 * std::min(below, above) / all);
    return r;
  }

  const double mu = nx * ny / 2.0;
  const double var = nx * ny / 12.0 * ((nn + 1.0) - tie_sum / (nn * (nn - 1.0)));
  if (!(var > 0.0)) {
    r.z = kNaN;
    r.p_value = kNaN;
    return r;
  }
  const double diff = r.u_x - mu;
  const double correction = diff > 0 ? 0.5 : (diff < 0 ? -0.5 : 0.0);
  r.z = (diff - correction) / std::sqrt(var);
  r.p_value = std::min(1.0, std::erfc(std::fabs(r.z) / std::sqrt(2.0)));
  return r;
}

}  // namespace attrib::stats
