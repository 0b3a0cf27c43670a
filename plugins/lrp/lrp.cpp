// Layer-wise relevance propagation (Bach et al. 2015; Montavon et al. 2019; METHODS.md §1.8) on
// models that declare a sequential ReLU architecture (attrib/sequential.h). Relevance starts at the
// target logit and is redistributed layer by layer in float64 with Zennit's rule definitions:
// ε (stabiliser ε·sign(z), sign(0) = +1), generalised γ (separate branches for positive and
// negative outputs, so signed inputs are allowed) and αβ (positive and negative contributions,
// α - β = 1). ReLUs pass relevance through, max-pooling is winner-take-all.
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "attrib/error.h"
#include "attrib/input_space.h"
#include "attrib/plugin.h"
#include "attrib/sequential.h"

namespace {

constexpr const char* kMetadata = R"json({
  "description": "Layer-wise relevance propagation on dense models with a sequential ReLU architecture (metadata.architecture). Initial relevance: the target logit f_y(x) at class y (Captum's convention), so relevances sum to f_y(x) up to what biases and stabilisers absorb (extra conservation_gap = sum of input relevance - f_y(x)). Linear and convolution layers use the rule: epsilon (R_j = a_j sum_k w_jk R_k / (z_k + eps sign(z_k)), sign(0) = +1), gamma (Zennit's generalised rule: weights w + gamma w+ for the contributions that agree with the output's sign), alpha_beta (alpha times the positive, minus beta times the negative contributions' shares; alpha - beta = 1), or the composite epsilon_gamma (epsilon for linear, gamma for conv2d layers). Biases take part in z and absorb relevance unless set_bias_to_zero. ReLU passes relevance through; max-pooling gives each window's relevance to its argmax; flatten reshapes. Propagated in float64.",
  "citation": "Bach, Binder, Montavon, Klauschen, Müller & Samek (2015). On Pixel-Wise Explanations for Non-Linear Classifier Decisions by Layer-Wise Relevance Propagation. PLoS ONE 10(7). Montavon, Binder, Lapuschkin, Samek & Müller (2019). Layer-Wise Relevance Propagation: An Overview. In Explainable AI, LNCS 11700.",
  "params": {
    "rule": {"type": "string", "default": "epsilon", "enum": ["epsilon", "gamma", "alpha_beta", "epsilon_gamma"], "description": "Rule for linear and conv2d layers; epsilon_gamma: epsilon for linear, gamma for conv2d (Zennit's EpsilonGammaBox without the box rule)."},
    "epsilon": {"type": "number", "default": 1e-6, "minimum": 0, "description": "epsilon rule stabiliser (Zennit 1e-6; Captum 1e-9; 0 is LRP-0, relevance of outputs with z = 0 is then dropped)."},
    "gamma": {"type": "number", "default": 0.25, "minimum": 0, "description": "gamma rule: weight on the positive (sign-agreeing) parts (Zennit and Captum 0.25)."},
    "alpha": {"type": "number", "default": 2.0, "minimum": 0, "description": "alpha_beta rule: weight of positive contributions (Zennit 2)."},
    "beta": {"type": "number", "default": 1.0, "minimum": 0, "description": "alpha_beta rule: weight of negative contributions (Zennit 1); alpha - beta must be 1 (alpha 1, beta 0 is z+)."},
    "stabilizer": {"type": "number", "default": 1e-6, "minimum": 0, "description": "Denominator stabiliser of the gamma and alpha_beta rules: d + (1[d = 0] + sign(d)) * stabilizer (Zennit 1e-6)."},
    "set_bias_to_zero": {"type": "boolean", "default": false, "description": "Leave biases out of every rule's z (Captum's set_bias_to_zero); relevance is then conserved up to the stabilisers."}
  },
  "cost": {"forward_rows": "1 (+ 1 row per explain call checking the architecture against forward)", "backward_rows": "1"},
  "extras": ["conservation_gap"]
})json";

// d + (1[d = 0] + sign(d)) * eps: pushes d away from zero, sign(0) := +1 (Zennit's stabilize).
at::Tensor stabilize(const at::Tensor& d, double eps) {
  return d + (d.eq(0).to(d.scalar_type()) + d.sign()) * eps;
}

