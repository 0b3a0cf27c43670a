#pragma once
// Weighted least squares shared by the regression plugins (lime, kernel_shap), which link
// Eigen3::Eigen. Header-only; see coalitions.h.
#include <torch/script.h>

#include <Eigen/Dense>
#include <cmath>
#include <cstdint>

namespace attrib_plugins {

/// beta minimising sum_r w_r (a_r . beta - y_r)^2 + ridge * sum_{j >= 1} beta_j^2 (the first
/// column, an intercept, is not penalised; ridge < 0 adds no penalty rows at all), for a [n, k],
/// y [n], w [n] float64 on the CPU. Solved as the augmented system sqrt(w) a beta = sqrt(w) y,
/// sqrt(ridge) beta_j = 0 by Eigen's complete orthogonal decomposition: the minimum-norm solution
/// when rank-deficient.
inline Eigen::VectorXd weighted_least_squares(const at::Tensor& a, const at::Tensor& y,
                                              const at::Tensor& w, double ridge = -1) {
  const at::Tensor ac = a.contiguous(), yc = y.contiguous(), wc = w.contiguous();
  const int64_t n = ac.size(0), k = ac.size(1), extra = ridge >= 0 ? k - 1 : 0;
  const double* ap = ac.data_ptr<double>();
  const double* yp = yc.data_ptr<double>();
  const double* wp = wc.data_ptr<double>();
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(n + extra, k);
  Eigen::VectorXd t = Eigen::VectorXd::Zero(n + extra);
  for (int64_t r = 0; r < n; ++r) {
    const double sw = std::sqrt(wp[r]);
    for (int64_t j = 0; j < k; ++j) m(r, j) = sw * ap[r * k + j];
    t(r) = sw * yp[r];
  }
  for (int64_t j = 0; j < extra; ++j) m(n + j, j + 1) = std::sqrt(ridge);
  return m.completeOrthogonalDecomposition().solve(t);
}

}  // namespace attrib_plugins
