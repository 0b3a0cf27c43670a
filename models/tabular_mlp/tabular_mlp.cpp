// `tabular_mlp`: a built-in ReLU multilayer perceptron on dense (tabular) inputs, Linear-ReLU
// blocks and a linear classifier. TorchScript defined from C++ through attrib::sequential_module,
// so the saved archive loads with torch.jit.load and the model exposes metadata.architecture for
// the rule-based methods (DeepLIFT, LRP, guided backpropagation).
#include <torch/script.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "../common/dense_model.h"
#include "attrib/plugin.h"

namespace {

using nlohmann::json;

constexpr const char* kMetadata = R"JSON({
  "description": "Built-in ReLU MLP for dense (tabular) inputs: flatten, (Linear, ReLU) per hidden size, linear classifier. Defined in TorchScript (torch.jit.load reads the saved .pt); exposes metadata.architecture and layers (fc0, fc1, ...). He-uniform weights from seed, zero biases; no dropout or normalisation.",
  "params": {
    "num_features": {"type": "integer", "minimum": 1, "description": "input features; required unless input_shape or checkpoint is given"},
    "input_shape": {"type": "array", "description": "per-example input shape (flattened), e.g. [10]; overrides num_features, which must then agree"},
    "num_classes": {"type": "integer", "minimum": 1, "description": "number of classes; defaults to the number of class_names; required unless checkpoint"},
    "class_names": {"type": "array", "description": "class names (optional)"},
    "feature_names": {"type": "array", "description": "one name per feature (optional; recorded in metadata)"},
    "hidden": {"type": "array", "default": [64, 64], "description": "hidden layer widths, input to output; [] is a linear model"},
    "seed": {"type": "integer", "default": 0, "minimum": 0, "description": "initialisation seed"},
    "checkpoint": {"type": "string", "default": "", "description": "load this .pt (saved by this plugin) instead of building a fresh model"},
    "device": {"type": "string", "default": "cpu", "description": "cpu, cuda or cuda:N"}
  }
})JSON";

torch::jit::Module build(const json& p) {
  const attrib_models::DenseSpec s = attrib_models::dense_spec(p, "tabular_mlp", /*rank=*/0);
  std::vector<int64_t> widths;
  const json& hidden = p.at("hidden");
  for (size_t i = 0; i < hidden.size(); ++i) {
    if (!hidden[i].is_number_integer() || hidden[i].get<int64_t>() < 1)
      throw attrib::Error("tabular_mlp: hidden[" + std::to_string(i) +
                          "]: expected an integer >= 1, got " + attrib::describe_json(hidden[i]));
    widths.push_back(hidden[i].get<int64_t>());
  }
  widths.push_back(s.num_classes);
  at::Generator gen = attrib_models::seeded(s.seed);
  json arch = json::array(), layers = json::array();
  std::vector<std::pair<std::string, at::Tensor>> params;
  if (s.input_shape.size() > 1) arch.push_back({{"op", "flatten"}});
  int64_t in = s.num_features;
  for (size_t l = 0; l < widths.size(); ++l) {
    const std::string w = "fc" + std::to_string(l) + "_w", b = "fc" + std::to_string(l) + "_b";
    params.emplace_back(w, attrib_models::he_uniform({widths[l], in}, in, gen));
    params.emplace_back(b, at::zeros({widths[l]}));
    arch.push_back({{"op", "linear"}, {"params", {w, b}}});
    if (l + 1 < widths.size()) arch.push_back({{"op", "relu"}});
    layers.push_back({{"name", "fc" + std::to_string(l)}, {"params", {w, b}}});
    in = widths[l];
  }
  json meta = attrib_models::base_metadata(s, "tabular_mlp");
  meta["num_features"] = s.num_features;
  meta["hidden"] = std::vector<int64_t>(widths.begin(), widths.end() - 1);
  meta["init"] = "he_uniform weights, zero biases";
  meta["layers"] = layers;
  return attrib::sequential_module("TabularMLP", arch, params, meta);
}

class TabularMlp : public attrib_models::DenseBuiltin {
 public:
  explicit TabularMlp(const json& p)
      : DenseBuiltin(attrib_models::make(p, "tabular_mlp", build), p) {}
};

}  // namespace

ATTRIB_MODEL_PLUGIN(TabularMlp, "tabular_mlp", "1.0.0",
                    ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT | ATTRIB_CAP_LAYERS |
                        ATTRIB_CAP_TRAINABLE,
                    kMetadata)
