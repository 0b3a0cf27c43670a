// Correlations between attribution mass and the output change under removal: faithfulness
// correlation (Bhatt et al. 2020, METRICS.md §1.4) and monotonicity correlation (Nguyen &
// Rodríguez Martínez 2020, §1.6).
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "attrib/error.h"
#include "attrib/random.h"
#include "common/perturb.h"
#include "common/stats.h"
#include "faithfulness/faithfulness.h"

namespace attrib {
namespace {

using nlohmann::json;

// Pearson correlation in double precision; NaN for fewer than 2 pairs or a constant side.
double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = x.size();
  if (n < 2 || y.size() != n) return std::nan("");
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(n);
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / static_cast<double>(n);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t j = 0; j < n; ++j) {
    sxy += (x[j] - mx) * (y[j] - my);
    sxx += (x[j] - mx) * (x[j] - mx);
    syy += (y[j] - my) * (y[j] - my);
  }
  if (!(sxx > 0) || !(syy > 0)) return std::nan("");
  return sxy / std::sqrt(sxx * syy);
}

// Spearman's rho: Pearson of the average ranks (ties share their mean rank).
double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  return pearson(stats::average_ranks(x), stats::average_ranks(y));
}

// ------------------------------------------------------------------------------------------------
// Faithfulness correlation.

const char* kCorrelationSchema = R"JSON({
  "output": {"type": "string", "default": "logit", "enum": ["probability", "logit", "log_probability"],
             "description": "output space of f_y (Quantus: softmax=False, logits)"},
  "n_samples": {"type": "integer", "default": 100, "minimum": 2, "maximum": 100000,
                "description": "independent random subsets R per example (Quantus nr_runs)"}
})JSON";

class FaithfulnessCorrelation : public Metric {
 public:
  explicit FaithfulnessCorrelation(json params) : p_(std::move(params)) {}

  json info() const override {
    json i = p_;
    i["definition"] =
        "Pearson correlation over R draws of A_r = sum_{i in S_r} a_i and "
        "D_r = f_y(x) - f_y(x with S_r replaced by the substrate)";
    i["subsets"] =
        "R independent (not cumulative) subsets of |S| features drawn uniformly without "
        "replacement from the per-example stream";
    i["attribution"] = "signed";
    i["normalisation"] = "none (Pearson is invariant to positive rescaling, per example)";
    i["undefined"] = "NaN when A or D is constant over the draws, or fewer than 2 features";
    if (!resolved_substrate_.empty()) i["substrate"] = resolved_substrate_;
    if (seed_set_) i["seed"] = seed_;
    return i;
  }

  std::vector<double> score(const MetricInput& in) override {
    const Batch& b = in.batch;
    const bool text = b.modality == Modality::kText;
    const std::string substrate = perturb::resolve_substrate(p_["substrate"], text, kName);
    resolved_substrate_ = substrate;
    seed_ = in.seed;
    seed_set_ = true;
    const int64_t B = b.size(), R = p_["n_samples"];
    const at::Tensor scores = in.scores.to(at::kCPU, at::kDouble).contiguous();
    const at::Tensor inputs = b.inputs.to(at::kCPU);
    const perturb::Base base = perturb::base(in, p_["target"], p_["output"], kName);
    perturb::RowEvaluator eval(in, base.cls, p_["output"]);

    std::vector<std::vector<double>> mass(B);
    std::vector<size_t> first(B, 0);
    std::vector<std::string> keys(B);
    std::vector<const std::vector<double>*> known(B, nullptr);
    for (int64_t i = 0; i < B; ++i) {
      const std::vector<int64_t> feats = perturb::features(b, scores.size(1), i);
      const int64_t n = static_cast<int64_t>(feats.size());
      if (n < 2) continue;
      const int64_t k = perturb::subset_size(p_, n);
      const double* sp = scores[i].data_ptr<double>();
      // The subsets and their outputs do not depend on the attribution: forwarded once per
      // example for all the methods this instance scores.
      keys[i] = perturb::OutputCache::key(in, i, base.cls[i].item<int64_t>());
      known[i] = cache_.find(keys[i]);
      if (known[i]) perturb::note_saved(in, static_cast<int64_t>(known[i]->size()));
      at::Generator g = example_generator(in.seed, b.ids[i], perturb::kSubsetStream);
      for (int64_t r = 0; r < R; ++r) {
        const std::vector<int64_t> subset = perturb::random_subset(feats, k, g);
        double a = 0;
        for (int64_t f : subset) a += sp[f];
        mass[i].push_back(a);
        if (known[i]) continue;
        const size_t idx =
            eval.add(perturb::replace(b, inputs, i, subset, substrate, in.model.info(), kName), i);
        if (r == 0) first[i] = idx;
      }
    }
    const std::vector<double>& values = eval.values();

    std::vector<double> out(B, std::nan(""));
    for (int64_t i = 0; i < B; ++i) {
      if (mass[i].empty()) continue;
      const std::vector<double>& outputs = cache_.take(keys[i], values, first[i], R);
      std::vector<double> drop(R);
      for (int64_t r = 0; r < R; ++r) drop[r] = base.score[i] - outputs[r];
      out[i] = pearson(mass[i], drop);
    }
    return out;
  }

