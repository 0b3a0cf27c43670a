#include "attrib/quadrature.h"

#include <cmath>
#include <utility>

#include "attrib/error.h"

namespace attrib {

namespace {

// P_m(t) and P'_m(t) by the three-term recurrence.
std::pair<double, double> legendre(int m, double t) {
  double p0 = 1.0, p1 = t;
  for (int n = 2; n <= m; ++n) {
    const double p2 = ((2.0 * n - 1.0) * t * p1 - (n - 1.0) * p0) / n;
    p0 = p1;
    p1 = p2;
  }
  return {p1, m * (t * p1 - p0) / (t * t - 1.0)};
}

// Gauss–Legendre on [-1, 1] by Newton iteration on P_m, then mapped to [0, 1] (nodes (1+t)/2,
// weights w/2). Roots are found for one half and mirrored, so the rule is exactly symmetric.
Quadrature gauss_legendre(int m) {
  Quadrature q{std::vector<double>(m), std::vector<double>(m)};
  const double pi = std::acos(-1.0);
  for (int i = 0; i < (m + 1) / 2; ++i) {
    double t = std::cos(pi * (i + 0.75) / (m + 0.5));  // root i, counted from t = 1 downwards
    for (int iter = 0; iter < 100; ++iter) {
      const auto [p, dp] = legendre(m, t);
      t -= p / dp;
      if (std::abs(p / dp) < 1e-16) break;
    }
    const double dp = legendre(m, t).second;
    const double w = 2.0 / ((1.0 - t * t) * dp * dp);
    if (2 * i + 1 == m) t = 0.0;  // the middle root of an odd m is exactly 0
    // Ascending in alpha, the order Captum (numpy's leggauss) uses.
    q.nodes[i] = 0.5 * (1.0 - t);
    q.nodes[m - 1 - i] = 0.5 * (1.0 + t);
    q.weights[i] = q.weights[m - 1 - i] = 0.5 * w;
  }
  return q;
}

Quadrature uniform(int m, double first, double step, double weight) {
  Quadrature q;
  for (int k = 0; k < m; ++k) {
    q.nodes.push_back(first + k * step);
    q.weights.push_back(weight);
  }
  return q;
}

}  // namespace

const std::vector<std::string>& quadrature_rules() {
  static const std::vector<std::string> rules = {"gausslegendre",     "riemann_left",
                                                 "riemann_right",     "riemann_middle",
                                                 "riemann_trapezoid", "captum_trapezoid"};
  return rules;
}

Quadrature quadrature(const std::string& rule, int m) {
  const bool trapezoid = rule == "riemann_trapezoid" || rule == "captum_trapezoid";
  const int min_m = trapezoid ? 2 : 1;
  bool known = false;
  std::string names;
  for (const auto& r : quadrature_rules()) {
    known = known || r == rule;
    names += (names.empty() ? "" : ", ") + r;
  }
  ATTRIB_CHECK(known, "quadrature: unknown rule '", rule, "' (known: ", names, ")");
  ATTRIB_CHECK(m >= min_m, "quadrature '", rule, "': expected n_steps >= ", min_m, ", got ", m);

  if (rule == "gausslegendre") return gauss_legendre(m);
  if (rule == "riemann_left") return uniform(m, 0.0, 1.0 / m, 1.0 / m);
  if (rule == "riemann_right") return uniform(m, 1.0 / m, 1.0 / m, 1.0 / m);
  if (rule == "riemann_middle") return uniform(m, 0.5 / m, 1.0 / m, 1.0 / m);
  // Trapezoids share the nodes k/(m-1). The textbook rule weighs them 1/(m-1); Captum's
  // riemann_trapezoid weighs them 1/m, which loses a factor (m-1)/m (METHODS.md §1.3).
  Quadrature q =
      uniform(m, 0.0, 1.0 / (m - 1), rule == "captum_trapezoid" ? 1.0 / m : 1.0 / (m - 1));
  q.nodes.back() = 1.0;
  q.weights.front() *= 0.5;
  q.weights.back() *= 0.5;
  return q;
}

}  // namespace attrib
