// Prediction gap on important / unimportant features, PGI and PGU (Agarwal et al. 2022, OpenXAI;
// METRICS.md §1.10): the mean absolute change of the tracked output when the top-k features by
// |a| (PGI), or all the others (PGU), are perturbed with noise.
#include <ATen/ATen.h>

#include <cmath>
#include <map>

#include "attrib/error.h"
#include "attrib/random.h"
#include "common/perturb.h"
#include "faithfulness/faithfulness.h"

namespace attrib {
namespace {

using nlohmann::json;

const char* kGapSchema = R"JSON({
  "output": {"type": "string", "default": "probability", "enum": ["probability", "logit", "log_probability"],
             "description": "output space of f_y (OpenXAI: softmax probability)"},
  "substrate": {"type": "string", "default": "auto", "enum": ["auto", "unk", "mask", "pad", "delete"],
                "description": "text: the replacement of a flipped token (auto = unk). Dense features get Gaussian noise and take only auto"},
  "rank_by": {"type": "string", "default": "abs", "enum": ["signed", "abs"],
              "description": "key of top_k: |a| (OpenXAI) or signed a"},
  "k_fraction": {"type": "number", "default": 0.25, "minimum": 0.000001, "maximum": 1,
                 "description": "k = ceil(k_fraction * n), at least 1 (OpenXAI k = 0.25); used when k = 0"},
  "k": {"type": "integer", "default": 0, "minimum": 0, "maximum": 1000000000,
        "description": "absolute number of top features, clamped to n; 0 = use k_fraction"},
  "n_samples": {"type": "integer", "default": 100, "minimum": 1, "maximum": 100000,
                "description": "noise draws per example (OpenXAI n_samples)"},
  "noise_std": {"type": "number", "default": 0.1, "minimum": 0, "maximum": 1000000,
                "description": "dense: eps ~ N(0, noise_std^2) added to each perturbed element (OpenXAI sigma; assumes standardised features)"},
  "p_flip": {"type": "number", "default": -1.0, "minimum": -1, "maximum": 1,
             "description": "text: probability that a perturbed token is replaced by the substrate, per draw; negative = sqrt(2/pi) * noise_std (OpenXAI's flip probability for discrete features)"},
  "distinct_rows": {"type": "boolean", "default": false,
                    "description": "text: forward each distinct perturbed row of an example once (draws that flip the same tokens share its output). Same definition and draws, fewer forwards (most draws repeat one at the default p_flip); the values move in the last bits, as the rows sit in other model calls"}
})JSON";

class PredictionGap : public Metric {
 public:
  PredictionGap(bool unimportant, json params) : pgu_(unimportant), p_(std::move(params)) {}

  json info() const override {
    json i = p_;
    i["definition"] = pgu_ ? "mean over draws of |f_y(x) - f_y(x perturbed outside top_k)|"
                           : "mean over draws of |f_y(x) - f_y(x perturbed on top_k)|";
    i["k_rule"] = "ceil(k_fraction * n), at least 1, at most n (or the fixed k, clamped)";
    i["dense_perturbation"] = "x + eps on the perturbed elements, eps ~ N(0, noise_std^2)";
    i["text_perturbation"] =
        "each perturbed token replaced by the substrate with probability p_flip, independently "
        "per draw; a draw that flips nothing has gap 0 and is not forwarded";
    i["p_flip_resolved"] = p_flip();
    i["auc_over_k"] = "not computed (single k)";
    i["empty_perturbed_set"] = "0 (PGU with k = n: nothing is perturbed)";
    i["no_features"] = "NaN";
    i["normalisation"] = "none (only the ranking of the attribution enters)";
    if (!resolved_substrate_.empty()) i["substrate"] = resolved_substrate_;
    if (seed_set_) i["seed"] = seed_;
    return i;
  }

