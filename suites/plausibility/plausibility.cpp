// Plausibility against human rationales (METRICS.md §3): token F1 at top-k (§3.1), ERASER IOU-F1
// (§3.2), AUPRC as average precision (§3.3) and ROC-AUC (§3.4).
#include "plausibility/plausibility.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "attrib/error.h"
#include "attrib/params.h"
#include "common/annotated.h"
#include "common/perturb.h"

namespace attrib {
namespace {

using nlohmann::json;

enum class Kind { kTokenF1, kIouF1, kAuprc, kAveragePrecision, kRocAuc };

const char* kSignParam = R"JSON({
  "sign": {"type": "string", "default": "signed", "enum": ["signed", "abs", "positive"],
           "description": "score used: the signed attribution, |a|, or the positive part max(a, 0) (ferret clips to 0)"}
})JSON";

const char* kTopkParams = R"JSON({
  "k_mode": {"type": "string", "default": "rationale_length", "enum": ["rationale_length", "fixed"],
             "description": "k per example: the number of annotated features |s|, or the fixed k"},
  "k": {"type": "integer", "default": 5, "minimum": 1, "maximum": 1000000,
        "description": "k when k_mode = fixed (clamped to the number of features)"},
  "only_pos": {"type": "boolean", "default": false,
               "description": "select a top-k feature only if its score is > 0 (ferret only_pos)"},
  "tie_break": {"type": "string", "default": "random", "enum": ["random", "index"],
                "description": "order of tied scores at the k-th position: seeded random per example, or by position"}
})JSON";

const char* kIouParams = R"JSON({
  "aggregation": {"type": "string", "default": "f1_of_means", "enum": ["f1_of_means", "mean"],
                  "description": "leaderboard number: f1_of_means = F1 of the mean precision (examples with a predicted span) and the mean recall (ERASER's macro IOU-F1, rationale_benchmark/metrics.py partial_match_score); mean = mean of the per-example F1"},
  "threshold": {"type": "number", "default": 0.5, "minimum": 0, "maximum": 1,
                "description": "a predicted span is a true positive when its best IOU with a gold span is >= threshold (inclusive, as ERASER's code)"}
})JSON";

std::string kind_name(Kind k) {
  switch (k) {
    case Kind::kTokenF1:
      return "token_f1";
    case Kind::kIouF1:
      return "iou_f1";
    case Kind::kAuprc:
      return "auprc";
    case Kind::kAveragePrecision:
      return "average_precision";
    default:
      return "roc_auc";
  }
}

// Maximal runs of consecutive selected features (by position in the feature list) as
// [begin, end) index ranges into that list.
std::vector<std::pair<int64_t, int64_t>> spans(const std::vector<char>& sel) {
  std::vector<std::pair<int64_t, int64_t>> out;
  const int64_t n = static_cast<int64_t>(sel.size());
  for (int64_t j = 0; j < n;) {
    if (!sel[j]) {
      ++j;
      continue;
    }
    int64_t e = j;
    while (e < n && sel[e]) ++e;
    out.emplace_back(j, e);
    j = e;
  }
  return out;
}

class PlausibilityMetric : public Metric {
 public:
  PlausibilityMetric(Kind kind, json params) : kind_(kind), p_(std::move(params)) {}

