// synthetic:tabular_linear and synthetic:tabular_nonlinear — independent Gaussian features and a
// label from a known function of n_informative of them, which are the annotation mask.
#include <cmath>

#include "attrib/error.h"
#include "data/readers/common.h"
#include "data/synthetic/generators.h"
#include "data/synthetic/rng.h"

namespace attrib::synthetic {

using nlohmann::json;
using readers::dense_of;
using readers::kSplits;

const char* const kTabularSynthSchema = R"JSON({
  "n_train": {"type": "integer", "default": 2000, "minimum": 10, "maximum": 1000000},
  "n_val": {"type": "integer", "default": 400, "minimum": 1, "maximum": 1000000},
  "n_test": {"type": "integer", "default": 400, "minimum": 1, "maximum": 1000000},
  "n_features": {"type": "integer", "default": 10, "minimum": 2, "maximum": 10000},
  "n_informative": {"type": "integer", "default": 3, "minimum": 1, "maximum": 10000,
                    "description": "relevant features (the annotation mask), chosen at seeded random positions"},
  "noise": {"type": "number", "default": 0.1, "minimum": 0, "maximum": 10,
            "description": "standard deviation of the Gaussian noise added to the score before thresholding"},
  "seed": {"type": "integer", "default": 1, "minimum": 0,
           "description": "generator seed (independent of the run seed, so the data stay fixed)"}
})JSON";

namespace {

Dataset tabular_data(const std::string& name, const json& p, bool linear) {
  const int64_t F = p["n_features"], K = p["n_informative"];
  const double noise = p["noise"];
  const uint64_t seed = p["seed"];
  ATTRIB_CHECK(K <= F, "dataset '", name, "': params.n_informative (", K,
               ") must be <= params.n_features (", F, ")");
  ATTRIB_CHECK(linear || K >= 2, "dataset '", name,
               "': params.n_informative: expected >= 2 for tabular_nonlinear, found ", K);
  Rng fixed(seed ^ 0x7461627374ULL);
  std::vector<int64_t> perm(F);
  for (int64_t j = 0; j < F; ++j) perm[j] = j;
  for (int64_t j = 0; j < K; ++j) std::swap(perm[j], perm[j + fixed.below(F - j)]);
  std::vector<int64_t> rel(perm.begin(), perm.begin() + K);
  std::vector<double> w;
  for (int64_t k = 0; k < K; ++k)
    w.push_back((fixed.below(2) ? 1.0 : -1.0) * (1.0 + fixed.uniform()));  // |w| in [1, 2)
  Dataset d;
  d.class_names = {"negative", "positive"};
  d.feature_shape = {F};
  for (int64_t j = 0; j < F; ++j) d.feature_names.push_back("x" + std::to_string(j));
  std::vector<float> mask(F, 0.0f);
  for (int64_t j : rel) mask[j] = 1.0f;
  const double half_normal_mean = std::sqrt(2.0 / 3.141592653589793);
  for (int s = 0; s < 3; ++s) {
    const int64_t n = p[std::string("n_") + kSplits[s]];
    auto& out = dense_of(d, s);
    for (int64_t k = 0; k < n; ++k) {
      DenseExample e;
      e.id = name + "-" + kSplits[s] + "-" + std::to_string(k);
      Rng rng = example_rng(seed, e.id);
      e.x.resize(F);
      for (auto& v : e.x) v = static_cast<float>(rng.normal());
      double score = 0;
      if (linear) {
        for (int64_t r = 0; r < K; ++r) score += w[r] * e.x[rel[r]];
      } else {
        score = double(e.x[rel[0]]) * e.x[rel[1]];
        for (int64_t r = 2; r < K; ++r) score += std::fabs(e.x[rel[r]]) - half_normal_mean;
      }
      score += noise * rng.normal();
      e.label = score > 0 ? 1 : 0;
      e.mask = mask;
      out.push_back(std::move(e));
    }
  }
  d.encoding = {{"relevant_features", rel},
                {"features", "independent N(0, 1)"},
                {"label", linear ? "1[sum_k w_k x[relevant_k] + noise * N(0,1) > 0]"
                                 : "1[x[r0] * x[r1] + sum_{k>=2} (|x[r_k]| - sqrt(2/pi)) + "
                                   "noise * N(0,1) > 0]"}};
  if (linear) d.encoding["weights"] = w;
  return d;
}

}  // namespace

Dataset tabular_linear(const std::string& name, const std::string& /*argument*/, const json& p,
                       json& report) {
  report = readers::new_report("tabular_linear");
  return tabular_data(name, p, true);
}

Dataset tabular_nonlinear(const std::string& name, const std::string& /*argument*/, const json& p,
                          json& report) {
  report = readers::new_report("tabular_nonlinear");
  return tabular_data(name, p, false);
}

}  // namespace attrib::synthetic