  std::vector<double> score(const MetricInput& in) override {
    const Batch& b = in.batch;
    const bool text = b.modality == Modality::kText;
    std::string substrate = "gaussian_noise";
    if (text) {
      substrate = perturb::resolve_substrate(p_["substrate"], true, name());
    } else {
      ATTRIB_CHECK(p_["substrate"] == "auto", "metric ", name(),
                   ": dense inputs are perturbed with Gaussian noise; expected substrate 'auto', "
                   "got '",
                   p_["substrate"].get<std::string>(), "'");
    }
    resolved_substrate_ = substrate;
    seed_ = in.seed;
    seed_set_ = true;
    const int64_t B = b.size(), N = p_["n_samples"];
    const double sigma = p_["noise_std"], flip = p_flip();
    const at::Tensor scores = in.scores.to(at::kCPU, at::kDouble).contiguous();
    const at::Tensor inputs = b.inputs.to(at::kCPU);
    const perturb::Base base = perturb::base(in, p_["target"], p_["output"], name());
    perturb::RowEvaluator eval(in, base.cls, p_["output"]);

    // Per example and draw: the row index, or -1 when the draw left x unchanged (gap 0).
    std::vector<std::vector<int64_t>> row_of(B);
    const bool distinct = text && p_["distinct_rows"].get<bool>();
    for (int64_t i = 0; i < B; ++i) {
      const std::vector<int64_t> feats = perturb::features(b, scores.size(1), i);
      const int64_t n = static_cast<int64_t>(feats.size());
      if (n == 0) continue;
      const std::vector<int64_t> order =
          perturb::rank(feats, scores[i], b.ids[i], in.seed, p_["rank_by"] == "abs",
                        p_["tie_break"].get<std::string>());
      const int64_t fixed = p_["k"];
      const int64_t k =
          fixed > 0 ? std::min(fixed, n) : perturb::fraction_count(p_["k_fraction"], n);
      const std::vector<int64_t> perturbed =
          pgu_ ? std::vector<int64_t>(order.begin() + k, order.end())
               : std::vector<int64_t>(order.begin(), order.begin() + k);
      const int64_t m = static_cast<int64_t>(perturbed.size());
      at::Generator g = example_generator(in.seed, b.ids[i], perturb::kGapStream);
      // Text: the N draws of m uniforms in one call. CPU uniform_ fills elements in order from
      // the generator, so this is the same stream as one rand({m}) per draw, without N tensors.
      const at::Tensor u_all =
          text && m > 0 ? at::rand({N * m}, g, at::kDouble).contiguous() : at::Tensor();
      std::map<std::vector<int64_t>, int64_t> forwarded;  // distinct_rows: flipped set -> row
      for (int64_t r = 0; r < N; ++r) {
        if (m == 0) {
          row_of[i].push_back(-1);
          continue;
        }
        if (!text) {
          const at::Tensor eps = at::randn({m}, g, at::kDouble) * sigma;
          row_of[i].push_back(static_cast<int64_t>(
              eval.add({perturb::dense_with(inputs, i, perturbed, eps, true), at::Tensor()}, i)));
          continue;
        }
        const double* up = u_all.data_ptr<double>() + r * m;
        std::vector<int64_t> flipped;
        for (int64_t j = 0; j < m; ++j)
          if (up[j] < flip) flipped.push_back(perturbed[j]);
        if (flipped.empty()) {
          row_of[i].push_back(-1);
          continue;
        }
        if (distinct) {
          if (const auto it = forwarded.find(flipped); it != forwarded.end()) {
            row_of[i].push_back(it->second);
            perturb::note_saved(in, 1);
            continue;
          }
        }
        row_of[i].push_back(static_cast<int64_t>(eval.add(
            perturb::replace(b, inputs, i, flipped, substrate, in.model.info(), name()), i)));
        if (distinct) forwarded.emplace(std::move(flipped), row_of[i].back());
      }
    }
    const std::vector<double>& values = eval.values();

    std::vector<double> out(B, std::nan(""));
    for (int64_t i = 0; i < B; ++i) {
      if (row_of[i].empty()) continue;
      double s = 0;
      for (int64_t idx : row_of[i])
        if (idx >= 0) s += std::fabs(base.score[i] - values[idx]);
      out[i] = s / static_cast<double>(N);
    }
    return out;
  }

 private:
  std::string name() const { return pgu_ ? "pgu" : "pgi"; }
  double p_flip() const {
    const double p = p_["p_flip"];
    return p < 0 ? std::sqrt(2.0 / std::acos(-1.0)) * p_["noise_std"].get<double>() : p;
  }

  bool pgu_;
  json p_;
  std::string resolved_substrate_;
  uint64_t seed_ = 0;
  bool seed_set_ = false;
};

MetricSpec gap_spec(bool unimportant) {
  MetricSpec s;
  s.name = unimportant ? "pgu" : "pgi";
  s.family = "faithfulness";
  s.description = unimportant
                      ? "Prediction gap on unimportant features: mean |change| of the tracked "
                        "output when all but the top-k features by |a| are perturbed (lower is "
                        "better)"
                      : "Prediction gap on important features: mean |change| of the tracked "
                        "output when the top-k features by |a| are perturbed (higher is better)";
  s.citation =
      "Agarwal et al. 2022, OpenXAI: Towards a Transparent Evaluation of Model Explanations "
      "(after Dai et al. 2022)";
  s.direction = unimportant ? -1 : +1;
  s.needs = {"model"};
  s.params = perturb::params_schema(kGapSchema);
  s.create = [unimportant](const json& p) {
    return std::make_unique<PredictionGap>(unimportant, p);
  };
  return s;
}

}  // namespace

std::vector<MetricSpec> prediction_gap_metrics() { return {gap_spec(false), gap_spec(true)}; }

}  // namespace attrib
