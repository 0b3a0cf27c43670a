// `text_bow`: a built-in bag-of-embeddings text classifier. Token embeddings (no position
// embedding), masked mean pooling over the real tokens, an optional Linear+ReLU hidden layer and a
// linear classifier. TorchScript source defined from C++, so the saved archive loads with
// torch.jit.load and through the `torchscript` plugin alike.
#include <torch/script.h>

#include <nlohmann/json.hpp>
#include <string>

#include "../common/text_model.h"
#include "attrib/plugin.h"

namespace {

using nlohmann::json;

constexpr const char* kDescription =
    "Built-in bag-of-embeddings text classifier: token embeddings [V, d] (no position embedding), "
    "masked mean over the real tokens (attention_mask), optional Linear+ReLU hidden layer, linear "
    "classifier. Defined in TorchScript, saved as a .pt that torch.jit.load reads. Exports "
    "forward, embed (the token embeddings), forward_from_embeddings and metadata; no attention. "
    "Deterministic initialisation from seed; no dropout.";

constexpr const char* kParams = R"JSON({
  "hidden": {"type": "integer", "default": 0, "minimum": 0, "maximum": 1048576, "description": "width of a Linear+ReLU layer between the pooled embedding and the classifier; 0: none (a linear model of the mean embedding)"}
})JSON";

const char* plugin_metadata() {
  static const std::string doc = attrib_models::text_plugin_metadata(kDescription, kParams);
  return doc.c_str();
}

// Mean of the embeddings of the real tokens (none: zeros), [ReLU(W_h x + b_h)], classifier.
std::string source(bool hidden) {
  std::string s = std::string(attrib_models::kTokenEmbedSource) + R"TS(
def forward_from_embeddings(self, embeddings: Tensor, attention_mask: Tensor) -> Tensor:
    m = attention_mask.to(embeddings.dtype).unsqueeze(-1)
    x = (embeddings * m).sum(1) / m.sum(1).clamp(min=1.0)
)TS";
  if (hidden) s += "    x = torch.relu(torch.linear(x, self.hidden_w, self.hidden_b))\n";
  s += "    return torch.linear(x, self.cls_w, self.cls_b)\n";
  return s;
}

torch::jit::Module build(const json& p) {
  const attrib_models::TextSpec s = attrib_models::text_spec(p, "text_bow");
  const int64_t hidden = p.at("hidden").get<int64_t>();
  attrib_models::TextModuleBuilder m("TextBow", s.seed);
  m.token_embedding(s);
  int64_t width = s.d;
  if (hidden > 0) {
    m.weighted_layer("hidden", "hidden_w", attrib_models::he_uniform({hidden, s.d}, s.d, m.gen),
                     "hidden_b");
    width = hidden;
  }
  m.classifier(s, width);

  json meta = attrib_models::text_metadata(s, "text_bow");
  meta["hidden"] = hidden;
  meta["embed_contains"] = "token embeddings (no position embedding)";
  meta["pooling"] = "masked mean over the real tokens (attention_mask = 1; none: zeros)";
  meta["init"] = "tok_emb N(0, 1); hidden_w he_uniform, cls_w xavier_uniform; zero biases";
  return m.finish(meta, source(hidden > 0));
}

class TextBow : public attrib_models::TextBuiltin {
 public:
  explicit TextBow(const json& p) : TextBuiltin(p, "text_bow", build) {}
};

}  // namespace

ATTRIB_MODEL_PLUGIN(TextBow, "text_bow", "1.0.0",
                    ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT | ATTRIB_CAP_EMBEDDINGS |
                        ATTRIB_CAP_LAYERS | ATTRIB_CAP_TRAINABLE,
                    plugin_metadata())
