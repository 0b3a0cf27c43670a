// Label attention (METHODS.md §3.6): the probabilities with which the target class's learned query
// attends over the tokens in the model's label-attention head, heads fused, as token scores.
#include <torch/script.h>

#include <string>

#include "../attention_common/attention_maps.h"
#include "../common/grouped.h"
#include "attrib/input_space.h"
#include "attrib/plugin.h"

namespace {

namespace attn = attrib_plugins::attention;

constexpr const char* kMetadata = R"json({
  "description": "Label attention: a_t = fuse_h(A[:, h, y, t]), the attention probabilities [B, H, C, T] of the target class y's learned query over the tokens, as returned by the model's label_attention() (the tensor actually used to pool each class's representation), heads fused, as token scores [B, T]. Class-specific. Padding scores 0; with head_fusion = mean each example's scores sum to 1.",
  "citation": "Mullenbach, Wiegreffe, Duke, Sun & Eisenstein (2018). Explainable Prediction of Medical Codes from Clinical Text. NAACL. arXiv:1802.05695",
  "params": {
    "head_fusion": )json" ATTRIB_ATTENTION_HEAD_FUSION_SCHEMA R"json(
  },
  "cost": {"forward_rows": "1", "backward_rows": "0"},
  "extras": []
})json";

class LabelAttention : public attrib_plugins::GroupedMethod {
 public:
  explicit LabelAttention(const nlohmann::json& params)
      : head_fusion_(params.at("head_fusion").get<std::string>()) {}

 private:
  attrib::Explanation explain_group(attrib::ModelAdapter& model, const attrib::Batch& b,
                                    const at::Tensor& targets,
                                    const attrib::ExplainContext&) override {
    at::NoGradGuard no_grad;
    attn::token_mask(b, "label_attention", b.inputs.device());  // validates the batch
    const int64_t n = b.size(), t = b.inputs.size(1), c = model.info().num_classes;
    ATTRIB_CHECK(targets.numel() == n, "label_attention: expected ", n, " targets, got ",
                 targets.numel());
    const attrib::LabelAttentionOutput out = model.label_attention(b.inputs, b.attention_mask);
    const at::Tensor& a = out.attention;
    ATTRIB_CHECK(a.defined() && a.dim() == 4 && a.size(0) == n && a.size(3) == t &&
                     (c <= 0 || a.size(2) == c),
                 "label_attention: model '", model.info().name,
                 "' returned label attention of shape ",
                 a.defined() ? c10::str(a.sizes()) : std::string("undefined"), ", expected [", n,
                 ", H, ", c > 0 ? std::to_string(c) : std::string("C"), ", ", t, "]");
    const at::Tensor y = targets.reshape({-1}).to(a.device(), at::kLong);
    ATTRIB_CHECK(n == 0 || (y.min().item<int64_t>() >= 0 && y.max().item<int64_t>() < a.size(2)),
                 "label_attention: expected targets in [0, ", a.size(2), "), got [",
                 y.min().item<int64_t>(), ", ", y.max().item<int64_t>(), "]");
    // A[b, :, y_b, :] -> [B, H, T].
    const at::Tensor index = y.view({n, 1, 1, 1}).expand({n, a.size(1), 1, t});
    const at::Tensor picked = a.gather(2, index).squeeze(2);
    const at::Tensor mask = attn::token_mask(b, "label_attention", a.device());

    attrib::Explanation e;
    e.attributions = attn::token_scores(attn::fuse_heads(picked, head_fusion_), mask);
    e.forward_rows = n;
    e.info = {{"head_fusion", head_fusion_},
              {"n_heads", a.size(1)},
              {"class", "target"},
              {"source", "label_attention() probabilities [B, H, C, T]"},
              {"space", "tokens"},
              {"output", "label attention probabilities of the target class"},
              {"padding", "0"}};
    return e;
  }

  std::string head_fusion_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(LabelAttention, "label_attention", "1.0.0", ATTRIB_CAP_LABEL_ATTENTION,
                     kMetadata)
