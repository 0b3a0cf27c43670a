#include "common/agreement_measures.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "attrib/error.h"
#include "attrib/random.h"
#include "common/stats.h"

namespace attrib {

namespace {

using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

json num(double x) { return stats::is_defined(x) ? json(x) : json(nullptr); }

void check_pair(const std::vector<double>& a, const std::vector<double>& b, const char* what) {
  ATTRIB_CHECK(a.size() == b.size(), what, ": expected two vectors of equal length, got ", a.size(),
               " and ", b.size());
}

bool all_defined(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return stats::is_defined(x); });
}

// The two vectors usable (same length checked, non-empty, all finite)?
bool usable(const std::vector<double>& a, const std::vector<double>& b, const char* what) {
  check_pair(a, b, what);
  return !a.empty() && all_defined(a) && all_defined(b);
}

std::vector<double> key_of(const std::vector<double>& v, bool abs) {
  if (!abs) return v;
  std::vector<double> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = std::fabs(v[i]);
  return out;
}

int sign_of(double x) { return (x > 0) - (x < 0); }

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  if (n < 2) return kNaN;
  const double mx = stats::mean(x), my = stats::mean(y);
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0.0 || syy == 0.0) return kNaN;
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

// Dense ranks (1, 2, ... with no gaps; ties share a rank) of x, ascending.
std::vector<double> dense_ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> ranks(x.size());
  double rank = 0.0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || x[order[i]] != x[order[i - 1]]) rank += 1.0;
    ranks[order[i]] = rank;
  }
  return ranks;
}

// The first k features by decreasing key; ties by the lower tie key (`tie`, e.g. a seeded
// permutation), then by the lower index.
std::vector<std::size_t> top_k(const std::vector<double>& key, std::size_t k,
                               const std::vector<double>* tie) {
  std::vector<std::size_t> order(key.size());
  std::iota(order.begin(), order.end(), 0);
  k = std::min(k, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                    [&](std::size_t a, std::size_t b) {
                      if (key[a] != key[b]) return key[a] > key[b];
                      if (tie != nullptr && (*tie)[a] != (*tie)[b]) return (*tie)[a] < (*tie)[b];
                      return a < b;
                    });
  order.resize(k);
  return order;
}

enum class TopK { kFeature, kRank, kSign, kSignedRank };

double top_k_measure(const std::vector<double>& a, const std::vector<double>& b, std::size_t k,
                     bool abs, TopK which, const char* what, const std::vector<double>* tie,
                     bool dense_rank_match = false) {
  if (!usable(a, b, what)) return kNaN;
  ATTRIB_CHECK(tie == nullptr || tie->size() == a.size(), what, ": expected ", a.size(),
               " tie keys, got ", tie->size());
  ATTRIB_CHECK(k >= 1, what, ": expected k >= 1, got 0");
  k = std::min(k, a.size());
  const std::vector<std::size_t> ta = top_k(key_of(a, abs), k, tie);
  const std::vector<std::size_t> tb = top_k(key_of(b, abs), k, tie);
  std::size_t hits = 0;
  if (which == TopK::kRank || which == TopK::kSignedRank) {
    // OpenXAI also requires the feature's dense rank (1 = largest key) to agree.
    std::vector<double> ra, rb;
    if (dense_rank_match) {
      std::vector<double> na = key_of(a, abs), nb = key_of(b, abs);
      for (double& x : na) x = -x;
      for (double& x : nb) x = -x;
      ra = dense_ranks(na);
      rb = dense_ranks(nb);
    }
    for (std::size_t j = 0; j < k; ++j)
      if (ta[j] == tb[j] && (!dense_rank_match || ra[ta[j]] == rb[tb[j]]) &&
          (which == TopK::kRank || sign_of(a[ta[j]]) == sign_of(b[ta[j]])))
        ++hits;
  } else {
    std::vector<char> in_b(a.size(), 0);
    for (std::size_t i : tb) in_b[i] = 1;
    for (std::size_t i : ta)
      if (in_b[i] && (which == TopK::kFeature || sign_of(a[i]) == sign_of(b[i]))) ++hits;
  }
  return static_cast<double>(hits) / static_cast<double>(k);
}

const std::vector<std::string> kMeasures = {
    "spearman",       "kendall_tau_b",         "feature_agreement", "rank_agreement",
    "sign_agreement", "signed_rank_agreement", "rank_correlation",  "pairwise_rank_agreement"};

bool is_top_k(const std::string& m) {
  return m == "feature_agreement" || m == "rank_agreement" || m == "sign_agreement" ||
         m == "signed_rank_agreement";
}

}  // namespace

