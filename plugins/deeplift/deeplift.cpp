// DeepLIFT with the Rescale rule (Shrikumar et al. 2017; METHODS.md §1.6) on models that declare a
// sequential ReLU architecture (attrib/sequential.h). Input and reference run as one forward of 2B
// rows; multipliers are then propagated op by op in float64: affine ops and flatten by the chain
// rule, ReLU by Δout/Δin (the gradient where |Δin| <= eps), max-pooling by Captum's rule.
#include <torch/script.h>

#include <algorithm>
#include <string>

#include "attrib/error.h"
#include "attrib/input_space.h"
#include "attrib/plugin.h"
#include "attrib/sequential.h"

namespace {

constexpr const char* kMetadata = R"json({
  "description": "DeepLIFT (Rescale rule) on dense models with a sequential ReLU architecture (metadata.architecture): multipliers m from the target logit back to the input, ReLU multipliers (g(z) - g(z')) / (z - z') (the gradient 1[z > 0] where |z - z'| <= eps), linear and convolution layers by the chain rule, max-pooling by Captum's rule (the output difference split at max(out, out') and routed to the input's and the reference's argmax). Attribution (x - x') * m, which sums to f_y(x) - f_y(x') (extra convergence_delta = sum - that difference). Propagated in float64.",
  "citation": "Shrikumar, Greenside & Kundaje (2017). Learning Important Features Through Propagating Activation Differences. ICML. arXiv:1704.02685",
  "params": {
    "baseline_value": {"type": "number", "default": 0.0, "description": "Reference x': this constant in every input element (0: the zero baseline)."},
    "eps": {"type": "number", "default": 1e-10, "minimum": 0, "description": "Where |z - z'| <= eps a ReLU (or max-pool input) takes its gradient instead of the rescale multiplier (Captum's 1e-10)."},
    "multiply_by_inputs": {"type": "boolean", "default": true, "description": "Return (x - x') * m (true) or the multipliers m alone; convergence_delta always uses (x - x') * m."}
  },
  "cost": {"forward_rows": "2 (+ 1 row per explain call checking the architecture against forward)", "backward_rows": "1"},
  "extras": ["convergence_delta"]
})json";

class DeepLift : public attrib::AttributionMethod {
 public:
  explicit DeepLift(const nlohmann::json& params)
      : baseline_(params.at("baseline_value").get<double>()),
        eps_(params.at("eps").get<double>()),
        multiply_(params.at("multiply_by_inputs").get<bool>()) {}

  attrib::Explanation explain(attrib::ModelAdapter& model, const attrib::Batch& batch,
                              const at::Tensor& targets,
                              const attrib::ExplainContext& ctx) override {
    attrib::SequentialNetwork::require(model);
    // Input and reference share one forward: 2 rows per example.
    const int64_t group = std::max<int64_t>(1, ctx.max_rows / 2);
    return attrib::explain_in_groups(
        batch, targets, group,
        [&](const attrib::Batch& b, const at::Tensor& t) { return explain_group(model, b, t); });
  }

 private:
  attrib::Explanation explain_group(attrib::ModelAdapter& model, const attrib::Batch& batch,
                                    const at::Tensor& targets) const {
    using Kind = attrib::SequentialOp::Kind;
    ATTRIB_CHECK(batch.modality == attrib::Modality::kDense, "deeplift: model '", model.info().name,
                 "': expected a dense batch, got a text batch");
    const int64_t b = batch.size();
    const attrib::SequentialNetwork net =
        attrib::SequentialNetwork(model, batch.inputs.narrow(0, 0, std::min<int64_t>(b, 1)))
            .cast(at::kDouble);
    at::NoGradGuard no_grad;
    const at::Tensor x = batch.inputs.detach().to(at::kDouble);
    const std::vector<at::Tensor> a = net.activations(at::cat({x, at::full_like(x, baseline_)}));
    const at::Tensor& logits = a.back();
    const at::Tensor f = attrib::select_targets(logits, targets);  // [2B]: f(x), then f(x')
    at::Tensor m = at::zeros({b, logits.size(1)}, logits.options())
                       .scatter_(1, targets.to(logits.device(), at::kLong).view({b, 1}), 1.0);
    const auto& ops = net.ops();
    for (size_t k = ops.size(); k-- > 0;) {
      const attrib::SequentialOp& op = ops[k];
      const at::Tensor in_x = a[k].narrow(0, 0, b), in_r = a[k].narrow(0, b, b);
      const at::Tensor d_in = in_x - in_r;
      if (op.kind == Kind::kRelu) {
        const at::Tensor d_out = a[k + 1].narrow(0, 0, b) - a[k + 1].narrow(0, b, b);
        m = m * at::where(d_in.abs() > eps_, d_out / d_in, in_x.gt(0).to(m.scalar_type()));
      } else if (op.kind == Kind::kMaxPool2d) {
        // Captum's rule: Δout = (max(o, o') - o') + (o - max(o, o')); the first part goes to the
        // input's argmax, the second to the reference's, so the multipliers sum to Δout.
        const at::Tensor o_x = a[k + 1].narrow(0, 0, b), o_r = a[k + 1].narrow(0, b, b);
        const at::Tensor top = at::max(o_x, o_r);
        const at::Tensor routed =
            op.backward(in_x, m * (top - o_r)) + op.backward(in_r, m * (o_x - top));
        m = at::where(d_in.abs() > eps_, routed / d_in, op.backward(in_x, m));
      } else {
        m = op.backward(in_x, m);
      }
    }
    const at::Tensor diff = a[0].narrow(0, 0, b) - a[0].narrow(0, b, b);
    const at::Tensor contributions = diff * m;

    attrib::Explanation e;
    e.attributions = multiply_ ? contributions : m;
    e.extras["convergence_delta"] =
        contributions.flatten(1).sum(1) - (f.narrow(0, 0, b) - f.narrow(0, b, b));
    e.forward_rows = 2 * b + net.probe_rows();
    e.backward_rows = b;
    e.info = {
        {"rule", "rescale"},
        {"baseline", "constant"},
        {"baseline_value", baseline_},
        {"eps", eps_},
        {"eps_fallback", "gradient where |z - z'| <= eps"},
        {"multiply_by_inputs", multiply_},
        {"maxpool", "captum (Δout split at max(out, out'), routed to input and reference argmax)"},
        {"architecture", net.summary()},
        {"architecture_check_max_diff", net.verified_max_diff()},
        {"space", "input"},
        {"output", "logit"},
        {"accumulation", "float64"}};
    return e;
  }

  double baseline_, eps_;
  bool multiply_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(DeepLift, "deeplift", "1.0.0", ATTRIB_CAP_FORWARD | ATTRIB_CAP_LAYERS,
                     kMetadata)
