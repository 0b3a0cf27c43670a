// A third-party method plugin built against the installed attrib SDK only:
// attributions = sign(d logit[target] / d input), the attributed input being the dense input or,
// for text models, the token embeddings.
#include <attrib/attrib.h>

#include <algorithm>

namespace {

class GradientSign : public attrib::AttributionMethod {
 public:
  explicit GradientSign(const nlohmann::json& params)
      : multiply_by_input_(params.at("multiply_by_input").get<bool>()) {}

  attrib::Explanation explain(attrib::ModelAdapter& model, const attrib::Batch& batch,
                              const at::Tensor& targets,
                              const attrib::ExplainContext& ctx) override {
    const bool text = batch.modality == attrib::Modality::kText;
    const uint64_t needed =
        ATTRIB_CAP_INPUT_GRADIENT | (text ? uint64_t{ATTRIB_CAP_EMBEDDINGS} : uint64_t{0});
    ATTRIB_CHECK(model.has(needed), "consumer_gradient_sign: model '", model.info().name,
                 "' offers no input gradient");
    at::AutoGradMode grad_mode(true);  // the harness may call under no-grad
    const int64_t n = batch.size();
    const int64_t step = std::max<int64_t>(1, ctx.max_rows);
    std::vector<at::Tensor> parts;
    for (int64_t start = 0; start < n; start += step) {
      const int64_t end = std::min(n, start + step);
      at::Tensor mask =
          batch.attention_mask.defined() ? batch.attention_mask.slice(0, start, end) : at::Tensor();
      at::Tensor input = text ? model.embed(batch.inputs.slice(0, start, end))
                              : batch.inputs.slice(0, start, end).to(at::kFloat);
      input = input.detach().clone().set_requires_grad(true);
      at::Tensor logits =
          text ? model.forward_from_embeddings(input, mask) : model.forward(input, mask);
      at::Tensor t = targets.slice(0, start, end).to(logits.device()).to(at::kLong).unsqueeze(1);
      logits.gather(1, t).sum().backward();
      at::Tensor grad = input.grad().detach();
      at::Tensor attribution = grad.sign();
      if (multiply_by_input_) attribution = attribution * input.detach();
      parts.push_back(attribution);
    }
    attrib::Explanation e;
    e.attributions = at::cat(parts, 0);
    e.info = {{"multiply_by_input", multiply_by_input_}};
    e.forward_rows = n;
    e.backward_rows = n;
    return e;
  }

 private:
  bool multiply_by_input_;
};

constexpr const char* kMetadata = R"json({
  "description": "Sign of the gradient of the target logit with respect to the input (consumer example)",
  "citation": "",
  "params": {
    "multiply_by_input": {"type": "boolean", "default": false,
                          "description": "multiply the sign by the input value"}
  },
  "cost": {"forward_rows": "1", "backward_rows": "1"}
})json";

}  // namespace

ATTRIB_METHOD_PLUGIN(GradientSign, "consumer_gradient_sign", "1.0.0",
                     ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT, kMetadata)
