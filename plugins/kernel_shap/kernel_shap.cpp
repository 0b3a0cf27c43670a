// KernelSHAP (METHODS.md §2.6): a weighted least-squares fit of g(z) = phi_0 + sum_j phi_j z_j to
// v(z) over coalitions, with the Shapley kernel. The anchors are exact constraints (phi_0 = f(b),
// sum phi = f(x) - f(b)), imposed by eliminating the last feature rather than by large weights.
// Coalitions come from each example's own stream and are stacked example-major.
#include <torch/script.h>

#include <cmath>
#include <string>
#include <vector>

#include "../common/coalitions.h"
#include "../common/least_squares.h"
#include "attrib/plugin.h"
#include "attrib/random.h"

namespace {

constexpr const char* kMetadata = R"json({
  "description": "KernelSHAP: phi minimises sum_z pi(z) (v(z) - phi_0 - sum_j phi_j z_j)^2 subject to phi_0 = v(empty) and sum_j phi_j = v(all) - v(empty), with the Shapley kernel pi(z) = (M - 1) / (C(M, |z|) |z| (M - |z|)). When 2^M - 2 <= n_samples every proper coalition is used once with weight pi(z) and the result is the exact Shapley value; otherwise n_samples coalitions are drawn from the stream (seed, id, 0): a size k in 1..M-1 with probability proportional to (M - 1) / (k (M - k)), then k features uniformly, weight 1 (the kernel absorbed into the sampling). The constrained problem is solved exactly (minimum-norm least squares, Eigen). Dense: features are the flattened elements, replaced by baseline_value. Text: features are the words (word_ids >= 0; a word's subword tokens are replaced together by the `token` id and share its value equally); attributions are [B, T].",
  "citation": "Lundberg & Lee (2017). A Unified Approach to Interpreting Model Predictions. NeurIPS. arXiv:1705.07874. Covert & Lee (2021). Improving KernelSHAP: Practical Shapley Value Estimation via Linear Regression. AISTATS. arXiv:2012.01536",
  "params": {
    "n_samples": {"type": "integer", "default": 200, "minimum": 1, "description": "Coalitions per example besides the two anchors (fewer when all 2^M - 2 proper coalitions fit)."},
    "baseline_value": {"type": "number", "default": 0.0, "description": "Dense: value of an absent feature."},
    "token": {"type": "string", "default": "mask", "enum": ["mask", "pad", "unk"], "description": "Text: special token whose id replaces an absent token."}
  },
  "cost": {"forward_rows": "2 + min(n_samples, 2^n_features - 2)", "backward_rows": "0"},
  "extras": []
})json";

// Proper coalitions of an example with m >= 2 features and their regression weights.
struct Design {
  at::Tensor z;       // bool [n, m]
  at::Tensor weight;  // double [n]
  bool enumerated = false;
};

Design design(int64_t m, int64_t n_samples, at::Generator& gen) {
  Design d;
  if (m < 62 && (int64_t{1} << m) - 2 <= n_samples) {
    const at::Tensor k = at::arange(1, (int64_t{1} << m) - 1, at::kLong).unsqueeze(1);
    d.z = k.bitwise_and(at::pow(2, at::arange(m, at::kLong)).unsqueeze(0)).ne(0);
    const at::Tensor s = d.z.sum(1).to(at::kDouble);
    // pi = (m - 1) / (C(m, s) s (m - s)), C(m, s) via lgamma.
    const at::Tensor log_c = std::lgamma(m + 1.0) - at::lgamma(s + 1.0) - at::lgamma(m - s + 1.0);
    d.weight = (m - 1.0) / (at::exp(log_c) * s * (m - s));
    d.enumerated = true;
    return d;
  }
  const at::Tensor k = at::arange(1, m, at::kDouble);
  const at::Tensor size_p = (m - 1.0) / (k * (m - k));
  const at::Tensor sizes = at::multinomial(size_p, n_samples, /*replacement=*/true, gen) + 1;
  const at::Tensor keys = at::rand({n_samples, m}, gen, at::kDouble);
  const at::Tensor rank = keys.argsort(int64_t{1}, false)
                              .argsort(int64_t{1}, false);  // a uniform random order per sample
  d.z = rank.lt(sizes.unsqueeze(1));
  d.weight = at::ones({n_samples}, at::kDouble);
  return d;
}

