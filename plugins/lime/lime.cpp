// LIME (METHODS.md §2.7): a weighted ridge surrogate g(z) = b + sum_j phi_j z_j fitted to v(z) on
// Bernoulli(0.5) coalitions near the example; the attributions are its coefficients. Coalitions
// come from each example's own stream and are stacked example-major.
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
  "description": "LIME: phi are the coefficients of the ridge surrogate minimising sum_s pi(z_s) (v(z_s) - b - sum_j phi_j z_sj)^2 + alpha |phi|^2 (the intercept b is not penalised). Sample 0 is the unperturbed example (all features present), the others are Bernoulli(0.5) per feature from the stream (seed, id, 0). pi(z) = exp(-d^2 / (2 kernel_width^2)) with d = 1 - cos(z, 1), the cosine distance in the interpretable (binary) space; kernel_width 0.25 reproduces the original LIME text explainer (distance * 100, width 25, square-root kernel). Reports the surrogate's weighted R^2 as extra r2. Not complete. Dense: features are the flattened elements, replaced by baseline_value. Text: features are the words (word_ids >= 0; a word's subword tokens are replaced together by the `token` id and share its value equally); attributions are [B, T].",
  "citation": "Ribeiro, Singh & Guestrin (2016). \"Why Should I Trust You?\": Explaining the Predictions of Any Classifier. KDD. arXiv:1602.04938",
  "params": {
    "n_samples": {"type": "integer", "default": 200, "minimum": 1, "description": "Samples per example, the unperturbed one included."},
    "kernel_width": {"type": "number", "default": 0.25, "minimum": 0, "description": "Width w of the exponential kernel on the cosine distance."},
    "alpha": {"type": "number", "default": 1.0, "minimum": 0, "description": "Ridge penalty on the coefficients (0: weighted least squares, minimum-norm when rank-deficient)."},
    "baseline_value": {"type": "number", "default": 0.0, "description": "Dense: value of an absent feature."},
    "token": {"type": "string", "default": "mask", "enum": ["mask", "pad", "unk"], "description": "Text: special token whose id replaces an absent token."}
  },
  "cost": {"forward_rows": "n_samples", "backward_rows": "0"},
  "extras": ["r2"]
})json";

class Lime : public attrib::AttributionMethod {
 public:
  explicit Lime(const nlohmann::json& params)
      : n_samples_(params.at("n_samples").get<int64_t>()),
        width_(params.at("kernel_width").get<double>()),
        alpha_(params.at("alpha").get<double>()),
        value_(params.at("baseline_value").get<double>()),
        token_(params.at("token").get<std::string>()) {
    ATTRIB_CHECK(width_ > 0, "lime: expected kernel_width > 0, got ", width_);
  }

  attrib::Explanation explain(attrib::ModelAdapter& model, const attrib::Batch& batch,
                              const at::Tensor& targets,
                              const attrib::ExplainContext& ctx) override {
    attrib_plugins::Coalitions c(model, batch, targets, "lime", value_, token_, {});
    const int64_t b = c.batch_size();
    std::vector<at::Tensor> z(b);
    for (int64_t i = 0; i < b; ++i) {
      const int64_t m = c.n_features(i);
      if (m == 0) {
        z[i] = at::zeros({0, 0}, at::kBool);
        continue;
      }
      at::Generator gen = attrib::example_generator(ctx.seed, batch.ids[i], 0);
      z[i] = at::cat({attrib_plugins::all_features(m, true),
                      at::rand({n_samples_ - 1, m}, gen, at::kDouble).lt(0.5)});
    }
    const std::vector<at::Tensor> v =
        c.values(z, attrib_plugins::Layout::kExampleMajor, ctx.max_rows);
    std::vector<at::Tensor> phi(b);
    at::Tensor r2 = at::full({b}, std::nan(""), at::kDouble);
    for (int64_t i = 0; i < b; ++i) {
      const int64_t m = c.n_features(i);
      if (m == 0) {
        phi[i] = at::zeros({0}, at::kDouble);
        continue;
      }
      const at::Tensor zd = z[i].to(at::kDouble).contiguous();
      const at::Tensor present = zd.sum(1);
      const at::Tensor distance = 1.0 - (present / static_cast<double>(m)).sqrt();  // 1 - cos
      const at::Tensor w = (-(distance * distance) / (2.0 * width_ * width_)).exp().contiguous();
      const at::Tensor y = v[i].contiguous();
      const int64_t n = zd.size(0);
      // Columns [1, z]: the intercept b, then phi (ridge-penalised).
      const Eigen::VectorXd beta = attrib_plugins::weighted_least_squares(
          at::cat({at::ones({n, 1}, at::kDouble), zd}, 1), y, w, alpha_);
      const double* zp = zd.data_ptr<double>();
      const double* wp = w.data_ptr<double>();
      const double* yp = y.data_ptr<double>();
      phi[i] = at::tensor(std::vector<double>(beta.data() + 1, beta.data() + m + 1), at::kDouble);
      // Weighted R^2 of the surrogate on its samples.
      double sum_w = 0, mean = 0, ss_res = 0, ss_tot = 0;
      for (int64_t r = 0; r < n; ++r) {
        sum_w += wp[r];
        mean += wp[r] * yp[r];
      }
      mean /= sum_w;
      for (int64_t r = 0; r < n; ++r) {
        double fit = beta(0);
        for (int64_t j = 0; j < m; ++j) fit += beta(j + 1) * zp[r * m + j];
        ss_res += wp[r] * (yp[r] - fit) * (yp[r] - fit);
        ss_tot += wp[r] * (yp[r] - mean) * (yp[r] - mean);
      }
      r2[i] = 1.0 - ss_res / ss_tot;
    }

    attrib::Explanation e = c.explanation(phi);
    e.extras["r2"] = r2.to(e.attributions.device());
    e.info["n_samples"] = n_samples_;
    e.info["kernel_width"] = width_;
    e.info["kernel"] = "exp(-d^2 / (2 w^2)), d = 1 - cos(z, 1) in the binary space";
    e.info["surrogate"] = "ridge with unpenalised intercept";
    e.info["alpha"] = alpha_;
    e.info["sampling"] = "sample 0 unperturbed, then Bernoulli(0.5) per feature";
    e.info["stream"] = "coalitions from example_generator(seed, id, 0)";
    return e;
  }

 private:
  int64_t n_samples_;
  double width_, alpha_;
  double value_;
  std::string token_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(Lime, "lime", "1.0.0", ATTRIB_CAP_FORWARD, kMetadata)
