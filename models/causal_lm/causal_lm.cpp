// `causal_lm`: a small built-in decoder-only transformer language model. Token + learned position
// embeddings, N pre-LN decoder layers (causal, key-padding-masked softmax attention), a final
// LayerNorm and an untied next-token head over the vocabulary. It is trained as a language model:
// training_loss is the next-token cross-entropy over the whole prompt + answer sequence.
//
// The harness explains it like a classifier whose classes are the dataset's answers (each one
// vocabulary token): forward's "logits" for class c are log p(answer_c | prompt), read from the
// full-vocabulary distribution at the prompt's last token. So the metrics' "logit" output is the
// answer's log-probability under the language model, and "probability" renormalises over the
// answers. lm_logits exports the causal-LM contract itself (next-token logits [B, T, V]), so the
// saved .pt is also a generative model for `attrib explain --model torchscript:PATH`.
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../common/text_model.h"
#include "attrib/plugin.h"

namespace {

using attrib_models::layer_calls;
using attrib_models::layer_param;
using nlohmann::json;

constexpr const char* kDescription =
    "Built-in decoder-only transformer language model: token + learned position embeddings, "
    "n_layers pre-LN causal decoder layers, final LayerNorm, untied next-token head. Trained with "
    "the next-token loss over prompt + answer (training_loss). Classes are the dataset's answers "
    "(each one vocabulary token, appended to the vocabulary when absent): the logit of class c is "
    "log p(answer_c | prompt) at the prompt's last token. Exports lm_logits (next-token logits "
    "[B, T, V], the causal-LM contract), forward, embed, forward_from_embeddings, "
    "forward_with_attentions, training_loss and metadata. Deterministic initialisation from seed.";

constexpr const char* kParams = R"JSON({
  "d_model": {"type": "integer", "default": 48, "minimum": 1, "maximum": 65536, "description": "model width; divisible by n_heads"},
  "n_heads": {"type": "integer", "default": 4, "minimum": 1, "maximum": 1024},
  "n_layers": {"type": "integer", "default": 2, "minimum": 1, "maximum": 256},
  "d_ff": {"type": "integer", "default": 96, "minimum": 1, "maximum": 1048576},
  "max_len": {"type": "integer", "default": 64, "minimum": 2, "maximum": 1048576, "description": "longest prompt in tokens; the learned position embedding has max_len + 1 rows (prompt and answer)"}
})JSON";

const char* plugin_metadata() {
  static const std::string doc = attrib_models::text_plugin_metadata(kDescription, kParams);
  return doc.c_str();
}

const std::vector<const char*> kAttentionParams = {"ln1_w", "ln1_b", "wq", "bq", "wk",
                                                   "bk",    "wv",    "bv", "wo", "bo"};
const std::vector<const char*> kMlpParams = {"ln2_w", "ln2_b", "w1", "b1", "w2", "b2"};

// The answer is read at each row's last attended position (not mask.sum() - 1: a perturbation may
// switch off a token in the middle of the prompt).
std::string source(int64_t n_layers) {
  return R"TS(
def _layer(self, x: Tensor, blocked: Tensor, ln1_w: Tensor, ln1_b: Tensor, wq: Tensor, bq: Tensor,
           wk: Tensor, bk: Tensor, wv: Tensor, bv: Tensor, wo: Tensor, bo: Tensor, ln2_w: Tensor,
           ln2_b: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor) -> Tuple[Tensor, Tensor]:
    B = x.size(0)
    T = x.size(1)
    H = self.n_heads
    dh = self.d_head
    h = torch.layer_norm(x, [self.d_model], ln1_w, ln1_b, 1.0e-5)
    q = torch.linear(h, wq, bq).view(B, T, H, dh).transpose(1, 2)
    k = torch.linear(h, wk, bk).view(B, T, H, dh).transpose(1, 2)
    v = torch.linear(h, wv, bv).view(B, T, H, dh).transpose(1, 2)
    scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale
    scores = scores.masked_fill(blocked, -1.0e9)
    probs = torch.softmax(scores, -1)
    ctx = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, H * dh)
    x = x + torch.linear(ctx, wo, bo)
    h = torch.layer_norm(x, [self.d_model], ln2_w, ln2_b, 1.0e-5)
    x = x + torch.linear(torch.gelu(torch.linear(h, w1, b1)), w2, b2)
    return x, probs

def embed(self, input_ids: Tensor) -> Tensor:
    T = input_ids.size(1)
    assert T <= self.positions, "input has " + str(T) + " tokens, expected at most max_len + 1 = " + str(self.positions)
    return torch.embedding(self.tok_emb, input_ids) + self.pos_emb[:T].unsqueeze(0)

