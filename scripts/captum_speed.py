#!/usr/bin/env python3
"""Times Captum 0.8 at its default settings on the model of suites/speed, for README's side-by-side
with attrib's throughput block (issue 16). Not part of the tests: it needs Captum, which Debian
does not package.

    PYTHONPATH=/path/to/captum python3 scripts/captum_speed.py MODEL.pt [--json OUT]

MODEL.pt is the suite's cached TorchScript model (results.json models[0].checkpoint). The inputs
are 32 rows of 64 token ids with 48-62 real tokens each (the suite's shapes; the timing depends on
shapes, not on which words), explained for the predicted class. Text methods work as in attrib:
gradient methods on the embeddings (zero baseline for IG), perturbation methods on the token ids
with the mask token, one feature per real token (padding joins token 0's feature, so it is never
a feature of its own). Captum's defaults: IG 50 Gauss-Legendre steps with internal_batch_size
None, NoiseTunnel smoothgrad with nt_samples_batch_size None, perturbations_per_eval 1,
Lime's SkLearnLasso. Each method: `--warmup` untimed runs (3), then the median of `--repetitions`
timed runs (3).
"""
import argparse
import json
import statistics
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=3,
                    help="untimed runs first (TorchScript's profiling executor optimises the "
                         "graph after its first runs)")
    ap.add_argument("--methods", help="comma-separated subset")
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    import captum
    from captum.attr import (FeatureAblation, InputXGradient, IntegratedGradients, KernelShap,
                             Lime, NoiseTunnel, Occlusion, Saliency, ShapleyValueSampling)

    model = torch.jit.load(args.model).eval()
    meta = json.loads(model.metadata())
    vocab = len(meta["vocab"]) if "vocab" in meta else int(meta.get("vocab_size", 5000))
    mask_id = int(meta.get("mask_id", 2))
    g = torch.Generator().manual_seed(0)
    B, T = 32, 64
    lengths = torch.randint(48, 63, (B,), generator=g)
    ids = torch.randint(5, vocab, (B, T), generator=g)
    mask = (torch.arange(T).unsqueeze(0) < lengths.unsqueeze(1)).long()
    ids = ids * mask + int(meta.get("pad_id", 0)) * (1 - mask)
    features = torch.arange(T).unsqueeze(0).expand(B, T) * mask  # padding -> token 0's feature
    with torch.no_grad():
        emb = model.embed(ids)
        target = model.forward(ids, mask).argmax(1)

    def from_emb(e, m):
        return model.forward_from_embeddings(e, m)

    def from_ids(i, m):
        return model.forward(i, m)

    def per_example(fn):
        # Captum's Lime and KernelShap explain one example per call.
        def run():
            for b in range(B):
                fn(b)
        return run

    zero = torch.zeros_like(emb)
    methods = {
        "saliency": lambda: Saliency(from_emb).attribute(
            emb, target=target, additional_forward_args=(mask,)),
        "input_x_gradient": lambda: InputXGradient(from_emb).attribute(
            emb, target=target, additional_forward_args=(mask,)),
        "integrated_gradients": lambda: IntegratedGradients(from_emb).attribute(
            emb, baselines=zero, target=target, additional_forward_args=(mask,), n_steps=50),
        "smoothgrad": lambda: NoiseTunnel(Saliency(from_emb)).attribute(
            emb, nt_type="smoothgrad", nt_samples=10, stdevs=0.15, target=target,
            additional_forward_args=(mask,)),
        "feature_ablation": lambda: FeatureAblation(from_ids).attribute(
            ids, baselines=mask_id, target=target, additional_forward_args=(mask,),
            feature_mask=features),
        "occlusion": lambda: Occlusion(from_ids).attribute(
            ids, sliding_window_shapes=(3,), baselines=mask_id, target=target,
            additional_forward_args=(mask,)),
        "shapley_sampling": lambda: ShapleyValueSampling(from_ids).attribute(
            ids, baselines=mask_id, target=target, additional_forward_args=(mask,),
            feature_mask=features, n_samples=25),
        "kernel_shap": per_example(lambda b: KernelShap(from_ids).attribute(
            ids[b:b + 1], baselines=mask_id, target=target[b:b + 1],
            additional_forward_args=(mask[b:b + 1],), feature_mask=features[b:b + 1],
            n_samples=200)),
        "lime": per_example(lambda b: Lime(from_ids).attribute(
            ids[b:b + 1], baselines=mask_id, target=target[b:b + 1],
            additional_forward_args=(mask[b:b + 1],), feature_mask=features[b:b + 1],
            n_samples=200)),
    }
    out = {"captum_version": captum.__version__, "torch_version": torch.__version__,
           "threads": torch.get_num_threads(), "examples": B, "tokens": T,
           "real_tokens": lengths.tolist(), "methods": {}}
    chosen = args.methods.split(",") if args.methods else list(methods)
    for name in chosen:
        fn = methods[name]
        for _ in range(args.warmup):
            fn()
        seconds = []
        for _ in range(args.repetitions):
            t0 = time.perf_counter()
            fn()
            seconds.append(time.perf_counter() - t0)
        med = statistics.median(seconds)
        out["methods"][name] = {"seconds": seconds, "explanations_per_second": B / med}
        print(f"{name:22s} {B / med:10.3f} explanations/s  (median of {len(seconds)}: {med:.3f} s)",
              flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
