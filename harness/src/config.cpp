#include "config.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "analysis.h"
#include "attrib/error.h"
#include "attrib/params.h"
#include "attrib/user_input.h"
#include "data/dataset.h"
#include "metric.h"

namespace attrib {

using nlohmann::json;

namespace {

const char* kTopSchema = R"JSON({
  "schema_version": {"type": "integer", "required": true, "minimum": 1, "maximum": 1},
  "name": {"type": "string", "default": "suite"},
  "description": {"type": "string", "default": ""},
  "seed": {"type": "integer", "default": 0, "minimum": 0},
  "device": {"type": "string", "default": "cpu", "enum": ["cpu", "cuda"]},
  "batch_cap": {"type": "integer", "default": 256, "minimum": 1,
                "description": "most rows per model forward/backward"},
  "batch_rows": {"type": "string", "default": "cap", "enum": ["cap", "measured"],
                 "description": "rows per model call: cap = batch_cap; measured = the model's fastest rows per call (forward alone, forward+backward) on this device and threads, at most batch_cap, measured once and cached"},
  "explain_batch": {"type": "integer", "default": 32, "minimum": 1,
                    "description": "examples per explain call"},
  "threads": {"type": "integer", "default": 0, "minimum": 0, "description": "0 = all cores"},
  "target": {"type": "string", "default": "predicted", "enum": ["predicted", "gold"],
             "description": "class the explanations explain"},
  "token_reduction": {"type": "string", "default": "sum", "enum": ["sum", "mean", "l2", "l1", "max_abs"],
                      "description": "embedding-dimension reduction of text attributions"},
  "statistics": {"type": "object", "default": {}},
  "randomisation": {"type": "object", "description": "sanity checks (absent: not run)"},
  "agreement": {"type": "object", "description": "inter-method agreement (absent: not run)"},
  "throughput": {"type": "object", "description": "timed workloads (absent: not run)"},
  "datasets": {"type": "array", "required": true},
  "models": {"type": "array", "required": true},
  "methods": {"type": "array", "required": true},
  "metrics": {"type": "array", "required": true}
})JSON";

const char* kStatsSchema = R"JSON({
  "bootstrap_resamples": {"type": "integer", "default": 2000, "minimum": 100, "maximum": 1000000},
  "confidence": {"type": "number", "default": 0.95, "minimum": 0.5, "maximum": 0.999}
})JSON";

const char* kDatasetSchema = R"JSON({
  "name": {"type": "string", "required": true},
  "spec": {"type": "string", "required": true},
  "params": {"type": "object", "default": {}},
  "split": {"type": "string", "default": "test", "enum": ["train", "val", "test"]},
  "max_examples": {"type": "integer", "default": 0, "minimum": 0},
  "vocab_min_freq": {"type": "integer", "default": 2, "minimum": 1,
                     "description": "word: minimum count of a vocabulary word; wordpiece: minimum count of a merged pair"},
  "max_len": {"type": "integer", "default": 128, "minimum": 1,
              "description": "most tokens per example (subword tokens with wordpiece), cut at a word boundary"},
  "tokenizer": {"type": "string", "default": "word", "enum": ["word", "wordpiece"],
                "description": "word: one token per whitespace word; wordpiece: subword pieces of a WordPiece vocabulary trained on the model's training split (metrics still work on words)"},
  "vocab_size": {"type": "integer", "default": 8000, "minimum": 4, "maximum": 10000000,
                 "description": "wordpiece: target vocabulary size, special tokens included"}
})JSON";

const char* kModelSchema = R"JSON({
  "name": {"type": "string", "required": true},
  "plugin": {"type": "string", "required": true},
  "params": {"type": "object", "default": {}},
  "train": {"type": "object"}
})JSON";

const char* kTrainSchema = R"JSON({
  "epochs": {"type": "integer", "default": 10, "minimum": 1, "maximum": 100000},
  "batch_size": {"type": "integer", "default": 64, "minimum": 1},
  "learning_rate": {"type": "number", "default": 0.001, "minimum": 0},
  "weight_decay": {"type": "number", "default": 0.0, "minimum": 0},
  "patience": {"type": "integer", "default": 3, "minimum": 1},
  "seed": {"type": "integer", "default": 0, "minimum": 0},
  "train_split": {"type": "string", "default": "train", "enum": ["train", "val", "test"],
                  "description": "split the model is fitted on"},
  "val_split": {"type": "string", "default": "val", "enum": ["train", "val", "test"],
                "description": "split for early stopping (ignored when val_fraction > 0)"},
  "val_fraction": {"type": "number", "default": 0.0, "minimum": 0.0, "maximum": 0.9,
                   "description": "> 0: carve this seeded fraction of train_split off for early stopping"}
})JSON";