def lm_from_embeddings_with_attentions(self, embeddings: Tensor,
                                       attention_mask: Tensor) -> Tuple[Tensor, List[Tensor]]:
    T = embeddings.size(1)
    pos = torch.arange(T, device=embeddings.device)
    future = pos.unsqueeze(0) > pos.unsqueeze(1)
    blocked = future.unsqueeze(0).unsqueeze(0) | (attention_mask == 0).unsqueeze(1).unsqueeze(2)
    attentions: List[Tensor] = []
    x = embeddings
)TS" + layer_calls(n_layers, "blocked", kAttentionParams, kMlpParams) +
         R"TS(    x = torch.layer_norm(x, [self.d_model], self.lnf_w, self.lnf_b, 1.0e-5)
    return torch.linear(x, self.lm_w, self.lm_b), attentions

def lm_forward_from_embeddings(self, embeddings: Tensor, attention_mask: Tensor) -> Tensor:
    logits, attentions = self.lm_from_embeddings_with_attentions(embeddings, attention_mask)
    return logits

def lm_logits(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
    return self.lm_forward_from_embeddings(self.embed(input_ids), attention_mask)

def _last(self, attention_mask: Tensor) -> Tensor:
    T = attention_mask.size(1)
    pos = torch.arange(1, T + 1, device=attention_mask.device).unsqueeze(0)
    return ((attention_mask != 0).long() * pos).argmax(1)

def forward_from_embeddings_with_attentions(self, embeddings: Tensor,
                                            attention_mask: Tensor) -> Tuple[Tensor, List[Tensor]]:
    logits, attentions = self.lm_from_embeddings_with_attentions(embeddings, attention_mask)
    rows = torch.arange(logits.size(0), device=logits.device)
    log_probs = torch.log_softmax(logits[rows, self._last(attention_mask)], -1)
    return log_probs.index_select(1, self.answer_ids), attentions

def forward_from_embeddings(self, embeddings: Tensor, attention_mask: Tensor) -> Tensor:
    logits, attentions = self.forward_from_embeddings_with_attentions(embeddings, attention_mask)
    return logits

def forward_with_attentions(self, input_ids: Tensor,
                            attention_mask: Tensor) -> Tuple[Tensor, List[Tensor]]:
    return self.forward_from_embeddings_with_attentions(self.embed(input_ids), attention_mask)

def training_loss(self, input_ids: Tensor, attention_mask: Tensor, labels: Tensor) -> Tensor:
    B = input_ids.size(0)
    at = (self._last(attention_mask) + 1).unsqueeze(1)
    ids = torch.cat([input_ids, torch.zeros_like(input_ids[:, :1])], 1)
    ids = ids.scatter(1, at, self.answer_ids[labels].unsqueeze(1))
    mask = torch.cat([attention_mask, torch.zeros_like(attention_mask[:, :1])], 1)
    mask = mask.scatter(1, at, torch.ones_like(at).to(mask.dtype))
    logits = self.lm_logits(ids, mask)[:, :-1]
    losses = torch.cross_entropy_loss(logits.reshape(-1, logits.size(2)), ids[:, 1:].reshape(-1),
                                      None, 0)
    counted = mask[:, 1:].reshape(-1).to(losses.dtype)
    return (losses * counted).sum() / counted.sum()
)TS";
}

int64_t get_int(const json& p, const char* key) { return p.at(key).get<int64_t>(); }

at::Tensor xavier(at::IntArrayRef shape, at::Generator& gen) {
  return attrib_models::xavier_uniform(shape, shape[1], shape[0], gen);
}

