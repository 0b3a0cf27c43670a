"""Exports a Hugging-Face-style encoder classifier through a contract wrapper, with expected numbers.

usage: make_hf_style_model.py OUT.pt EXPECTED.json TEXT TARGET

The network is written the way Hugging Face BERT code is (config object, embeddings with
position embeddings and LayerNorm, self-attention with an additive extended mask and dropout,
post-LN layers, a tanh pooler over the first token, forward(input_ids, attention_mask,
inputs_embeds) returning (logits, attentions)); none of it is this project's model code. A
separate wrapper class exposes the model capability contract with @torch.jit.export methods.

EXPECTED.json holds, for TEXT (whitespace tokens looked up in the vocabulary, unknown words ->
[UNK]) and class TARGET, everything computed here with Python autograd:
  ids, logits, target, f_zero (the target logit at all-zero embeddings),
  saliency (|d logit / d embeddings| summed over the embedding dimension, per token),
  gradient (d logit / d embeddings, [T, d]),
  ig (integrated gradients from the zero baseline, 50-node Gauss-Legendre, summed per token),
  attention (last layer, heads averaged, rows averaged), rollout (Abnar & Zuidema with the
  residual identity, rows renormalised, last layer first), grad_x_attention (Chefer et al. 2021:
  R <- R + mean_h[(dA * A)^+] R, from the last layer down, rows averaged).
"""
import json
import math
import sys
from typing import List, Optional, Tuple

import torch
from torch import Tensor, nn


class MiniBertConfig:
    def __init__(self, vocab_size: int, hidden_size: int = 16, num_hidden_layers: int = 2,
                 num_attention_heads: int = 2, intermediate_size: int = 32,
                 max_position_embeddings: int = 64, num_labels: int = 2,
                 hidden_dropout_prob: float = 0.1, attention_probs_dropout_prob: float = 0.1,
                 layer_norm_eps: float = 1e-12):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.max_position_embeddings = max_position_embeddings
        self.num_labels = num_labels
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.layer_norm_eps = layer_norm_eps


class MiniBertEmbeddings(nn.Module):
    def __init__(self, config: MiniBertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=0)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings,
                                                config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, inputs_embeds: Tensor) -> Tensor:
        positions = torch.arange(inputs_embeds.size(1), device=inputs_embeds.device)
        h = inputs_embeds + self.position_embeddings(positions).unsqueeze(0)
        return self.dropout(self.LayerNorm(h))


class MiniBertSelfAttention(nn.Module):
    def __init__(self, config: MiniBertConfig):
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.query = nn.Linear(config.hidden_size, self.all_head_size)
        self.key = nn.Linear(config.hidden_size, self.all_head_size)
        self.value = nn.Linear(config.hidden_size, self.all_head_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def transpose_for_scores(self, x: Tensor) -> Tensor:
        x = x.view(x.size(0), x.size(1), self.num_attention_heads, self.attention_head_size)
        return x.permute(0, 2, 1, 3)

    def forward(self, hidden_states: Tensor, extended_mask: Tensor) -> Tuple[Tensor, Tensor]:
        q = self.transpose_for_scores(self.query(hidden_states))
        k = self.transpose_for_scores(self.key(hidden_states))
        v = self.transpose_for_scores(self.value(hidden_states))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.attention_head_size)
        probs = nn.functional.softmax(scores + extended_mask, dim=-1)
        # The probabilities returned are the tensor multiplied with V (on the autograd path).
        probs = self.dropout(probs)
        context = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return context.view(context.size(0), context.size(1), self.all_head_size), probs


class MiniBertLayer(nn.Module):
    def __init__(self, config: MiniBertConfig):
        super().__init__()
        self.attention = MiniBertSelfAttention(config)
        self.attention_output = nn.Linear(config.hidden_size, config.hidden_size)
        self.attention_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.intermediate = nn.Linear(config.hidden_size, config.intermediate_size)
        self.output = nn.Linear(config.intermediate_size, config.hidden_size)
        self.output_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: Tensor, extended_mask: Tensor) -> Tuple[Tensor, Tensor]:
        context, probs = self.attention(hidden_states, extended_mask)
        h = self.attention_norm(hidden_states + self.dropout(self.attention_output(context)))
        ff = self.output(nn.functional.gelu(self.intermediate(h)))
        return self.output_norm(h + self.dropout(ff)), probs


class MiniBertForSequenceClassification(nn.Module):
    def __init__(self, config: MiniBertConfig):
        super().__init__()
        self.embeddings = MiniBertEmbeddings(config)
        self.layers = nn.ModuleList([MiniBertLayer(config)
                                     for _ in range(config.num_hidden_layers)])
        self.pooler = nn.Linear(config.hidden_size, config.hidden_size)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, input_ids: Optional[Tensor] = None, attention_mask: Optional[Tensor] = None,
                inputs_embeds: Optional[Tensor] = None) -> Tuple[Tensor, List[Tensor]]:
        if inputs_embeds is None:
            assert input_ids is not None
            inputs_embeds = self.embeddings.word_embeddings(input_ids)
        if attention_mask is None:
            attention_mask = torch.ones(inputs_embeds.shape[:2], dtype=torch.long,
                                        device=inputs_embeds.device)
        extended = (1.0 - attention_mask[:, None, None, :].to(inputs_embeds.dtype)) * -10000.0
        h = self.embeddings(inputs_embeds)
        attentions: List[Tensor] = []
        for layer in self.layers:
            h, probs = layer(h, extended)
            attentions.append(probs)
        pooled = torch.tanh(self.pooler(h[:, 0]))
        return self.classifier(pooled), attentions


