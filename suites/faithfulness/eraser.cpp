// ERASER comprehensiveness and sufficiency with AOPC over bins (DeYoung et al. 2020):
// METRICS.md §1.3.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "attrib/error.h"
#include "attrib/params.h"
#include "common/perturb.h"
#include "faithfulness/faithfulness.h"

namespace attrib {
namespace {

using nlohmann::json;

// Parameters beyond the shared perturbation ones (perturb.h).
const char* kEraserSchema = R"JSON({
  "bins": {"type": "array", "default": [0.01, 0.05, 0.1, 0.2, 0.5],
           "description": "fractions of the n features forming the rationales r_k (top k of the ranking); the score is the mean over bins (AOPC)"},
  "rounding": {"type": "string", "default": "ceil", "enum": ["ceil", "floor", "round"],
               "description": "k = rounding(fraction * n), clamped to n; ceil keeps every bin non-empty so the mean runs over exactly |B| bins (ERASER); a bin with k = 0 (floor/round) is skipped, as in ferret"},
  "zero_bins": {"type": "string", "default": "skip", "enum": ["skip", "keep"],
                "description": "a bin whose k is 0 (floor/round on short inputs): skip it (ferret), or keep it in the mean over |B| bins (ERASER's metrics.py averages every bin; an empty rationale removes nothing, so comprehensiveness adds exactly 0 and sufficiency keeps no feature)"},
  "skip_duplicates": {"type": "boolean", "default": false,
                      "description": "skip a bin whose k equals the previous bin's (ferret); false averages over every bin (ERASER)"}
})JSON";

class EraserMetric : public Metric {
 public:
  EraserMetric(bool sufficiency, json params) : suff_(sufficiency), p_(std::move(params)) {
    for (const auto& f : p_["bins"]) {
      ATTRIB_CHECK(f.is_number() && f.get<double>() > 0 && f.get<double>() <= 1, "metric ", name(),
                   ": every bin must be a fraction in (0, 1], got ", f.dump());
    }
    ATTRIB_CHECK(!p_["bins"].empty(), "metric ", name(), ": bins must not be empty");
  }

  json info() const override {
    json i = p_;
    i["definition"] = suff_ ? "mean over bins of f(x) - f(x keeping only the top-k features)"
                            : "mean over bins of f(x) - f(x with the top-k features removed)";
    i["k"] = "k = " + p_["rounding"].get<std::string>() +
             "(fraction * n), clamped to n; bins with " + "k = 0 are " +
             (p_["zero_bins"] == "keep" ? "kept" : "skipped");
    i["order"] = "most relevant first";
    i["kept_order"] = "kept features stay in their original order";
    i["empty_rationale_term"] = "none";
    i["no_features"] = "NaN";
    if (!resolved_substrate_.empty()) i["substrate"] = resolved_substrate_;
    return i;
  }