  json info() const override {
    json i = p_;
    i["annotations"] =
        "feature-level mask from the dataset (annotators and subword mapping as "
        "the dataset records them); features are the words (scored at their first token; a word's "
        "subword tokens summed)";
    i["missing_annotation"] = "NaN (present = false: skipped and counted, never 0)";
    i["empty_mask"] = "NaN (undefined)";
    i["averaging"] = "per example (macro over examples)";
    switch (kind_) {
      case Kind::kTokenF1:
        i["definition"] = "F1 of the top-k features against the annotated ones; 0 if P or R is 0";
        i["empty_prediction"] = "0 (only_pos with no positive score)";
        i["rank_key"] = "score after sign";
        break;
      case Kind::kIouF1:
        i["definition"] =
            "per-example F1 of ERASER partial span match: predicted spans = maximal runs of "
            "adjacent top-k features; TP if max IOU with a gold span >= threshold; P = TP/#pred, "
            "R = TP/#gold (several predictions may match one gold span)";
        i["span_rule"] = "maximal runs of consecutive features (in feature order) among the top k";
        i["rank_key"] = "score after sign";
        break;
      case Kind::kAuprc:
        i["definition"] =
            "trapezoidal area under the precision-recall curve (ERASER's reported AUPRC: sklearn "
            "precision_recall_curve + auc): points (R_t, P_t) at every distinct score threshold t "
            "(tied scores enter together) and (0, 1); linear interpolation, so >= average "
            "precision";
        break;
      case Kind::kAveragePrecision:
        i["definition"] =
            "average precision AP = sum_n (R_n - R_{n-1}) P_n over distinct score thresholds "
            "(sklearn average_precision_score; tied scores enter together), a step function";
        break;
      case Kind::kRocAuc:
        i["definition"] = "Mann-Whitney AUC = P(a_i > a_j) + 0.5 P(a_i = a_j), i in s, j not in s";
        i["ties"] = "average ranks";
        i["single_class"] = "NaN";
        break;
    }
    return i;
  }

  std::string aggregation() const override {
    return kind_ == Kind::kIouF1 ? p_["aggregation"].get<std::string>() : kAggregateMean;
  }

  std::map<std::string, std::vector<double>> components() const override {
    if (kind_ != Kind::kIouF1 || aggregation() != kAggregateF1OfMeans) return {};
    return {{"precision", precision_}, {"recall", recall_}};
  }

  std::vector<double> score(const MetricInput& in) override {
    const Batch& b = in.batch;
    precision_.assign(b.size(), std::nan(""));
    recall_.assign(b.size(), std::nan(""));
    return score_annotated(in, kind_name(kind_), p_, [&](int64_t i, const AnnotatedExample& x) {
      switch (kind_) {
        case Kind::kTokenF1:
        case Kind::kIouF1:
          return topk_score(i, x.a, x.s, x.positives, b.ids[i], in.seed);
        case Kind::kAuprc:
          return trapezoid_auprc(x.a, x.s);
        case Kind::kAveragePrecision:
          return average_precision(x.a, x.s);
        case Kind::kRocAuc:
          return roc_auc(x.a, x.s, x.positives);
      }
      return std::nan("");
    });
  }

