#include "randomisation/randomisation.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "attrib/error.h"
#include "attrib/params.h"
#include "attrib/random.h"
#include "common/agreement_measures.h"
#include "common/stats.h"

namespace attrib {

using nlohmann::json;
using namespace stats;  // NOLINT: the statistics helpers

json randomisation_schema() {
  return json::parse(R"JSON({
    "tests": {"type": "array", "default": ["cascading", "independent", "random_logit"],
              "description": "cascading | independent | random_logit | data (retrains the model on permuted labels)"},
    "similarity": {"type": "array", "default": ["spearman_abs", "spearman", "top_k_intersection"],
                   "description": "spearman_abs | spearman | top_k_intersection | ssim (image-shaped dense inputs)"},
    "top_k": {"type": "number", "default": 0.2, "minimum": 0.01, "maximum": 0.99,
              "description": "top-k intersection: k as a fraction of the example's features"},
    "max_examples": {"type": "integer", "default": 64, "minimum": 2,
                     "description": "explained examples that are re-explained per randomised model"},
    "reinit": {"type": "string", "default": "fan_in_uniform", "enum": ["fan_in_uniform", "gaussian"]},
    "fail_threshold": {"type": "number", "default": 0.5, "minimum": -1.0, "maximum": 1.0,
                       "description": "a method fails a test when the upper CI bound of its decisive similarity at the fully randomised end point is >= this"},
    "decisive": {"type": "string", "default": "spearman_abs",
                 "enum": ["spearman_abs", "spearman", "top_k_intersection"]}
  })JSON");
}

RandomisationOptions randomisation_options(const json& r, const std::string& path) {
  auto strings = [&](const char* key, const std::set<std::string>& allowed) {
    std::vector<std::string> out;
    const json& a = r.at(key);
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string p = path + "." + key + "[" + std::to_string(i) + "]";
      if (!a[i].is_string() || !allowed.count(a[i].get<std::string>())) {
        std::string names;
        for (const auto& s : allowed) names += (names.empty() ? "" : ", ") + s;
        throw Error(p + ": expected one of " + names + ", got " + describe_json(a[i]));
      }
      out.push_back(a[i]);
    }
    if (out.empty()) throw Error(path + "." + key + ": expected a non-empty array, got []");
    return out;
  };
  RandomisationOptions o;
  o.tests = strings("tests", {"cascading", "independent", "random_logit", "data"});
  o.similarity = strings("similarity", {"spearman_abs", "spearman", "top_k_intersection", "ssim"});
  o.top_k = r.at("top_k");
  o.max_examples = r.at("max_examples");
  o.reinit = r.at("reinit");
  o.fail_threshold = r.at("fail_threshold");
  o.decisive = r.at("decisive");
  if (std::find(o.similarity.begin(), o.similarity.end(), o.decisive) == o.similarity.end())
    o.similarity.push_back(o.decisive);
  return o;
}

void reinitialise_layer(const ParamLayer& layer, const std::string& scheme, uint64_t seed) {
  at::NoGradGuard no_grad;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  double bound = 0;
  for (const auto& [name, t] : layer.parameters)
    if (t.dim() >= 2 && t.size(0) > 0) {
      bound = 1.0 / std::sqrt(static_cast<double>(t.numel() / t.size(0)));
      break;
    }
  for (const auto& [name, t] : layer.parameters) {
    at::Tensor fresh;
    const auto opts = at::TensorOptions().dtype(at::kFloat);
    if (scheme == "gaussian") {
      double sd = t.numel() > 1 ? t.to(at::kDouble).std().item<double>() : 0.0;
      if (!(sd > 0)) sd = 1.0;
      fresh = at::normal(0.0, sd, t.sizes(), gen, opts);
    } else {
      const double b =
          bound > 0 ? bound : 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(1, t.numel())));
      fresh = at::empty(t.sizes(), opts).uniform_(-b, b, gen);
    }
    at::Tensor target = t;
    target.copy_(fresh.to(t.device(), t.scalar_type()));
  }
}

double ssim_2d(const at::Tensor& x_in, const at::Tensor& y_in) {
  auto normalised = [](const at::Tensor& t) {
    const double lo = t.min().item<double>(), hi = t.max().item<double>();
    return hi > lo ? (t - lo) / (hi - lo) : at::zeros_like(t);
  };
  const at::Tensor x = normalised(x_in.to(at::kDouble)), y = normalised(y_in.to(at::kDouble));
  const int64_t H = x.size(0), W = x.size(1);
  auto gauss = [](int64_t k) {
    const at::Tensor r = at::arange(k, at::kDouble) - (k - 1) / 2.0;
    const at::Tensor g = at::exp(-r * r / (2 * 1.5 * 1.5));
    return g / g.sum();
  };
  const int64_t kh = std::min<int64_t>(11, H), kw = std::min<int64_t>(11, W);
  const at::Tensor w = at::outer(gauss(kh), gauss(kw)).view({1, 1, kh, kw});
  auto filt = [&](const at::Tensor& t) { return at::conv2d(t.view({1, 1, H, W}), w); };
  const at::Tensor mx = filt(x), my = filt(y);
  const at::Tensor sxx = filt(x * x) - mx * mx, syy = filt(y * y) - my * my,
                   sxy = filt(x * y) - mx * my;
  const double c1 = 1e-4, c2 = 9e-4;
  const at::Tensor map =
      ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2));
  return map.mean().item<double>();
}

