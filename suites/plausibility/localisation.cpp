// Localisation of attribution against a feature mask (METRICS.md §3.5-3.9): pointing game
// (Zhang et al. 2018), attribution localisation (Kohlbrenner et al. 2020), relevance mass and
// relevance rank accuracy (Arras et al. 2022) and top-k intersection (Theiner et al. 2021). Valid
// for images, tabular data and text (features = words, scored at their first token).
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "attrib/error.h"
#include "attrib/random.h"
#include "common/annotated.h"
#include "common/perturb.h"
#include "plausibility/plausibility.h"

namespace attrib {
namespace {

using nlohmann::json;

enum class Kind { kPointing, kLocalisation, kMass, kRank, kTopK };

std::string kind_name(Kind k) {
  switch (k) {
    case Kind::kPointing:
      return "pointing_game";
    case Kind::kLocalisation:
      return "attribution_localisation";
    case Kind::kMass:
      return "relevance_mass_accuracy";
    case Kind::kRank:
      return "relevance_rank_accuracy";
    default:
      return "top_k_intersection";
  }
}

std::string sign_schema(const char* dflt, const char* why) {
  return std::string(R"({"sign": {"type": "string", "default": ")") + dflt +
         R"(", "enum": ["signed", "abs", "positive"], "description": "score used: the signed attribution, |a|, or the positive part max(a, 0); )" +
         why + R"("}})";
}

const char* kTieParam = R"JSON({
  "tie_break": {"type": "string", "default": "random", "enum": ["random", "index"],
                "description": "order of tied scores at the k-th position: seeded random per example, or by position"}
})JSON";

const char* kPointingParams = R"JSON({
  "ties": {"type": "string", "default": "fractional", "enum": ["fractional", "random", "any"],
           "description": "several maximal features: fractional = the share of them that hit (the expected hit of one maximum drawn uniformly); random = one maximum drawn from the example's seeded stream; any = a hit if any of them hits (Quantus; a constant map then always hits)"},
  "tolerance": {"type": "number", "default": 0, "minimum": 0, "maximum": 1000000,
                "description": "hit radius r: a maximum counts when a masked feature lies within Euclidean distance <= r of it (TorchRay: 15 pixels). Distance over the last two input dimensions for dense inputs with >= 2 dimensions (channels ignored), over the element index for 1-D dense inputs, over the feature index for text"}
})JSON";

const char* kLocalisationParams = R"JSON({
  "weighted": {"type": "boolean", "default": false,
               "description": "multiply by n / |s| (Kohlbrenner et al.'s size weighting)"},
  "max_size": {"type": "number", "default": 1.0, "minimum": 0, "maximum": 1,
               "description": "examples whose mask covers more than max_size of the features get NaN (Quantus max_size)"},
  "zero_total": {"type": "string", "default": "undefined", "enum": ["undefined", "zero"],
                 "description": "a map with no mass at all (sum 0 after sign): undefined (NaN, skipped and counted), or 0 as Quantus's sum / (sum + 1e-9)"}
})JSON";

const char* kTopKParams = R"JSON({
  "k_fraction": {"type": "number", "default": 0.1, "minimum": 0.000001, "maximum": 1,
                 "description": "k = ceil(k_fraction * n), at least 1; used when k = 0"},
  "k": {"type": "integer", "default": 0, "minimum": 0, "maximum": 1000000000,
        "description": "absolute k (Quantus default 1000), clamped to n; 0 = use k_fraction"},
  "concept_influence": {"type": "boolean", "default": false,
                        "description": "multiply by n / |s| (Theiner et al.'s concept influence)"}
})JSON";

class LocalisationMetric : public Metric {
 public:
  LocalisationMetric(Kind kind, json params) : kind_(kind), p_(std::move(params)) {}