namespace agreement {

double spearman(const std::vector<double>& a, const std::vector<double>& b, bool abs) {
  if (!usable(a, b, "spearman")) return kNaN;
  return pearson(stats::average_ranks(key_of(a, abs)), stats::average_ranks(key_of(b, abs)));
}

double kendall_tau_b(const std::vector<double>& a, const std::vector<double>& b, bool abs) {
  if (!usable(a, b, "kendall_tau_b")) return kNaN;
  return stats::kendall_tau_b(key_of(a, abs), key_of(b, abs)).tau;
}

std::size_t resolve_k(double k, std::size_t n_features) {
  const bool fraction = k > 0.0 && k < 1.0;
  ATTRIB_CHECK(fraction || (k >= 1.0 && std::floor(k) == k && std::isfinite(k)),
               "agreement k: expected a fraction in (0, 1) or an integer >= 1, got ", k);
  if (n_features == 0) return 0;
  const double raw = fraction ? std::ceil(k * static_cast<double>(n_features)) : k;
  return static_cast<std::size_t>(std::clamp(raw, 1.0, static_cast<double>(n_features)));
}

double feature_agreement(const std::vector<double>& a, const std::vector<double>& b, std::size_t k,
                         bool abs, const std::vector<double>* tie) {
  return top_k_measure(a, b, k, abs, TopK::kFeature, "feature_agreement", tie);
}

double rank_agreement(const std::vector<double>& a, const std::vector<double>& b, std::size_t k,
                      bool abs, const std::vector<double>* tie, bool dense_rank_match) {
  return top_k_measure(a, b, k, abs, TopK::kRank, "rank_agreement", tie, dense_rank_match);
}

double sign_agreement(const std::vector<double>& a, const std::vector<double>& b, std::size_t k,
                      bool abs, const std::vector<double>* tie) {
  return top_k_measure(a, b, k, abs, TopK::kSign, "sign_agreement", tie);
}

double signed_rank_agreement(const std::vector<double>& a, const std::vector<double>& b,
                             std::size_t k, bool abs, const std::vector<double>* tie,
                             bool dense_rank_match) {
  return top_k_measure(a, b, k, abs, TopK::kSignedRank, "signed_rank_agreement", tie,
                       dense_rank_match);
}

double rank_correlation(const std::vector<double>& a, const std::vector<double>& b, bool abs) {
  if (!usable(a, b, "rank_correlation")) return kNaN;
  return pearson(dense_ranks(key_of(a, abs)), dense_ranks(key_of(b, abs)));
}

double pairwise_rank_agreement(const std::vector<double>& a, const std::vector<double>& b,
                               bool abs) {
  if (!usable(a, b, "pairwise_rank_agreement") || a.size() < 2) return kNaN;
  const std::vector<double> ka = key_of(a, abs), kb = key_of(b, abs);
  const std::size_t n = a.size();
  std::size_t same = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) same += (ka[i] > ka[j]) == (kb[i] > kb[j]);
  return static_cast<double>(same) / (static_cast<double>(n) * static_cast<double>(n - 1) / 2.0);
}

const std::vector<std::string>& measure_names() { return kMeasures; }

std::string definition(const std::string& m) {
  if (m == "spearman") return "Pearson correlation of average ranks of the key (METRICS.md 4.1)";
  if (m == "kendall_tau_b") return "Kendall tau-b of the key (METRICS.md 4.2)";
  if (m == "feature_agreement") return "FA = |T ∩ T'| / k, T = top_k(key) (Krishna et al. 2022)";
  if (m == "rank_agreement") return "RA = (1/k) sum_{j<=k} 1[pi(j) = pi'(j)] (Krishna et al. 2022)";
  if (m == "sign_agreement")
    return "SA = |{i in T ∩ T' : sign a_i = sign b_i}| / k (Krishna et al. 2022)";
  if (m == "signed_rank_agreement")
    return "SRA = (1/k) sum_{j<=k} 1[pi(j) = pi'(j) and signs agree] (Krishna et al. 2022)";
  if (m == "rank_correlation")
    return "RC = Pearson correlation of dense ranks of the key over all features (OpenXAI, "
           "METRICS.md 4.4)";
  return "PRA = fraction of feature pairs i < j where [key_i > key_j] is the same in both "
         "(dense ranks, ties count as 'not above'; OpenXAI, METRICS.md 4.5)";
}


double measure(const std::string& name, const std::vector<double>& a, const std::vector<double>& b,
               double k, bool abs, const std::vector<double>* tie, bool dense_rank_match) {
  if (name == "spearman") return spearman(a, b, abs);
  if (name == "kendall_tau_b") return kendall_tau_b(a, b, abs);
  if (name == "rank_correlation") return rank_correlation(a, b, abs);
  if (name == "pairwise_rank_agreement") return pairwise_rank_agreement(a, b, abs);
  if (is_top_k(name)) {
    const std::size_t kk = resolve_k(k, a.size());
    if (kk == 0) {
      check_pair(a, b, name.c_str());
      return kNaN;
    }
    if (name == "feature_agreement") return feature_agreement(a, b, kk, abs, tie);
    if (name == "rank_agreement") return rank_agreement(a, b, kk, abs, tie, dense_rank_match);
    if (name == "sign_agreement") return sign_agreement(a, b, kk, abs, tie);
    return signed_rank_agreement(a, b, kk, abs, tie, dense_rank_match);
  }
  std::string known;
  for (const auto& m : kMeasures) known += (known.empty() ? "" : ", ") + m;
  throw Error("agreement measure: expected one of " + known + ", got \"" + name + "\"");
}

}  // namespace agreement

}  // namespace attrib