  // The precision-recall points (R_t, P_t) at every distinct threshold, highest score first, as
  // sklearn's precision_recall_curve (tied scores enter together).
  static std::vector<std::pair<double, double>> pr_points(const std::vector<double>& a,
                                                          const std::vector<char>& s) {
    const size_t n = a.size();
    std::vector<size_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return a[x] > a[y]; });
    const double P = std::accumulate(s.begin(), s.end(), 0.0);
    std::vector<std::pair<double, double>> out;
    double tp = 0, seen = 0;
    for (size_t j = 0; j < n;) {
      size_t e = j;
      while (e < n && a[idx[e]] == a[idx[j]]) {
        tp += s[idx[e]];
        seen += 1;
        ++e;
      }
      out.emplace_back(tp / P, tp / seen);
      j = e;
    }
    return out;
  }

  static double trapezoid_auprc(const std::vector<double>& a, const std::vector<char>& s) {
    double area = 0, prev_r = 0, prev_p = 1;  // sklearn appends the point (recall 0, precision 1)
    for (const auto& [r, p] : pr_points(a, s)) {
      area += (r - prev_r) * (p + prev_p) / 2;
      prev_r = r;
      prev_p = p;
    }
    return area;
  }

  static double average_precision(const std::vector<double>& a, const std::vector<char>& s) {
    double ap = 0, prev_recall = 0;
    for (const auto& [recall, precision] : pr_points(a, s)) {
      ap += (recall - prev_recall) * precision;
      prev_recall = recall;
    }
    return ap;
  }

  static double roc_auc(const std::vector<double>& a, const std::vector<char>& s, int64_t pos) {
    const int64_t n = static_cast<int64_t>(a.size()), neg = n - pos;
    if (neg == 0) return std::nan("");
    std::vector<size_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return a[x] < a[y]; });
    double rank_sum = 0;  // sum of the average ranks (1-based) of the positives
    for (int64_t j = 0; j < n;) {
      int64_t e = j;
      while (e < n && a[idx[e]] == a[idx[j]]) ++e;
      const double avg = (static_cast<double>(j + 1) + static_cast<double>(e)) / 2;
      for (int64_t t = j; t < e; ++t)
        if (s[idx[t]]) rank_sum += avg;
      j = e;
    }
    const double u = rank_sum - static_cast<double>(pos) * (pos + 1) / 2;
    return u / (static_cast<double>(pos) * static_cast<double>(neg));
  }

 private:
  double topk_score(int64_t i, const std::vector<double>& a, const std::vector<char>& s,
                    int64_t pos, const std::string& id, uint64_t seed) {
    const int64_t n = static_cast<int64_t>(a.size());
    const int64_t k = p_["k_mode"] == "fixed" ? std::min<int64_t>(n, p_["k"].get<int64_t>()) : pos;
    // Rank positions 0..n-1 of the feature list by the (signed-after-`sign`) score.
    std::vector<int64_t> local(n);
    std::iota(local.begin(), local.end(), 0);
    const at::Tensor row = at::tensor(a, at::kDouble).contiguous();
    const std::vector<int64_t> order =
        perturb::rank(local, row, id, seed, false, p_["tie_break"].get<std::string>());
    std::vector<char> sel(n, 0);
    const bool only_pos = p_["only_pos"].get<bool>();
    for (int64_t j = 0; j < k; ++j)
      if (!only_pos || a[order[j]] > 0) sel[order[j]] = 1;
    if (kind_ == Kind::kTokenF1) {
      double hit = 0, npred = 0;
      for (int64_t j = 0; j < n; ++j) {
        hit += sel[j] && s[j];
        npred += sel[j];
      }
      if (npred == 0 || hit == 0) return 0.0;
      const double P = hit / npred, R = hit / static_cast<double>(pos);
      return 2 * P * R / (P + R);
    }
    const auto pred = spans(sel), gold = spans(s);
    // ERASER's macro: precision only where something is predicted, recall where gold exists.
    recall_[i] = 0.0;
    if (pred.empty()) return 0.0;
    const double theta = p_["threshold"];
    double tp = 0;
    for (const auto& p : pred) {
      double best = 0;
      for (const auto& t : gold) {
        const double inter =
            std::max<int64_t>(0, std::min(p.second, t.second) - std::max(p.first, t.first));
        const double uni = static_cast<double>(p.second - p.first + t.second - t.first) - inter;
        best = std::max(best, inter / uni);
      }
      if (best >= theta) tp += 1;
    }
    const double P = tp / static_cast<double>(pred.size());
    const double R = tp / static_cast<double>(gold.size());
    precision_[i] = P;
    recall_[i] = R;
    if (tp == 0) return 0.0;
    return 2 * P * R / (P + R);
  }

  Kind kind_;
  json p_;
  std::vector<double> precision_, recall_;  // iou_f1: per example of the last batch
};

constexpr const char* kEraserCode =
    "ERASER rationale_benchmark/metrics.py (jayded/eraserbenchmark @36467f1, sklearn 0.20.3)";
constexpr const char* kFerretCode =
    "ferret ferret/evaluators/plausibility_measures.py (g8a9/ferret @22935f8)";

