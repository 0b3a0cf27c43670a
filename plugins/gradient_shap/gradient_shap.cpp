// GradientSHAP / expected gradients (METHODS.md §1.5): the average over S samples of
// (x - b_s) ⊙ ∇f_y(b_s + α_s (x - b_s) + ε_s). α_s, the baseline draws and the noise come from
// each example's own streams (drawn on the CPU), so results do not depend on the batch.
#include <torch/script.h>

#include <string>
#include <vector>

#include "../common/grouped.h"
#include "../common/samples.h"
#include "attrib/error.h"
#include "attrib/input_space.h"
#include "attrib/plugin.h"

namespace {

constexpr const char* kMetadata = R"json({
  "description": "GradientSHAP: phi = (1/S) sum_s (x - b_s) * grad f_y(b_s + alpha_s (x - b_s) + eps_s), alpha_s ~ U(0, 1), eps_s ~ N(0, stdevs^2), b_s from the baseline distribution. Completeness holds in expectation only. Text is attributed in embedding space ([B, T, d]); noise goes to the real tokens' embeddings.",
  "citation": "Lundberg & Lee (2017). A Unified Approach to Interpreting Model Predictions. NeurIPS. arXiv:1705.07874. Erion, Janizek, Sturmfels, Lundberg & Lee (2021). Improving performance of deep learning models with axiomatic attribution priors and expected gradients. Nature Machine Intelligence. arXiv:1906.10670",
  "params": {
    "n_samples": {"type": "integer", "default": 20, "minimum": 1, "description": "Number of samples S."},
    "stdevs": {"type": "number", "default": 0.0, "minimum": 0, "description": "Standard deviation of the Gaussian noise added to each sampled point (absolute units)."},
    "baseline": {"type": "string", "default": "zero", "enum": ["zero", "uniform", "gaussian", "pad", "mask", "unk"], "description": "Baseline distribution: zero vector; uniform U(0, 1) or gaussian N(0, 1) i.i.d. per element and sample (dense only); or for text that special token's embedding at every word position (special tokens and padding keep their own)."}
  },
  "cost": {"forward_rows": "n_samples", "backward_rows": "n_samples"},
  "extras": []
})json";

// Streams of example_generator(seed, id, k).
constexpr uint64_t kAlphaStream = 1, kBaselineStream = 2, kNoiseStream = 3;

class GradientShap : public attrib_plugins::GroupedMethod {
 public:
  explicit GradientShap(const nlohmann::json& params)
      : n_samples_(params.at("n_samples").get<int64_t>()),
        stdevs_(params.at("stdevs").get<double>()),
        baseline_(params.at("baseline").get<std::string>()) {}

 private:
  attrib::Explanation explain_group(attrib::ModelAdapter& model, const attrib::Batch& batch,
                                    const at::Tensor& targets,
                                    const attrib::ExplainContext& ctx) override {
    attrib::InputSpace space(model, batch);
    const bool random_baseline = baseline_ == "uniform" || baseline_ == "gaussian";
    ATTRIB_CHECK(!random_baseline || !space.is_embedding(), "gradient_shap baseline \"", baseline_,
                 "\": expected a dense batch, got a text batch (use zero, pad, mask or unk)");
    const at::Tensor& x = space.x();
    const int64_t b = space.batch_size(), s = n_samples_;
    std::vector<int64_t> shape = x.sizes().vec();  // [S, B, ...]
    shape.insert(shape.begin(), s);

    // Draws per example on the CPU, in float64: alpha [S, B], baselines and noise [S, B, ...].
    using attrib_plugins::draw_per_example;
    using Shape = std::vector<int64_t>;
    const at::Tensor xc = x.detach().cpu().to(at::kDouble);
    const at::Tensor alpha =
        draw_per_example(batch.ids, at::zeros({b}, at::kDouble), s, ctx.seed, kAlphaStream, {},
                         [](at::Generator& g, const at::Tensor&, const Shape& one) {
                           return at::rand(one, g, at::kDouble);
                         });
    const at::Tensor base =
        random_baseline
            ? draw_per_example(batch.ids, xc, s, ctx.seed, kBaselineStream, {},
                               [&](at::Generator& g, const at::Tensor&, const Shape& one) {
                                 return baseline_ == "uniform" ? at::rand(one, g, at::kDouble)
                                                               : at::randn(one, g, at::kDouble);
                               })
            : space.baseline(baseline_).cpu().to(at::kDouble).unsqueeze(0).expand(shape);
    const at::Tensor noise =
        stdevs_ > 0 ? draw_per_example(batch.ids, xc, s, ctx.seed, kNoiseStream,
                                       attrib_plugins::real_tokens(batch),
                                       [&](at::Generator& g, const at::Tensor&, const Shape& one) {
                                         return at::randn(one, g, at::kDouble) * stdevs_;
                                       })
                    : at::zeros(shape, at::kDouble);
    std::vector<int64_t> alpha_shape(x.dim() + 1, 1);
    alpha_shape[0] = s;
    alpha_shape[1] = b;
    const at::Tensor diff = xc.unsqueeze(0) - base;  // [S, B, ...]
    const at::Tensor points = (base + alpha.view(alpha_shape) * diff + noise).to(x.scalar_type());

    at::Tensor acc = at::zeros(x.sizes(), xc.options());
    attrib_plugins::gradient_blocks(
        space, targets, s, ctx.max_rows,
        [&](int64_t s0, int64_t r) { return points.slice(0, s0, s0 + r).to(x.device()); },
        [&](int64_t s0, const at::Tensor& rows, const at::Tensor& g) {
          acc += (g.cpu().to(at::kDouble) * diff.slice(0, s0, s0 + rows.size(0))).sum(0);
        });

    attrib::Explanation e;
    e.attributions = (acc / static_cast<double>(s)).to(x.device());
    e.forward_rows = e.backward_rows = s * b;
    e.info = {{"n_samples", n_samples_},
              {"stdevs", stdevs_},
              {"baseline", baseline_},
              {"streams", "alpha: (seed, id, 1); baselines: (seed, id, 2); noise: (seed, id, 3)"},
              {"multiply_by_inputs", true},
              {"space", space.is_embedding() ? "embeddings" : "input"},
              {"output", "logit"},
              {"accumulation", "float64"}};
    return e;
  }

  int64_t n_samples_;
  double stdevs_;
  std::string baseline_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(GradientShap, "gradient_shap", "1.0.0", ATTRIB_CAP_INPUT_GRADIENT, kMetadata)