  json info() const override {
    json i = p_;
    i["annotations"] =
        "feature-level mask from the dataset (mask > 0.5 is inside); features are the words for "
        "text (at their first token), every element for dense";
    i["missing_annotation"] = "NaN (present = false: skipped and counted, never 0)";
    i["empty_mask"] = "NaN (undefined)";
    i["normalisation"] = "none (every score here is invariant to positive rescaling per example)";
    i["averaging"] = "per example (macro over examples)";
    switch (kind_) {
      case Kind::kPointing:
        i["definition"] =
            "1 if a maximal feature (after sign) is within tolerance of the mask, else 0";
        i["ties"] =
            p_["ties"] == "fractional"
                ? "fractional: with m maximal features of which h hit, the score is h / m -- the "
                  "expected hit of one maximum drawn uniformly (Zhang et al. 2018 score the single "
                  "maximum point; ties make it ill-defined), deterministic, so a constant map "
                  "scores "
                  "its chance level |s| / n"
            : p_["ties"] == "random"
                ? "random: one maximal feature drawn uniformly from the example's seeded tie stream"
                : "any: a hit if any maximal feature hits (Quantus); rewards ties";
        i["nan_scores"] = "ignored; NaN if every score is NaN";
        i["chance_level"] = "about |s| / n for a uniform random map (tolerance 0)";
        break;
      case Kind::kLocalisation:
        i["definition"] = "sum_{i in s} a_i / sum_i a_i over the sign-transformed scores";
        i["zero_total"] = "NaN";
        i["chance_level"] = "|s| / n";
        break;
      case Kind::kMass:
        i["definition"] = "sum_{i in s} a_i / sum_i a_i over the sign-transformed scores";
        i["zero_total"] = "NaN";
        i["note"] =
            "signed maps can give values outside [0, 1]; positive equals unweighted "
            "attribution_localisation with sign positive";
        break;
      case Kind::kRank:
        i["definition"] = "K = |s|; |top_K(a) intersect s| / K";
        i["rank_key"] = "score after sign";
        i["chance_level"] = "|s| / n";
        break;
      case Kind::kTopK:
        i["definition"] = "|top_k(a) intersect s| / k (times n / |s| with concept_influence)";
        i["rank_key"] = "score after sign";
        i["maximum"] = "min(1, |s| / k) without concept_influence";
        break;
    }
    return i;
  }

  std::vector<double> score(const MetricInput& in) override {
    const Batch& b = in.batch;
    return score_annotated(in, kind_name(kind_), p_, [&](int64_t i, const AnnotatedExample& x) {
      switch (kind_) {
        case Kind::kPointing:
          return pointing(in, x.feats, x.a, x.s, b.ids[i]);
        case Kind::kLocalisation:
        case Kind::kMass:
          return mass(x.a, x.s, x.positives);
        case Kind::kRank:
        case Kind::kTopK:
          return intersection(x.a, x.s, x.positives, b.ids[i], in.seed);
      }
      return std::nan("");
    });
  }

 private:
  // Coordinates of feature j (index into the feature list) for the tolerance distance.
  std::vector<double> coords(const MetricInput& in, const std::vector<int64_t>& feats,
                             size_t j) const {
    const Batch& b = in.batch;
    if (b.modality == Modality::kText || b.inputs.dim() <= 2) return {static_cast<double>(j)};
    const int64_t W = b.inputs.size(-1), H = b.inputs.size(-2);
    const int64_t e = feats[j] % (H * W);
    return {static_cast<double>(e / W), static_cast<double>(e % W)};
  }

