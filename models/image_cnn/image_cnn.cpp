// `image_cnn`: a built-in small image classifier, (Conv-ReLU-MaxPool) x 2, Flatten, Linear-ReLU,
// Linear, on [C, H, W] inputs. TorchScript defined from C++ through attrib::sequential_module, so
// the saved archive loads with torch.jit.load and the model exposes metadata.architecture for the
// rule-based methods (DeepLIFT, LRP, guided backpropagation).
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
  "description": "Built-in CNN for [C, H, W] images: two blocks of ('same' convolution of side kernel_size, ReLU, 2x2 max-pooling), flatten, Linear-ReLU, linear classifier. Defined in TorchScript (torch.jit.load reads the saved .pt); exposes metadata.architecture and layers (conv0, conv1, fc0, fc1). He-uniform weights from seed, zero biases; no dropout or normalisation.",
  "params": {
    "input_shape": {"type": "array", "default": [1, 28, 28], "description": "[channels, height, width]; height and width at least 4"},
    "num_features": {"type": "integer", "minimum": 1, "description": "optional; must equal C * H * W"},
    "num_classes": {"type": "integer", "minimum": 1, "description": "number of classes; defaults to the number of class_names; required unless checkpoint"},
    "class_names": {"type": "array", "description": "class names (optional)"},
    "channels": {"type": "array", "default": [8, 16], "description": "output channels of the two convolutions"},
    "kernel_size": {"type": "integer", "default": 3, "minimum": 1, "maximum": 15, "description": "odd convolution kernel side; padding kernel_size / 2 keeps height and width"},
    "hidden": {"type": "integer", "default": 64, "minimum": 1, "description": "width of the hidden linear layer"},
    "seed": {"type": "integer", "default": 0, "minimum": 0, "description": "initialisation seed"},
    "checkpoint": {"type": "string", "default": "", "description": "load this .pt (saved by this plugin) instead of building a fresh model"},
    "device": {"type": "string", "default": "cpu", "description": "cpu, cuda or cuda:N"}
  }
})JSON";

torch::jit::Module build(const json& p) {
  const attrib_models::DenseSpec s = attrib_models::dense_spec(p, "image_cnn", /*rank=*/3);
  const json& ch = p.at("channels");
  if (!ch.is_array() || ch.size() != 2 || !ch[0].is_number_integer() ||
      !ch[1].is_number_integer() || ch[0].get<int64_t>() < 1 || ch[1].get<int64_t>() < 1)
    throw attrib::Error("image_cnn: channels: expected two integers >= 1, got " +
                        attrib::describe_json(ch));
  const int64_t k = p.at("kernel_size").get<int64_t>();
  if (k % 2 == 0)
    throw attrib::Error("image_cnn: kernel_size: expected an odd integer (same padding), got " +
                        std::to_string(k));
  const int64_t H = s.input_shape[1], W = s.input_shape[2];
  if (H < 4 || W < 4)
    throw attrib::Error("image_cnn: input_shape " + attrib::describe_json(p.at("input_shape")) +
                        ": expected height and width >= 4 (two 2x2 max-poolings), got " +
                        std::to_string(H) + " x " + std::to_string(W));
  const int64_t hidden = p.at("hidden").get<int64_t>();
  const int64_t c_in[2] = {s.input_shape[0], ch[0].get<int64_t>()};
  const int64_t c_out[2] = {ch[0].get<int64_t>(), ch[1].get<int64_t>()};

  at::Generator gen = attrib_models::seeded(s.seed);
  json arch = json::array(), layers = json::array();
  std::vector<std::pair<std::string, at::Tensor>> params;
  for (int l = 0; l < 2; ++l) {
    const std::string w = "conv" + std::to_string(l) + "_w", b = "conv" + std::to_string(l) + "_b";
    params.emplace_back(w,
                        attrib_models::he_uniform({c_out[l], c_in[l], k, k}, c_in[l] * k * k, gen));
    params.emplace_back(b, at::zeros({c_out[l]}));
    arch.push_back({{"op", "conv2d"}, {"params", {w, b}}, {"stride", 1}, {"padding", k / 2}});
    arch.push_back({{"op", "relu"}});
    arch.push_back({{"op", "maxpool2d"}, {"kernel", 2}, {"stride", 2}});
    layers.push_back({{"name", "conv" + std::to_string(l)}, {"params", {w, b}}});
  }
  arch.push_back({{"op", "flatten"}});
  const int64_t flat = c_out[1] * (H / 2 / 2) * (W / 2 / 2);
  const int64_t widths[2] = {hidden, s.num_classes};
  int64_t in = flat;
  for (int l = 0; l < 2; ++l) {
    const std::string w = "fc" + std::to_string(l) + "_w", b = "fc" + std::to_string(l) + "_b";
    params.emplace_back(w, attrib_models::he_uniform({widths[l], in}, in, gen));
    params.emplace_back(b, at::zeros({widths[l]}));
    arch.push_back({{"op", "linear"}, {"params", {w, b}}});
    if (l == 0) arch.push_back({{"op", "relu"}});
    layers.push_back({{"name", "fc" + std::to_string(l)}, {"params", {w, b}}});
    in = widths[l];
  }
  json meta = attrib_models::base_metadata(s, "image_cnn");
  meta["channels"] = {c_out[0], c_out[1]};
  meta["kernel_size"] = k;
  meta["hidden"] = hidden;
  meta["init"] = "he_uniform weights, zero biases";
  meta["layers"] = layers;
  return attrib::sequential_module("ImageCNN", arch, params, meta);
}

class ImageCnn : public attrib_models::DenseBuiltin {
 public:
  explicit ImageCnn(const json& p) : DenseBuiltin(attrib_models::make(p, "image_cnn", build), p) {}
};

}  // namespace

ATTRIB_MODEL_PLUGIN(ImageCnn, "image_cnn", "1.0.0",
                    ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT | ATTRIB_CAP_LAYERS |
                        ATTRIB_CAP_TRAINABLE,
                    kMetadata)