torch::jit::Module build(const json& params) {
  json p = params;
  // Answers must be vocabulary tokens; those the prompts never use are appended.
  std::vector<std::string> answers = attrib_models::string_list(p, "class_names", "causal_lm");
  if (answers.empty())
    throw attrib::Error(
        "causal_lm: parameter 'class_names' is required: the answers, each one vocabulary token");
  std::vector<std::string> vocab = attrib_models::string_list(p, "vocab", "causal_lm");
  std::vector<int64_t> answer_ids;
  for (const std::string& a : answers) {
    const auto it = std::find(vocab.begin(), vocab.end(), a);
    answer_ids.push_back(it - vocab.begin());
    if (it == vocab.end()) vocab.push_back(a);
  }
  p["vocab"] = vocab;
  const attrib_models::TextSpec s = attrib_models::text_spec(p, "causal_lm");
  const int64_t V = s.vocab_size, d = s.d, max_len = s.max_len;
  const int64_t H = get_int(p, "n_heads"), L = get_int(p, "n_layers"), ff = get_int(p, "d_ff");
  if (d % H != 0)
    throw attrib::Error("causal_lm: d_model (" + std::to_string(d) +
                        ") must be divisible by n_heads (" + std::to_string(H) + ")");

  attrib_models::TextModuleBuilder b("CausalLm", s.seed);
  torch::jit::Module& m = b.module;
  m.register_attribute("n_heads", c10::IntType::get(), H);
  m.register_attribute("d_head", c10::IntType::get(), d / H);
  m.register_attribute("d_model", c10::IntType::get(), d);
  // max_len + 1 positions: a prompt of max_len tokens followed by its answer (training_loss).
  m.register_attribute("positions", c10::IntType::get(), max_len + 1);
  m.register_attribute("scale", c10::FloatType::get(), 1.0 / std::sqrt(static_cast<double>(d / H)));
  m.register_buffer("answer_ids", at::tensor(answer_ids, at::kLong));

  b.param("tok_emb", at::normal(0.0, 0.5, {V, d}, b.gen));
  b.param("pos_emb", at::normal(0.0, 0.1, {max_len + 1, d}, b.gen));
  b.layers.push_back({{"name", "embedding"}, {"params", {"tok_emb", "pos_emb"}}});
  for (int64_t l = 0; l < L; ++l) {
    json attn = json::array(), mlp = json::array();
    b.param(layer_param(l, "ln1_w"), at::ones({d}));
    b.param(layer_param(l, "ln1_b"), at::zeros({d}));
    for (const char* w : {"wq", "wk", "wv", "wo"}) {
      b.param(layer_param(l, w), xavier({d, d}, b.gen));
      std::string bias = w;
      bias[0] = 'b';
      b.param(layer_param(l, bias.c_str()), at::zeros({d}));
    }
    for (const char* name : kAttentionParams) attn.push_back(layer_param(l, name));
    b.param(layer_param(l, "ln2_w"), at::ones({d}));
    b.param(layer_param(l, "ln2_b"), at::zeros({d}));
    b.param(layer_param(l, "w1"), xavier({ff, d}, b.gen));
    b.param(layer_param(l, "b1"), at::zeros({ff}));
    b.param(layer_param(l, "w2"), xavier({d, ff}, b.gen));
    b.param(layer_param(l, "b2"), at::zeros({d}));
    for (const char* name : kMlpParams) mlp.push_back(layer_param(l, name));
    b.layers.push_back({{"name", "layer" + std::to_string(l) + ".attention"}, {"params", attn}});
    b.layers.push_back({{"name", "layer" + std::to_string(l) + ".mlp"}, {"params", mlp}});
  }
  b.param("lnf_w", at::ones({d}));
  b.param("lnf_b", at::zeros({d}));
  b.weighted_layer("lm_head", "lm_w", xavier({V, d}, b.gen), "lm_b");
  b.layers.back()["params"] = {"lnf_w", "lnf_b", "lm_w", "lm_b"};

  json meta = attrib_models::text_metadata(s, "causal_lm");
  meta.update({
      {"n_heads", H},
      {"n_layers", L},
      {"d_ff", ff},
      {"generative", true},
      {"answer_ids", answer_ids},
      {"eos_id", nullptr},
      {"embed_contains", "token + learned position embeddings (no LayerNorm)"},
      {"attention",
       "post-softmax, post-mask (causal and key padding) probabilities multiplied with V, one "
       "[B, H, T, T] per layer"},
      {"outputs",
       "logit of class c = log p(answer_c | prompt), the next-token log-probability at the "
       "prompt's last attended token; lm_logits gives every position's next-token logits"},
      {"training", "next-token cross-entropy over prompt + answer (training_loss)"},
      {"capabilities",
       {"forward", "input_gradient", "embeddings", "attentions", "layers", "trainable"}},
  });
  return b.finish(meta, source(L));
}

class CausalLm : public attrib_models::TextBuiltin {
 public:
  explicit CausalLm(const json& p) : TextBuiltin(p, "causal_lm", build) {}
};

}  // namespace

ATTRIB_MODEL_PLUGIN(CausalLm, "causal_lm", "1.0.0",
                    ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT | ATTRIB_CAP_EMBEDDINGS |
                        ATTRIB_CAP_ATTENTIONS | ATTRIB_CAP_LAYERS | ATTRIB_CAP_TRAINABLE,
                    plugin_metadata())
