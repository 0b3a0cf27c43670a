#pragma once
// Shared by the built-in dense model plugins (logistic_regression, tabular_mlp, image_cnn): their
// common parameters (input shape, classes, seed) and metadata; the modules are built with
// attrib::sequential_module (so the network is its own metadata.architecture). Initialisation,
// checkpoint loading and the adapter are builtin_model.h's. Header-only and compiled into each of
// them; this folder has no CMakeLists.txt, so it is not a plugin itself.
#include <torch/script.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attrib/error.h"
#include "attrib/params.h"
#include "attrib/sequential.h"
#include "builtin_model.h"

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

  s.num_classes = classes(p, plugin, &s.class_names);
  if (p.contains("feature_names")) {
    s.feature_names = string_list(p, "feature_names", plugin);
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

/// The adapter of every dense model.
class DenseBuiltin : public BuiltinModel {
 public:
  using BuiltinModel::BuiltinModel;
};

}  // namespace attrib_models