const char* kMethodSchema = R"JSON({
  "name": {"type": "string"},
  "plugin": {"type": "string", "required": true},
  "params": {"type": "object", "default": {}}
})JSON";

const char* kMetricSchema = R"JSON({
  "name": {"type": "string"},
  "metric": {"type": "string", "required": true},
  "profile": {"type": "string"},
  "params": {"type": "object", "default": {}}
})JSON";

// Schema with "required" dropped: model params get dataset-derived values later.
json optional_schema(json schema) {
  for (auto& [k, v] : schema.items()) v.erase("required");
  return schema;
}

const json& array_at(const json& doc, const char* key) {
  const json& a = doc.at(key);
  if (a.empty()) throw Error(std::string(key) + ": expected a non-empty array, got []");
  return a;
}

void unique_name(std::set<std::string>& seen, const std::string& name, const std::string& path) {
  if (!seen.insert(name).second)
    throw Error(path + ".name: duplicate name \"" + name + "\" (names must be unique)");
}

// The plugin `name` of `kind`; the registry's own error (which lists the known names) otherwise.
const PluginInfo& require_plugin(const Registry& registry, const std::string& name, uint32_t kind,
                                 const std::string& path) {
  if (const PluginInfo* p = registry.find(name, kind)) return *p;
  try {
    if (kind == ATTRIB_KIND_MODEL)
      registry.create_model(name, json::object());
    else
      registry.create_method(name, json::object());
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  throw Error(path + ": no " + (kind == ATTRIB_KIND_MODEL ? "model" : "method") +
              " plugin named \"" + name + "\"");
}

}  // namespace

