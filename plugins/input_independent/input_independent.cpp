// Model-independent control (METHODS.md §4.3): an explainer that never looks at the model's
// parameters, so it must fail every randomisation test. Either a fixed positional prior or an
// input-only map.
#include <torch/script.h>

#include <algorithm>
#include <string>

#include "attrib/error.h"
#include "attrib/plugin.h"

namespace {

constexpr const char* kMetadata = R"json({
  "description": "Model-independent control. kind = positional: a fixed prior a_j = 1 / (1 + j), where j is the feature's position (dense: flattened element index; text: index among the word tokens, 0 on special tokens and padding). kind = abs_input (dense only): an input-only map, |x| for 1-D inputs and sum over channels (dimension 1 of an example [C, ...]) of |x_c|, repeated on every channel, for inputs of 2 or more dimensions. Similarity under model randomisation is exactly 1.",
  "citation": "Adebayo, Gilmer, Muelly, Goodfellow, Hardt & Kim (2018). Sanity Checks for Saliency Maps. NeurIPS. arXiv:1810.03292",
  "params": {
    "kind": {"type": "string", "default": "positional", "enum": ["positional", "abs_input"], "description": "positional: 1 / (1 + position); abs_input: sum over channels of |x| (dense only)."}
  },
  "cost": {"forward_rows": "0", "backward_rows": "0"},
  "extras": []
})json";

class InputIndependent : public attrib::AttributionMethod {
 public:
  explicit InputIndependent(const nlohmann::json& params)
      : kind_(params.at("kind").get<std::string>()) {}

  attrib::Explanation explain(attrib::ModelAdapter&, const attrib::Batch& batch, const at::Tensor&,
                              const attrib::ExplainContext&) override {
    const bool text = batch.modality == attrib::Modality::kText;
    const at::Tensor& x = batch.inputs;
    const at::TensorOptions options = x.options().dtype(at::kFloat);
    attrib::Explanation e;
    e.info = {{"kind", kind_}};
    if (kind_ == "positional") {
      if (text) {
        ATTRIB_CHECK(batch.word_ids.defined(),
                     "input_independent: expected word_ids in a text batch");
        const at::Tensor valid = batch.word_ids.to(x.device()).ge(0);
        const at::Tensor rank = (valid.cumsum(1) - 1).to(at::kFloat);
        e.attributions = at::where(valid, 1.0 / (rank + 1.0), at::zeros({}, options));
        e.info["unit"] = "token (word tokens only)";
        e.info["prior"] = "1 / (1 + word-token index)";
      } else {
        const int64_t d = x.numel() / std::max<int64_t>(1, x.size(0));
        const at::Tensor prior = 1.0 / (at::arange(d, options) + 1.0);
        e.attributions = prior.expand({x.size(0), d}).reshape(x.sizes()).contiguous();
        e.info["unit"] = "input element";
        e.info["prior"] = "1 / (1 + flattened element index)";
      }
      return e;
    }
    ATTRIB_CHECK(!text,
                 "input_independent kind \"abs_input\": expected a dense batch, got a text batch "
                 "(use kind \"positional\")");
    const at::Tensor a = x.to(at::kFloat).abs();
    e.attributions = x.dim() <= 2 ? a : a.sum(1, /*keepdim=*/true).expand(x.sizes()).contiguous();
    e.info["unit"] = "input element";
    e.info["map"] = x.dim() <= 2 ? "|x|" : "sum over channels (dim 1) of |x|";
    return e;
  }

 private:
  std::string kind_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(InputIndependent, "input_independent", "1.0.0", 0, kMetadata)
