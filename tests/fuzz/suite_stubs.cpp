// Stand-ins for what the suite parser looks up but the suite fuzzer does not build (plugin
// loading, the metric families and analyses under suites/): a registry of a few plugins and small
// catalogues whose names and parameter keys cover the committed suites, so that those parse.
// Their schemas use every kind of parameter resolve_params knows.
#include "analysis.h"
#include "attrib/error.h"
#include "attrib/params.h"
#include "metric.h"
#include "registry.h"

namespace attrib {

using nlohmann::json;

namespace {

const char* kModelParams = R"JSON({
  "seed": {"type": "integer", "default": 0, "minimum": 0},
  "hidden": {"type": "integer", "default": 64, "minimum": 1, "maximum": 4096},
  "d_model": {"type": "integer", "default": 32, "minimum": 1},
  "n_heads": {"type": "integer", "default": 2, "minimum": 1},
  "n_layers": {"type": "integer", "default": 2, "minimum": 1},
  "d_ff": {"type": "integer", "default": 64, "minimum": 1},
  "vocab_size": {"type": "integer", "required": true, "minimum": 3},
  "dropout": {"type": "number", "default": 0.1, "minimum": 0, "maximum": 0.9}
})JSON";

const char* kMethodParams = R"JSON({
  "n_steps": {"type": "integer", "default": 50, "minimum": 1, "maximum": 100000},
  "method": {"type": "string", "default": "riemann_trapezoid", "enum": ["riemann_trapezoid", "gausslegendre"]},
  "baseline": {"type": "string", "default": "zero", "enum": ["zero", "pad", "mask", "mean"]},
  "window": {"type": "integer", "default": 1, "minimum": 1},
  "token": {"type": "string", "default": "mask"},
  "n_samples": {"type": "integer", "default": 100, "minimum": 1},
  "n_permutations": {"type": "integer", "default": 10, "minimum": 1},
  "abs": {"type": "boolean", "default": false},
  "sigmas": {"type": "array", "default": [0.1, 0.2]}
})JSON";

const char* kMetricParams = R"JSON({
  "substrate": {"type": "string", "default": "mask", "enum": ["mask", "pad", "mean", "blur", "zero"]},
  "output": {"type": "string", "default": "probability", "enum": ["probability", "logit", "log_probability"]},
  "auc": {"type": "string", "default": "trapezoid", "enum": ["trapezoid", "riemann"]},
  "step_fraction": {"type": "number", "default": 0.1, "minimum": 0.001, "maximum": 1},
  "k_fraction": {"type": "number", "default": 0.25, "minimum": 0, "maximum": 1},
  "noise_std": {"type": "number", "default": 0.1, "minimum": 0},
  "rank_by": {"type": "string", "default": "value", "enum": ["value", "abs"]},
  "fractions": {"type": "array", "default": [0.01, 0.05, 0.1, 0.2, 0.5]}
})JSON";

const char* kAnalysisParams = R"JSON({
  "tests": {"type": "array", "default": ["cascading"]},
  "similarity": {"type": "array", "default": ["spearman_abs"]},
  "max_examples": {"type": "integer", "default": 32, "minimum": 1},
  "k": {"type": "number", "default": 0.25, "minimum": 0, "maximum": 1},
  "abs": {"type": "boolean", "default": true},
  "batch_sizes": {"type": "array", "default": [32]},
  "repetitions": {"type": "integer", "default": 5, "minimum": 1, "maximum": 1000},
  "warmup": {"type": "integer", "default": 1, "minimum": 0},
  "examples": {"type": "integer", "default": 32, "minimum": 1}
})JSON";

PluginInfo plugin(const std::string& name, uint32_t kind, const char* params) {
  PluginInfo p;
  p.name = name;
  p.kind = kind;
  p.metadata = {{"params", json::parse(params)}};
  return p;
}

}  // namespace

struct Registry::Impl {
  std::vector<PluginInfo> plugins;
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {
  for (const char* m : {"text_transformer", "image_cnn", "tabular_mlp", "text_cnn"})
    impl_->plugins.push_back(plugin(m, ATTRIB_KIND_MODEL, kModelParams));
  for (const char* m :
       {"random", "saliency", "input_x_gradient", "integrated_gradients", "occlusion",
        "attention_rollout", "grad_x_attention", "input_independent", "deeplift", "lrp",
        "guided_backprop", "kernel_shap", "lime", "shapley_sampling", "smoothgrad", "precomputed"})
    impl_->plugins.push_back(plugin(m, ATTRIB_KIND_METHOD, kMethodParams));
}

Registry::~Registry() = default;

const PluginInfo* Registry::find(const std::string& name, uint32_t kind) const {
  for (const PluginInfo& p : impl_->plugins)
    if (p.name == name && p.kind == kind) return &p;
  return nullptr;
}

std::shared_ptr<AttributionMethod> Registry::create_method(const std::string& name, const json&,
                                                           const std::string&) const {
  throw Error("unknown method plugin '" + name + "' (stand-in registry)");
}

std::shared_ptr<ModelAdapter> Registry::create_model(const std::string& name, const json&,
                                                     const std::string&) const {
  throw Error("unknown model plugin '" + name + "' (stand-in registry)");
}

json Registry::resolve(const std::string& name, uint32_t kind, const json& params,
                       const std::string& path) const {
  const PluginInfo* p = find(name, kind);
  if (!p) throw Error(path + ": unknown plugin '" + name + "'");
  return resolve_params(p->metadata.value("params", json::object()), params, path);
}

const std::vector<MetricSpec>& metric_catalogue() {
  static const std::vector<MetricSpec> catalogue = [] {
    std::vector<MetricSpec> all;
    for (const char* name :
         {"deletion", "insertion", "token_f1", "auprc", "sparseness", "complexity", "pgi", "pgu",
          "faithfulness_correlation", "roc_auc", "top_k_intersection", "relevance_rank_accuracy",
          "comprehensiveness", "sufficiency"}) {
      MetricSpec m;
      m.name = name;
      m.params = json::parse(kMetricParams);
      m.profiles = {{"eraser", "stand-in", {{"substrate", "pad"}, {"auc", "riemann"}}},
                    {"quantus", "stand-in", {{"k_fraction", 0.1}}}};
      all.push_back(std::move(m));
    }
    return all;
  }();
  return catalogue;
}

const std::vector<AnalysisSpec>& analysis_catalogue() {
  static const std::vector<AnalysisSpec> catalogue = [] {
    std::vector<AnalysisSpec> all;
    for (const char* name : {"agreement", "randomisation", "throughput"}) {
      AnalysisSpec a;
      a.name = name;
      a.params = json::parse(kAnalysisParams);
      a.resolve = [schema = a.params](const json& given, const std::string& path) {
        return resolve_params(schema, given, path);
      };
      all.push_back(std::move(a));
    }
    return all;
  }();
  return catalogue;
}

}  // namespace attrib
