"""Reference attributions that reproduce Captum 0.8's algorithms with plain torch autograd.

usage: captum_reference.py (--dense MODEL.pt TARGET JSON | --text MODEL.pt TARGET STR)...

Captum itself is not installable here, so this script re-implements, from Captum's source, the
methods the parity test (tests/unit/parity_test.cpp) compares attrib with. Everything runs in
float64 (Captum runs in the model's float32; the difference is ~1e-7 relative). Prints
{"dense": [result per --dense], "text": [result per --text]}.

--dense MODEL.pt TARGET JSON: dense rows [[...], ...] for a model whose metadata has
"architecture" (a ReLU MLP as written by make_parity_models.py). Result {"method": [[...], ...]} for
  saliency            |d f_y / d x|                        (Saliency, abs=True default)
  input_x_gradient    x * d f_y / d x                      (InputXGradient)
  ig_gausslegendre    IntegratedGradients(method="gausslegendre", n_steps=50), zero baseline
  ig_riemann_trapezoid IntegratedGradients(method="riemann_trapezoid", n_steps=50)
  occlusion           Occlusion(sliding_window_shapes=(1,), strides=1, baselines=0)
  feature_ablation    FeatureAblation (one feature per group, baselines=0)
  deeplift            DeepLift (rescale rule on the nn.ReLU modules, eps 1e-10), zero baseline
  lrp_epsilon         LRP with EpsilonRule(epsilon=1e-9) on every nn.Linear (Captum's default)
  lrp_epsilon_0_5     the same with EpsilonRule(epsilon=0.5), where the stabiliser matters
  guided_backprop     GuidedBackprop
--text MODEL.pt TARGET STR: words tokenised on whitespace with the metadata vocabulary (unk_id
otherwise); attribution on the exported embed() output through forward_from_embeddings (Captum
on the embedding tensor). Result {"tokens": [...], "method": [[T x d]], "method_tokens": [T]}
(sums over the embedding dimension) for saliency, input_x_gradient and ig_gausslegendre.
"""
import json
import sys
from typing import Callable, Dict, List, Tuple

import numpy as np
import torch
from torch import Tensor

N_STEPS = 50  # IntegratedGradients.attribute(n_steps=50)


def ig_nodes(method: str, n: int) -> Tuple[List[float], List[float]]:
    """captum/attr/_utils/approximation_methods.py: (step_sizes, alphas)."""
    if method == "gausslegendre":
        # gauss_legendre_builders: 0.5 * weights, 0.5 * (1 + nodes) of numpy's leggauss.
        nodes, weights = np.polynomial.legendre.leggauss(n)
        return list(0.5 * weights), list(0.5 * (1 + nodes))
    if method == "riemann_trapezoid":
        # riemann_builders(Riemann.trapezoid): deltas [1/n] * n with both ends halved (they sum
        # to 1 - 1/n), alphas np.linspace(0, 1, n).
        deltas = [1 / n] * n
        deltas[0] /= 2
        deltas[-1] /= 2
        return deltas, list(np.linspace(0, 1, n))
    raise ValueError("unknown IG method " + method)


def gradient(f: Callable[[Tensor], Tensor], x: Tensor, target: int) -> Tensor:
    """d f(x)[:, target] / dx for every row (rows are independent)."""
    x = x.detach().clone().requires_grad_(True)
    out = f(x)[:, target].sum()
    (g,) = torch.autograd.grad(out, x)
    return g


def integrated_gradients(f: Callable[[Tensor], Tensor], x: Tensor, target: int,
                         method: str) -> Tensor:
    """IntegratedGradients._attribute: grads at baseline + alpha (x - baseline), scaled by the
    step sizes, summed, times (x - baseline); baselines=None means zeros."""
    base = torch.zeros_like(x)
    steps, alphas = ig_nodes(method, N_STEPS)
    total = torch.zeros_like(x)
    for s, a in zip(steps, alphas):
        total += s * gradient(f, base + a * (x - base), target)
    return total * (x - base)


def occlusion_1(f: Callable[[Tensor], Tensor], x: Tensor, target: int) -> Tensor:
    """Occlusion with window 1, stride 1, baseline 0 (and FeatureAblation with one feature per
    group): f_y(x) - f_y(x with feature i set to 0). Every feature lies in exactly one window, so
    Captum's division by the window count is a division by 1."""
    with torch.no_grad():
        fx = f(x)[:, target]
        out = torch.zeros_like(x)
        for i in range(x.shape[1]):
            xi = x.clone()
            xi[:, i] = 0.0
            out[:, i] = fx - f(xi)[:, target]
    return out


