// Raw attention (METHODS.md §3.1): the attention probabilities of one layer (or the mean over
// layers), heads fused, read at the explained query row, as token scores [B, T].
#include <torch/script.h>

#include <string>

#include "../attention_common/attention_maps.h"
#include "../common/grouped.h"
#include "attrib/input_space.h"
#include "attrib/plugin.h"

namespace {

namespace attn = attrib_plugins::attention;

constexpr const char* kMetadata = R"json({
  "description": "Raw attention: a_t = fuse_h(A_l)[o, t], the post-softmax attention probabilities of layer l with the heads fused, read at query row o (or averaged over the real-token rows), as token scores [B, T]; with layer_fusion = mean, the mean of that over all layers. Class-independent. Padding scores 0.",
  "citation": "Bahdanau, Cho & Bengio (2015). Neural Machine Translation by Jointly Learning to Align and Translate. ICLR. arXiv:1409.0473; caveats: Jain & Wallace (2019). Attention is not Explanation. NAACL. arXiv:1902.10186",
  "params": {
    "layer": {"type": "integer", "default": -1, "minimum": -1024, "maximum": 1023, "description": "Layer l read when layer_fusion = single; negative counts from the end (-1 = last)."},
    "layer_fusion": {"type": "string", "default": "single", "enum": ["single", "mean"], "description": "single: layer `layer` only; mean: the mean over all layers (Inseq's default, with head_fusion = mean)."},
    "head_fusion": )json" ATTRIB_ATTENTION_HEAD_FUSION_SCHEMA R"json(,
    "query": )json" ATTRIB_ATTENTION_QUERY_SCHEMA R"json(
  },
  "cost": {"forward_rows": "1", "backward_rows": "0"},
  "extras": []
})json";

class Attention : public attrib_plugins::GroupedMethod {
 public:
  explicit Attention(const nlohmann::json& params)
      : layer_(params.at("layer").get<int64_t>()),
        layer_fusion_(params.at("layer_fusion").get<std::string>()),
        head_fusion_(params.at("head_fusion").get<std::string>()),
        query_(params.at("query").get<std::string>()) {}

 private:
  attrib::Explanation explain_group(attrib::ModelAdapter& model, const attrib::Batch& b,
                                    const at::Tensor& /*targets*/,
                                    const attrib::ExplainContext&) override {
    at::NoGradGuard no_grad;
    attn::token_mask(b, "attention", b.inputs.device());  // validates the batch
    const attrib::AttentionOutput out = model.forward_with_attentions(b.inputs, b.attention_mask);
    const int64_t n = static_cast<int64_t>(out.attentions.size());
    attn::check_attentions(out.attentions, b.size(), b.inputs.size(1), "attention",
                           "forward_with_attentions");
    const at::Tensor mask = attn::token_mask(b, "attention", out.attentions.front().device());
    const at::Tensor r0 = attn::query_weights(mask, query_);

    attrib::Explanation e;
    at::Tensor s;
    if (layer_fusion_ == "mean") {
      s = at::zeros_like(mask);
      for (const at::Tensor& a : out.attentions)
        s += attn::row_times(r0, attn::fuse_heads(a, head_fusion_));
      s /= static_cast<double>(n);
      e.info["layer"] = "all";
    } else {
      const int64_t l = attn::resolve_layer(layer_, n, "attention", "layer");
      s = attn::row_times(r0, attn::fuse_heads(out.attentions[l], head_fusion_));
      e.info["layer"] = l;
    }
    e.attributions = attn::token_scores(s, mask);
    e.forward_rows = b.size();
    e.info.update({{"layer_param", layer_},
                   {"layer_fusion", layer_fusion_},
                   {"n_layers", n},
                   {"head_fusion", head_fusion_},
                   {"query", query_},
                   {"space", "tokens"},
                   {"output", "attention probabilities (class-independent)"},
                   {"padding", "0"}});
    return e;
  }

  int64_t layer_;
  std::string layer_fusion_, head_fusion_, query_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(Attention, "attention", "1.0.0", ATTRIB_CAP_ATTENTIONS, kMetadata)
