// Infidelity (Yeh et al. 2019, METRICS.md §1.7): the expected squared difference between the
// attribution's prediction of an output change, I^T a, and the change itself,
// f_y(x) - f_y(x - I), over random perturbations I.
#include <ATen/ATen.h>

#include <cmath>

#include "attrib/error.h"
#include "attrib/random.h"
#include "common/perturb.h"
#include "faithfulness/faithfulness.h"

namespace attrib {
namespace {

using nlohmann::json;

const char* kInfidelitySchema = R"JSON({
  "output": {"type": "string", "default": "logit", "enum": ["probability", "logit", "log_probability"],
             "description": "output space of f_y (Captum: the model's raw output; Quantus: softmax=False)"},
  "perturbation": {"type": "string", "default": "subset", "enum": ["subset", "gaussian"],
                   "description": "subset: a random subset of |S| features replaced by the substrate, I = x - x~ (Yeh et al.'s removal, any modality); gaussian (dense): I ~ N(0, noise_std^2) on every element, x~ = x - I"},
  "n_samples": {"type": "integer", "default": 10, "minimum": 1, "maximum": 100000,
                "description": "perturbations per example (Captum/Quantus n_perturb_samples)"},
  "noise_std": {"type": "number", "default": 0.1, "minimum": 0, "maximum": 1000000,
                "description": "standard deviation of the gaussian perturbation, in input units"},
  "multiply_by_inputs": {"type": "boolean", "default": true,
                         "description": "divide I elementwise by (x - b), b the substrate value (1 where x = b), as Captum's infidelity_perturb_func_decorator: right for maps of the form g * (x - b) (input x gradient, IG, occlusion); false compares I^T a with raw I (gradient maps). Text is always true: I is the indicator of the removed tokens"},
  "normalize": {"type": "boolean", "default": false,
                "description": "scale-normalised form: beta = E[I^T a * D] / E[(I^T a)^2] (0 when the denominator is 0), score E[(beta I^T a - D)^2] (Captum normalize)"}
})JSON";

class Infidelity : public Metric {
 public:
  explicit Infidelity(json params) : p_(std::move(params)) {}

  json info() const override {
    json i = p_;
    i["definition"] = "mean over n_samples of (I^T a - (f_y(x) - f_y(x - I)))^2";
    i["attribution"] = "signed";
    i["normalisation"] =
        p_["normalize"].get<bool>()
            ? "beta* scaling of I^T a, per example (no normalisation of a itself)"
            : "none: the score depends on the scale of a (never normalised per batch)";
    i["perturbation_draws"] =
        p_["perturbation"] == "subset"
            ? "independent subsets of |S| features, uniform without replacement, per-example stream"
            : "independent N(0, noise_std^2) per element, per-example stream";
    if (!resolved_substrate_.empty()) i["substrate"] = resolved_substrate_;
    if (text_seen_)
      i["text_perturbation"] = "I = indicator of the removed tokens: I^T a = sum of their scores";
    if (seed_set_) i["seed"] = seed_;
    i["no_features"] = "NaN";
    return i;
  }

