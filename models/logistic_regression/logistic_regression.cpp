// `logistic_regression`: a built-in multinomial logistic regression on dense (tabular) inputs,
// logits = W flatten(x) + b. TorchScript defined from C++ through attrib::sequential_module, so the
// saved archive loads with torch.jit.load and the model exposes metadata.architecture for the
// rule-based methods (on a linear model DeepLIFT gives (x - x') * w_y).
#include <torch/script.h>

#include <nlohmann/json.hpp>
#include <string>

#include "../common/dense_model.h"
#include "attrib/plugin.h"

namespace {

using nlohmann::json;

constexpr const char* kMetadata = R"JSON({
  "description": "Built-in multinomial logistic regression: logits = W x + b over the flattened input (cross-entropy training through TorchScriptModel::train). Defined in TorchScript (torch.jit.load reads the saved .pt); exposes metadata.architecture and layers. Xavier-uniform weights from seed, zero bias.",
  "params": {
    "num_features": {"type": "integer", "minimum": 1, "description": "input features; required unless input_shape or checkpoint is given"},
    "input_shape": {"type": "array", "description": "per-example input shape (flattened), e.g. [10]; overrides num_features, which must then agree"},
    "num_classes": {"type": "integer", "minimum": 1, "description": "number of classes; defaults to the number of class_names; required unless checkpoint"},
    "class_names": {"type": "array", "description": "class names (optional)"},
    "feature_names": {"type": "array", "description": "one name per feature (optional; recorded in metadata)"},
    "seed": {"type": "integer", "default": 0, "minimum": 0, "description": "initialisation seed"},
    "checkpoint": {"type": "string", "default": "", "description": "load this .pt (saved by this plugin) instead of building a fresh model"},
    "device": {"type": "string", "default": "cpu", "description": "cpu, cuda or cuda:N"}
  }
})JSON";

torch::jit::Module build(const json& p) {
  const attrib_models::DenseSpec s =
      attrib_models::dense_spec(p, "logistic_regression", /*rank=*/0);
  const int64_t D = s.num_features, C = s.num_classes;
  at::Generator gen = attrib_models::seeded(s.seed);
  json arch = json::array();
  if (s.input_shape.size() > 1) arch.push_back({{"op", "flatten"}});
  arch.push_back({{"op", "linear"}, {"params", {"fc_w", "fc_b"}}});
  json meta = attrib_models::base_metadata(s, "logistic_regression");
  meta["num_features"] = D;
  meta["init"] = "xavier_uniform weights, zero bias";
  meta["layers"] = json::array({{{"name", "linear"}, {"params", {"fc_w", "fc_b"}}}});
  return attrib::sequential_module(
      "LogisticRegression", arch,
      {{"fc_w", attrib_models::xavier_uniform({C, D}, D, C, gen)}, {"fc_b", at::zeros({C})}}, meta);
}

class LogisticRegression : public attrib_models::DenseBuiltin {
 public:
  explicit LogisticRegression(const json& p)
      : DenseBuiltin(attrib_models::make(p, "logistic_regression", build), p) {}
};

}  // namespace

ATTRIB_MODEL_PLUGIN(LogisticRegression, "logistic_regression", "1.0.0",
                    ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT | ATTRIB_CAP_LAYERS |
                        ATTRIB_CAP_TRAINABLE,
                    kMetadata)
