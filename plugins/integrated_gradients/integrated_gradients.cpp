// Integrated gradients (Sundararajan et al. 2017) with a choice of quadrature rule, batched
// step-major and chunked by max_rows (METHODS.md §1.3).
#include <torch/script.h>

#include <string>
#include <vector>

#include "../common/grouped.h"
#include "../common/samples.h"
#include "attrib/input_space.h"
#include "attrib/plugin.h"
#include "attrib/quadrature.h"

namespace {

// The "method" enum must list attrib::quadrature_rules(); the unit tests check that it does.
constexpr const char* kMetadata = R"json({
  "description": "Integrated gradients: (x - x') times the path integral of the target logit's gradient from the baseline x' to x, by quadrature. Text is attributed in embedding space ([B, T, d]). Reports the convergence delta sum(a) - (f(x) - f(x')).",
  "citation": "Sundararajan, Taly & Yan (2017). Axiomatic Attribution for Deep Networks. ICML. arXiv:1703.01365",
  "params": {
    "n_steps": {"type": "integer", "default": 50, "minimum": 1, "description": "Number of quadrature nodes m (trapezoid rules need m >= 2)."},
    "method": {"type": "string", "default": "gausslegendre", "enum": ["gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "captum_trapezoid"], "description": "Quadrature rule. captum_trapezoid reproduces Captum's riemann_trapezoid (weights 1/m, sum 1 - 1/m); riemann_trapezoid is the textbook rule."},
    "baseline": {"type": "string", "default": "zero", "enum": ["zero", "pad", "mask", "unk"], "description": "Baseline x': zero vector, or for text the embedding of that special token at every word position (special tokens and padding keep their own)."},
    "multiply_by_inputs": {"type": "boolean", "default": true, "description": "Multiply the averaged gradient by (x - x'); false returns the path-averaged gradient."}
  },
  "cost": {"forward_rows": "n_steps + 2", "backward_rows": "n_steps"},
  "extras": ["convergence_delta", "relative_delta"]
})json";

class IntegratedGradients : public attrib_plugins::GroupedMethod {
 public:
  explicit IntegratedGradients(const nlohmann::json& params)
      : n_steps_(params.at("n_steps").get<int>()),
        rule_(params.at("method").get<std::string>()),
        baseline_(params.at("baseline").get<std::string>()),
        multiply_(params.at("multiply_by_inputs").get<bool>()),
        q_(attrib::quadrature(rule_, n_steps_)) {}

 private:
  attrib::Explanation explain_group(attrib::ModelAdapter& model, const attrib::Batch& batch,
                                    const at::Tensor& targets,
                                    const attrib::ExplainContext& ctx) override {
    attrib::InputSpace space(model, batch);
    const at::Tensor& x = space.x();
    const at::Tensor x0 = space.baseline(baseline_);
    // The path is built in float64 and rounded once, so nodes are not quantised to float32.
    const at::Tensor x0d = x0.to(at::kDouble), diff = x.to(at::kDouble) - x0d;
    const int64_t b = space.batch_size(), m = n_steps_;
    std::vector<int64_t> block_shape(x.dim() + 1, 1);  // [R, 1, ...] broadcasts over [B, ...]
    // Quadrature values for nodes [k0, k0 + r) as [r, 1, ...].
    const auto node = [&](const std::vector<double>& v, int64_t k0, int64_t r) {
      block_shape[0] = r;
      return at::tensor(std::vector<double>(v.begin() + k0, v.begin() + k0 + r), diff.options())
          .view(block_shape);
    };

    at::Tensor acc = at::zeros(x.sizes(), diff.options());
    attrib_plugins::gradient_blocks(
        space, targets, m, ctx.max_rows,
        [&](int64_t k0, int64_t r) {
          return (x0d.unsqueeze(0) + node(q_.nodes, k0, r) * diff.unsqueeze(0)).to(x.scalar_type());
        },
        [&](int64_t k0, const at::Tensor& rows, const at::Tensor& g) {
          acc += (g.to(at::kDouble) * node(q_.weights, k0, rows.size(0))).sum(0);
        });
    const at::Tensor path_ig = acc * diff;

    at::Tensor fx, fx0;
    {
      at::NoGradGuard no_grad;
      fx = attrib::select_targets(space.logits(x), targets).to(at::kDouble);
      fx0 = attrib::select_targets(space.logits(x0), targets).to(at::kDouble);
    }
    // Completeness is checked on (x - x') * integral even when the caller asked for the
    // averaged gradient alone, so the delta always means the same thing.
    const at::Tensor delta = path_ig.flatten(1).sum(1) - (fx - fx0);

    attrib::Explanation e;
    e.attributions = multiply_ ? path_ig : acc;
    e.extras["convergence_delta"] = delta;
    e.extras["relative_delta"] = delta.abs() / (fx - fx0).abs();  // inf/NaN when f(x) = f(x')
    e.forward_rows = (m + 2) * b;
    e.backward_rows = m * b;
    e.info = {{"rule", rule_},
              {"n_steps", n_steps_},
              {"baseline", baseline_},
              {"multiply_by_inputs", multiply_},
              {"space", space.is_embedding() ? "embeddings" : "input"},
              {"output", "logit"},
              {"accumulation", "float64"}};
    return e;
  }

  int n_steps_;
  std::string rule_, baseline_;
  bool multiply_;
  attrib::Quadrature q_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(IntegratedGradients, "integrated_gradients", "1.0.0",
                     ATTRIB_CAP_INPUT_GRADIENT, kMetadata)
