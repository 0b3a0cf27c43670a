// Guided backpropagation (Springenberg et al. 2015; METHODS.md §1.7) on models that declare a
// sequential ReLU architecture (attrib/sequential.h). The backward through each ReLU passes only
// positive gradients where the forward input was positive; that rule is non-linear in the upstream
// gradient, so it is computed op by op here rather than by autograd.
#include <torch/script.h>

#include <algorithm>
#include <string>

#include "attrib/error.h"
#include "attrib/input_space.h"
#include "attrib/plugin.h"
#include "attrib/sequential.h"

namespace {

constexpr const char* kMetadata = R"json({
  "description": "Guided backpropagation on dense models with a sequential ReLU architecture (metadata.architecture): the gradient of the target logit, except that every ReLU passes g_in = 1[z > 0] * max(g_out, 0). Linear, convolution, max-pooling (to the argmax) and flatten use their plain gradient. Expected to fail model-randomisation checks (Adebayo et al. 2018).",
  "citation": "Springenberg, Dosovitskiy, Brox & Riedmiller (2015). Striving for Simplicity: The All Convolutional Net. ICLR Workshop. arXiv:1412.6806",
  "params": {},
  "cost": {"forward_rows": "1 (+ 1 row per explain call checking the architecture against forward)", "backward_rows": "1"},
  "extras": []
})json";

class GuidedBackprop : public attrib::AttributionMethod {
 public:
  explicit GuidedBackprop(const nlohmann::json&) {}

  attrib::Explanation explain(attrib::ModelAdapter& model, const attrib::Batch& batch,
                              const at::Tensor& targets,
                              const attrib::ExplainContext& ctx) override {
    attrib::SequentialNetwork::require(model);
    return attrib::explain_in_groups(
        batch, targets, ctx.max_rows,
        [&](const attrib::Batch& b, const at::Tensor& t) { return explain_group(model, b, t); });
  }

 private:
  static attrib::Explanation explain_group(attrib::ModelAdapter& model, const attrib::Batch& batch,
                                           const at::Tensor& targets) {
    ATTRIB_CHECK(batch.modality == attrib::Modality::kDense, "guided_backprop: model '",
                 model.info().name, "': expected a dense batch, got a text batch");
    const int64_t b = batch.size();
    const attrib::SequentialNetwork net =
        attrib::SequentialNetwork(model, batch.inputs.narrow(0, 0, std::min<int64_t>(b, 1)))
            .cast(at::kDouble);
    at::NoGradGuard no_grad;
    const std::vector<at::Tensor> a = net.activations(batch.inputs.detach().to(at::kDouble));
    const at::Tensor& logits = a.back();
    attrib::select_targets(logits, targets);  // checks the targets' range
    at::Tensor g = at::zeros_like(logits).scatter_(
        1, targets.to(logits.device(), at::kLong).view({b, 1}), 1.0);
    const auto& ops = net.ops();
    for (size_t k = ops.size(); k-- > 0;) {
      if (ops[k].kind == attrib::SequentialOp::Kind::kRelu)
        g = g.clamp_min(0) * a[k].gt(0).to(g.scalar_type());
      else
        g = ops[k].backward(a[k], g);
    }
    attrib::Explanation e;
    e.attributions = g;
    e.forward_rows = b + net.probe_rows();
    e.backward_rows = b;
    e.info = {{"relu_backward", "1[z > 0] * max(g_out, 0)"},
              {"maxpool", "plain gradient (to the argmax)"},
              {"architecture", net.summary()},
              {"architecture_check_max_diff", net.verified_max_diff()},
              {"space", "input"},
              {"output", "logit"},
              {"accumulation", "float64"}};
    return e;
  }
};

}  // namespace

ATTRIB_METHOD_PLUGIN(GuidedBackprop, "guided_backprop", "1.0.0",
                     ATTRIB_CAP_FORWARD | ATTRIB_CAP_LAYERS, kMetadata)
