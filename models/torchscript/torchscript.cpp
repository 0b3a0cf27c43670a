// `torchscript`: any TorchScript classifier that follows the model capability contract
// (METHODS.md §7). Capabilities are discovered from the exported methods and checked at load.
#include <torch/script.h>

#include <nlohmann/json.hpp>

#include "attrib/error.h"
#include "attrib/plugin.h"
#include "attrib/torchscript_model.h"

namespace {

constexpr const char* kMetadata = R"JSON({
  "description": "A TorchScript classifier loaded from a .pt archive. Capabilities follow from its exported methods (forward, embed, forward_from_embeddings, forward_with_attentions, forward_from_embeddings_with_attentions, label_attention, metadata) and are checked at load; a failed check withdraws the capability and is recorded in the model's capability notes.",
  "params": {
    "path": {"type": "string", "required": true, "description": "TorchScript archive (torch.jit.save)"},
    "device": {"type": "string", "default": "cpu", "description": "device to run on, e.g. cpu, cuda, cuda:1"}
  }
})JSON";

std::string path_param(const nlohmann::json& params) {
  if (!params.contains("path") || !params["path"].is_string() ||
      params["path"].get<std::string>().empty())
    throw attrib::Error("torchscript: parameter 'path' is required (a TorchScript .pt archive)");
  return params["path"].get<std::string>();
}

at::Device parse_device(const std::string& text, const std::string& path) {
  try {
    return at::Device(text);
  } catch (const c10::Error&) {
    throw attrib::Error("torchscript model '" + path + "': device '" + text +
                        "' is not a device name (expected cpu, cuda or cuda:N)");
  }
}

class TorchScriptPlugin : public attrib::TorchScriptModel {
 public:
  explicit TorchScriptPlugin(const nlohmann::json& params)
      : TorchScriptModel(std::move(*TorchScriptModel::load(path_param(params)))) {
    const std::string device = params.value("device", std::string("cpu"));
    const at::Device d = parse_device(device, info().name);
    if (d != at::Device(at::kCPU)) to(d);
  }
};

}  // namespace

ATTRIB_MODEL_PLUGIN(TorchScriptPlugin, "torchscript", "1.0.0",
                    ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT | ATTRIB_CAP_EMBEDDINGS |
                        ATTRIB_CAP_ATTENTIONS | ATTRIB_CAP_LABEL_ATTENTION | ATTRIB_CAP_LAYERS |
                        ATTRIB_CAP_TRAINABLE,
                    kMetadata)