// r / d, 0 where d = 0 (only reachable with a zero stabiliser): that relevance is dropped.
at::Tensor share(const at::Tensor& r, const at::Tensor& d) {
  return at::where(d.ne(0), r / d, at::zeros_like(r));
}

class Lrp : public attrib::AttributionMethod {
 public:
  explicit Lrp(const nlohmann::json& params)
      : rule_(params.at("rule").get<std::string>()),
        epsilon_(params.at("epsilon").get<double>()),
        gamma_(params.at("gamma").get<double>()),
        alpha_(params.at("alpha").get<double>()),
        beta_(params.at("beta").get<double>()),
        stabilizer_(params.at("stabilizer").get<double>()),
        zero_bias_(params.at("set_bias_to_zero").get<bool>()) {
    ATTRIB_CHECK(std::abs(alpha_ - beta_ - 1.0) <= 1e-12,
                 "lrp: expected alpha - beta = 1 (e.g. alpha 1, beta 0 or alpha 2, beta 1), got "
                 "alpha = ",
                 alpha_, ", beta = ", beta_);
  }

  attrib::Explanation explain(attrib::ModelAdapter& model, const attrib::Batch& batch,
                              const at::Tensor& targets,
                              const attrib::ExplainContext& ctx) override {
    attrib::SequentialNetwork::require(model);
    return attrib::explain_in_groups(
        batch, targets, ctx.max_rows,
        [&](const attrib::Batch& b, const at::Tensor& t) { return explain_group(model, b, t); });
  }

 private:
  using Op = attrib::SequentialOp;

  // The rule applied to an affine op.
  std::string rule_for(const Op& op) const {
    if (rule_ == "epsilon_gamma") return op.kind == Op::Kind::kConv2d ? "gamma" : "epsilon";
    return rule_;
  }

  // Relevance at the input `a` of affine op `op`, given relevance `r` at its output.
  at::Tensor affine(const Op& op, const at::Tensor& a, const at::Tensor& z_out,
                    const at::Tensor& r) const {
    const at::Tensor& w = op.weight;
    const at::Tensor b = zero_bias_ ? at::Tensor() : op.bias;
    const at::Tensor z = zero_bias_ ? op.affine_forward(a, w, at::Tensor()) : z_out;
    const std::string rule = rule_for(op);
    if (rule == "epsilon") return a * op.affine_backward(a, share(r, stabilize(z, epsilon_)), w);
    const at::Tensor ap = a.clamp_min(0), an = a.clamp_max(0);
    auto part = [](const at::Tensor& t, bool positive) {
      return !t.defined() ? t : positive ? t.clamp_min(0) : t.clamp_max(0);
    };
    if (rule == "gamma") {
      // Branch "up" (used where z > 0) boosts the contributions a_j w_jk > 0; branch "down" (where
      // z < 0) the negative ones. With a >= 0 and z > 0 this is w + gamma w+ of Montavon et al.
      const at::Tensor w_up = w + gamma_ * w.clamp_min(0), w_down = w + gamma_ * w.clamp_max(0);
      const at::Tensor b_up = b.defined() ? b + gamma_ * b.clamp_min(0) : b;
      const at::Tensor b_down = b.defined() ? b + gamma_ * b.clamp_max(0) : b;
      const at::Tensor z_up = op.affine_forward(ap, w_up, b_up) + op.affine_forward(an, w_down, {});
      const at::Tensor z_down =
          op.affine_forward(ap, w_down, b_down) + op.affine_forward(an, w_up, {});
      const at::Tensor s_up = share(r * z.gt(0).to(r.scalar_type()), stabilize(z_up, stabilizer_));
      const at::Tensor s_down =
          share(r * z.lt(0).to(r.scalar_type()), stabilize(z_down, stabilizer_));
      return ap * op.affine_backward(a, s_up, w_up) + an * op.affine_backward(a, s_up, w_down) +
             ap * op.affine_backward(a, s_down, w_down) + an * op.affine_backward(a, s_down, w_up);
    }
    // alpha_beta: z+ and z- collect the positive and the negative contributions (bias parts too).
    const at::Tensor wp = w.clamp_min(0), wn = w.clamp_max(0);
    const at::Tensor z_pos =
        op.affine_forward(ap, wp, part(b, true)) + op.affine_forward(an, wn, {});
    const at::Tensor z_neg =
        op.affine_forward(ap, wn, part(b, false)) + op.affine_forward(an, wp, {});
    const at::Tensor s_pos = share(r, stabilize(z_pos, stabilizer_));
    const at::Tensor s_neg = share(r, stabilize(z_neg, stabilizer_));
    return alpha_ *
               (ap * op.affine_backward(a, s_pos, wp) + an * op.affine_backward(a, s_pos, wn)) -
           beta_ * (ap * op.affine_backward(a, s_neg, wn) + an * op.affine_backward(a, s_neg, wp));
  }