  std::vector<double> score(const MetricInput& in) override {
    const Batch& b = in.batch;
    const bool text = b.modality == Modality::kText;
    const std::string substrate = perturb::resolve_substrate(p_["substrate"], text, name());
    resolved_substrate_ = substrate;
    const int64_t B = b.size();
    const at::Tensor scores = in.scores.to(at::kCPU, at::kDouble).contiguous();
    const at::Tensor inputs = b.inputs.to(at::kCPU);
    const std::string rounding = p_["rounding"];

    std::vector<at::Tensor> rows, masks;
    std::vector<int64_t> owner;
    std::vector<size_t> n_bins(B, 0), n_zero(B, 0);
    const bool keep_zero = p_["zero_bins"] == "keep";
    for (int64_t i = 0; i < B; ++i) {
      const std::vector<int64_t> feats = perturb::features(b, scores.size(1), i);
      const std::vector<int64_t> order =
          perturb::rank(feats, scores[i], b.ids[i], in.seed, p_["rank_by"] == "abs",
                        p_["tie_break"].get<std::string>());
      const int64_t n = static_cast<int64_t>(order.size());
      int64_t prev = -1;
      for (const auto& f : p_["bins"]) {
        const int64_t k = bin_size(f.get<double>(), n, rounding);
        if (k == 0 && !keep_zero) continue;
        if (k == 0 && !suff_) {
          ++n_zero[i];  // nothing removed: f(x) - f(x) = 0 exactly, no forward
          continue;
        }
        if (p_["skip_duplicates"].get<bool>() && k == prev) continue;
        prev = k;
        // Comprehensiveness removes r_k; sufficiency keeps only r_k (removes the rest).
        std::vector<int64_t> changed = suff_
                                           ? std::vector<int64_t>(order.begin() + k, order.end())
                                           : std::vector<int64_t>(order.begin(), order.begin() + k);
        auto [x, mask] =
            perturb::replace(b, inputs, i, changed, substrate, in.model.info(), name());
        rows.push_back(x);
        if (mask.defined()) masks.push_back(mask);
        owner.push_back(i);
        ++n_bins[i];
      }
    }

    at::NoGradGuard no_grad;
    const at::Tensor base_logits = perturb::base_logits(in);
    const at::Tensor cls = perturb::target_classes(in, base_logits, p_["target"], name());
    const at::Tensor base = output_score(base_logits, cls, p_["output"]).contiguous();
    const double* bp = base.data_ptr<double>();
    const std::vector<double> values = perturb::evaluate(in, rows, masks, owner, cls, p_["output"]);

    std::vector<double> out(B, std::nan(""));
    size_t pos = 0;
    for (int64_t i = 0; i < B; ++i) {
      if (n_bins[i] + n_zero[i] == 0) continue;
      double s = 0;
      for (size_t j = 0; j < n_bins[i]; ++j) s += bp[i] - values[pos + j];
      out[i] = s / static_cast<double>(n_bins[i] + n_zero[i]);
      pos += n_bins[i];
    }
    return out;
  }

  static int64_t bin_size(double fraction, int64_t n, const std::string& rounding) {
    const double v = fraction * static_cast<double>(n);
    // A tolerance keeps exact products (0.1 * 30) from rounding up through float error.
    const double eps = 1e-9;
    double k = rounding == "ceil"    ? std::ceil(v - eps)
               : rounding == "floor" ? std::floor(v + eps)
                                     : std::round(v);
    return std::min<int64_t>(n, std::max<int64_t>(0, static_cast<int64_t>(k)));
  }

 private:
  std::string name() const { return suff_ ? "sufficiency" : "comprehensiveness"; }

  bool suff_;
  json p_;
  std::string resolved_substrate_;
};

MetricSpec eraser_spec(bool sufficiency) {
  MetricSpec s;
  s.name = sufficiency ? "sufficiency" : "comprehensiveness";
  s.family = "faithfulness";
  s.description = sufficiency
                      ? "ERASER sufficiency (AOPC over bins): drop of the tracked output when only "
                        "the top-k features are kept (lower is better)"
                      : "ERASER comprehensiveness (AOPC over bins): drop of the tracked output "
                        "when the top-k features are removed (higher is better)";
  s.citation = "DeYoung et al. 2020, ERASER: A Benchmark to Evaluate Rationalized NLP Models";
  s.direction = sufficiency ? -1 : +1;
  s.needs = {"model"};
  s.params = perturb::params_schema(kEraserSchema);
  // ERASER's metrics.py takes the model's probabilities for its predicted class at every bin of
  // (0.01, 0.05, 0.1, 0.2, 0.5) and averages the flat instance x bin matrix; its only code that
  // selects top-k% tokens (models/encode_attend.py) takes int(fraction * n) tokens.
  s.profiles = {{"eraser",
                 "ERASER rationale_benchmark/metrics.py _instances_aopc (jayded/eraserbenchmark "
                 "@36467f1); k = int(fraction * n) as models/encode_attend.py",
                 {{"bins", {0.01, 0.05, 0.1, 0.2, 0.5}},
                  {"rounding", "floor"},
                  {"zero_bins", "keep"},
                  {"skip_duplicates", false},
                  {"target", "predicted"},
                  {"output", "probability"}}}};
  s.create = [sufficiency](const json& p) {
    return std::make_unique<EraserMetric>(sufficiency, p);
  };
  return s;
}

}  // namespace

std::vector<MetricSpec> eraser_metrics() { return {eraser_spec(false), eraser_spec(true)}; }

}  // namespace attrib
