"""Scripts a small text classifier that follows the model capability contract and saves it.

usage: make_text_contract.py OUT.pt [--broken]

Exports forward(input_ids, attention_mask), embed, forward_from_embeddings,
forward_with_attentions and metadata via @torch.jit.export (no label attention). With --broken,
forward_from_embeddings adds 0.5 to the logits, so the harness must withdraw the embeddings
capability at load time and say why.
"""
import json
import math
import sys
from typing import List, Tuple

import torch
from torch import Tensor, nn


class TinyText(nn.Module):
    def __init__(self, vocab: List[str], n_classes: int, d: int, broken: bool):
        super().__init__()
        self.emb = nn.Embedding(len(vocab), d)
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.out = nn.Linear(d, n_classes)
        self.scale = 1.0 / math.sqrt(d)
        self.offset = 0.5 if broken else 0.0
        self.meta = json.dumps({
            "contract_version": 1,
            "input_kind": "text",
            "num_classes": n_classes,
            "class_names": ["class%d" % c for c in range(n_classes)],
            "vocab": vocab,
            "pad_id": 0,
            "unk_id": 1,
            "mask_id": 2,
            "max_len": 64,
            "embed_contains": "token embeddings",
            "capabilities": ["forward", "embeddings", "attentions"],
        })

    def _run(self, e: Tensor, attention_mask: Tensor) -> Tuple[Tensor, List[Tensor]]:
        # One head: [B, 1, T, T]. The returned tensor must be the one multiplied with V (a view
        # taken after the product would be off the autograd path to the logits).
        scores = torch.matmul(self.q(e), self.k(e).transpose(1, 2)).unsqueeze(1) * self.scale
        scores = scores.masked_fill((attention_mask == 0).unsqueeze(1).unsqueeze(2), -1e9)
        a = torch.softmax(scores, -1)
        h = torch.matmul(a, self.v(e).unsqueeze(1)).squeeze(1)
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.out(pooled), [a]

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        logits, _ = self._run(self.embed(input_ids), attention_mask)
        return logits

    @torch.jit.export
    def embed(self, input_ids: Tensor) -> Tensor:
        return self.emb(input_ids)

    @torch.jit.export
    def forward_from_embeddings(self, embeddings: Tensor, attention_mask: Tensor) -> Tensor:
        logits, _ = self._run(embeddings, attention_mask)
        return logits + self.offset

    @torch.jit.export
    def forward_with_attentions(self, input_ids: Tensor,
                                attention_mask: Tensor) -> Tuple[Tensor, List[Tensor]]:
        return self._run(self.embed(input_ids), attention_mask)

    @torch.jit.export
    def metadata(self) -> str:
        return self.meta


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--broken"]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    torch.manual_seed(0)
    vocab = ["[PAD]", "[UNK]", "[MASK]"] + ["tok%d" % i for i in range(9)]
    model = TinyText(vocab, n_classes=3, d=8, broken="--broken" in sys.argv).eval()
    torch.jit.script(model).save(args[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
