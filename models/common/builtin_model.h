#pragma once
// Shared by every built-in model plugin (models/common/dense_model.h for the dense ones,
// text_model.h for the text ones): seeded initialisation, the class parameters, loading a
// checkpoint or building a fresh TorchScript module, and the adapter (a TorchScriptModel on the
// requested device; training, clone, save and layers() are TorchScriptModel's). Header-only.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/script.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "attrib/error.h"
#include "attrib/params.h"
#include "attrib/torchscript_model.h"

namespace attrib_models {

using nlohmann::json;

/// He-uniform weights U(-sqrt(6 / fan_in), sqrt(6 / fan_in)): keeps ReLU activations at scale.
inline at::Tensor he_uniform(at::IntArrayRef shape, int64_t fan_in, at::Generator& gen) {
  const double bound = std::sqrt(6.0 / static_cast<double>(fan_in));
  return at::empty(shape, at::kFloat).uniform_(-bound, bound, gen);
}

/// Xavier-uniform weights U(-sqrt(6 / (fan_in + fan_out)), ...), for models without ReLUs.
inline at::Tensor xavier_uniform(at::IntArrayRef shape, int64_t fan_in, int64_t fan_out,
                                 at::Generator& gen) {
  const double bound = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  return at::empty(shape, at::kFloat).uniform_(-bound, bound, gen);
}

inline at::Generator seeded(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

/// p[key] as a list of strings (p must contain key).
inline std::vector<std::string> string_list(const json& p, const char* key,
                                            const std::string& plugin) {
  std::vector<std::string> out;
  const json& list = p[key];
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string())
      throw attrib::Error(plugin + ": " + key + "[" + std::to_string(i) +
                          "]: expected a string, got " + attrib::describe_json(list[i]));
    out.push_back(list[i].get<std::string>());
  }
  return out;
}

/// Reads num_classes / class_names: the number of classes (class_names, when given, must agree;
/// num_classes defaults to their number). `names` receives the class names (may stay empty).
inline int64_t classes(const json& p, const std::string& plugin, std::vector<std::string>* names) {
  if (p.contains("class_names")) *names = string_list(p, "class_names", plugin);
  const int64_t n = p.contains("num_classes") ? p["num_classes"].get<int64_t>()
                                              : static_cast<int64_t>(names->size());
  if (n <= 0)
    throw attrib::Error(plugin +
                        ": parameter 'num_classes' is required (integer >= 1) unless "
                        "'class_names' or 'checkpoint' is given");
  if (!names->empty() && static_cast<int64_t>(names->size()) != n)
    throw attrib::Error(plugin + ": class_names has " + std::to_string(names->size()) +
                        " entries, expected num_classes = " + std::to_string(n));
  return n;
}

/// The module, the model's name in results, and the checkpoint's hash (empty when built fresh).
struct Built {
  torch::jit::Module module;
  std::string name;
  std::string hash;
};

/// Loads p["checkpoint"] (refusing one saved by another model) or builds a fresh module.
inline Built make(const json& p, const std::string& plugin,
                  const std::function<torch::jit::Module(const json&)>& build) {
  const std::string checkpoint = p.value("checkpoint", std::string());
  if (!checkpoint.empty()) {
    auto loaded = attrib::TorchScriptModel::load(checkpoint);
    const std::string saved_by = loaded->info().metadata.value("model", std::string());
    if (saved_by != plugin)
      throw attrib::Error(plugin + ": checkpoint '" + checkpoint + "': expected a model saved by " +
                          plugin + ", got " +
                          (saved_by.empty() ? std::string("one without metadata.model")
                                            : "one saved by " + saved_by));
    return {loaded->module(), plugin + ":" + checkpoint, loaded->info().artifact_hash};
  }
  return {build(p), plugin, ""};
}

/// The adapter: a TorchScriptModel on the requested device.
class BuiltinModel : public attrib::TorchScriptModel {
 public:
  BuiltinModel(Built b, const json& params)
      : TorchScriptModel(std::move(b.module), std::move(b.name), std::move(b.hash)) {
    const std::string device = params.value("device", std::string("cpu"));
    at::Device d(at::kCPU);
    try {
      d = at::Device(device);
    } catch (const c10::Error&) {
      throw attrib::Error(info().name + ": device '" + device +
                          "' is not a device name (expected cpu, cuda or cuda:N)");
    }
    if (d != at::Device(at::kCPU)) to(d);
  }
};

}  // namespace attrib_models