// Reference profiles. ERASER and ferret keep an example whose rationale covers every token (and
// then score it 1 for any map, or P = 1 at k = n); the profiles do too, to reproduce their
// numbers. Both drop nothing else that attrib keeps: an example without a rationale stays NaN.
std::vector<MetricProfile> profiles(Kind kind) {
  const json keep = {{"all_positive", "score"}};
  switch (kind) {
    case Kind::kTokenF1:
      return {{"eraser",
               std::string(kEraserCode) +
                   ": score_hard_rationale_predictions, token_prf.instance_macro.f1 (mean of "
                   "per-instance F1; the hard rationale is the top-k of the map)",
               keep},
              {"ferret",
               std::string(kFerretCode) +
                   ": Tokenf1_PlausibilityEvaluation (top_k_rationale 5, only_pos, macro mean); "
                   "numpy's argsort has no reproducible tie order, ties here go by index",
               {{"all_positive", "score"},
                {"k_mode", "fixed"},
                {"k", 5},
                {"only_pos", true},
                {"sign", "signed"},
                {"tie_break", "index"}}}};
    case Kind::kIouF1:
      return {{"eraser",
               std::string(kEraserCode) +
                   ": partial_match_score, iou_scores[threshold 0.5].macro.f1 (F1 of the mean "
                   "precision over instances with predictions and the mean recall)",
               {{"all_positive", "score"}, {"threshold", 0.5}, {"aggregation", "f1_of_means"}}}};
    case Kind::kAuprc:
      return {{"eraser",
               std::string(kEraserCode) +
                   ": score_soft_tokens auprc (precision_recall_curve + auc per instance, "
                   "averaged over every instance)",
               keep},
              {"ferret",
               std::string(kFerretCode) +
                   ": AUPRC_PlausibilityEvaluation (scores clipped to >= 0, only_pos)",
               {{"all_positive", "score"}, {"sign", "positive"}}}};
    case Kind::kAveragePrecision:
      return {{"eraser",
               std::string(kEraserCode) +
                   ": score_soft_tokens average_precision (single-class instances skipped)",
               {{"all_positive", "undefined"}}}};
    case Kind::kRocAuc:
      return {{"eraser",
               std::string(kEraserCode) +
                   ": score_soft_tokens roc_auc_score (single-class instances skipped)",
               {{"all_positive", "undefined"}}},
              {"quantus",
               "Quantus 0.6.0 AUC (sklearn roc_curve + auc on the signed map; NaN for a full mask)",
               {{"all_positive", "undefined"}, {"sign", "signed"}}}};
  }
  return {};
}

MetricSpec spec(Kind kind) {
  MetricSpec s;
  s.name = kind_name(kind);
  s.family = "plausibility";
  s.direction = +1;
  s.needs = {"annotations"};
  json params = json::parse(kSignParam);
  params.update(single_class_schema());
  if (kind == Kind::kTokenF1 || kind == Kind::kIouF1) params.update(json::parse(kTopkParams));
  if (kind == Kind::kIouF1) params.update(json::parse(kIouParams));
  s.params = params;
  switch (kind) {
    case Kind::kTokenF1:
      s.description = "Token F1 of the top-k attributed features against the human rationale";
      s.citation = "DeYoung et al. 2020 (ERASER); Attanasio et al. 2023 (ferret)";
      break;
    case Kind::kIouF1:
      s.description =
          "ERASER IOU-F1: partial span match of the top-k runs against the rationale spans";
      s.citation = "DeYoung et al. 2020, ERASER: A Benchmark to Evaluate Rationalized NLP Models";
      break;
    case Kind::kAuprc:
      s.description =
          "AUPRC: trapezoidal area under the precision-recall curve of the attribution scores "
          "against the human rationale (ERASER's reported AUPRC)";
      s.citation = "DeYoung et al. 2020 (ERASER); Attanasio et al. 2023 (ferret)";
      break;
    case Kind::kAveragePrecision:
      s.description = "Average precision of the attribution scores against the human rationale";
      s.citation = "DeYoung et al. 2020 (ERASER); Attanasio et al. 2023 (ferret)";
      break;
    case Kind::kRocAuc:
      s.description = "ROC-AUC (Mann-Whitney) of the attribution scores against the rationale";
      s.citation = "DeYoung et al. 2020 (ERASER); Hedström et al. 2023 (Quantus)";
      break;
  }
  s.profiles = profiles(kind);
  s.create = [kind](const json& p) { return std::make_unique<PlausibilityMetric>(kind, p); };
  return s;
}

}  // namespace

std::vector<MetricSpec> plausibility_metrics() {
  std::vector<MetricSpec> all = {spec(Kind::kTokenF1), spec(Kind::kIouF1), spec(Kind::kAuprc),
                                 spec(Kind::kAveragePrecision), spec(Kind::kRocAuc)};
  return all;
}

}  // namespace attrib
