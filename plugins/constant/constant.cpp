// Constant control (METHODS.md §4.2): every feature gets the same value c. It probes how metrics
// break ties and handle undefined correlations; it never looks at the model.
#include <torch/script.h>

#include "attrib/error.h"
#include "attrib/plugin.h"

namespace {

constexpr const char* kMetadata = R"json({
  "description": "Constant control: a_i = value for every feature, independent of the model and the input values. Dense: the input's shape; text: one value per token, value per word (split evenly over its subword tokens) and 0 on special tokens and padding. Every ranking metric reduces to its tie-break rule; correlations are undefined.",
  "citation": "Control baseline (METHODS.md §4.2); used to probe tie handling, e.g. Quantus's pointing game counts any maximal element as a hit.",
  "params": {
    "value": {"type": "number", "default": 1.0, "description": "The constant c."}
  },
  "cost": {"forward_rows": "0", "backward_rows": "0"},
  "extras": []
})json";

class ConstantAttribution : public attrib::AttributionMethod {
 public:
  explicit ConstantAttribution(const nlohmann::json& params)
      : value_(params.at("value").get<double>()) {}

  attrib::Explanation explain(attrib::ModelAdapter&, const attrib::Batch& batch, const at::Tensor&,
                              const attrib::ExplainContext&) override {
    const bool text = batch.modality == attrib::Modality::kText;
    ATTRIB_CHECK(!text || batch.word_ids.defined(), "constant: expected word_ids in a text batch");
    attrib::Explanation e;
    const at::TensorOptions options = batch.inputs.options().dtype(at::kFloat);
    // Text: every word gets `value`, split evenly over its subword tokens.
    e.attributions = text ? (attrib::word_token_share(batch.word_ids.cpu()) * value_)
                                .to(batch.inputs.device(), at::kFloat)
                          : at::full(batch.inputs.sizes(), value_, options);
    e.info = {{"value", value_}, {"unit", text ? "word (split over its tokens)" : "input element"}};
    return e;
  }

 private:
  double value_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(ConstantAttribution, "constant", "1.0.0", 0, kMetadata)
