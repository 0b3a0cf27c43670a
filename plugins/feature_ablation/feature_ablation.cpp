// Feature ablation (METHODS.md §2.1): a_i = f_y(x) - f_y(x with the feature group of i replaced).
// Perturbation-major: block 0 holds the unperturbed rows, block j + 1 holds group j of every
// example; blocks are packed into forwards of at most max_rows.
#include <torch/script.h>

#include <string>
#include <vector>

#include "../common/coalitions.h"
#include "attrib/plugin.h"

namespace {

constexpr const char* kMetadata = R"json({
  "description": "Feature ablation: a_i = f_y(x) - f_y(x with G(i) replaced), where G(i) is the group of feature i. Every element of a group receives the group's full difference (copied, not divided). Dense: features are the flattened elements, or the groups given by `groups`, replaced by baseline_value. Text: features are the words (word_ids >= 0, never special tokens or padding; a word's subword tokens are replaced together by the `token` id and share its value equally); attributions are [B, T].",
  "citation": "Captum FeatureAblation (Kokhlikyan et al. 2020, arXiv:2009.07896); leave-one-out with replacement: Li, Monroe & Jurafsky (2016). Understanding Neural Networks through Representation Erasure. arXiv:1612.08220",
  "params": {
    "baseline_value": {"type": "number", "default": 0.0, "description": "Dense: value written into the ablated group."},
    "token": {"type": "string", "default": "mask", "enum": ["mask", "pad", "unk"], "description": "Text: special token whose id replaces the ablated token."},
    "groups": {"type": "array", "default": [], "description": "Dense only: one integer group id per flattened input element (shared by every example); elements with a negative id are never ablated. Empty: every element is its own group."}
  },
  "cost": {"forward_rows": "1 + n_groups", "backward_rows": "0"},
  "extras": []
})json";

class FeatureAblation : public attrib::AttributionMethod {
 public:
  explicit FeatureAblation(const nlohmann::json& params)
      : value_(params.at("baseline_value").get<double>()),
        token_(params.at("token").get<std::string>()) {
    for (const auto& g : params.at("groups")) {
      ATTRIB_CHECK(g.is_number_integer(), "feature_ablation: groups: expected integers, got ",
                   g.dump());
      groups_.push_back(g.get<int64_t>());
    }
  }

  attrib::Explanation explain(attrib::ModelAdapter& model, const attrib::Batch& batch,
                              const at::Tensor& targets,
                              const attrib::ExplainContext& ctx) override {
    attrib_plugins::Coalitions c(model, batch, targets, "feature_ablation", value_, token_,
                                 groups_);
    const int64_t b = c.batch_size();
    std::vector<at::Tensor> z(b);
    for (int64_t i = 0; i < b; ++i) {
      const int64_t m = c.n_features(i);
      // Row 0 keeps everything; row j + 1 drops feature j.
      z[i] = at::cat({attrib_plugins::all_features(m, true), at::eye(m, at::kLong).eq(0)});
    }
    const std::vector<at::Tensor> v =
        c.values(z, attrib_plugins::Layout::kPerturbationMajor, ctx.max_rows);
    std::vector<at::Tensor> phi(b);
    for (int64_t i = 0; i < b; ++i) phi[i] = v[i][0] - v[i].slice(0, 1);

    attrib::Explanation e = c.explanation(phi);
    e.info["groups"] = groups_.empty() ? "one per feature" : "given";
    e.info["layout"] = "perturbation-major";
    return e;
  }

 private:
  double value_;
  std::string token_;
  std::vector<int64_t> groups_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(FeatureAblation, "feature_ablation", "1.0.0", ATTRIB_CAP_FORWARD, kMetadata)
