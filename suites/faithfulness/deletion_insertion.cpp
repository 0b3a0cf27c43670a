// Deletion and insertion curves (Petsiuk et al. 2018, RISE): METRICS.md §1.1.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "attrib/error.h"
#include "attrib/params.h"
#include "common/perturb.h"
#include "faithfulness/faithfulness.h"

namespace attrib {
namespace {

using nlohmann::json;

// Parameters of the curves beyond the shared perturbation ones (perturb.h).
const char* kCurveSchema = R"JSON({
  "step_fraction": {"type": "number", "default": 0.05, "minimum": 0.000001, "maximum": 1,
                    "description": "features changed per step = max(1, ceil(step_fraction * n))"},
  "auc": {"type": "string", "default": "rise", "enum": ["rise", "trapezoid_fraction", "trapezoid_unit"],
          "description": "rise: K equal intervals on [0,1]; trapezoid_fraction: against the true fraction m_k/n; trapezoid_unit: unit spacing, not normalised"}
})JSON";

class CurveMetric : public Metric {
 public:
  CurveMetric(bool insertion, json params) : insertion_(insertion), p_(std::move(params)) {}

  json info() const override {
    json i = p_;
    i["curve"] = insertion_ ? "insertion" : "deletion";
    i["order"] = "most relevant first";
    i["endpoints"] = "both (unperturbed and fully perturbed points on the curve)";
    i["insertion_start"] = insertion_ ? "all features replaced by the substrate" : "";
    if (!insertion_) i.erase("insertion_start");
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

    // Per example: the features in removal order, the step sizes, and the rows to evaluate.
    std::vector<std::vector<int64_t>> order(B);
    std::vector<std::vector<int64_t>> counts(B);  // m_k for k = 0..K
    for (int64_t i = 0; i < B; ++i) {
      const std::vector<int64_t> feats = perturb::features(b, scores.size(1), i);
      order[i] = perturb::rank(feats, scores[i], b.ids[i], in.seed, p_["rank_by"] == "abs",
                               p_["tie_break"].get<std::string>());
      const int64_t n = static_cast<int64_t>(feats.size());
      if (n == 0) continue;
      const int64_t s = std::max<int64_t>(1, std::ceil(p_["step_fraction"].get<double>() * n));
      for (int64_t k = 0;; ++k) {
        counts[i].push_back(std::min(k * s, n));
        if (k * s >= n) break;
      }
    }

    // Build every perturbed row, then evaluate in chunks of at most max_rows.
    std::vector<at::Tensor> rows, masks;
    std::vector<int64_t> owner;
    for (int64_t i = 0; i < B; ++i)
      for (int64_t m : counts[i]) {
        auto [x, mask] = perturb::replace(b, inputs, i, changed(order[i], m), substrate,
                                          in.model.info(), name());
        rows.push_back(x);
        if (mask.defined()) masks.push_back(mask);
        owner.push_back(i);
      }
    at::NoGradGuard no_grad;
    const at::Tensor base_logits = perturb::base_logits(in);
    const at::Tensor cls = perturb::target_classes(in, base_logits, p_["target"], name());
    const std::vector<double> values = perturb::evaluate(in, rows, masks, owner, cls, p_["output"]);

    std::vector<double> out(B, std::nan(""));
    curve_.assign(static_cast<size_t>(B * kCurvePoints), std::nan(""));
    size_t pos = 0;
    for (int64_t i = 0; i < B; ++i) {
      const size_t K1 = counts[i].size();
      if (K1 < 2) {
        pos += K1;
        continue;
      }
      const std::vector<double> v(values.begin() + pos, values.begin() + pos + K1);
      out[i] = area(v, counts[i]);
      resample(v, counts[i], curve_.data() + i * kCurvePoints);
      pos += K1;
    }
    return out;
  }

  std::map<std::string, std::vector<double>> curves() const override { return {{name(), curve_}}; }

 private:
  std::string name() const { return insertion_ ? "insertion" : "deletion"; }

  // Features that get the substrate: the first m of `order` for deletion, the rest for insertion.
  std::vector<int64_t> changed(const std::vector<int64_t>& order, int64_t m) const {
    return insertion_ ? std::vector<int64_t>(order.begin() + m, order.end())
                      : std::vector<int64_t>(order.begin(), order.begin() + m);
  }

  double area(const std::vector<double>& v, const std::vector<int64_t>& m) const {
    const std::string form = p_["auc"];
    const size_t K = v.size() - 1;
    if (form == "rise") {
      double s = std::accumulate(v.begin(), v.end(), 0.0) - (v.front() + v.back()) / 2;
      return s / static_cast<double>(K);
    }
    const double n = static_cast<double>(m.back());
    double s = 0;
    for (size_t k = 1; k <= K; ++k) {
      const double width = form == "trapezoid_unit" ? 1.0 : (m[k] - m[k - 1]) / n;
      s += width * (v[k] + v[k - 1]) / 2;
    }
    return s;
  }

  // The curve at fractions g / (kCurvePoints - 1) of the n features, interpolated linearly
  // between its points at m_k / n.
  static void resample(const std::vector<double>& v, const std::vector<int64_t>& m, double* out) {
    const double n = static_cast<double>(m.back());
    size_t k = 0;
    for (int64_t g = 0; g < kCurvePoints; ++g) {
      const double f = static_cast<double>(g) / (kCurvePoints - 1);
      while (k + 2 < m.size() && m[k + 1] / n < f) ++k;
      const double f0 = m[k] / n, f1 = m[k + 1] / n;
      const double t = f1 > f0 ? std::clamp((f - f0) / (f1 - f0), 0.0, 1.0) : 0.0;
      out[g] = v[k] + t * (v[k + 1] - v[k]);
    }
  }

  bool insertion_;
  json p_;
  std::string resolved_substrate_;
  std::vector<double> curve_;
};

MetricSpec curve_spec(bool insertion) {
  MetricSpec s;
  s.name = insertion ? "insertion" : "deletion";
  s.family = "faithfulness";
  s.description =
      insertion ? "Area under the insertion curve: features restored most-relevant-first into "
                  "a fully perturbed input (higher is better)"
                : "Area under the deletion curve: features removed most-relevant-first "
                  "(lower is better)";
  s.citation =
      "Petsiuk, Das & Saenko 2018, RISE: Randomized Input Sampling for Explanation of "
      "Black-box Models";
  s.direction = insertion ? +1 : -1;
  s.needs = {"model"};
  s.params = perturb::params_schema(kCurveSchema);
  s.create = [insertion](const json& p) { return std::make_unique<CurveMetric>(insertion, p); };
  return s;
}

}  // namespace

std::vector<MetricSpec> faithfulness_metrics() {
  std::vector<MetricSpec> all = {curve_spec(false), curve_spec(true)};
  for (auto* group :
       {eraser_metrics, correlation_metrics, infidelity_metrics, prediction_gap_metrics})
    for (auto& m : group()) all.push_back(std::move(m));
  return all;
}

}  // namespace attrib