  double pointing(const MetricInput& in, const std::vector<int64_t>& feats,
                  const std::vector<double>& a, const std::vector<char>& s,
                  const std::string& id) const {
    double top = -INFINITY;
    bool any = false;
    for (double v : a)
      if (!std::isnan(v)) {
        top = std::max(top, v);
        any = true;
      }
    if (!any) return std::nan("");
    if (in.batch.modality == Modality::kDense) {
      int64_t per_example = 1;
      for (int64_t d = 1; d < in.batch.inputs.dim(); ++d) per_example *= in.batch.inputs.size(d);
      ATTRIB_CHECK(per_example == static_cast<int64_t>(feats.size()),
                   "metric pointing_game: ", "expected one score per input element (", per_example,
                   "), got ", feats.size());
    }
    const double r = p_["tolerance"];
    std::vector<size_t> inside, maxima;
    for (size_t j = 0; j < s.size(); ++j)
      if (s[j]) inside.push_back(j);
    for (size_t j = 0; j < a.size(); ++j)
      if (a[j] == top) maxima.push_back(j);
    auto hits = [&](size_t j) {
      if (s[j]) return true;
      if (r <= 0) return false;
      const std::vector<double> c = coords(in, feats, j);
      for (size_t t : inside) {
        const std::vector<double> d = coords(in, feats, t);
        double dist2 = 0;
        for (size_t q = 0; q < c.size(); ++q) dist2 += (c[q] - d[q]) * (c[q] - d[q]);
        if (dist2 <= r * r) return true;
      }
      return false;
    };
    const std::string ties = p_["ties"];
    if (ties == "random") {
      // One uniform draw from the example's tie stream (the stream the rankings use).
      at::Generator g = example_generator(in.seed, id, perturb::kTieStream);
      const double u = at::rand({1}, g, at::kDouble).item<double>();
      const auto pick = std::min(maxima.size() - 1, static_cast<size_t>(u * maxima.size()));
      return hits(maxima[pick]) ? 1.0 : 0.0;
    }
    size_t hit = 0;
    for (size_t j : maxima) {
      if (!hits(j)) continue;
      if (ties == "any") return 1.0;
      ++hit;
    }
    return static_cast<double>(hit) / static_cast<double>(maxima.size());
  }

  double mass(const std::vector<double>& a, const std::vector<char>& s, int64_t pos) const {
    const double n = static_cast<double>(a.size());
    if (kind_ == Kind::kLocalisation && static_cast<double>(pos) / n > p_["max_size"].get<double>())
      return std::nan("");
    double inside = 0, total = 0;
    for (size_t j = 0; j < a.size(); ++j) {
      total += a[j];
      if (s[j]) inside += a[j];
    }
    if (total == 0)
      return kind_ == Kind::kLocalisation && p_["zero_total"] == "zero" ? 0.0 : std::nan("");
    double mu = inside / total;
    if (kind_ == Kind::kLocalisation && p_["weighted"].get<bool>())
      mu *= n / static_cast<double>(pos);
    return mu;
  }

  double intersection(const std::vector<double>& a, const std::vector<char>& s, int64_t pos,
                      const std::string& id, uint64_t seed) const {
    const int64_t n = static_cast<int64_t>(a.size());
    int64_t k = pos;
    if (kind_ == Kind::kTopK) {
      const int64_t fixed = p_["k"];
      k = fixed > 0 ? std::min(fixed, n) : perturb::fraction_count(p_["k_fraction"], n);
    }
    std::vector<int64_t> local(n);
    std::iota(local.begin(), local.end(), 0);
    const std::vector<int64_t> order =
        perturb::rank(local, at::tensor(a, at::kDouble).contiguous(), id, seed, false,
                      p_["tie_break"].get<std::string>());
    double hit = 0;
    for (int64_t j = 0; j < k; ++j) hit += s[order[j]];
    double v = hit / static_cast<double>(k);
    if (kind_ == Kind::kTopK && p_["concept_influence"].get<bool>())
      v *= static_cast<double>(n) / static_cast<double>(pos);
    return v;
  }

  Kind kind_;
  json p_;
};

