// `text_transformer`: a small built-in text classifier. Token + learned position embeddings,
// N post-LN transformer encoder layers with explicit softmax attention, masked mean pooling and a
// linear classifier; or, with label_attention = true, a label-attention head in place of the
// pooling (one learned query per class attends over the final token states; METHODS.md §3.6). The
// network is TorchScript source defined from C++, so the saved archive loads in Python with
// torch.jit.load and through the `torchscript` plugin alike.
#include <torch/script.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../common/text_model.h"
#include "attrib/plugin.h"

namespace {

using attrib_models::layer_calls;
using attrib_models::layer_param;
using nlohmann::json;

constexpr const char* kDescription =
    "Built-in text transformer classifier: token + learned position embeddings, n_layers post-LN "
    "encoder layers (explicit masked softmax attention, GELU/ReLU MLP), masked mean pooling, "
    "linear classifier. Defined in TorchScript, saved as a .pt that torch.jit.load reads. Exports "
    "forward, embed (token + position embeddings), forward_from_embeddings, "
    "forward_with_attentions, forward_from_embeddings_with_attentions and metadata; with "
    "label_attention = true a label-attention head replaces the pooling and label_attention is "
    "exported too. Deterministic initialisation from seed; no dropout.";

// Beside the common text parameters (models/common/text_model.h).
constexpr const char* kParams = R"JSON({
  "d_model": {"type": "integer", "default": 32, "minimum": 1, "maximum": 65536, "description": "model width d: embed(input_ids) is [B, T, d]; divisible by n_heads"},
  "n_heads": {"type": "integer", "default": 2, "minimum": 1, "maximum": 1024},
  "n_layers": {"type": "integer", "default": 2, "minimum": 1, "maximum": 256},
  "d_ff": {"type": "integer", "default": 64, "minimum": 1, "maximum": 1048576},
  "max_len": {"type": "integer", "default": 128, "minimum": 1, "maximum": 1048576, "description": "rows of the learned position embedding: longer inputs are refused"},
  "activation": {"type": "string", "default": "gelu", "enum": ["gelu", "relu"]},
  "label_attention": {"type": "boolean", "default": false, "description": "replace masked mean pooling by a label-attention head: C learned class queries, each attending (n_heads-head scaled dot-product, masked softmax over real tokens) over the final token states to give one embedding e_c per class; logit_c = <cls_w[c], e_c> + cls_b[c]. Exports label_attention(ids, mask) -> (logits, A[B, H, C, T]). false builds exactly the model without it"}
})JSON";

const char* plugin_metadata() {
  static const std::string doc = attrib_models::text_plugin_metadata(kDescription, kParams);
  return doc.c_str();
}

// Parameters of one encoder layer, grouped as the "attention" and "mlp" sublayers.
const std::vector<const char*> kAttentionParams = {"wq", "bq", "wk", "bk",    "wv",
                                                   "bv", "wo", "bo", "ln1_w", "ln1_b"};
const std::vector<const char*> kMlpParams = {"w1", "b1", "w2", "b2", "ln2_w", "ln2_b"};

const char* const kLabelParams[] = {"label_q", "la_wk", "la_bk", "la_wv",
                                    "la_bv",   "la_wo", "la_bo"};

// Label-attention head and the methods that use it. Class queries are learned vectors split into
// heads (no query projection); keys and values are projections of the final token states, so
// A[b, h, c, t] = softmax_t(q_{c,h} . k_{t,h} / sqrt(d_h)), masked like the encoder's attention.
// The probabilities returned are the ones multiplied with V.
constexpr const char* kLabelSource = R"TS(
def _encode(self, embeddings: Tensor, attention_mask: Tensor) -> Tuple[Tensor, List[Tensor]]:
    key_mask = (attention_mask == 0).unsqueeze(1).unsqueeze(2)
    attentions: List[Tensor] = []
    x = embeddings
@LAYERS@    return x, attentions

def _label_head(self, x: Tensor, attention_mask: Tensor) -> Tuple[Tensor, Tensor]:
    B = x.size(0)
    T = x.size(1)
    H = self.n_heads
    dh = self.d_head
    C = self.label_q.size(0)
    q = self.label_q.view(C, H, dh).transpose(0, 1).unsqueeze(0)
    k = torch.linear(x, self.la_wk, self.la_bk).view(B, T, H, dh).transpose(1, 2)
    v = torch.linear(x, self.la_wv, self.la_bv).view(B, T, H, dh).transpose(1, 2)
    scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale
    scores = scores.masked_fill((attention_mask == 0).unsqueeze(1).unsqueeze(2), -1.0e9)
    probs = torch.softmax(scores, -1)
    ctx = torch.matmul(probs, v).transpose(1, 2).reshape(B, C, H * dh)
    emb = torch.linear(ctx, self.la_wo, self.la_bo)
    logits = (emb * self.cls_w.unsqueeze(0)).sum(-1) + self.cls_b
    return logits, probs

