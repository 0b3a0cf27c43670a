// Complexity of attribution maps (METRICS.md §5): sparseness as the Gini index of |a|
// (Chalasani et al. 2020) and complexity as the entropy of |a| / sum |a| (Bhatt et al. 2020).
#include "complexity/complexity.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "common/perturb.h"

namespace attrib {
namespace {

using nlohmann::json;

const char* kGiniSchema = R"JSON({
  "delta": {"type": "number", "default": 1e-7, "minimum": 0, "maximum": 1,
            "description": "added to |a| before the Gini index (Quantus default 1e-7)"},
  "normalise": {"type": "string", "default": "none", "enum": ["none", "max_abs"],
                "description": "divide each example's map by its max |a| before adding delta (Quantus normalise_by_max, but per example: Quantus takes one max over the whole batch, which makes a score depend on its batch)"}
})JSON";

const char* kEffectiveSchema = R"JSON({
  "eps": {"type": "number", "default": 1e-5, "minimum": 0, "maximum": 1,
          "description": "a feature counts when |a| / max |a| > eps (Quantus EffectiveComplexity eps 1e-5)"}
})JSON";

enum class Kind { kSparseness, kComplexity, kEffective };

const char* kEntropySchema = R"JSON({
  "delta": {"type": "number", "default": 1e-12, "minimum": 0, "maximum": 1,
            "description": "inside the logarithm: H = -sum p_i ln(p_i + delta) (Quantus default 1e-12)"}
})JSON";

class ComplexityMetric : public Metric {
 public:
  ComplexityMetric(Kind kind, json params) : kind_(kind), p_(std::move(params)) {}

  json info() const override {
    json i = p_;
    i["sign"] = "abs";
    i["features"] = "words for text (scored at their first token); every element for dense";
    if (kind_ == Kind::kSparseness) {
      i["definition"] = "v = sort_ascending(|a| + delta); G = sum_i (2i - n - 1) v_i / (n sum v)";
      i["maximum"] = "(n - 1) / n";
      i["normalisation_scope"] = "per example";
    } else if (kind_ == Kind::kEffective) {
      i["definition"] = "number of features with |a| / max |a| > eps";
      i["normalisation"] = "max |a| per example (Quantus: over the whole batch)";
      i["all_zero_map"] = "0";
    } else {
      i["normalisation"] = "none (p is scale-invariant)";
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
    std::vector<double> out(B, std::nan(""));
    for (int64_t i = 0; i < B; ++i) {
      const std::vector<int64_t> feats = perturb::features(in.batch, scores.size(1), i);
      if (feats.empty()) continue;
      const double* sp = scores[i].data_ptr<double>();
      std::vector<double> v;
      for (int64_t f : feats) v.push_back(std::fabs(sp[f]));
      switch (kind_) {
        case Kind::kSparseness: {
          if (p_["normalise"] == "max_abs") {
            const double top = *std::max_element(v.begin(), v.end());
            if (top > 0)  // an all-zero map stays as it is (Quantus)
              for (double& x : v) x /= top;
          }
          out[i] = gini(v, p_["delta"]);
          break;
        }
        case Kind::kComplexity:
          out[i] = entropy(v, p_["delta"]);
          break;
        case Kind::kEffective:
          out[i] = effective(v, p_["eps"]);
          break;
      }
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

  static double effective(const std::vector<double>& v, double eps) {
    const double top = *std::max_element(v.begin(), v.end());
    if (!(top > 0)) return 0.0;
    double count = 0;
    for (double x : v) count += x / top > eps;
    return count;
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
  Kind kind_;
  json p_;
};

MetricSpec spec(Kind kind) {
  MetricSpec s;
  s.family = "complexity";
  constexpr const char* kQuantus = "Quantus 0.6.0 quantus/metrics/complexity/";
  switch (kind) {
    case Kind::kSparseness:
      s.name = "sparseness";
      s.description = "Gini index of |a|: higher means a sparser map (higher is better)";
      s.citation =
          "Chalasani et al. 2020, Concise Explanations of Neural Networks using Adversarial "
          "Training";
      s.direction = +1;
      s.params = json::parse(kGiniSchema);
      s.profiles = {{"quantus",
                     std::string(kQuantus) +
                         "sparseness.py (normalise_by_max, abs, + 1e-7, Gini); attrib "
                         "normalises per example, Quantus over the batch it is handed",
                     {{"delta", 1e-7}, {"normalise", "max_abs"}}}};
      break;
    case Kind::kComplexity:
      s.name = "complexity";
      s.description = "Entropy of |a| / sum |a| in nats (lower is better; maximum ln n)";
      s.citation =
          "Bhatt, Weller & Moura 2020, Evaluating and Aggregating Feature-based Model "
          "Explanations";
      s.direction = -1;
      s.params = json::parse(kEntropySchema);
      s.profiles = {{"quantus",
                     std::string(kQuantus) + "complexity.py (-sum p ln(p + 1e-12), p = |a|/sum|a|)",
                     {{"delta", 1e-12}}}};
      break;
    case Kind::kEffective:
      s.name = "effective_complexity";
      s.description =
          "Number of features whose |a| exceeds eps times the largest (lower is better)";
      s.citation = "Nguyen & Martínez 2020, On Quantitative Aspects of Model Interpretability";
      s.direction = -1;
      s.params = json::parse(kEffectiveSchema);
      s.profiles = {{"quantus",
                     std::string(kQuantus) +
                         "effective_complexity.py (eps 1e-5 after normalise_by_max; attrib "
                         "normalises per example, Quantus over the batch)",
                     {{"eps", 1e-5}}}};
      break;
  }
  s.needs = {};
  s.create = [kind](const json& p) { return std::make_unique<ComplexityMetric>(kind, p); };
  return s;
}

}  // namespace

std::vector<MetricSpec> complexity_metrics() {
  return {spec(Kind::kSparseness), spec(Kind::kComplexity), spec(Kind::kEffective)};
}

}  // namespace attrib