std::vector<double> map_similarity(const at::Tensor& a, const at::Tensor& b,
                                   const at::Tensor& valid, const std::string& measure,
                                   double top_k, const std::vector<int64_t>& shape) {
  if (measure == "ssim") {
    ATTRIB_CHECK(shape.size() == 2 || shape.size() == 3,
                 "ssim: expected image-shaped attributions ([C, H, W] or [H, W] per example), "
                 "got feature shape [",
                 at::IntArrayRef(shape), "]");
    const int64_t H = shape[shape.size() - 2], W = shape.back();
    ATTRIB_CHECK(a.sizes() == b.sizes() && a.dim() == 2 &&
                     a.size(1) == H * W * (shape.size() == 3 ? shape[0] : 1),
                 "ssim: expected [B, ", at::IntArrayRef(shape), "] maps, got ", a.sizes());
    std::vector<double> out;
    for (int64_t i = 0; i < a.size(0); ++i) {
      // Channels summed into one 2-D map, as the per-pixel relevance Adebayo et al. compare.
      const at::Tensor x = a[i].to(at::kCPU, at::kDouble).view({-1, H, W}).sum(0);
      const at::Tensor y = b[i].to(at::kCPU, at::kDouble).view({-1, H, W}).sum(0);
      out.push_back(ssim_2d(x, y));
    }
    return out;
  }
  ATTRIB_CHECK(a.sizes() == b.sizes() && a.sizes() == valid.sizes() && a.dim() == 2,
               "map_similarity: expected equal [B, n] shapes, got ", a.sizes(), ", ", b.sizes(),
               " and ", valid.sizes());
  const at::Tensor A = a.to(at::kCPU, at::kDouble).contiguous();
  const at::Tensor Bt = b.to(at::kCPU, at::kDouble).contiguous();
  const at::Tensor V = valid.to(at::kCPU, at::kBool).contiguous();
  std::vector<double> out;
  for (int64_t i = 0; i < A.size(0); ++i) {
    std::vector<double> x, y;
    const double* pa = A[i].data_ptr<double>();
    const double* pb = Bt[i].data_ptr<double>();
    const bool* pv = V[i].data_ptr<bool>();
    for (int64_t j = 0; j < A.size(1); ++j)
      if (pv[j]) {
        x.push_back(pa[j]);
        y.push_back(pb[j]);
      }
    if (x.size() < 2) {
      out.push_back(std::nan(""));
      continue;
    }
    if (measure == "spearman" || measure == "spearman_abs") {
      out.push_back(agreement::spearman(x, y, measure == "spearman_abs"));
    } else if (measure == "top_k_intersection") {
      // |top_k(|a|) ∩ top_k(|b|)| / k is Krishna et al.'s feature agreement.
      out.push_back(
          agreement::feature_agreement(x, y, agreement::resolve_k(top_k, x.size()), true));
    } else {
      throw Error("map_similarity: unknown measure '" + measure + "'");
    }
  }
  return out;
}

