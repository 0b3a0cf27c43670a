// Attention rollout (Abnar & Zuidema 2020; METHODS.md §3.2): per layer fuse the heads, optionally
// discard the weakest entries of each row, add the residual identity and renormalise the rows,
// then multiply the layers, newest from the left, and read the explained query row.
#include <torch/script.h>

#include <cmath>
#include <string>

#include "../attention_common/attention_maps.h"
#include "../common/grouped.h"
#include "attrib/input_space.h"
#include "attrib/plugin.h"

namespace {

namespace attn = attrib_plugins::attention;

constexpr const char* kMetadata = R"json({
  "description": "Attention rollout: A_l' = fuse_h(A_l) (padded rows and columns zeroed; optionally the discard_ratio weakest off-diagonal entries of each row set to 0), Â_l = (A_l' + I) / rowsum(A_l' + I), J = Â_L ... Â_s (s = start_layer), a_t = J[o, t] read at query row o (or averaged over the real-token rows), as token scores [B, T]. The row vector is propagated (r <- r Â_l from the last layer down), O(L T^2). Class-independent. Padding scores 0; each example's scores sum to 1.",
  "citation": "Abnar & Zuidema (2020). Quantifying Attention Flow in Transformers. ACL. arXiv:2005.00928",
  "params": {
    "head_fusion": )json" ATTRIB_ATTENTION_HEAD_FUSION_SCHEMA R"json(,
    "query": )json" ATTRIB_ATTENTION_QUERY_SCHEMA R"json(,
    "discard_ratio": {"type": "number", "default": 0.0, "minimum": 0.0, "maximum": 0.99, "description": "Per real query row with n real keys, set the floor(discard_ratio * (n - 1)) smallest off-diagonal entries to 0 before the residual is added (the diagonal is never discarded; ties: the lower key index is discarded first). 0 = the original method; vit-explain's variant does this over the whole matrix."},
    "residual": {"type": "boolean", "default": true, "description": "Add the identity (residual connection) before renormalising the rows; false renormalises fuse_h(A_l) alone."},
    "start_layer": {"type": "integer", "default": 0, "minimum": 0, "maximum": 1023, "description": "First layer multiplied in (0-based); earlier layers are skipped."}
  },
  "cost": {"forward_rows": "1", "backward_rows": "0"},
  "extras": []
})json";

class AttentionRollout : public attrib_plugins::GroupedMethod {
 public:
  explicit AttentionRollout(const nlohmann::json& params)
      : head_fusion_(params.at("head_fusion").get<std::string>()),
        query_(params.at("query").get<std::string>()),
        discard_ratio_(params.at("discard_ratio").get<double>()),
        residual_(params.at("residual").get<bool>()),
        start_layer_(params.at("start_layer").get<int64_t>()) {}

 private:
  attrib::Explanation explain_group(attrib::ModelAdapter& model, const attrib::Batch& b,
                                    const at::Tensor& /*targets*/,
                                    const attrib::ExplainContext&) override {
    at::NoGradGuard no_grad;
    attn::token_mask(b, "attention_rollout", b.inputs.device());  // validates the batch
    const attrib::AttentionOutput out = model.forward_with_attentions(b.inputs, b.attention_mask);
    const int64_t n = static_cast<int64_t>(out.attentions.size());
    attn::check_attentions(out.attentions, b.size(), b.inputs.size(1), "attention_rollout",
                           "forward_with_attentions");
    ATTRIB_CHECK(start_layer_ < n, "attention_rollout: start_layer = ", start_layer_,
                 ": expected a layer in [0, ", n - 1, "] (the model has ", n, " attention layers)");
    const at::Tensor mask =
        attn::token_mask(b, "attention_rollout", out.attentions.front().device());
    const int64_t t = mask.size(1);
    const at::Tensor eye = at::eye(t, mask.options()).unsqueeze(0);

    at::Tensor r = attn::query_weights(mask, query_);
    for (int64_t l = n - 1; l >= start_layer_; --l) {
      at::Tensor a = attn::mask_map(attn::fuse_heads(out.attentions[l], head_fusion_), mask);
      if (discard_ratio_ > 0) a = discard(a, mask);
      if (residual_) a = a + eye;
      const at::Tensor sums = a.sum(-1, /*keepdim=*/true);
      // Rows without mass (padded rows when residual = false) stay 0.
      a = at::where(sums > 0, a / sums.clamp_min(1e-300), at::zeros_like(a));
      r = attn::row_times(r, a);
    }

    attrib::Explanation e;
    e.attributions = attn::token_scores(r, mask);
    e.forward_rows = b.size();
    e.info = {
        {"head_fusion", head_fusion_},
        {"query", query_},
        {"discard_ratio", discard_ratio_},
        {"discard",
         discard_ratio_ > 0 ? "per row, off-diagonal real keys, smallest first" : "none"},
        {"residual", residual_},
        {"renormalise_rows", true},
        {"start_layer", start_layer_},
        {"n_layers", n},
        {"product", "J = Â_L ... Â_start (newest layer from the left), row vector propagated"},
        {"space", "tokens"},
        {"output", "attention probabilities (class-independent)"},
        {"padding", "0"}};
    return e;
  }

  // Zeroes, in every real row of a [B, T, T], the floor(ratio * (n - 1)) smallest entries among
  // the real off-diagonal keys (n = real tokens of that example).
  at::Tensor discard(const at::Tensor& a, const at::Tensor& mask) const {
    const int64_t t = a.size(1);
    const at::Tensor eye = at::eye(t, a.options().dtype(at::kBool)).unsqueeze(0);
    const at::Tensor candidate =
        mask.unsqueeze(2).to(at::kBool) & mask.unsqueeze(1).to(at::kBool) & eye.logical_not();
    // Non-candidates sort last; a stable sort discards the lower key index first among ties.
    const at::Tensor keyed = at::where(candidate, a, at::full_like(a, INFINITY));
    const at::Tensor order =
        std::get<1>(at::sort(keyed, /*stable=*/c10::optional<bool>(true), /*dim=*/-1,
                             /*descending=*/false));
    // The 1e-9 keeps ratio * (n - 1) from rounding down, e.g. 0.29 * 100 = 28.999999999999996.
    const at::Tensor k = at::floor(discard_ratio_ * (mask.sum(1) - 1).clamp_min(0) + 1e-9);
    const at::Tensor rank = at::arange(t, a.options()).view({1, 1, t});
    const at::Tensor drop_sorted = (rank < k.view({-1, 1, 1})).expand_as(order).contiguous();
    const at::Tensor drop = at::zeros_like(drop_sorted).scatter(-1, order, drop_sorted);
    return a.masked_fill(drop & candidate, 0.0);
  }

  std::string head_fusion_, query_;
  double discard_ratio_;
  bool residual_;
  int64_t start_layer_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(AttentionRollout, "attention_rollout", "1.0.0", ATTRIB_CAP_ATTENTIONS,
                     kMetadata)