def forward_from_embeddings_with_attentions(self, embeddings: Tensor,
                                            attention_mask: Tensor) -> Tuple[Tensor, List[Tensor]]:
    x, attentions = self._encode(embeddings, attention_mask)
    logits, label_probs = self._label_head(x, attention_mask)
    return logits, attentions

def label_attention(self, input_ids: Tensor, attention_mask: Tensor) -> Tuple[Tensor, Tensor]:
    x, attentions = self._encode(self.embed(input_ids), attention_mask)
    return self._label_head(x, attention_mask)
)TS";

// TorchScript source of the network, with the layer loop unrolled over flat parameters. Without
// the label head the text (with forward and metadata appended) is exactly that of the original
// model.
std::string source(int64_t n_layers, const std::string& activation, bool label_attention) {
  std::ostringstream s;
  s << R"TS(
def _layer(self, x: Tensor, key_mask: Tensor, wq: Tensor, bq: Tensor, wk: Tensor, bk: Tensor,
           wv: Tensor, bv: Tensor, wo: Tensor, bo: Tensor, ln1_w: Tensor, ln1_b: Tensor,
           w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, ln2_w: Tensor,
           ln2_b: Tensor) -> Tuple[Tensor, Tensor]:
    B = x.size(0)
    T = x.size(1)
    H = self.n_heads
    dh = self.d_head
    q = torch.linear(x, wq, bq).view(B, T, H, dh).transpose(1, 2)
    k = torch.linear(x, wk, bk).view(B, T, H, dh).transpose(1, 2)
    v = torch.linear(x, wv, bv).view(B, T, H, dh).transpose(1, 2)
    scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale
    scores = scores.masked_fill(key_mask, -1.0e9)
    probs = torch.softmax(scores, -1)
    ctx = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, H * dh)
    x = torch.layer_norm(x + torch.linear(ctx, wo, bo), [self.d_model], ln1_w, ln1_b, 1.0e-5)
    h = torch.)TS"
    << activation << R"TS((torch.linear(x, w1, b1))
    x = torch.layer_norm(x + torch.linear(h, w2, b2), [self.d_model], ln2_w, ln2_b, 1.0e-5)
    return x, probs

def embed(self, input_ids: Tensor) -> Tensor:
    T = input_ids.size(1)
    assert T <= self.max_len, "input has " + str(T) + " tokens, expected at most max_len = " + str(self.max_len)
    return torch.embedding(self.tok_emb, input_ids) + self.pos_emb[:T].unsqueeze(0)
)TS";
  if (label_attention) {
    std::string head = kLabelSource;
    const std::string marker = "@LAYERS@";
    head.replace(head.find(marker), marker.size(),
                 layer_calls(n_layers, "key_mask", kAttentionParams, kMlpParams));
    s << head;
  } else {
    s << R"TS(
def forward_from_embeddings_with_attentions(self, embeddings: Tensor,
                                            attention_mask: Tensor) -> Tuple[Tensor, List[Tensor]]:
    key_mask = (attention_mask == 0).unsqueeze(1).unsqueeze(2)
    attentions: List[Tensor] = []
    x = embeddings
)TS" << layer_calls(n_layers, "key_mask", kAttentionParams, kMlpParams)
      << R"TS(    m = attention_mask.to(x.dtype).unsqueeze(-1)
    pooled = (x * m).sum(1) / m.sum(1).clamp(min=1.0)
    logits = torch.linear(pooled, self.cls_w, self.cls_b)
    return logits, attentions
)TS";
  }
  s << R"TS(
def forward_from_embeddings(self, embeddings: Tensor, attention_mask: Tensor) -> Tensor:
    logits, attentions = self.forward_from_embeddings_with_attentions(embeddings, attention_mask)
    return logits

def forward_with_attentions(self, input_ids: Tensor,
                            attention_mask: Tensor) -> Tuple[Tensor, List[Tensor]]:
    return self.forward_from_embeddings_with_attentions(self.embed(input_ids), attention_mask)
)TS";
  return s.str();  // + forward and metadata (attrib_models::finish_text_module)
}

int64_t get_int(const json& p, const char* key) { return p.at(key).get<int64_t>(); }

at::Tensor xavier(at::IntArrayRef shape, at::Generator& gen) {
  return attrib_models::xavier_uniform(shape, shape[1], shape[0], gen);
}

