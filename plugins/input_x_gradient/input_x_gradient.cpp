// Input × gradient (Shrikumar et al. 2016): x ⊙ ∇_x f_y(x); for text, embeddings ⊙ their gradient.
#include <torch/script.h>

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

class InputXGradient : public attrib::AttributionMethod {
 public:
  explicit InputXGradient(const nlohmann::json&) {}

  attrib::Explanation explain(attrib::ModelAdapter& model, const attrib::Batch& batch,
                              const at::Tensor& targets,
                              const attrib::ExplainContext& ctx) override {
    return attrib::explain_in_groups(
        batch, targets, ctx.max_rows, [&](const attrib::Batch& b, const at::Tensor& t) {
          attrib::InputSpace space(model, b);
          attrib::Explanation e;
          e.attributions = space.x() * space.gradient(space.x(), t);
          e.forward_rows = e.backward_rows = b.size();
          e.info = {{"space", space.is_embedding() ? "embeddings" : "input"}, {"output", "logit"}};
          return e;
        });
  }
};

}  // namespace

ATTRIB_METHOD_PLUGIN(InputXGradient, "input_x_gradient", "1.0.0", ATTRIB_CAP_INPUT_GRADIENT,
                     kMetadata)