class Sequential:
    """The ops of metadata.architecture over the module's own parameters (float64)."""

    def __init__(self, model: torch.jit.ScriptModule, arch: List[Dict]):
        params = {n: p.detach().double() for n, p in model.named_parameters()}
        self.ops = []
        for op in arch:
            if op["op"] == "linear":
                w = params[op["params"][0]]
                b = params[op["params"][1]] if len(op["params"]) > 1 else None
                self.ops.append(("linear", w, b))
            elif op["op"] == "relu":
                self.ops.append(("relu", None, None))
            else:
                raise ValueError("reference handles linear/relu only, got " + op["op"])

    def activations(self, x: Tensor) -> List[Tensor]:
        acts = [x]
        for kind, w, b in self.ops:
            acts.append(torch.nn.functional.linear(acts[-1], w, b) if kind == "linear"
                        else torch.relu(acts[-1]))
        return acts

    def deeplift(self, x: Tensor, target: int, eps: float = 1e-10) -> Tensor:
        """DeepLift (captum/attr/_core/deep_lift.py, rescale): linear layers keep their gradient;
        each nn.ReLU's gradient becomes delta_out / delta_in, or the plain gradient where
        |delta_in| < eps (nonlinear(): torch.where(abs(delta_in) < eps, grad_input,
        grad_output * delta_out / delta_in)). Attribution (x - x') * multipliers."""
        ref = torch.zeros_like(x)
        a, r = self.activations(x), self.activations(ref)
        m = torch.zeros_like(a[-1])
        m[:, target] = 1.0
        for k in reversed(range(len(self.ops))):
            kind, w, _ = self.ops[k]
            if kind == "linear":
                m = m @ w
            else:
                din = a[k] - r[k]
                dout = a[k + 1] - r[k + 1]
                plain = m * (a[k] > 0).double()
                m = torch.where(din.abs() < eps, plain, m * dout / din)
        return (x - ref) * m

    def lrp_epsilon(self, x: Tensor, target: int, epsilon: float = 1e-9) -> Tensor:
        """LRP (captum/attr/_core/lrp.py with EpsilonRule, captum/attr/_utils/lrp_rules.py):
        relevance f_y(x) at the target logit (the gradient is multiplied by the output); each
        nn.Linear divides by its output z + sign(z) * epsilon (sign 0 -> 1, bias included) and
        multiplies by its input; nn.ReLU passes relevance unchanged."""
        a = self.activations(x)
        rel = torch.zeros_like(a[-1])
        rel[:, target] = a[-1][:, target]
        for k in reversed(range(len(self.ops))):
            kind, w, _ = self.ops[k]
            if kind == "linear":
                z = a[k + 1]
                sign = torch.sign(z)
                sign[sign == 0] = 1
                rel = a[k] * ((rel / (z + sign * epsilon)) @ w)
        return rel

    def guided_backprop(self, x: Tensor, target: int) -> Tensor:
        """GuidedBackprop (captum/attr/_core/guided_backprop_deconvnet.py): the nn.ReLU backward
        hook returns F.relu(grad_input), grad_input being the ReLU's own gradient."""
        a = self.activations(x)
        g = torch.zeros_like(a[-1])
        g[:, target] = 1.0
        for k in reversed(range(len(self.ops))):
            kind, w, _ = self.ops[k]
            g = g @ w if kind == "linear" else torch.relu(g * (a[k] > 0).double())
        return g


def dense(model: torch.jit.ScriptModule, meta: Dict, rows: List, target: int) -> Dict:
    x = torch.tensor(rows, dtype=torch.float64)
    f = lambda t: model(t)  # noqa: E731
    net = Sequential(model, meta["architecture"])
    with torch.no_grad():
        diff = (net.activations(x)[-1] - model(x)).abs().max().item()
    if diff > 1e-9:
        raise SystemExit("architecture does not reproduce forward: max diff %g" % diff)
    g = gradient(f, x, target)
    occ = occlusion_1(f, x, target)
    out = {
        "saliency": g.abs(),
        "input_x_gradient": x * g,
        "ig_gausslegendre": integrated_gradients(f, x, target, "gausslegendre"),
        "ig_riemann_trapezoid": integrated_gradients(f, x, target, "riemann_trapezoid"),
        "occlusion": occ,
        "feature_ablation": occ.clone(),
        "deeplift": net.deeplift(x, target),
        "lrp_epsilon": net.lrp_epsilon(x, target),
        "lrp_epsilon_0_5": net.lrp_epsilon(x, target, epsilon=0.5),
        "guided_backprop": net.guided_backprop(x, target),
    }
    return {k: v.tolist() for k, v in out.items()}


def text(model: torch.jit.ScriptModule, meta: Dict, words: str, target: int) -> Dict:
    vocab = {w: i for i, w in enumerate(meta["vocab"])}
    toks = words.split()
    ids = torch.tensor([[vocab.get(w, meta["unk_id"]) for w in toks]], dtype=torch.long)
    mask = torch.ones_like(ids)
    with torch.no_grad():
        e = model.embed(ids)
    f = lambda t: model.forward_from_embeddings(t, mask)  # noqa: E731
    g = gradient(f, e, target)
    res = {
        "saliency": g.abs(),
        "input_x_gradient": e * g,
        "ig_gausslegendre": integrated_gradients(f, e, target, "gausslegendre"),
    }
    out: Dict = {"tokens": toks}
    for k, v in res.items():
        out[k] = v.tolist()
        out[k + "_tokens"] = v.sum(-1).tolist()
    return out


def main() -> int:
    args = sys.argv[1:]
    out: Dict = {}
    # Several models per call: the test pays Python's start-up (importing torch) once.
    while len(args) >= 4 and args[0] in ("--dense", "--text"):
        kind, path, target, value = args[:4]
        args = args[4:]
        model = torch.jit.load(path, map_location="cpu").double().eval()
        meta = json.loads(model.metadata())
        if kind == "--dense":
            out.setdefault("dense", []).append(dense(model, meta, json.loads(value), int(target)))
        else:
            out.setdefault("text", []).append(text(model, meta, value, int(target)))
    if args or not out:
        print(__doc__, file=sys.stderr)
        return 2
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
