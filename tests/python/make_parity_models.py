"""Scripts the two models of the Captum parity test (tests/unit/parity_test.cpp) and saves them.

usage: make_parity_models.py MLP.pt TEXT.pt

MLP.pt: a dense ReLU MLP 6 -> 8 -> 8 -> 3 (nn.Linear layers fc0..fc2 with biases, nn.ReLU
between them), weights from torch.manual_seed(0) times 3. Its metadata carries "layers" and
"architecture" (harness/include/attrib/sequential.h), so attrib's deeplift, lrp and guided_backprop
run on it, and "input_shape" [6].
TEXT.pt: a text classifier following the model contract (README "Model contract"): embeddings
(12 tokens, d = 6), a per-token tanh layer, masked mean pooling and a linear classifier over 3
classes, weights from torch.manual_seed(1) (hidden weights
times 3, output weights times 10). Exports forward, embed, forward_from_embeddings and
metadata.
"""
import json
import sys
from typing import List

import torch
from torch import Tensor, nn


class ParityMlp(nn.Module):
    def __init__(self, sizes: List[int]):
        super().__init__()
        self.fc0 = nn.Linear(sizes[0], sizes[1])
        self.relu0 = nn.ReLU()
        self.fc1 = nn.Linear(sizes[1], sizes[2])
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(sizes[2], sizes[3])
        names = ["fc0", "fc1", "fc2"]
        arch = []
        for i, n in enumerate(names):
            arch.append({"op": "linear", "params": [n + ".weight", n + ".bias"]})
            if i + 1 < len(names):
                arch.append({"op": "relu"})
        self.meta = json.dumps({
            "contract_version": 1,
            "input_kind": "dense",
            "input_shape": [sizes[0]],
            "num_classes": sizes[-1],
            "class_names": ["class%d" % c for c in range(sizes[-1])],
            "layers": [{"name": n, "params": [n + ".weight", n + ".bias"]} for n in names],
            "architecture": arch,
        })

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.relu1(self.fc1(self.relu0(self.fc0(x)))))

    @torch.jit.export
    def metadata(self) -> str:
        return self.meta


class ParityText(nn.Module):
    def __init__(self, vocab: List[str], d: int, n_classes: int):
        super().__init__()
        self.emb = nn.Embedding(len(vocab), d)
        self.hidden = nn.Linear(d, d)
        self.out = nn.Linear(d, n_classes)
        self.meta = json.dumps({
            "contract_version": 1,
            "input_kind": "text",
            "num_classes": n_classes,
            "class_names": ["class%d" % c for c in range(n_classes)],
            "vocab": vocab,
            "pad_id": 0,
            "unk_id": 1,
            "mask_id": 2,
            "max_len": 32,
            "embed_contains": "token embeddings",
        })

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        return self.forward_from_embeddings(self.embed(input_ids), attention_mask)

    @torch.jit.export
    def embed(self, input_ids: Tensor) -> Tensor:
        return self.emb(input_ids)

    @torch.jit.export
    def forward_from_embeddings(self, embeddings: Tensor, attention_mask: Tensor) -> Tensor:
        h = torch.tanh(self.hidden(embeddings))
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        return self.out((h * m).sum(1) / m.sum(1).clamp(min=1.0))

    @torch.jit.export
    def metadata(self) -> str:
        return self.meta


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    torch.manual_seed(0)
    mlp = ParityMlp([6, 8, 8, 3]).eval()
    torch.manual_seed(1)
    vocab = ["[PAD]", "[UNK]", "[MASK]"] + ["w%d" % i for i in range(9)]
    txt = ParityText(vocab, d=6, n_classes=3).eval()
    # nn.Linear's default init gives attributions of ~0.01; scaled up they are O(1), so the
    # test's tolerance 1e-4 * max(1, max |r|) is a relative one.
    with torch.no_grad():
        for p in mlp.parameters():
            p.mul_(3.0)
        txt.out.weight.mul_(10.0)
        txt.hidden.weight.mul_(3.0)
    torch.jit.script(mlp).save(sys.argv[1])
    torch.jit.script(txt).save(sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
