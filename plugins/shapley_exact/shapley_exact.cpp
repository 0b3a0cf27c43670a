// Exact Shapley values (METHODS.md §2.5): all 2^M coalitions of an example are evaluated once (in
// binary order, example-major, packed into forwards of at most max_rows) and combined with the
// Shapley weights |S|! (M - |S| - 1)! / M!. The oracle for the sampling estimators.
#include <torch/script.h>

#include <cmath>
#include <string>
#include <vector>

#include "../common/coalitions.h"
#include "attrib/plugin.h"

namespace {

constexpr const char* kMetadata = R"json({
  "description": "Exact Shapley values: phi_i = sum over S not containing i of |S|! (M - |S| - 1)! / M! [v(S + i) - v(S)], v(S) = f_y(x with the features outside S replaced), from all 2^M coalitions. Satisfies efficiency, symmetry, dummy and linearity. Refuses examples with more than max_features features. Dense: features are the flattened elements, replaced by baseline_value. Text: features are the words (word_ids >= 0; a word's subword tokens are replaced together by the `token` id and share its value equally); attributions are [B, T].",
  "citation": "Shapley (1953). A Value for n-Person Games. Contributions to the Theory of Games II. Lundberg & Lee (2017). A Unified Approach to Interpreting Model Predictions. NeurIPS. arXiv:1705.07874",
  "params": {
    "max_features": {"type": "integer", "default": 12, "minimum": 1, "maximum": 20, "description": "Largest number of features M accepted (2^M forward rows per example)."},
    "baseline_value": {"type": "number", "default": 0.0, "description": "Dense: value of an absent feature."},
    "token": {"type": "string", "default": "mask", "enum": ["mask", "pad", "unk"], "description": "Text: special token whose id replaces an absent token."}
  },
  "cost": {"forward_rows": "2^n_features", "backward_rows": "0"},
  "extras": []
})json";

class ShapleyExact : public attrib::AttributionMethod {
 public:
  explicit ShapleyExact(const nlohmann::json& params)
      : max_features_(params.at("max_features").get<int64_t>()),
        value_(params.at("baseline_value").get<double>()),
        token_(params.at("token").get<std::string>()) {}

  attrib::Explanation explain(attrib::ModelAdapter& model, const attrib::Batch& batch,
                              const at::Tensor& targets,
                              const attrib::ExplainContext& ctx) override {
    attrib_plugins::Coalitions c(model, batch, targets, "shapley_exact", value_, token_, {});
    const int64_t b = c.batch_size();
    ATTRIB_CHECK(c.max_features() <= max_features_, "shapley_exact: ", c.max_features(),
                 " features, at most ", max_features_,
                 " supported (2^M coalitions); use shapley_sampling");
    std::vector<at::Tensor> z(b);
    for (int64_t i = 0; i < b; ++i) {
      const int64_t m = c.n_features(i);
      // Row k is the coalition whose bit j is feature j.
      const at::Tensor k = at::arange(int64_t{1} << m, at::kLong).unsqueeze(1);
      z[i] = k.bitwise_and(at::pow(2, at::arange(m, at::kLong)).unsqueeze(0)).ne(0);
    }
    const std::vector<at::Tensor> v =
        c.values(z, attrib_plugins::Layout::kExampleMajor, ctx.max_rows);
    std::vector<at::Tensor> phi(b);
    for (int64_t i = 0; i < b; ++i) {
      const int64_t m = c.n_features(i), n = int64_t{1} << m;
      // weight[s] = s! (M - s - 1)! / M!
      std::vector<double> weight(std::max<int64_t>(m, 1));
      for (int64_t s = 0; s < m; ++s)
        weight[s] =
            std::exp(std::lgamma(s + 1.0) + std::lgamma(double(m - s)) - std::lgamma(m + 1.0));
      const at::Tensor vi = v[i].contiguous();
      const double* val = vi.data_ptr<double>();
      std::vector<double> out(m, 0.0);
      for (int64_t j = 0; j < m; ++j) {
        const int64_t bit = int64_t{1} << j;
        for (int64_t s = 0; s < n; ++s)
          if ((s & bit) == 0) out[j] += weight[__builtin_popcountll(s)] * (val[s | bit] - val[s]);
      }
      phi[i] = at::tensor(out, at::kDouble);
    }

    attrib::Explanation e;
    e.attributions = c.scatter(phi);
    e.forward_rows = c.rows();
    e.info = c.info();
    e.info["coalitions"] = "all 2^M, binary order";
    e.info["layout"] = "example-major";
    return e;
  }

 private:
  int64_t max_features_;
  double value_;
  std::string token_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(ShapleyExact, "shapley_exact", "1.0.0", ATTRIB_CAP_FORWARD, kMetadata)