namespace {

json summarise(const std::vector<double>& scores, int resamples, double confidence, uint64_t seed) {
  const MeanCI m =
      bootstrap_mean_ci(scores, BootstrapIndices(scores.size(), resamples, seed), confidence);
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  return {{"mean", num(m.mean)},
          {"ci_low", num(m.ci.low)},
          {"ci_high", num(m.ci.high)},
          {"n", m.n},
          {"n_undefined", m.n_undefined}};
}

std::vector<double> similarities(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b,
                                 const std::vector<at::Tensor>& valid, const std::string& measure,
                                 double top_k, const std::vector<int64_t>& shape) {
  std::vector<double> out;
  for (size_t i = 0; i < a.size(); ++i) {
    auto s = map_similarity(a[i], b[i], valid[i], measure, top_k, shape);
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

}  // namespace

json run_randomisation(const RandomisationOptions& o, const RandomisationInput& in, int resamples,
                       double confidence) {
  json entries = json::array();
  const json choices = {{"top_k", o.top_k},
                        {"reinit", o.reinit},
                        {"max_examples", o.max_examples},
                        {"fail_threshold", o.fail_threshold},
                        {"decisive", o.decisive},
                        {"seed", in.seed},
                        {"target", "kept fixed to the originally explained class"}};
  auto entry = [&](const std::string& test) {
    json e = in.where;
    e["test"] = test;
    e["choices"] = choices;
    return e;
  };
  // Per layer (index into ordered layers, output first) -> per similarity scores.
  auto verdict = [&](json& e, const json& end_point, const std::string& measure) {
    const json& hi = end_point["ci_high"];
    e["passes"] = hi.is_number() ? json(hi.get<double>() < o.fail_threshold) : json(nullptr);
    e["verdict_rule"] =
        "passes when the upper CI bound of " + measure + " < " + std::to_string(o.fail_threshold);
  };

  for (const auto& test : o.tests) {
    try {
      if (test == "random_logit") {
        const int64_t C = in.model.info().num_classes;
        ATTRIB_CHECK(C >= 2, "random_logit: expected a model with >= 2 classes, got ", C);
        std::vector<at::Tensor> other;
        for (size_t bi = 0; bi < in.batches.size(); ++bi) {
          const at::Tensor t = in.targets[bi].to(at::kCPU, at::kLong).contiguous();
          at::Tensor y2 = at::empty_like(t);
          for (int64_t i = 0; i < t.size(0); ++i) {
            // y' uniform over the C - 1 other classes, from the example's own stream.
            at::Generator g = example_generator(in.seed, in.batches[bi].ids[i], 0x72616e646c6f67);
            const int64_t r = at::randint(C - 1, {1}, g, at::kLong).item<int64_t>();
            const int64_t y = t[i].item<int64_t>();
            y2[i] = r >= y ? r + 1 : r;
          }
          other.push_back(y2.to(in.targets[bi].device()));
        }
        const auto scores = in.explain(in.model, other);
        for (const auto& m : o.similarity) {
          json e = entry(test);
          e["similarity"] = m;
          e["score"] =
              summarise(similarities(in.original, scores, in.valid, m, o.top_k, in.feature_shape),
                        resamples, confidence, in.seed);
          // Quantus compares the two classes' maps without abs: a map that flips sign for the
          // other class is class-sensitive, which abs would hide (binary tasks especially).
          const std::string rl_decisive = o.decisive == "spearman_abs" ? "spearman" : o.decisive;
          if (m == rl_decisive) verdict(e, e["score"], rl_decisive);
          entries.push_back(std::move(e));
        }
        continue;
      }
      if (test == "data") {
        if (!in.data_model)
          throw Error("data randomisation: " + (in.data_error.empty()
                                                    ? std::string("no permuted-label model")
                                                    : in.data_error));
        const auto scores = in.explain(*in.data_model, in.targets);
        for (const auto& m : o.similarity) {
          json e = entry(test);
          e["similarity"] = m;
          e["permuted_label_model"] = in.data_record;
          e["score"] =
              summarise(similarities(in.original, scores, in.valid, m, o.top_k, in.feature_shape),
                        resamples, confidence, in.seed);
          if (m == o.decisive) verdict(e, e["score"], o.decisive);
          entries.push_back(std::move(e));
        }
        continue;
      }
      // Model-parameter randomisation: layers from the output down.
      const size_t L = in.model.clone()->layers().size();
      ATTRIB_CHECK(L > 0, "model '", in.model.info().name, "' exposes no parameterised layers");
      std::vector<std::vector<std::vector<double>>> per_layer(o.similarity.size());
      std::vector<std::string> layer_names;
      std::unique_ptr<ModelAdapter> cascade = test == "cascading" ? in.model.clone() : nullptr;
      for (size_t j = 0; j < L; ++j) {
        const size_t li = L - 1 - j;  // output layer first
        std::unique_ptr<ModelAdapter> fresh;
        ModelAdapter* m = nullptr;
        if (cascade) {
          m = cascade.get();
        } else {
          fresh = in.model.clone();
          m = fresh.get();
        }
        const auto layers = m->layers();
        reinitialise_layer(layers[li], o.reinit, stream_key(in.seed, layers[li].name, 0x6d707274));
        layer_names.push_back(layers[li].name);
        const auto scores = in.explain(*m, in.targets);
        for (size_t s = 0; s < o.similarity.size(); ++s)
          per_layer[s].push_back(similarities(in.original, scores, in.valid, o.similarity[s],
                                              o.top_k, in.feature_shape));
      }
      for (size_t s = 0; s < o.similarity.size(); ++s) {
        json e = entry(test);
        e["similarity"] = o.similarity[s];
        e["order"] = "output layer first";
        json layers = json::array();
        std::vector<double> layer_means;
        for (size_t j = 0; j < L; ++j) {
          json l = summarise(per_layer[s][j], resamples, confidence, in.seed);
          l["layer"] = layer_names[j];
          l["randomised"] = test == "cascading" ? json(j + 1) : json(1);
          layer_means.push_back(l["mean"].is_number() ? l["mean"].get<double>() : std::nan(""));
          layers.push_back(std::move(l));
        }
        e["layers"] = layers;
        const double mol = mean(layer_means);
        e["summary"] = {{"mean_over_layers", std::isfinite(mol) ? json(mol) : json(nullptr)},
                        {"end_point", test == "cascading" ? layers.back() : json(nullptr)}};
        // The verdict is taken at the fully randomised end of the cascade; independent layers
        // are reported per layer (randomising one late residual block may rightly change little).
        if (o.similarity[s] == o.decisive && test == "cascading")
          verdict(e, layers.back(), o.decisive);
        entries.push_back(std::move(e));
      }
    } catch (const std::exception& ex) {
      json e = entry(test);
      std::string what = ex.what();
      e["error"] = what.substr(0, what.find('\n'));
      entries.push_back(std::move(e));
    }
  }
  return entries;
}

}  // namespace attrib
