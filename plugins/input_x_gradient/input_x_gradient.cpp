// Input × gradient (Shrikumar et al. 2016): x ⊙ ∇_x f_y(x); for text, embeddings ⊙ their gradient.
#include <torch/script.h>

#include "../common/grouped.h"
#include "attrib/input_space.h"
#include "attrib/plugin.h"

namespace {

constexpr const char* kMetadata = R"json({
  "description": "Input times the gradient of the target logit (text: embeddings times their gradient, [B, T, d]). For a linear model with zero baseline this is w * x and sums to f(x) - f(0).",
  "citation": "Shrikumar, Greenside, Shcherbina & Kundaje (2016). Not Just a Black Box: Learning Important Features Through Propagating Activation Differences. arXiv:1605.01713",
  "params": {},
  "cost": {"forward_rows": "1", "backward_rows": "1"},
  "extras": []
})json";

class InputXGradient : public attrib_plugins::GroupedMethod {
 public:
  explicit InputXGradient(const nlohmann::json&) {}

 private:
  attrib::Explanation explain_group(attrib::ModelAdapter& model, const attrib::Batch& batch,
                                    const at::Tensor& targets,
                                    const attrib::ExplainContext&) override {
    attrib::InputSpace space(model, batch);
    attrib::Explanation e;
    e.attributions = space.x() * space.gradient(space.x(), targets);
    e.forward_rows = e.backward_rows = batch.size();
    e.info = {{"space", space.is_embedding() ? "embeddings" : "input"}, {"output", "logit"}};
    return e;
  }
};

}  // namespace

ATTRIB_METHOD_PLUGIN(InputXGradient, "input_x_gradient", "1.0.0", ATTRIB_CAP_INPUT_GRADIENT,
                     kMetadata)
