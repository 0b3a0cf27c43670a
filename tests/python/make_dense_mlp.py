"""Scripts a dense classifier that exports only `forward` (no metadata) and saves it.

usage: make_dense_mlp.py OUT.pt

A 2-layer MLP on 4 features with 3 classes, weights from torch.manual_seed(0). Also writes
OUT.pt.json with the logits for the inputs [[0, 1, 2, 3], [-1, 0.5, 0.25, 2]], for comparison.
"""
import json
import sys

import torch
from torch import nn


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).eval()
    scripted = torch.jit.script(model)
    scripted.save(sys.argv[1])
    x = torch.tensor([[0.0, 1.0, 2.0, 3.0], [-1.0, 0.5, 0.25, 2.0]])
    with torch.no_grad():
        logits = scripted(x).tolist()
    with open(sys.argv[1] + ".json", "w") as f:
        json.dump({"inputs": x.tolist(), "logits": logits}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