  attrib::Explanation explain_group(attrib::ModelAdapter& model, const attrib::Batch& batch,
                                    const at::Tensor& targets) const {
    ATTRIB_CHECK(batch.modality == attrib::Modality::kDense, "lrp: model '", model.info().name,
                 "': expected a dense batch, got a text batch");
    const int64_t b = batch.size();
    const attrib::SequentialNetwork net =
        attrib::SequentialNetwork(model, batch.inputs.narrow(0, 0, std::min<int64_t>(b, 1)))
            .cast(at::kDouble);
    at::NoGradGuard no_grad;
    const std::vector<at::Tensor> a = net.activations(batch.inputs.detach().to(at::kDouble));
    const at::Tensor& logits = a.back();
    const at::Tensor f = attrib::select_targets(logits, targets);
    at::Tensor r = at::zeros_like(logits).scatter_(
        1, targets.to(logits.device(), at::kLong).view({b, 1}), f.view({b, 1}));
    const auto& ops = net.ops();
    nlohmann::json layer_rules = nlohmann::json::array();
    for (size_t k = ops.size(); k-- > 0;) {
      const Op& op = ops[k];
      switch (op.kind) {
        case Op::Kind::kRelu:
          break;  // relevance passes through
        case Op::Kind::kFlatten:
        case Op::Kind::kMaxPool2d:
          r = op.backward(a[k], r);  // reshape; winner-take-all
          break;
        case Op::Kind::kLinear:
        case Op::Kind::kConv2d:
          r = affine(op, a[k], a[k + 1], r);
          layer_rules.insert(layer_rules.begin(), std::string(op.name()) + ": " + rule_for(op));
          break;
      }
    }
    attrib::Explanation e;
    e.attributions = r;
    e.extras["conservation_gap"] = r.flatten(1).sum(1) - f;
    e.forward_rows = b + net.probe_rows();
    e.backward_rows = b;
    e.info = {{"rule", rule_},
              {"layer_rules", layer_rules},
              {"initial_relevance", "target logit f_y(x) at class y"},
              {"bias", zero_bias_ ? "left out of z (set_bias_to_zero)"
                                  : "part of z; absorbs relevance (see conservation_gap)"},
              {"relu", "pass-through"},
              {"maxpool", "winner-take-all (argmax)"},
              {"architecture", net.summary()},
              {"architecture_check_max_diff", net.verified_max_diff()},
              {"space", "input"},
              {"output", "logit"},
              {"accumulation", "float64"}};
    if (rule_ == "epsilon" || rule_ == "epsilon_gamma") {
      e.info["epsilon"] = epsilon_;
      e.info["epsilon_sign_at_zero"] = "+1";
    }
    if (rule_ == "gamma" || rule_ == "epsilon_gamma") {
      e.info["gamma"] = gamma_;
      e.info["gamma_variant"] = "Zennit generalised (separate branches for z > 0 and z < 0)";
    }
    if (rule_ == "alpha_beta") {
      e.info["alpha"] = alpha_;
      e.info["beta"] = beta_;
    }
    if (rule_ != "epsilon") e.info["stabilizer"] = stabilizer_;
    return e;
  }

  std::string rule_;
  double epsilon_, gamma_, alpha_, beta_, stabilizer_;
  bool zero_bias_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(Lrp, "lrp", "1.0.0", ATTRIB_CAP_FORWARD | ATTRIB_CAP_LAYERS, kMetadata)
