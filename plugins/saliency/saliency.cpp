// Saliency (Simonyan et al. 2014): the gradient of the target logit, by default its magnitude.
#include <torch/script.h>

#include "../common/grouped.h"
#include "attrib/input_space.h"
#include "attrib/plugin.h"

namespace {

constexpr const char* kMetadata = R"json({
  "description": "Gradient of the target logit w.r.t. the input (text: w.r.t. the embeddings, [B, T, d]); absolute value by default.",
  "citation": "Simonyan, Vedaldi & Zisserman (2014). Deep Inside Convolutional Networks: Visualising Image Classification Models and Saliency Maps. ICLR Workshop. arXiv:1312.6034",
  "params": {
    "abs": {"type": "boolean", "default": true, "description": "Return |gradient| (Captum's default) instead of the signed gradient."}
  },
  "cost": {"forward_rows": "1", "backward_rows": "1"},
  "extras": []
})json";

class Saliency : public attrib_plugins::GroupedMethod {
 public:
  explicit Saliency(const nlohmann::json& params) : abs_(params.at("abs").get<bool>()) {}

 private:
  attrib::Explanation explain_group(attrib::ModelAdapter& model, const attrib::Batch& batch,
                                    const at::Tensor& targets,
                                    const attrib::ExplainContext&) override {
    attrib::InputSpace space(model, batch);
    attrib::Explanation e;
    const at::Tensor g = space.gradient(space.x(), targets);
    e.attributions = abs_ ? g.abs() : g;
    e.forward_rows = e.backward_rows = batch.size();
    e.info = {{"abs", abs_},
              {"space", space.is_embedding() ? "embeddings" : "input"},
              {"output", "logit"}};
    return e;
  }

  bool abs_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(Saliency, "saliency", "1.0.0", ATTRIB_CAP_INPUT_GRADIENT, kMetadata)
