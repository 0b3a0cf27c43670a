// SmoothGrad, SmoothGrad² and VarGrad (METHODS.md §1.4): a gradient base method averaged over
// noisy copies x + ε_s, ε_s ~ N(0, σ²). Noise is drawn on the CPU from each example's own stream,
// so a result never depends on the batch or the chunking; samples run in blocks of B rows.
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
  "description": "SmoothGrad family over a gradient base method E (gradient, or input times gradient of the noisy input): smoothgrad = mean_s E(x + eps_s), smoothgrad_sq = mean_s E(x + eps_s)^2, vargrad = smoothgrad_sq - smoothgrad^2 (population variance), eps_s ~ N(0, sigma^2) i.i.d. No noise-free sample is included. Text: noise is added to the embeddings of the real tokens (attention_mask = 1), attributions are [B, T, d].",
  "citation": "Smilkov, Thorat, Kim, Viégas & Wattenberg (2017). SmoothGrad: removing noise by adding noise. arXiv:1706.03825. Adebayo, Gilmer, Goodfellow & Kim (2018). Local Explanation Methods for Deep Neural Networks Lack Sensitivity to Parameter Values. ICLR Workshop. arXiv:1810.03307",
  "params": {
    "mode": {"type": "string", "default": "smoothgrad", "enum": ["smoothgrad", "smoothgrad_sq", "vargrad"], "description": "Aggregation over the noisy samples."},
    "base": {"type": "string", "default": "gradient", "enum": ["gradient", "input_x_gradient"], "description": "Base method E evaluated at each noisy input (input_x_gradient multiplies by the noisy input, as Captum's NoiseTunnel does)."},
    "abs": {"type": "boolean", "default": false, "description": "Take |E| per sample before aggregating (Captum's Saliency default abs=True averages |g|)."},
    "n_samples": {"type": "integer", "default": 10, "minimum": 1, "description": "Number of noisy samples S."},
    "stdevs": {"type": "number", "default": 0.15, "minimum": 0, "description": "Noise level: sigma itself (noise_scale absolute) or the fraction of the example's value range (relative)."},
    "noise_scale": {"type": "string", "default": "absolute", "enum": ["absolute", "relative"], "description": "absolute: sigma = stdevs in input (text: embedding) units, as Captum; relative: sigma = stdevs * (max - min) of the example's input (text: its real tokens' embeddings), as Zennit and the paper."}
  },
  "cost": {"forward_rows": "n_samples", "backward_rows": "n_samples"},
  "extras": []
})json";

class SmoothGrad : public attrib_plugins::GroupedMethod {
 public:
  explicit SmoothGrad(const nlohmann::json& params)
      : mode_(params.at("mode").get<std::string>()),
        base_(params.at("base").get<std::string>()),
        abs_(params.at("abs").get<bool>()),
        n_samples_(params.at("n_samples").get<int64_t>()),
        stdevs_(params.at("stdevs").get<double>()),
        scale_(params.at("noise_scale").get<std::string>()) {}

 private:
  attrib::Explanation explain_group(attrib::ModelAdapter& model, const attrib::Batch& batch,
                                    const at::Tensor& targets,
                                    const attrib::ExplainContext& ctx) override {
    attrib::InputSpace space(model, batch);
    const at::Tensor& x = space.x();
    const int64_t b = space.batch_size(), s = n_samples_;
    // Noise in float32 from stream (seed, id, 0); a relative sigma uses the example's own range
    // (text: of its real tokens only).
    const at::Tensor noise =
        attrib_plugins::draw_per_example(
            batch.ids, x.detach().cpu().to(at::kFloat), s, ctx.seed, /*stream=*/0,
            attrib_plugins::real_tokens(batch),
            [&](at::Generator& gen, const at::Tensor& xi, const std::vector<int64_t>& shape) {
              double sigma = stdevs_;
              if (scale_ == "relative" && xi.numel() > 0)
                sigma *= (xi.max() - xi.min()).item<double>();
              return at::randn(shape, gen, at::kFloat) * sigma;
            })
            .to(x.device());

    at::Tensor sum = at::zeros(x.sizes(), x.options().dtype(at::kDouble)), sq = at::zeros_like(sum);
    attrib_plugins::gradient_blocks(
        space, targets, s, ctx.max_rows,
        [&](int64_t s0, int64_t r) { return x.unsqueeze(0) + noise.slice(0, s0, s0 + r); },
        [&](int64_t, const at::Tensor& rows, at::Tensor g) {
          if (base_ == "input_x_gradient") g = rows * g;
          if (abs_) g = g.abs();
          const at::Tensor e = g.to(at::kDouble);
          sum += e.sum(0);
          sq += (e * e).sum(0);
        });
    const at::Tensor mean = sum / static_cast<double>(s), mean_sq = sq / static_cast<double>(s);

    attrib::Explanation e;
    e.attributions = mode_ == "smoothgrad"      ? mean
                     : mode_ == "smoothgrad_sq" ? mean_sq
                                                : mean_sq - mean * mean;
    e.forward_rows = e.backward_rows = s * b;
    e.info = {{"mode", mode_},
              {"base", base_},
              {"abs", abs_},
              {"n_samples", n_samples_},
              {"stdevs", stdevs_},
              {"noise_scale", scale_},
              {"noise", "N(0, sigma^2) from example_generator(seed, id, 0), drawn on the CPU"},
              {"noise_free_sample", false},
              {"space", space.is_embedding() ? "embeddings" : "input"},
              {"output", "logit"},
              {"accumulation", "float64"}};
    if (space.is_embedding()) e.info["noise_positions"] = "real tokens (attention_mask = 1)";
    return e;
  }

  std::string mode_, base_;
  bool abs_;
  int64_t n_samples_;
  double stdevs_;
  std::string scale_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(SmoothGrad, "smoothgrad", "1.0.0", ATTRIB_CAP_INPUT_GRADIENT, kMetadata)
