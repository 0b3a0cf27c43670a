#include "agreement/agreement.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "attrib/error.h"
#include "attrib/params.h"
#include "attrib/random.h"
#include "common/stats.h"

namespace attrib {

namespace {

using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

json num(double x) { return stats::is_defined(x) ? json(x) : json(nullptr); }

}  // namespace

nlohmann::json agreement_matrices(
    const std::vector<std::string>& methods,
    const std::vector<std::vector<at::Tensor>>& scores_per_method_per_batch,
    const std::vector<at::Tensor>& valid_mask_per_batch, const AgreementOptions& options) {
  const std::size_t M = methods.size();
  ATTRIB_CHECK(scores_per_method_per_batch.size() == M, "agreement: expected scores for ", M,
               " methods, got ", scores_per_method_per_batch.size());
  const std::vector<std::string>& known = agreement::measure_names();
  const std::vector<std::string> measures = options.measures.empty() ? known : options.measures;
  for (const auto& m : measures)
    ATTRIB_CHECK(std::find(known.begin(), known.end(), m) != known.end(),
                 "agreement measures: unknown measure \"", m, "\"");
  agreement::resolve_k(options.k, 1);  // validates k
  ATTRIB_CHECK(options.bootstrap_resamples >= 0,
               "agreement bootstrap_resamples: expected an integer >= 0, got ",
               options.bootstrap_resamples);
  ATTRIB_CHECK(options.confidence > 0.0 && options.confidence < 1.0,
               "agreement confidence: expected a number in (0, 1), got ", options.confidence);
  const std::size_t n_batches = valid_mask_per_batch.size();

  // Per example, each method's scores over the example's valid features.
  // values[e][m] = the feature vector.
  std::vector<std::vector<std::vector<double>>> values;
  for (std::size_t m = 0; m < M; ++m)
    ATTRIB_CHECK(scores_per_method_per_batch[m].size() == n_batches, "agreement: method '",
                 methods[m], "': expected ", n_batches, " batches (as the masks), got ",
                 scores_per_method_per_batch[m].size());
  for (std::size_t b = 0; b < n_batches; ++b) {
    std::vector<at::Tensor> s(M);
    for (std::size_t m = 0; m < M; ++m) {
      const at::Tensor& t = scores_per_method_per_batch[m][b];
      ATTRIB_CHECK(t.defined() && t.dim() >= 1, "agreement: method '", methods[m], "' batch ", b,
                   ": expected a [B, F] tensor, got ", (t.defined() ? t.dim() : -1), " dimensions");
      s[m] = t.detach().to(at::kCPU, at::kDouble).reshape({t.size(0), -1}).contiguous();
      ATTRIB_CHECK(s[m].sizes() == s[0].sizes(), "agreement: batch ", b, ": method '", methods[m],
                   "' has shape ", s[m].sizes(), ", method '", methods[0], "' ", s[0].sizes());
    }
    if (M == 0) continue;
    const int64_t B = s[0].size(0), F = s[0].size(1);
    at::Tensor mask;
    if (valid_mask_per_batch[b].defined()) {
      mask = valid_mask_per_batch[b]
                 .detach()
                 .to(at::kCPU)
                 .reshape({valid_mask_per_batch[b].size(0), -1})
                 .ne(0)
                 .contiguous();
      ATTRIB_CHECK(mask.size(0) == B && mask.size(1) == F, "agreement: batch ", b,
                   ": expected a valid mask of shape [", B, ", ", F, "], got ", mask.sizes());
    } else {
      mask = at::ones({B, F}, at::kBool);
    }
    const bool* mp = mask.data_ptr<bool>();
    for (int64_t i = 0; i < B; ++i) {
      std::vector<std::vector<double>> ex(M);
      for (std::size_t m = 0; m < M; ++m) {
        const double* p = s[m].data_ptr<double>() + i * F;
        for (int64_t f = 0; f < F; ++f)
          if (mp[i * F + f]) ex[m].push_back(p[f]);
      }
      values.push_back(std::move(ex));
    }
  }
  const std::size_t N = values.size();
  const bool random_ties = options.tie_break == "random";
  ATTRIB_CHECK(random_ties || options.tie_break == "index",
               "agreement tie_break: expected \"random\" or \"index\", got \"", options.tie_break,
               "\"");
  ATTRIB_CHECK(!random_ties || options.example_ids.size() == N,
               "agreement: tie_break random needs ", N, " example ids, got ",
               options.example_ids.size());
  // The example's seeded tie order over its features: the metrics' stream (attrib/random.h).
  std::vector<std::vector<double>> ties(random_ties ? N : 0);
  for (std::size_t e = 0; e < ties.size(); ++e) {
    const std::size_t nf = values[e].empty() ? 0 : values[e][0].size();
    at::Generator g = example_generator(options.tie_seed, options.example_ids[e], kTieBreakStream);
    const at::Tensor r = at::rand({static_cast<int64_t>(nf)}, g, at::kDouble).contiguous();
    ties[e].assign(r.data_ptr<double>(), r.data_ptr<double>() + nf);
  }

  std::vector<double> n_features;
  for (const auto& ex : values) n_features.push_back(ex.empty() ? 0.0 : ex[0].size());
  const stats::BootstrapIndices indices(N, static_cast<std::size_t>(options.bootstrap_resamples),
                                        options.seed);
  const bool bootstrap = options.bootstrap_resamples > 0 && N > 0;

  json out_measures = json::array();
  for (const std::string& name : measures) {
    json mean = json::array(), n = json::array(), n_undef = json::array();
    json lo = json::array(), hi = json::array();
    std::vector<std::vector<stats::MeanCI>> cells(M, std::vector<stats::MeanCI>(M));
    for (std::size_t i = 0; i < M; ++i) {
      for (std::size_t j = i; j < M; ++j) {
        std::vector<double> per_example(N);
        for (std::size_t e = 0; e < N; ++e)
          per_example[e] =
              agreement::measure(name, values[e][i], values[e][j], options.k, options.abs,
                                 random_ties ? &ties[e] : nullptr, options.dense_rank_match);
        stats::MeanCI c;
        if (bootstrap) {
          c = stats::bootstrap_mean_ci(per_example, indices, options.confidence);
        } else {
          c.mean = stats::mean(per_example);
          c.n_undefined = stats::count_undefined(per_example);
          c.n = N - c.n_undefined;
          c.ci = {kNaN, kNaN};
        }
        cells[i][j] = cells[j][i] = c;
      }
    }
    for (std::size_t i = 0; i < M; ++i) {
      json rm = json::array(), rn = json::array(), ru = json::array(), rl = json::array(),
           rh = json::array();
      for (std::size_t j = 0; j < M; ++j) {
        rm.push_back(num(cells[i][j].mean));
        rn.push_back(cells[i][j].n);
        ru.push_back(cells[i][j].n_undefined);
        rl.push_back(num(cells[i][j].ci.low));
        rh.push_back(num(cells[i][j].ci.high));
      }
      mean.push_back(rm);
      n.push_back(rn);
      n_undef.push_back(ru);
      lo.push_back(rl);
      hi.push_back(rh);
    }
    json entry = {{"measure", name},
                  {"definition", agreement::definition(name)},
                  {"mean", mean},
                  {"n", n},
                  {"n_undefined", n_undef}};
    if (bootstrap) {
      entry["ci_low"] = lo;
      entry["ci_high"] = hi;
    }
    out_measures.push_back(entry);
  }

  json settings = {
      {"rank_key", options.abs ? "abs" : "signed"},
      {"k", options.k},
      {"k_rule",
       "k in (0,1): ceil(k * n_features) of each example; integer k >= 1: a count; clamped to "
       "[1, n_features]"},
      {"tie_break", options.tie_break},
      {"rank_match", options.dense_rank_match
                         ? "RA/SRA: same feature at position j and the same dense rank (OpenXAI)"
                         : "RA/SRA: same feature at position j (Krishna et al. 2022)"},
      {"top_k_tie_break",
       random_ties ? "decreasing key; ties in the example's seeded order (the metrics' tie stream, "
                     "seed " +
                         std::to_string(options.tie_seed) + "), the same for both methods"
                   : "decreasing key, ties by lower feature index (stable)"},
      {"sign", "sign(0) = 0; zero agrees only with zero; signs from the signed scores"},
      {"spearman_ranks", "average (fractional)"},
      {"rank_correlation_ranks", "dense, Pearson correlation"},
      {"pairwise_rank_agreement_ties", "tie counts as 'not above' (OpenXAI)"},
      {"feature_set", "features where the valid mask is true"},
      {"undefined",
       "NaN for a non-finite score, an empty feature set, fewer than 2 features or a constant key "
       "(correlations); excluded from the mean and counted"},
      {"aggregation", "mean over examples of the per-example value"},
      {"bootstrap", bootstrap ? json{{"ci_method", "percentile"},
                                     {"resamples", options.bootstrap_resamples},
                                     {"confidence", options.confidence},
                                     {"seed", options.seed},
                                     {"paired", "the same resampled examples for every cell"}}
                              : json(nullptr)}};
  return {{"methods", methods},
          {"n_examples", N},
          {"features_per_example",
           {{"min", N ? num(*std::min_element(n_features.begin(), n_features.end())) : json()},
            {"mean", num(stats::mean(n_features))},
            {"max", N ? num(*std::max_element(n_features.begin(), n_features.end())) : json()}}},
          {"settings", settings},
          {"measures", out_measures}};
}

namespace {

const char* kAgreementSchema = R"JSON({
  "measures": {"type": "array", "default": [], "description": "empty: all of spearman, kendall_tau_b, feature_agreement, rank_agreement, sign_agreement, signed_rank_agreement, rank_correlation, pairwise_rank_agreement"},
  "k": {"type": "number", "default": 0.25, "minimum": 0,
        "description": "top-k: a fraction in (0, 1) of each example's features (rounded up) or an integer count"},
  "abs": {"type": "boolean", "default": true, "description": "rank by |a| (signs still count for SA/SRA)"},
  "tie_break": {"type": "string", "default": "random", "enum": ["random", "index"],
                "description": "ties in the top-k orders: the example's seeded order (the metrics' default tie rule, same stream) or by feature index"},
  "rank_match": {"type": "string", "default": "position", "enum": ["position", "position_and_dense_rank"],
                 "description": "RA/SRA: the same feature at position j (Krishna et al. 2022), or also the same dense rank of |a| (OpenXAI metrics.py)"},
  "profile": {"type": "string", "enum": ["openxai"],
              "description": "openxai: OpenXAI metrics.py (AI4LIFE-GROUP/OpenXAI @a182886): k 0.25 (ceil), ranks of |a|, ties by index (numpy argsort: lower index first for n <= 16; unreproducible above), RA/SRA need equal dense ranks; explicit keys override"}
})JSON";

