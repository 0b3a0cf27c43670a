#pragma once
// Shared by the built-in dense model plugins (logistic_regression, tabular_mlp, image_cnn): their
// common parameters (input shape, classes, seed, checkpoint, device), seeded initialisation, and
// the adapter, a TorchScriptModel over a module built with attrib::sequential_module (so the
// network is its own metadata.architecture). Header-only and compiled into each of them; this
// folder has no CMakeLists.txt, so it is not a plugin itself.
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
#include "attrib/sequential.h"
#include "attrib/torchscript_model.h"

namespace attrib_models {

using nlohmann::json;

/// What every dense model is built for.
struct DenseSpec {
  std::vector<int64_t> input_shape;  ///< per-example shape
  int64_t num_features = 0;          ///< product of input_shape
  int64_t num_classes = 0;
  std::vector<std::string> class_names;    ///< may be empty
  std::vector<std::string> feature_names;  ///< tabular: one per feature, may be empty
  uint64_t seed = 0;
};

/// Reads input_shape / num_features, num_classes / class_names and seed. `rank`: the number of
/// input dimensions the model needs (0: any). input_shape wins; num_features must then agree.
inline DenseSpec dense_spec(const json& p, const std::string& plugin, size_t rank) {
  DenseSpec s;
  if (p.contains("input_shape") && !p["input_shape"].is_null()) {
    const json& shape = p["input_shape"];
    bool ok = shape.is_array() && !shape.empty() && (rank == 0 || shape.size() == rank);
    for (const auto& d : shape) ok = ok && d.is_number_integer() && d.get<int64_t>() > 0;
    if (!ok)
      throw attrib::Error(
          plugin + ": input_shape: expected " +
          (rank == 3 ? std::string("[channels, height, width]") : std::string("a list")) +
          " of positive integers, got " + attrib::describe_json(shape));
    s.input_shape = shape.get<std::vector<int64_t>>();
  }
  if (p.contains("num_features") && !p["num_features"].is_null()) {
    const int64_t f = p["num_features"].get<int64_t>();
    if (s.input_shape.empty()) {
      if (rank > 1)
        throw attrib::Error(plugin +
                            ": num_features alone does not give a [C, H, W] shape; set "
                            "input_shape");
      s.input_shape = {f};
    }
    int64_t n = 1;
    for (int64_t d : s.input_shape) n *= d;
    if (n != f)
      throw attrib::Error(plugin + ": num_features = " + std::to_string(f) +
                          " disagrees with input_shape " + attrib::describe_json(p["input_shape"]) +
                          " (" + std::to_string(n) + " features)");
  }
  if (s.input_shape.empty())
    throw attrib::Error(plugin +
                        ": parameter 'num_features' (or 'input_shape') is required unless "
                        "'checkpoint' is given");
  s.num_features = 1;
  for (int64_t d : s.input_shape) s.num_features *= d;

  if (p.contains("class_names")) {
    for (size_t i = 0; i < p["class_names"].size(); ++i) {
      if (!p["class_names"][i].is_string())
        throw attrib::Error(plugin + ": class_names[" + std::to_string(i) +
                            "]: expected a string, got " + p["class_names"][i].dump());
      s.class_names.push_back(p["class_names"][i].get<std::string>());
    }
  }
  s.num_classes = p.contains("num_classes") ? p["num_classes"].get<int64_t>()
                                            : static_cast<int64_t>(s.class_names.size());
  if (s.num_classes <= 0)
    throw attrib::Error(plugin +
                        ": parameter 'num_classes' is required (integer >= 1) unless "
                        "'class_names' or 'checkpoint' is given");
  if (!s.class_names.empty() && static_cast<int64_t>(s.class_names.size()) != s.num_classes)
    throw attrib::Error(plugin + ": class_names has " + std::to_string(s.class_names.size()) +
                        " entries, expected num_classes = " + std::to_string(s.num_classes));
  if (p.contains("feature_names")) {
    const json& names = p["feature_names"];
    for (size_t i = 0; i < names.size(); ++i) {
      if (!names[i].is_string())
        throw attrib::Error(plugin + ": feature_names[" + std::to_string(i) +
                            "]: expected a string, got " + attrib::describe_json(names[i]));
      s.feature_names.push_back(names[i].get<std::string>());
    }
    if (static_cast<int64_t>(s.feature_names.size()) != s.num_features)
      throw attrib::Error(plugin + ": feature_names has " + std::to_string(s.feature_names.size()) +
                          " entries, expected num_features = " + std::to_string(s.num_features));
  }
  s.seed = p.at("seed").get<uint64_t>();
  return s;
}

/// Metadata every dense model carries; the plugin adds its sizes and "layers".
inline json base_metadata(const DenseSpec& s, const std::string& plugin) {
  json meta = {{"contract_version", 1},
               {"model", plugin},
               {"input_kind", "dense"},
               {"input_shape", s.input_shape},
               {"num_classes", s.num_classes},
               {"class_names", s.class_names},
               {"seed", s.seed},
               {"capabilities", {"forward", "input_gradient", "layers", "trainable"}}};
  if (!s.feature_names.empty()) meta["feature_names"] = s.feature_names;
  return meta;
}

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
class DenseBuiltin : public attrib::TorchScriptModel {
 public:
  DenseBuiltin(Built b, const json& params)
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