class KernelShap : public attrib::AttributionMethod {
 public:
  explicit KernelShap(const nlohmann::json& params)
      : n_samples_(params.at("n_samples").get<int64_t>()),
        value_(params.at("baseline_value").get<double>()),
        token_(params.at("token").get<std::string>()) {}

  attrib::Explanation explain(attrib::ModelAdapter& model, const attrib::Batch& batch,
                              const at::Tensor& targets,
                              const attrib::ExplainContext& ctx) override {
    attrib_plugins::Coalitions c(model, batch, targets, "kernel_shap", value_, token_, {});
    const int64_t b = c.batch_size();
    std::vector<at::Tensor> z(b), weight(b);
    bool any_enumerated = false, any_sampled = false;
    for (int64_t i = 0; i < b; ++i) {
      const int64_t m = c.n_features(i);
      // Rows: all absent, all present, then the proper coalitions.
      z[i] =
          at::cat({attrib_plugins::all_features(m, false), attrib_plugins::all_features(m, true)});
      if (m < 2) continue;
      at::Generator gen = attrib::example_generator(ctx.seed, batch.ids[i], 0);
      const Design d = design(m, n_samples_, gen);
      (d.enumerated ? any_enumerated : any_sampled) = true;
      z[i] = at::cat({z[i], d.z});
      weight[i] = d.weight;
    }
    const std::vector<at::Tensor> v =
        c.values(z, attrib_plugins::Layout::kExampleMajor, ctx.max_rows);
    std::vector<at::Tensor> phi(b);
    for (int64_t i = 0; i < b; ++i) {
      const int64_t m = c.n_features(i);
      if (m == 0) {
        phi[i] = at::zeros({0}, at::kDouble);
        continue;
      }
      const double v0 = v[i][0].item<double>(), delta = v[i][1].item<double>() - v0;
      if (m == 1) {
        phi[i] = at::full({1}, delta, at::kDouble);
        continue;
      }
      // Eliminate phi_{m-1} = delta - sum_{j < m-1} phi_j:
      // v(z) - v0 - z_{m-1} delta = sum_{j < m-1} (z_j - z_{m-1}) phi_j.
      const at::Tensor zd = z[i].slice(0, 2).to(at::kDouble);
      const at::Tensor last = zd.slice(1, m - 1);  // [n, 1]
      const Eigen::VectorXd sol = attrib_plugins::weighted_least_squares(
          zd.slice(1, 0, m - 1) - last, v[i].slice(0, 2) - v0 - last.squeeze(1) * delta, weight[i]);
      std::vector<double> out(sol.data(), sol.data() + m - 1);
      out.push_back(delta - sol.sum());
      phi[i] = at::tensor(out, at::kDouble);
    }

    attrib::Explanation e = c.explanation(phi);
    e.info["n_samples"] = n_samples_;
    e.info["coalitions"] = any_enumerated && any_sampled ? "enumerated or sampled per example"
                           : any_enumerated              ? "all 2^M - 2 proper coalitions"
                                                         : "sampled (kernel absorbed), weight 1";
    e.info["constraints"] = "exact: phi_0 = f(baseline), sum phi = f(x) - f(baseline)";
    e.info["solver"] = "Eigen complete orthogonal decomposition (minimum-norm least squares)";
    e.info["stream"] = "coalitions from example_generator(seed, id, 0)";
    return e;
  }

 private:
  int64_t n_samples_;
  double value_;
  std::string token_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(KernelShap, "kernel_shap", "1.0.0", ATTRIB_CAP_FORWARD, kMetadata)
