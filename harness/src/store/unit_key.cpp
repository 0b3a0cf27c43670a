#include "store/unit_key.h"

#include "attrib/hash.h"
#include "train.h"

namespace attrib {

using nlohmann::json;

namespace {

/// Hash of a tensor's dtype, shape and bytes (CPU copy).
std::string tensor_hash(const at::Tensor& t) {
  Fnv1a h;
  if (!t.defined()) return h.hex();
  const at::Tensor c = t.to(at::kCPU).contiguous();
  h.add(std::string(c.dtype().name()));
  for (int64_t d : c.sizes()) h.mix(static_cast<uint64_t>(d));
  h.add(c.data_ptr(), c.nbytes());
  return h.hex();
}

/// The collated batch as the method sees it: tokenisation, vocabulary, max_len and padding
/// change these tensors without changing the dataset's content.
json batch_identity(const Batch& b) {
  return {{"ids", b.ids},
          {"inputs", tensor_hash(b.inputs)},
          {"attention_mask", tensor_hash(b.attention_mask)},
          {"word_ids", tensor_hash(b.word_ids)},
          {"offsets", tensor_hash(b.offsets)}};
}

}  // namespace

std::string unit_key(const json& identity) {
  const std::string text = identity.dump();  // nlohmann's object keys are sorted
  Fnv1a a(kFnv1aBasis), b(kFnv1aLegacyBasis);
  a.add(text);
  b.add(text);
  return a.hex() + b.hex();
}

std::string model_content_hash(ModelAdapter& model, const json& record) {
  if (record.contains("train") && record["train"].contains("checkpoint_fnv1a"))
    return "checkpoint:" + record["train"]["checkpoint_fnv1a"].get<std::string>();
  if (!model.info().artifact_hash.empty()) return "file:" + model.info().artifact_hash;
  try {
    const std::string bytes = checkpoint_bytes(model);
    Fnv1a h;
    h.add(bytes);
    return "checkpoint:" + h.hex();
  } catch (...) {
    // A model that cannot save itself is defined by its plugin and parameters alone.
    Fnv1a h;
    h.add(json({record.value("plugin", json()), record.value("plugin_version", json()),
                record.value("params", json())})
              .dump());
    return "params:" + h.hex();
  }
}

json explanation_identity(const PreparedModel& p, size_t bi, const MethodConfig& m,
                          const PluginInfo& plugin, const SuiteConfig& suite) {
  json id = {{"unit", "explanation"},
             {"dataset_hash", p.dataset->hash},
             {"split", p.dataset_config->split},
             {"batch", batch_identity(p.batches[bi])},
             {"model_hash", p.model_hash},
             {"method", {{"plugin", m.plugin}, {"version", plugin.version}, {"params", m.params}}},
             {"target", suite.target},
             {"targets", tensor_hash(p.targets[bi])},
             {"token_reduction", suite.token_reduction},
             {"seed", suite.seed},
             {"batch_cap", suite.batch_cap},
             {"device", suite.device}};
  // Keys of runs with rows per call = batch_cap stay as they were.
  if (p.plan.measured) id["batch_rows"] = p.plan.rows_for(plugin);
  return id;
}

json score_identity(const std::string& explanation_key, const MetricConfig& mt,
                    const SuiteConfig& suite, const BatchPlan& plan) {
  // Metrics are compiled into attrib: their version is attrib's.
  json id = {{"unit", "score"},
             {"explanation", explanation_key},
             {"metric", {{"name", mt.metric}, {"version", ATTRIB_VERSION}, {"params", mt.params}}},
             {"seed", suite.seed},
             {"batch_cap", suite.batch_cap},
             {"device", suite.device}};
  if (plan.measured) id["batch_rows"] = plan.forward_rows;
  return id;
}

json analysis_identity(const PreparedModel& p, const AnalysisConfig& a,
                       const std::vector<MethodExplanations>& explained, const SuiteConfig& suite) {
  json methods = json::array();
  for (size_t k = 0; k < explained.size(); ++k) {
    methods.push_back({{"name", explained[k].name},
                       {"plugin", suite.methods[k].plugin},
                       {"params", suite.methods[k].params},
                       {"units", explained[k].unit_keys},
                       {"error", explained[k].error}});
    // Timings through a worker process are another measurement (only named when true, so that
    // the keys of runs without isolation stay as they were).
    if (explained[k].isolated) methods.back()["isolated"] = true;
  }
  json batches = json::array();
  for (const Batch& b : p.batches) batches.push_back(batch_identity(b));
  json targets = json::array();
  for (const at::Tensor& t : p.targets) targets.push_back(tensor_hash(t));
  json id = {{"unit", "analysis"},
             {"analysis", {{"name", a.name}, {"version", ATTRIB_VERSION}, {"params", a.params}}},
             {"dataset_hash", p.dataset->hash},
             {"split", p.dataset_config->split},
             {"batches", batches},
             {"targets", targets},
             {"model_hash", p.model_hash},
             {"model", p.config->name},
             {"dataset", p.dataset->name},
             {"methods", methods},
             {"train", p.config->train},
             {"token_reduction", suite.token_reduction},
             {"seed", suite.seed},
             {"batch_cap", suite.batch_cap},
             {"device", suite.device},
             {"statistics",
              {{"bootstrap_resamples", suite.stats.bootstrap_resamples},
               {"confidence", suite.stats.confidence}}}};
  if (p.plan.measured)
    id["batch_rows"] = {{"forward", p.plan.forward_rows}, {"gradient", p.plan.gradient_rows}};
  return id;
}

}  // namespace attrib