  std::vector<double> score(const MetricInput& in) override {
    const Batch& b = in.batch;
    const bool text = b.modality == Modality::kText;
    const std::string substrate = perturb::resolve_substrate(p_["substrate"], text, kName);
    const bool gaussian = p_["perturbation"] == "gaussian";
    const bool by_inputs = p_["multiply_by_inputs"];
    ATTRIB_CHECK(!(text && gaussian), "metric ", kName,
                 ": perturbation 'gaussian' does not apply to text inputs (expected 'subset')");
    ATTRIB_CHECK(!(text && !by_inputs), "metric ", kName,
                 ": text inputs need multiply_by_inputs = true (a removed token has no numeric "
                 "difference x - b), got false");
    resolved_substrate_ = substrate;
    text_seen_ = text_seen_ || text;
    seed_ = in.seed;
    seed_set_ = true;
    const int64_t B = b.size(), N = p_["n_samples"];
    const double sigma = p_["noise_std"];
    const at::Tensor scores = in.scores.to(at::kCPU, at::kDouble).contiguous();
    const at::Tensor inputs = b.inputs.to(at::kCPU);
    const perturb::Base base = perturb::base(in, p_["target"], p_["output"], kName);
    perturb::RowEvaluator eval(in, base.cls, p_["output"]);

    std::vector<std::vector<double>> predicted(B);  // I^T a per sample
    std::vector<size_t> first(B, 0);
    std::vector<std::string> keys(B);
    std::vector<const std::vector<double>*> known(B, nullptr);
    for (int64_t i = 0; i < B; ++i) {
      const std::vector<int64_t> feats = perturb::features(b, scores.size(1), i);
      const int64_t n = static_cast<int64_t>(feats.size());
      if (n == 0) continue;
      // The perturbations and their outputs do not depend on the attribution: forwarded once per
      // example for all the methods this instance scores.
      keys[i] = perturb::OutputCache::key(in, i, base.cls[i].item<int64_t>());
      known[i] = cache_.find(keys[i]);
      if (known[i]) perturb::note_saved(in, static_cast<int64_t>(known[i]->size()));
      const int64_t k = perturb::subset_size(p_, n);
      const at::Tensor a = scores[i];
      const double* ap = a.data_ptr<double>();
      at::Generator g = example_generator(in.seed, b.ids[i], perturb::kInfidelityStream);
      // Dense: x and the elementwise divisor (x - b), 1 where x = b (Captum's safe_div).
      at::Tensor x, divisor;
      if (!text) {
        x = inputs[i].to(at::kFloat).to(at::kDouble).reshape({-1});
        ATTRIB_CHECK(x.numel() == n, "metric ", kName, ": example '", b.ids[i], "' has ", x.numel(),
                     " input elements but ", n, " attribution scores");
        divisor = at::ones_like(x);
        if (by_inputs) {
          const at::Tensor d = x - perturb::dense_fill(inputs, i, substrate);
          divisor = at::where(d != 0, d, divisor);
        }
      }
      for (int64_t r = 0; r < N; ++r) {
        std::pair<at::Tensor, at::Tensor> row;
        double ia = 0;
        if (gaussian) {
          const at::Tensor eps = at::randn({n}, g, at::kDouble) * sigma;
          row = {perturb::dense_with(inputs, i, feats, -eps, /*add=*/true), at::Tensor()};
        } else {
          const std::vector<int64_t> subset = perturb::random_subset(feats, k, g);
          row = perturb::replace(b, inputs, i, subset, substrate, in.model.info(), kName);
          if (text)
            for (int64_t f : subset) ia += ap[f];
        }
        if (!text) {
          // I = x - x~ as the model sees it (float rows), so I^T a matches the forward exactly.
          const at::Tensor I = (x - row.first.to(at::kDouble).reshape({-1})) / divisor;
          ia = (I * a).sum().item<double>();
        }
        predicted[i].push_back(ia);
        if (known[i]) continue;
        const size_t idx = eval.add(row, i);
        if (r == 0) first[i] = idx;
      }
    }
    const std::vector<double>& values = eval.values();

    const bool normalize = p_["normalize"];
    std::vector<double> out(B, std::nan(""));
    for (int64_t i = 0; i < B; ++i) {
      if (predicted[i].empty()) continue;
      const std::vector<double>& outputs = cache_.take(keys[i], values, first[i], N);
      std::vector<double> drop(N);
      double num = 0, den = 0;
      for (int64_t r = 0; r < N; ++r) {
        drop[r] = base.score[i] - outputs[r];
        num += predicted[i][r] * drop[r];
        den += predicted[i][r] * predicted[i][r];
      }
      const double beta = normalize ? (den != 0 ? num / den : 0.0) : 1.0;
      double s = 0;
      for (int64_t r = 0; r < N; ++r) {
        const double e = beta * predicted[i][r] - drop[r];
        s += e * e;
      }
      out[i] = s / static_cast<double>(N);
    }
    return out;
  }

 private:
  static constexpr const char* kName = "infidelity";
  json p_;
  perturb::OutputCache cache_;
  std::string resolved_substrate_;
  bool text_seen_ = false;
  uint64_t seed_ = 0;
  bool seed_set_ = false;
};

}  // namespace

std::vector<MetricSpec> infidelity_metrics() {
  MetricSpec s;
  s.name = "infidelity";
  s.family = "faithfulness";
  s.description =
      "Infidelity: mean squared error between I^T a and the output change f_y(x) - f_y(x - I) "
      "over random perturbations I (lower is better)";
  s.citation =
      "Yeh, Hsieh, Suggala, Inouye & Ravikumar 2019, On the (In)fidelity and Sensitivity of "
      "Explanations";
  s.direction = -1;
  s.needs = {"model"};
  s.params = perturb::params_schema(kInfidelitySchema, /*ranking=*/false);
  s.params.update(perturb::subset_schema());
  s.create = [](const json& p) { return std::make_unique<Infidelity>(p); };
  return {s};
}

}  // namespace attrib
