// Complexity of attribution maps (METRICS.md §5): sparseness as the Gini index of |a|
// (Chalasani et al. 2020) and complexity as the entropy of |a| / sum |a| (Bhatt et al. 2020).
#include "complexity/complexity.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "faithfulness/perturb.h"

namespace attrib {
namespace {

using nlohmann::json;

const char* kGiniSchema = R"JSON({
  "delta": {"type": "number", "default": 1e-7, "minimum": 0, "maximum": 1,
            "description": "added to |a| before the Gini index (Quantus default 1e-7)"}
})JSON";

const char* kEntropySchema = R"JSON({
  "delta": {"type": "number", "default": 1e-12, "minimum": 0, "maximum": 1,
            "description": "inside the logarithm: H = -sum p_i ln(p_i + delta) (Quantus default 1e-12)"}
})JSON";

class ComplexityMetric : public Metric {
 public:
  ComplexityMetric(bool gini, json params) : gini_(gini), p_(std::move(params)) {}

  json info() const override {
    json i = p_;
    i["sign"] = "abs";
    i["normalisation"] = "none (both scores are scale-invariant up to delta)";
    i["features"] = "words for text (scored at their first token); every element for dense";
    if (gini_) {
      i["definition"] = "v = sort_ascending(|a| + delta); G = sum_i (2i - n - 1) v_i / (n sum v)";
      i["maximum"] = "(n - 1) / n";
    } else {
      i["definition"] = "p = |a| / sum |a|; H = -sum p_i ln(p_i + delta)";
      i["log_base"] = "e (nats)";
      i["all_zero_map"] = "NaN";
    }
    i["no_features"] = "NaN";
    return i;
  }

  std::vector<double> score(const MetricInput& in) override {
    const int64_t B = in.batch.size();
    const at::Tensor scores = in.scores.to(at::kCPU, at::kDouble).contiguous();
    const double delta = p_["delta"];
    std::vector<double> out(B, std::nan(""));
    for (int64_t i = 0; i < B; ++i) {
      const std::vector<int64_t> feats = perturb::features(in.batch, scores.size(1), i);
      if (feats.empty()) continue;
      const double* sp = scores[i].data_ptr<double>();
      std::vector<double> v;
      for (int64_t f : feats) v.push_back(std::fabs(sp[f]));
      out[i] = gini_ ? gini(v, delta) : entropy(v, delta);
    }
    return out;
  }

  static double gini(std::vector<double> v, double delta) {
    for (double& x : v) x += delta;
    std::sort(v.begin(), v.end());
    const double n = static_cast<double>(v.size());
    double num = 0, sum = 0;
    for (size_t j = 0; j < v.size(); ++j) {
      num += (2.0 * static_cast<double>(j + 1) - n - 1) * v[j];
      sum += v[j];
    }
    if (!(sum > 0)) return std::nan("");
    return num / (n * sum);
  }

  static double entropy(const std::vector<double>& v, double delta) {
    double sum = 0;
    for (double x : v) sum += x;
    if (!(sum > 0)) return std::nan("");
    double h = 0;
    for (double x : v) {
      const double p = x / sum;
      h -= p * std::log(p + delta);
    }
    return h;
  }

 private:
  bool gini_;
  json p_;
};

MetricSpec spec(bool gini) {
  MetricSpec s;
  s.name = gini ? "sparseness" : "complexity";
  s.suite = "complexity";
  s.description = gini ? "Gini index of |a|: higher means a sparser map (higher is better)"
                       : "Entropy of |a| / sum |a| in nats (lower is better; maximum ln n)";
  s.citation = gini ? "Chalasani et al. 2020, Concise Explanations of Neural Networks using "
                      "Adversarial Training"
                    : "Bhatt, Weller & Moura 2020, Evaluating and Aggregating Feature-based "
                      "Model Explanations";
  s.direction = gini ? +1 : -1;
  s.needs = {};
  s.params = json::parse(gini ? kGiniSchema : kEntropySchema);
  s.create = [gini](const json& p) { return std::make_unique<ComplexityMetric>(gini, p); };
  return s;
}

}  // namespace

std::vector<MetricSpec> complexity_metrics() { return {spec(true), spec(false)}; }

}  // namespace attrib
