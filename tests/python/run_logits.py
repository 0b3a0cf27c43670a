"""Loads a TorchScript classifier and writes its logits for given inputs.

usage: run_logits.py MODEL.pt INPUTS.json OUT.json

INPUTS.json: {"input_ids": [[...]], "attention_mask": [[...]]} (text) or
             {"inputs": [...]} (dense: a nested list [B, ...] of floats, passed as forward(x))
OUT.json: {"logits": [[...]], "metadata": <parsed metadata() or null>,
           "attentions": [[B, H, T, T] per layer] when forward_with_attentions exists}
"""
import json
import sys

import torch


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    model_path, inputs_path, out_path = sys.argv[1:]
    model = torch.jit.load(model_path, map_location="cpu")
    model.eval()
    with open(inputs_path) as f:
        inputs = json.load(f)
    out = {"metadata": None}
    with torch.no_grad():
        if "inputs" in inputs:
            out["logits"] = model(torch.tensor(inputs["inputs"], dtype=torch.float32)).tolist()
        else:
            ids = torch.tensor(inputs["input_ids"], dtype=torch.long)
            mask = torch.tensor(inputs["attention_mask"], dtype=torch.long)
            out["logits"] = model(ids, mask).tolist()
            if hasattr(model, "forward_with_attentions"):
                _, attentions = model.forward_with_attentions(ids, mask)
                out["attentions"] = [a.tolist() for a in attentions]
    if hasattr(model, "metadata"):
        out["metadata"] = json.loads(model.metadata())
    with open(out_path, "w") as f:
        json.dump(out, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