class ContractWrapper(nn.Module):
    """The attrib model contract around a Hugging-Face-style model."""

    def __init__(self, model: MiniBertForSequenceClassification, meta: str):
        super().__init__()
        self.model = model
        self.meta = meta

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        return self.model(input_ids, attention_mask, None)[0]

    @torch.jit.export
    def embed(self, input_ids: Tensor) -> Tensor:
        return self.model.embeddings.word_embeddings(input_ids)

    @torch.jit.export
    def forward_from_embeddings(self, embeddings: Tensor, attention_mask: Tensor) -> Tensor:
        return self.model(None, attention_mask, embeddings)[0]

    @torch.jit.export
    def forward_with_attentions(self, input_ids: Tensor,
                                attention_mask: Tensor) -> Tuple[Tensor, List[Tensor]]:
        return self.model(input_ids, attention_mask, None)

    @torch.jit.export
    def forward_from_embeddings_with_attentions(
            self, embeddings: Tensor, attention_mask: Tensor) -> Tuple[Tensor, List[Tensor]]:
        return self.model(None, attention_mask, embeddings)

    @torch.jit.export
    def metadata(self) -> str:
        return self.meta


def gauss_legendre(n: int) -> List[Tuple[float, float]]:
    """Nodes and weights of n-point Gauss-Legendre quadrature on [0, 1] (Newton on P_n)."""
    out = []
    for i in range(1, n + 1):
        x = math.cos(math.pi * (i - 0.25) / (n + 0.5))
        for _ in range(100):
            p0, p1 = 1.0, x
            for k in range(2, n + 1):
                p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
            dp = n * (x * p1 - p0) / (x * x - 1)
            step = p1 / dp
            x -= step
            if abs(step) < 1e-16:
                break
        out.append(((x + 1) / 2, 1.0 / ((1 - x * x) * dp * dp)))
    return out


VOCAB = ["[PAD]", "[UNK]", "[MASK]", "[CLS]", "[SEP]", "the", "movie", "was", "great", "bad",
         "not", "plot", "acting", "a", "film"]


def expected_numbers(model: torch.jit.ScriptModule, ids: Tensor, target: int) -> dict:
    mask = torch.ones_like(ids)
    e = model.embed(ids).detach()
    out = {"ids": ids[0].tolist(), "target": target}
    with torch.no_grad():
        logits = model(ids, mask)
        out["logits"] = logits[0].tolist()
        out["f_zero"] = model.forward_from_embeddings(torch.zeros_like(e), mask)[0, target].item()

    x = e.clone().requires_grad_(True)
    g = torch.autograd.grad(model.forward_from_embeddings(x, mask)[0, target], x)[0][0]
    out["gradient"] = g.tolist()
    out["saliency"] = g.abs().sum(-1).tolist()

    acc = torch.zeros_like(e, dtype=torch.float64)
    for t, w in gauss_legendre(50):
        xt = (t * e).requires_grad_(True)
        gt = torch.autograd.grad(model.forward_from_embeddings(xt, mask)[0, target], xt)[0]
        acc += w * gt.double()
    out["ig"] = (acc * e.double())[0].sum(-1).tolist()

    with torch.no_grad():
        _, atts = model.forward_with_attentions(ids, mask)
    fused = [a[0].double().mean(0) for a in atts]  # [T, T] per layer
    r0 = torch.full((ids.size(1),), 1.0 / ids.size(1), dtype=torch.float64)
    out["attention"] = (r0 @ fused[-1]).tolist()
    r = r0.clone()
    eye = torch.eye(ids.size(1), dtype=torch.float64)
    for a in reversed(fused):
        a = a + eye
        r = r @ (a / a.sum(-1, keepdim=True))
    out["rollout"] = r.tolist()

    x = e.clone().requires_grad_(True)
    logits, atts = model.forward_from_embeddings_with_attentions(x, mask)
    grads = torch.autograd.grad(logits[0, target], atts)
    r = r0.clone()
    for a, ga in zip(reversed(atts), reversed(grads)):
        abar = (ga[0].double() * a[0].detach().double()).clamp(min=0).mean(0)
        r = r + r @ abar
    out["grad_x_attention"] = r.tolist()
    return out


def main() -> int:
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    out_path, expected_path, text, target = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    torch.manual_seed(0)
    config = MiniBertConfig(vocab_size=len(VOCAB))
    hf = MiniBertForSequenceClassification(config)
    with torch.no_grad():  # sharper attention and larger logits than the default init gives
        for layer in hf.layers:
            layer.attention.query.weight.mul_(3.0)
            layer.attention.key.weight.mul_(3.0)
        hf.classifier.weight.mul_(4.0)
    meta = json.dumps({"contract_version": 1, "input_kind": "text",
                       "num_classes": config.num_labels, "class_names": ["negative", "positive"],
                       "vocab": VOCAB, "pad_id": 0, "unk_id": 1, "mask_id": 2, "max_len": 64,
                       "embed_contains": "token embeddings (positions are added inside)"})
    scripted = torch.jit.script(ContractWrapper(hf, meta).eval())
    scripted.save(out_path)

    model = torch.jit.load(out_path)
    model.eval()
    ids = torch.tensor([[VOCAB.index(w) if w in VOCAB else 1 for w in text.split()]])
    with open(expected_path, "w") as f:
        json.dump(expected_numbers(model, ids, target), f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
