// Gradient-weighted attention (Chefer, Gur & Wolf 2021, "Generic Attention-model
// Explainability"; METHODS.md §3.4): Ā_l = mean_h (∇A_l ⊙ A_l)^+ with ∇A_l the gradient of the
// target logit, R = I, R <- R + Ā_l R for l = 1..L, scores R[o, :].
#include <torch/csrc/autograd/autograd.h>
#include <torch/script.h>

#include <string>
#include <vector>

#include "../attention_common/attention_maps.h"
#include "../common/grouped.h"
#include "attrib/input_space.h"
#include "attrib/plugin.h"

namespace {

namespace attn = attrib_plugins::attention;

constexpr const char* kMetadata = R"json({
  "description": "Gradient-weighted attention rollout (Chefer et al. 2021, generic rule): Ā_l = mean_h[(∂f_y/∂A_l ⊙ A_l)^+] with f_y the target logit and the clamp per head before the mean; padded rows and columns of Ā_l are zeroed; R = I and R <- R + Ā_l R for l = 1..L; a_t = R[o, t] at query row o (or averaged over the real-token rows), as token scores [B, T]. R's row is propagated (r <- r + r Ā_l from the last layer down), O(L T^2). Needs attentions on the autograd path: the graph starts at the embeddings when the model offers them. Padding scores 0.",
  "citation": "Chefer, Gur & Wolf (2021). Generic Attention-model Explainability for Interpreting Bi-Modal and Encoder-Decoder Transformers. ICCV. arXiv:2103.15679",
  "params": {
    "query": )json" ATTRIB_ATTENTION_QUERY_SCHEMA R"json(
  },
  "cost": {"forward_rows": "1", "backward_rows": "1"},
  "extras": []
})json";

class GradXAttention : public attrib_plugins::GroupedMethod {
 public:
  explicit GradXAttention(const nlohmann::json& params)
      : query_(params.at("query").get<std::string>()) {}

 private:
  attrib::Explanation explain_group(attrib::ModelAdapter& model, const attrib::Batch& b,
                                    const at::Tensor& targets,
                                    const attrib::ExplainContext&) override {
    attn::token_mask(b, "grad_x_attention", b.inputs.device());  // validates the batch
    ATTRIB_CHECK(targets.numel() == b.size(), "grad_x_attention: expected ", b.size(),
                 " targets, got ", targets.numel());
    at::AutoGradMode grad_on(true);
    // Parameters are frozen, so from ids alone nothing in the graph may require grad: start it at
    // the embeddings (a leaf) when the model has them, as the conformance checks do.
    const bool from_embeddings = model.has(ATTRIB_CAP_EMBEDDINGS);
    attrib::AttentionOutput out;
    const char* source = "forward_with_attentions";
    if (from_embeddings) {
      source = "forward_from_embeddings_with_attentions";
      const at::Tensor e = model.embed(b.inputs).detach().requires_grad_(true);
      out = model.forward_from_embeddings_with_attentions(e, b.attention_mask);
    } else {
      out = model.forward_with_attentions(b.inputs, b.attention_mask);
    }
    const int64_t n = static_cast<int64_t>(out.attentions.size());
    attn::check_attentions(out.attentions, b.size(), b.inputs.size(1), "grad_x_attention", source);
    for (int64_t l = 0; l < n; ++l)
      ATTRIB_CHECK(out.attentions[l].requires_grad(), "grad_x_attention: ", source, " attention ",
                   l,
                   ": expected probabilities on the autograd path to the logits (requires_grad), "
                   "got a tensor outside the graph");
    const at::Tensor y = attrib::select_targets(out.logits, targets.to(out.logits.device())).sum();
    const std::vector<at::Tensor> grads = torch::autograd::grad(
        {y}, out.attentions, /*grad_outputs=*/{}, /*retain_graph=*/false, /*create_graph=*/false,
        /*allow_unused=*/true);

    const at::Tensor mask =
        attn::token_mask(b, "grad_x_attention", out.attentions.front().device());
    at::Tensor r = attn::query_weights(mask, query_);
    int64_t unused = 0;
    for (int64_t l = n - 1; l >= 0; --l) {
      if (!grads[l].defined()) {  // the logit does not depend on this layer: Ā_l = 0
        ++unused;
        continue;
      }
      const at::Tensor a = out.attentions[l].detach().to(at::kDouble);
      const at::Tensor weighted = (grads[l].to(at::kDouble) * a).clamp_min(0).mean(1);
      r = r + attn::row_times(r, attn::mask_map(weighted, mask));
    }

    attrib::Explanation e;
    e.attributions = attn::token_scores(r, mask);
    e.forward_rows = e.backward_rows = b.size();
    e.info = {{"rule", "chefer2021_generic"},
              {"head_fusion", "mean of per-head clamped gradient x attention"},
              {"clamp", "per head, before the mean"},
              {"query", query_},
              {"update", "R <- R + Ā_l R, l = 1..L, R_0 = I (no row normalisation)"},
              {"n_layers", n},
              {"layers_without_gradient", unused},
              {"graph_start", from_embeddings ? "embeddings" : "token ids"},
              {"output", "logit"},
              {"space", "tokens"},
              {"padding", "0"}};
    return e;
  }

  std::string query_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(GradXAttention, "grad_x_attention", "1.0.0", ATTRIB_CAP_ATTENTIONS, kMetadata)