 private:
  static constexpr const char* kName = "faithfulness_correlation";
  json p_;
  perturb::OutputCache cache_;
  std::string resolved_substrate_;
  uint64_t seed_ = 0;
  bool seed_set_ = false;
};

// ------------------------------------------------------------------------------------------------
// Monotonicity correlation.

const char* kMonotonicitySchema = R"JSON({
  "output": {"type": "string", "default": "probability", "enum": ["probability", "logit", "log_probability"],
             "description": "output space of f_y (Quantus: softmax=True)"},
  "substrate": {"type": "string", "default": "auto",
                "enum": ["auto", "unk", "mask", "pad", "delete", "zero", "mean", "uniform"],
                "description": "replacement u of a perturbed group; auto = unk for text, zero for dense. uniform (dense; Quantus' default): each element an independent U(uniform_low, uniform_high) draw per sample"},
  "rank_by": {"type": "string", "default": "abs", "enum": ["signed", "abs"],
              "description": "attribution used for the group order and the group sums s_k: |a| (Quantus abs=True) or signed a"},
  "n_samples": {"type": "integer", "default": 100, "minimum": 1, "maximum": 100000,
                "description": "random replacements S per group (Quantus nr_samples); a deterministic substrate gives identical samples, so it is evaluated once"},
  "features_in_step": {"type": "integer", "default": 1, "minimum": 1, "maximum": 1000000000,
                       "description": "group size q; groups are consecutive in ascending attribution order, the last may be smaller"},
  "eps": {"type": "number", "default": 1e-5, "minimum": 0, "maximum": 1,
          "description": "weight w = 1 / f_y(x)^2, or 1 when |f_y(x)| < eps"},
  "uniform_low": {"type": "number", "default": 0.0, "description": "lower bound of the uniform substrate"},
  "uniform_high": {"type": "number", "default": 1.0, "description": "upper bound of the uniform substrate"}
})JSON";

class Monotonicity : public Metric {
 public:
  explicit Monotonicity(json params) : p_(std::move(params)) {
    ATTRIB_CHECK(p_["uniform_low"].get<double>() <= p_["uniform_high"].get<double>(), "metric ",
                 kName, ": expected uniform_low <= uniform_high, got ", p_["uniform_low"].dump(),
                 " > ", p_["uniform_high"].dump());
  }

  json info() const override {
    json i = p_;
    i["definition"] =
        "Spearman correlation over groups G_k of s_k = sum_{i in G_k} key_i and "
        "v_k = w * mean_s (f_y(x with G_k replaced by u_s) - f_y(x))^2";
    i["order"] = "ascending attribution key; ties by tie_break";
    i["weight"] =
        "w = 1/f_y(x)^2 (1 if |f_y(x)| < eps); a per-example constant, so it does not change the "
        "rank correlation";
    i["rank_correlation"] = "Spearman with average ranks for ties";
    i["normalisation"] = "none (a rank correlation, per example)";
    i["perturbation"] = "each group replaced in the original x (not cumulative)";
    i["undefined"] = "NaN when s or v is constant, or fewer than 2 groups";
    if (!resolved_substrate_.empty()) {
      i["substrate"] = resolved_substrate_;
      i["n_samples_effective"] =
          resolved_substrate_ == "uniform" ? p_["n_samples"].get<int64_t>() : 1;
    }
    if (seed_set_) i["seed"] = seed_;
    return i;
  }