torch::jit::Module build(const json& p) {
  const attrib_models::TextSpec s = attrib_models::text_spec(p, "text_transformer");
  const int64_t C = s.num_classes, V = s.vocab_size, d = s.d, max_len = s.max_len;
  const int64_t H = get_int(p, "n_heads"), L = get_int(p, "n_layers"), ff = get_int(p, "d_ff");
  if (d % H != 0)
    throw attrib::Error("text_transformer: d_model (" + std::to_string(d) +
                        ") must be divisible by n_heads (" + std::to_string(H) + ")");
  const std::string activation = p.value("activation", std::string("gelu"));
  const bool label_attention = p.value("label_attention", false);

  torch::jit::Module m = attrib_models::text_module("TextTransformer");
  m.register_attribute("n_heads", c10::IntType::get(), H);
  m.register_attribute("d_head", c10::IntType::get(), d / H);
  m.register_attribute("d_model", c10::IntType::get(), d);
  m.register_attribute("max_len", c10::IntType::get(), max_len);
  m.register_attribute("scale", c10::FloatType::get(), 1.0 / std::sqrt(static_cast<double>(d / H)));

  at::Generator gen = attrib_models::seeded(s.seed);
  json layers = json::array();
  auto param = [&](const std::string& name, at::Tensor t) {
    m.register_parameter(name, std::move(t), /*is_buffer=*/false);
  };
  param("tok_emb", at::normal(0.0, 1.0, {V, d}, gen));
  param("pos_emb", at::normal(0.0, 0.1, {max_len, d}, gen));
  layers.push_back({{"name", "embedding"}, {"params", {"tok_emb", "pos_emb"}}});
  for (int64_t l = 0; l < L; ++l) {
    json attn = json::array(), mlp = json::array();
    for (const char* w : {"wq", "wk", "wv", "wo"}) {
      param(layer_param(l, w), xavier({d, d}, gen));
      std::string b = w;
      b[0] = 'b';
      param(layer_param(l, b.c_str()), at::zeros({d}));
    }
    param(layer_param(l, "ln1_w"), at::ones({d}));
    param(layer_param(l, "ln1_b"), at::zeros({d}));
    for (const char* name : kAttentionParams) attn.push_back(layer_param(l, name));
    param(layer_param(l, "w1"), xavier({ff, d}, gen));
    param(layer_param(l, "b1"), at::zeros({ff}));
    param(layer_param(l, "w2"), xavier({d, ff}, gen));
    param(layer_param(l, "b2"), at::zeros({d}));
    param(layer_param(l, "ln2_w"), at::ones({d}));
    param(layer_param(l, "ln2_b"), at::zeros({d}));
    for (const char* name : kMlpParams) mlp.push_back(layer_param(l, name));
    layers.push_back({{"name", "layer" + std::to_string(l) + ".attention"}, {"params", attn}});
    layers.push_back({{"name", "layer" + std::to_string(l) + ".mlp"}, {"params", mlp}});
  }
  param("cls_w", xavier({C, d}, gen));
  param("cls_b", at::zeros({C}));
  if (label_attention) {
    // Drawn after every other parameter, so the shared ones equal those of the model without it.
    param("label_q", at::normal(0.0, 1.0, {C, d}, gen));
    for (const char* w : {"la_wk", "la_wv", "la_wo"}) {
      param(w, xavier({d, d}, gen));
      std::string b = w;
      b[3] = 'b';
      param(b, at::zeros({d}));
    }
    json names = json::array();
    for (const char* name : kLabelParams) names.push_back(name);
    layers.push_back({{"name", "label_attention"}, {"params", names}});
  }
  layers.push_back({{"name", "classifier"}, {"params", {"cls_w", "cls_b"}}});

  json meta = attrib_models::text_metadata(s, "text_transformer");
  meta.update({
      {"n_heads", H},
      {"n_layers", L},
      {"d_ff", ff},
      {"activation", activation},
      {"embed_contains", "token + learned position embeddings (no LayerNorm)"},
      {"attention",
       "post-softmax, post-mask probabilities multiplied with V, one [B, H, T, T] "
       "per layer"},
      {"pooling", "masked mean over tokens"},
      {"capabilities",
       {"forward", "input_gradient", "embeddings", "attentions", "layers", "trainable"}},
      {"layers", layers},
  });
  if (label_attention) {
    meta["pooling"] =
        "label attention: class query label_q[c] (n_heads heads) attends over the final token "
        "states, e_c = la_wo(sum_t A[c, t] la_wv(x_t)) + la_bo, logit_c = <cls_w[c], e_c> + "
        "cls_b[c]";
    meta["label_attention"] =
        "post-softmax, post-mask probabilities [B, H, C, T] of the class queries over the tokens, "
        "multiplied with V";
    meta["capabilities"] = {"forward",         "input_gradient", "embeddings", "attentions",
                            "label_attention", "layers",         "trainable"};
  }
  attrib_models::finish_text_module(m, meta, source(L, activation, label_attention));
  return m;
}

class TextTransformer : public attrib_models::TextBuiltin {
 public:
  explicit TextTransformer(const json& p) : TextBuiltin(p, "text_transformer", build) {}
};

}  // namespace

ATTRIB_MODEL_PLUGIN(TextTransformer, "text_transformer", "1.0.0",
                    ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT | ATTRIB_CAP_EMBEDDINGS |
                        ATTRIB_CAP_ATTENTIONS | ATTRIB_CAP_LABEL_ATTENTION | ATTRIB_CAP_LAYERS |
                        ATTRIB_CAP_TRAINABLE,
                    plugin_metadata())