SuiteConfig parse_suite(const json& doc, const Registry& registry) {
  if (!doc.is_object()) throw Error("suite: expected a JSON object, got " + describe_json(doc));
  if (doc.contains("schema_version") && doc["schema_version"].is_number_integer() &&
      doc["schema_version"].get<int64_t>() != kSuiteSchemaVersion)
    throw Error("schema_version: this attrib reads suite schema " +
                std::to_string(kSuiteSchemaVersion) + ", got " + doc["schema_version"].dump());
  const json top = resolve_params(json::parse(kTopSchema), doc, "suite");
  SuiteConfig c;
  c.name = top["name"];
  // The name becomes a folder name (results/<name>-<time>-seed<N>): no separators, no "..".
  if (!is_safe_path_component(c.name))
    throw Error(std::string("name: expected ") + kSafePathComponentRule + ", got " +
                describe_json(top["name"]));
  c.description = top["description"];
  c.seed = top["seed"];
  c.device = top["device"];
  c.batch_cap = top["batch_cap"];
  c.batch_rows = top["batch_rows"];
  c.explain_batch = top["explain_batch"];
  c.threads = top["threads"];
  c.target = top["target"];
  c.token_reduction = top["token_reduction"];
  json resolved = top;

  const json stats = resolve_params(json::parse(kStatsSchema), top["statistics"], "statistics");
  c.stats.bootstrap_resamples = stats["bootstrap_resamples"];
  c.stats.confidence = stats["confidence"];
  c.stats.seed = c.seed;
  resolved["statistics"] = stats;

  for (const AnalysisSpec& spec : analysis_catalogue())
    if (top.contains(spec.name)) {
      c.analyses.push_back({spec.name, spec.resolve(top[spec.name], spec.name)});
      resolved[spec.name] = c.analyses.back().params;
    }

  std::set<std::string> names;
  resolved["datasets"] = json::array();
  const json& datasets = array_at(top, "datasets");
  for (size_t i = 0; i < datasets.size(); ++i) {
    const std::string path = "datasets[" + std::to_string(i) + "]";
    json d = resolve_params(json::parse(kDatasetSchema), datasets[i], path);
    DatasetConfig dc;
    dc.name = d["name"];
    dc.spec = d["spec"];
    unique_name(names, dc.name, path);
    json schema;
    try {
      schema = dataset_params_schema(dc.spec);
    } catch (const Error& e) {
      throw Error(path + ".spec: " + e.what());
    }
    dc.params = resolve_params(schema, d["params"], path + ".params");
    dc.split = d["split"];
    dc.max_examples = d["max_examples"];
    dc.vocab_min_freq = d["vocab_min_freq"];
    dc.max_len = d["max_len"];
    dc.tokenizer = d["tokenizer"];
    dc.vocab_size = d["vocab_size"];
    d["params"] = dc.params;
    resolved["datasets"].push_back(d);
    c.datasets.push_back(std::move(dc));
  }

  names.clear();
  resolved["models"] = json::array();
  const json& models = array_at(top, "models");
  for (size_t i = 0; i < models.size(); ++i) {
    const std::string path = "models[" + std::to_string(i) + "]";
    json m = resolve_params(json::parse(kModelSchema), models[i], path);
    ModelConfig mc;
    mc.name = m["name"];
    mc.plugin = m["plugin"];
    unique_name(names, mc.name, path);
    const PluginInfo& p = require_plugin(registry, mc.plugin, ATTRIB_KIND_MODEL, path + ".plugin");
    resolve_params(optional_schema(p.metadata.value("params", json::object())), m["params"],
                   path + ".params");
    mc.params = m["params"];
    if (m.contains("train")) {
      mc.train = resolve_params(json::parse(kTrainSchema), m["train"], path + ".train");
      m["train"] = mc.train;
    }
    resolved["models"].push_back(m);
    c.models.push_back(std::move(mc));
  }

  names.clear();
  resolved["methods"] = json::array();
  const json& methods = array_at(top, "methods");
  for (size_t i = 0; i < methods.size(); ++i) {
    const std::string path = "methods[" + std::to_string(i) + "]";
    json m = resolve_params(json::parse(kMethodSchema), methods[i], path);
    MethodConfig mc;
    mc.plugin = m["plugin"];
    mc.name = m.value("name", mc.plugin);
    unique_name(names, mc.name, path);
    require_plugin(registry, mc.plugin, ATTRIB_KIND_METHOD, path + ".plugin");
    mc.params = registry.resolve(mc.plugin, ATTRIB_KIND_METHOD, m["params"], path + ".params");
    m["name"] = mc.name;
    m["params"] = mc.params;
    resolved["methods"].push_back(m);
    c.methods.push_back(std::move(mc));
  }

  names.clear();
  resolved["metrics"] = json::array();
  const json& metrics = array_at(top, "metrics");
  for (size_t i = 0; i < metrics.size(); ++i) {
    const std::string path = "metrics[" + std::to_string(i) + "]";
    json m = resolve_params(json::parse(kMetricSchema), metrics[i], path);
    MetricConfig mc;
    mc.metric = m["metric"];
    mc.name = m.value("name", mc.metric);
    unique_name(names, mc.name, path);
    const MetricSpec* spec = nullptr;
    try {
      spec = &find_metric(mc.metric);
    } catch (const Error& e) {
      throw Error(path + ".metric: " + e.what());
    }
    // A profile supplies a reference implementation's settings; explicit params override it.
    json given = json::object();
    if (m.contains("profile")) {
      mc.profile = m["profile"];
      try {
        given = find_profile(*spec, mc.profile).params;
      } catch (const Error& e) {
        throw Error(path + ".profile: " + e.what());
      }
    }
    for (const auto& [k, v] : m["params"].items()) given[k] = v;
    mc.params = resolve_params(spec->params, given, path + ".params");
    m["name"] = mc.name;
    m["params"] = mc.params;
    resolved["metrics"].push_back(m);
    c.metrics.push_back(std::move(mc));
  }
  c.resolved = resolved;
  return c;
}

json parse_json_text(const std::string& text, const std::string& source) {
  return parse_json_checked(text, source);
}

json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open file for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_json_text(ss.str(), path);
}

const json& SuiteConfig::analysis(const std::string& name) const {
  static const json absent;
  for (const auto& a : analyses)
    if (a.name == name) return a.params;
  return absent;
}

}  // namespace attrib