  std::vector<double> score(const MetricInput& in) override {
    const Batch& b = in.batch;
    const bool text = b.modality == Modality::kText;
    const bool uniform = p_["substrate"] == "uniform";
    ATTRIB_CHECK(!(uniform && text), "metric ", kName,
                 ": substrate 'uniform' does not apply to text inputs");
    const std::string substrate =
        uniform ? "uniform" : perturb::resolve_substrate(p_["substrate"], text, kName);
    resolved_substrate_ = substrate;
    seed_ = in.seed;
    seed_set_ = true;
    const int64_t B = b.size();
    const int64_t S = uniform ? p_["n_samples"].get<int64_t>() : 1;
    const int64_t q = p_["features_in_step"];
    const bool abs = p_["rank_by"] == "abs";
    const double lo = p_["uniform_low"], hi = p_["uniform_high"];
    const at::Tensor scores = in.scores.to(at::kCPU, at::kDouble).contiguous();
    const at::Tensor inputs = b.inputs.to(at::kCPU);
    const perturb::Base base = perturb::base(in, p_["target"], p_["output"], kName);
    perturb::RowEvaluator eval(in, base.cls, p_["output"]);

    std::vector<std::vector<double>> sums(B);
    std::vector<size_t> first(B, 0);
    for (int64_t i = 0; i < B; ++i) {
      const std::vector<int64_t> feats = perturb::features(b, scores.size(1), i);
      if (feats.size() < 2) continue;
      // rank() sorts by decreasing key: negating the key gives the ascending order.
      at::Tensor key = abs ? scores[i].abs() : scores[i].clone();
      const std::vector<int64_t> order =
          perturb::rank(feats, (-key).contiguous(), b.ids[i], in.seed, false, p_["tie_break"]);
      const double* kp = key.data_ptr<double>();
      at::Generator g = example_generator(in.seed, b.ids[i], perturb::kMonotonicStream);
      bool start = true;
      for (size_t s0 = 0; s0 < order.size(); s0 += q) {
        const std::vector<int64_t> group(order.begin() + s0,
                                         order.begin() + std::min(order.size(), s0 + q));
        double s = 0;
        for (int64_t f : group) s += kp[f];
        sums[i].push_back(s);
        for (int64_t r = 0; r < S; ++r) {
          std::pair<at::Tensor, at::Tensor> row;
          if (uniform) {
            const at::Tensor u =
                at::rand({static_cast<int64_t>(group.size())}, g, at::kDouble) * (hi - lo) + lo;
            row = {perturb::dense_with(inputs, i, group, u, false), at::Tensor()};
          } else {
            row = perturb::replace(b, inputs, i, group, substrate, in.model.info(), kName);
          }
          const size_t idx = eval.add(row, i);
          if (start) first[i] = idx;
          start = false;
        }
      }
    }
    const std::vector<double>& values = eval.values();

    const double eps = p_["eps"];
    std::vector<double> out(B, std::nan(""));
    for (int64_t i = 0; i < B; ++i) {
      const size_t K = sums[i].size();
      if (K < 2) continue;
      const double f = base.score[i];
      const double w = std::fabs(f) < eps ? 1.0 : 1.0 / (f * f);
      std::vector<double> v(K);
      for (size_t k = 0; k < K; ++k) {
        double m = 0;
        for (int64_t r = 0; r < S; ++r) {
          const double d = values[first[i] + k * S + r] - f;
          m += d * d;
        }
        v[k] = w * m / static_cast<double>(S);
      }
      out[i] = spearman(sums[i], v);
    }
    return out;
  }

 private:
  static constexpr const char* kName = "monotonicity";
  json p_;
  std::string resolved_substrate_;
  uint64_t seed_ = 0;
  bool seed_set_ = false;
};

MetricSpec faithfulness_correlation_spec() {
  MetricSpec s;
  s.name = "faithfulness_correlation";
  s.family = "faithfulness";
  s.description =
      "Pearson correlation between the attribution mass of random feature subsets and the drop "
      "of the tracked output when they are replaced (higher is better)";
  s.citation =
      "Bhatt, Weller & Moura 2020, Evaluating and Aggregating Feature-based Model Explanations";
  s.direction = +1;
  s.needs = {"model"};
  s.params = perturb::params_schema(kCorrelationSchema, /*ranking=*/false);
  s.params.update(perturb::subset_schema());
  s.create = [](const json& p) { return std::make_unique<FaithfulnessCorrelation>(p); };
  return s;
}

MetricSpec monotonicity_spec() {
  MetricSpec s;
  s.name = "monotonicity";
  s.family = "faithfulness";
  s.description =
      "Monotonicity correlation: Spearman correlation between the attribution of each feature "
      "group and the squared output change when that group alone is replaced (higher is better)";
  s.citation =
      "Nguyen & Rodríguez Martínez 2020, On Quantitative Aspects of Model Interpretability";
  s.direction = +1;
  s.needs = {"model"};
  s.params = perturb::params_schema(kMonotonicitySchema);
  s.create = [](const json& p) { return std::make_unique<Monotonicity>(p); };
  return s;
}

}  // namespace

std::vector<MetricSpec> correlation_metrics() {
  return {faithfulness_correlation_spec(), monotonicity_spec()};
}

}  // namespace attrib
