#pragma once
// Quadrature rules on [0, 1] for path methods (integrated gradients and relatives).
#include <string>
#include <vector>

#include "attrib/export.h"

namespace attrib {

/// Nodes alpha_k in [0, 1] and weights w_k for m steps.
struct Quadrature {
  std::vector<double> nodes;
  std::vector<double> weights;
};

/// Rules (METHODS.md §1.3): "gausslegendre", "riemann_left", "riemann_right", "riemann_middle",
/// "riemann_trapezoid" (textbook: weights 1/(m-1), ends halved, sum 1) and
/// "captum_trapezoid" (Captum's riemann_trapezoid: weights 1/m, ends halved, sum 1 - 1/m).
/// Throws attrib::Error for an unknown rule or m < 1 (m < 2 for the trapezoids).
ATTRIB_SDK_API Quadrature quadrature(const std::string& rule, int m);

/// The rule names quadrature() accepts.
ATTRIB_SDK_API const std::vector<std::string>& quadrature_rules();

}  // namespace attrib