// Quantus 0.6.0 defaults (quantus/metrics/localisation/*.py, evaluate_batch). Quantus normalises
// by the batch-global max|a| first; every score here is invariant to that positive rescaling (up
// to AttributionLocalisation's +1e-9 in the denominator). Quantus scores a mask covering the
// whole input, so the profile does too; its pointing game counts a tie as a hit. Quantus's
// argsort (numpy quicksort) has no reproducible tie order; the profile breaks ties by index.
MetricProfile quantus_profile(Kind kind) {
  MetricProfile q{"quantus", "", {{"all_positive", "score"}}};
  switch (kind) {
    case Kind::kPointing:
      q.reference = "Quantus 0.6.0 PointingGame (abs=False; a tie is a hit if any maximum hits)";
      q.params.update({{"sign", "signed"}, {"ties", "any"}, {"tolerance", 0}});
      break;
    case Kind::kLocalisation:
      q.reference =
          "Quantus 0.6.0 AttributionLocalisation (abs=True, weighted=False, max_size=1.0)";
      q.params.update(
          {{"sign", "abs"}, {"weighted", false}, {"max_size", 1.0}, {"zero_total", "zero"}});
      break;
    case Kind::kMass:
      q.reference = "Quantus 0.6.0 RelevanceMassAccuracy (abs=False: the signed map)";
      q.params.update({{"sign", "signed"}});
      break;
    case Kind::kRank:
      q.reference = "Quantus 0.6.0 RelevanceRankAccuracy (abs=False, k = |s|)";
      q.params.update({{"sign", "signed"}, {"tie_break", "index"}});
      break;
    case Kind::kTopK:
      q.reference = "Quantus 0.6.0 TopKIntersection (k=1000, concept_influence=False, abs=False)";
      q.params.update(
          {{"sign", "signed"}, {"tie_break", "index"}, {"k", 1000}, {"concept_influence", false}});
      break;
  }
  return q;
}

MetricSpec spec(Kind kind) {
  MetricSpec s;
  s.name = kind_name(kind);
  s.family = "plausibility";
  s.direction = +1;
  s.needs = {"annotations"};
  json params;
  switch (kind) {
    case Kind::kPointing:
      params = json::parse(sign_schema("signed", "Quantus abs=False"));
      params.update(json::parse(kPointingParams));
      s.description =
          "Pointing game: 1 if the maximally attributed feature lies in the annotated mask";
      s.citation = "Zhang et al. 2018, Top-down Neural Attention by Excitation Backprop";
      break;
    case Kind::kLocalisation:
      params = json::parse(sign_schema(
          "positive", "Kohlbrenner et al. use positive relevance; Quantus defaults to abs"));
      params.update(json::parse(kLocalisationParams));
      s.description = "Attribution localisation: share of positive attribution inside the mask";
      s.citation =
          "Kohlbrenner et al. 2020, Towards Best Practice in Explaining Neural Network "
          "Decisions with LRP";
      break;
    case Kind::kMass:
      params = json::parse(sign_schema(
          "positive", "the paper uses positive relevance; Quantus keeps the signed map"));
      s.description = "Relevance mass accuracy: share of relevance inside the mask";
      s.citation =
          "Arras, Osman & Samek 2022, CLEVR-XAI: A benchmark dataset for the ground truth "
          "evaluation of neural network explanations";
      break;
    case Kind::kRank:
      params = json::parse(sign_schema("signed", "Quantus abs=False"));
      params.update(json::parse(kTieParam));
      s.description =
          "Relevance rank accuracy: share of the top-|s| features that lie inside the mask";
      s.citation =
          "Arras, Osman & Samek 2022, CLEVR-XAI: A benchmark dataset for the ground truth "
          "evaluation of neural network explanations";
      break;
    case Kind::kTopK:
      params = json::parse(sign_schema("signed", "Quantus abs=False"));
      params.update(json::parse(kTieParam));
      params.update(json::parse(kTopKParams));
      s.description = "Top-k intersection: share of the top-k features that lie inside the mask";
      s.citation = "Theiner, Müller-Budack & Ewerth 2021, Interpretable Semantic Photo Geolocation";
      break;
  }
  params.update(single_class_schema());
  s.params = params;
  s.profiles = {quantus_profile(kind)};
  s.create = [kind](const json& p) { return std::make_unique<LocalisationMetric>(kind, p); };
  return s;
}

}  // namespace

std::vector<MetricSpec> localisation_metrics() {
  return {spec(Kind::kPointing), spec(Kind::kLocalisation), spec(Kind::kMass), spec(Kind::kRank),
          spec(Kind::kTopK)};
}

}  // namespace attrib