json resolve_agreement(json given, const std::string& path) {
  if (given.is_object() && given.value("profile", json()) == "openxai") {
    const json openxai = {{"k", 0.25},
                          {"abs", true},
                          {"tie_break", "index"},
                          {"rank_match", "position_and_dense_rank"}};
    for (const auto& [key, v] : openxai.items())
      if (!given.contains(key)) given[key] = v;
  }
  json resolved = resolve_params(json::parse(kAgreementSchema), given, path);
  const json& ms = resolved["measures"];
  const auto& known = agreement::measure_names();
  for (size_t i = 0; i < ms.size(); ++i)
    if (!ms[i].is_string() || std::find(known.begin(), known.end(), ms[i]) == known.end())
      throw Error(path + ".measures[" + std::to_string(i) + "]: expected one of " +
                  json(known).dump() + ", got " + describe_json(ms[i]));
  try {
    agreement::resolve_k(resolved["k"], 100);
  } catch (const Error& e) {
    throw Error(path + ".k: " + e.what());
  }
  return resolved;
}

class AgreementAnalysis : public Analysis {
 public:
  explicit AgreementAnalysis(json p) : p_(std::move(p)) {}

  std::vector<json> run(const AnalysisInput& in, Progress&) override {
    std::vector<std::string> names;
    std::vector<std::vector<at::Tensor>> scores;
    for (const auto& ex : in.explanations)
      if (ex.ok()) {
        names.push_back(ex.name);
        scores.push_back(ex.scores);
      }
    if (names.size() < 2) return {};
    std::vector<at::Tensor> valid;
    for (const auto& b : in.batches)
      valid.push_back(b.modality == Modality::kText ? word_starts(b.word_ids.to(at::kCPU))
                                                    : at::Tensor());
    AgreementOptions ao;
    ao.k = p_["k"];
    ao.abs = p_["abs"];
    ao.measures = p_["measures"].get<std::vector<std::string>>();
    ao.bootstrap_resamples = in.bootstrap_resamples;
    ao.confidence = in.confidence;
    ao.seed = in.context.seed;
    ao.tie_break = p_["tie_break"];
    ao.tie_seed = in.context.seed;
    ao.example_ids = in.ids;
    ao.dense_rank_match = p_["rank_match"] == "position_and_dense_rank";
    try {
      json m = agreement_matrices(names, scores, valid, ao);
      m["dataset"] = in.dataset;
      m["model"] = in.model_name;
      return {std::move(m)};
    } catch (...) {
      in.fail("agreement on " + in.model_name + "/" + in.dataset, in_flight_error());
      return {};
    }
  }

 private:
  json p_;
};

}  // namespace

AnalysisSpec agreement_analysis() {
  AnalysisSpec s;
  s.name = "agreement";
  s.description = "methods x methods agreement matrices with bootstrap CIs (METRICS.md §4)";
  s.params = json::parse(kAgreementSchema);
  s.resolve = resolve_agreement;
  s.create = [](const json& p) { return std::make_unique<AgreementAnalysis>(p); };
  return s;
}

}  // namespace attrib
