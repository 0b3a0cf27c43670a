#!/usr/bin/env python3
"""A small GPT-style causal LM in plain torch (random weights), exported to TorchScript with the
attrib causal-LM contract (README, "Generative language models"), and the reference numbers of
feature ablation on one prompt computed here in Python.

usage: make_causal_lm.py OUT.pt PROMPT TARGET REFERENCE.json

REFERENCE.json: {"target_scores": [total, per token...], "seq_attr": [per word],
"token_attr": [[per target token] per word], "shapley_seq": [per word]}: feature ablation,
log p(target | prompt) - log p(target | prompt with that word replaced by [MASK]), and the exact
Shapley values of the sequence log-prob (absent words masked), enumerated here.
"""
import json
import math
import sys

import torch

VOCAB = ["[PAD]", "[UNK]", "[MASK]", "[BOS]", "[EOS]"] + [
    w for w in "the a cat dog sat on mat rug ran to park home is red blue big small".split()
]


class Block(torch.nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(d)
        self.ln2 = torch.nn.LayerNorm(d)
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.proj = torch.nn.Linear(d, d)
        self.ff = torch.nn.Sequential(torch.nn.Linear(d, 4 * d), torch.nn.GELU(), torch.nn.Linear(4 * d, d))
        self.heads = heads

    def forward(self, x, mask):
        B, T, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q = q.view(B, T, h, d // h).transpose(1, 2)
        k = k.view(B, T, h, d // h).transpose(1, 2)
        v = v.view(B, T, h, d // h).transpose(1, 2)
        att = q @ k.transpose(-1, -2) / float(d // h) ** 0.5
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        keep = causal.unsqueeze(0) & (mask.unsqueeze(1) > 0)  # [B, T, T]
        att = att.masked_fill(~keep.unsqueeze(1), -1e9).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, d)
        x = x + self.proj(y)
        return x + self.ff(self.ln2(x))


class TinyGpt(torch.nn.Module):
    def __init__(self, vocab=len(VOCAB), d=32, heads=4, layers=2, max_len=64):
        super().__init__()
        self.tok = torch.nn.Embedding(vocab, d)
        self.pos = torch.nn.Embedding(max_len, d)
        self.blocks = torch.nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.ln = torch.nn.LayerNorm(d)
        self.head = torch.nn.Linear(d, vocab)
        self.meta = json.dumps({"input_kind": "causal_lm", "vocab": VOCAB, "pad_id": 0, "unk_id": 1,
                                "mask_id": 2, "bos_id": 3, "eos_id": 4, "max_len": max_len})

    @torch.jit.export
    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.tok(input_ids)

    @torch.jit.export
    def forward_from_embeddings(self, embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        T = embeddings.shape[1]
        x = embeddings + self.pos(torch.arange(T, device=embeddings.device)).unsqueeze(0)
        for block in self.blocks:
            x = block(x, attention_mask)
        return self.head(self.ln(x))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.forward_from_embeddings(self.embed(input_ids), attention_mask)

    @torch.jit.export
    def metadata(self) -> str:
        return self.meta


def target_scores(model, prompt, target):
    ids = torch.tensor([prompt + target])
    with torch.no_grad():
        lp = model(ids, torch.ones_like(ids)).log_softmax(-1)[0]
    per_token = [lp[len(prompt) + j - 1, t].item() for j, t in enumerate(target)]
    return [sum(per_token)] + per_token


def main():
    out, prompt_text, target_text, ref = sys.argv[1:5]
    torch.manual_seed(3)
    model = TinyGpt().eval()
    torch.jit.script(model).save(out)
    ids = {w: i for i, w in enumerate(VOCAB)}
    prompt = [ids.get(w, 1) for w in prompt_text.split()]
    target = [ids.get(w, 1) for w in target_text.split()]
    base = target_scores(model, prompt, target)
    rows = []
    for i in range(len(prompt)):
        ablated = list(prompt)
        ablated[i] = ids["[MASK]"]
        scores = target_scores(model, ablated, target)
        rows.append([b - s for b, s in zip(base, scores)])
    # Exact Shapley values of v(S) = sequence log-prob with the words outside S masked, by
    # enumerating all coalitions.
    n = len(prompt)
    value = {}
    for bits in range(1 << n):
        kept = [prompt[i] if bits >> i & 1 else ids["[MASK]"] for i in range(n)]
        value[bits] = target_scores(model, kept, target)[0]
    shapley = []
    for i in range(n):
        phi = 0.0
        for bits in range(1 << n):
            if bits >> i & 1:
                continue
            s_size = bin(bits).count("1")
            weight = math.factorial(s_size) * math.factorial(n - s_size - 1) / math.factorial(n)
            phi += weight * (value[bits | 1 << i] - value[bits])
        shapley.append(phi)
    json.dump({"target_scores": base, "seq_attr": [r[0] for r in rows],
               "token_attr": [r[1:] for r in rows], "shapley_seq": shapley,
               "full_minus_empty": value[(1 << n) - 1] - value[0]}, open(ref, "w"))


if __name__ == "__main__":
    main()
