// Random control (METHODS.md §4.1): i.i.d. noise from the per-example stream (seed, id, 0). It
// never looks at the model, so it stays the same under model randomisation and must fail MPRT.
#include "attrib/random.h"

#include <torch/script.h>

#include <string>

#include "attrib/error.h"
#include "attrib/plugin.h"

namespace {

constexpr const char* kMetadata = R"json({
  "description": "Random control: a_i ~ N(0, 1) (or U[0, 1)) i.i.d., drawn from the stream keyed by (run seed, example id, 0), independent of the model. Dense: the input's shape; text: one value per word, at its first token; 0 for later subword tokens, special tokens and padding.",
  "citation": "Control baseline, as ferret's dummy explainer and OpenXAI's random baseline (Agarwal et al. 2022, OpenXAI, NeurIPS Datasets and Benchmarks).",
  "params": {
    "distribution": {"type": "string", "default": "normal", "enum": ["normal", "uniform"], "description": "normal: N(0, 1); uniform: U[0, 1)."}
  },
  "cost": {"forward_rows": "0", "backward_rows": "0"},
  "extras": []
})json";

class RandomAttribution : public attrib::AttributionMethod {
 public:
  explicit RandomAttribution(const nlohmann::json& params)
      : normal_(params.at("distribution").get<std::string>() == "normal") {}

  attrib::Explanation explain(attrib::ModelAdapter&, const attrib::Batch& batch, const at::Tensor&,
                              const attrib::ExplainContext& ctx) override {
    const bool text = batch.modality == attrib::Modality::kText;
    ATTRIB_CHECK(!text || batch.word_ids.defined(), "random: expected word_ids in a text batch");
    const at::Tensor inputs = batch.inputs.cpu();
    // Text draws one value per word (at its first token) only, so the numbers depend neither on
    // the padded length nor on how many subword tokens a word has.
    const at::Tensor valid = text ? attrib::word_starts(batch.word_ids.cpu()) : at::Tensor();
    at::Tensor out =
        text ? at::zeros(inputs.sizes(), at::kFloat) : at::empty(inputs.sizes(), at::kFloat);
    for (int64_t i = 0; i < batch.size(); ++i) {
      at::Generator gen = attrib::example_generator(ctx.seed, batch.ids[i], 0);
      const std::vector<int64_t> shape =
          text ? std::vector<int64_t>{valid[i].sum().item<int64_t>()} : inputs[i].sizes().vec();
      const at::Tensor draw =
          normal_ ? at::randn(shape, gen, at::kFloat) : at::rand(shape, gen, at::kFloat);
      if (text)
        out[i].masked_scatter_(valid[i], draw);
      else
        out[i].copy_(draw);
    }
    attrib::Explanation e;
    e.attributions = out.to(batch.inputs.device());
    e.info = {{"distribution", normal_ ? "normal" : "uniform"},
              {"stream", "example_generator(seed, id, 0)"},
              {"seed", ctx.seed},
              {"unit", text ? "word (one draw at its first token)" : "input element"}};
    return e;
  }

 private:
  bool normal_;
};

}  // namespace

ATTRIB_METHOD_PLUGIN(RandomAttribution, "random", "1.0.0", 0, kMetadata)
