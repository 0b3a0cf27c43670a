"""Reference values for attrib's ERASER / ferret / Quantus / OpenXAI metric profiles.

usage: metric_reference.py IN.json OUT.json

IN.json  {"cases": [{"a": [...], "s": [0/1...], "b": [...]}, ...]}
OUT.json {"values": {NAME: {"per_case": [float|null], "aggregate": float|null}}}

None of those libraries can be installed on CI, so this script restates what each one computes,
using only numpy, scipy and sklearn (as the libraries themselves do). Sources restated:
  eraser.*   jayded/eraserbenchmark @ 36467f1662812cbd4fbdd66879946cd7338e08ec,
             rationale_benchmark/metrics.py: score_hard_rationale_predictions (token level,
             instance_macro), partial_match_score (threshold 0.5, macro), _auprc, _score_aggregator.
  ferret.*   g8a9/ferret @ 22935f8fd9033bae4dc385039a2852da0715d3f0, ferret/evaluators/
             plausibility_measures.py: Tokenf1_PlausibilityEvaluation, AUPRC_PlausibilityEvaluation
             (+ utils_from_soft_to_discrete.py: _get_id_tokens_top_k); defaults top_k=5, only_pos.
  quantus.*  understandable-machine-intelligence-lab/Quantus 0.6.0 @ 85bc29d137d8f42835dd392f5cc441ad61d6d1f1,
             quantus/metrics/{localisation,complexity}/*.py evaluate_batch with default arguments,
             after Metric.general_preprocess (normalise_by_max, then abs where the default abs=True).
  openxai.*  AI4LIFE-GROUP/OpenXAI @ a18288620464250856b55234266a6d1dabb64656, openxai/metrics.py:
             eval_ground_truth_faithfulness (k=0.25, AUC=False), rankcorr, pairwise_comp.
Each case is one instance/sample/explanation; NaN or an undefined value is written as null.

Deviations chosen on purpose:
  * Every top-k selection uses a STABLE sort by decreasing key, so ties go to the LOWER index.
    The references use numpy's default (unstable) argsort, whose tie order depends on n, the numpy
    version and the CPU; they agree with this rule whenever no tie straddles the cut.
  * Quantus normalises by one max|a| over the whole batch; here every case is its own batch
    (per-sample max|a|), which is what Quantus gives when called one sample at a time.
"""
import json
import math
import sys
import warnings

import numpy as np
from scipy.stats import pearsonr, rankdata
from sklearn.metrics import (auc, average_precision_score, precision_recall_curve, roc_auc_score,
                             roc_curve)


def top_k(key, k):
    """Indices of the k largest values of key; ties -> lower index first (stable sort)."""
    return np.argsort(-np.asarray(key, dtype=float), kind="stable")[:k]


def f1(p, r):  # ERASER/ferret _f1
    return 0.0 if p == 0 or r == 0 else 2 * p * r / (p + r)


def runs(indices):
    """Maximal runs of consecutive indices as [start, end) spans."""
    spans, idx = [], sorted(int(i) for i in indices)
    for i in idx:
        if spans and spans[-1][1] == i:
            spans[-1][1] = i + 1
        else:
            spans.append([i, i + 1])
    return [tuple(sp) for sp in spans]


# ---------------------------------------------------------------- ERASER
def eraser_token_f1(a, s):
    """score_hard_rationale_predictions, one (annotation_id, docid) instance: hard rationale =
    the top-|s| tokens of a. Returns the instance F1 (the aggregate is the mean: instance_macro)."""
    gold = set(np.flatnonzero(s).tolist())
    pred = set(top_k(a, len(gold)).tolist())
    tp = len(gold & pred)
    return f1(tp / len(pred) if pred else 0.0, tp / len(gold) if gold else 0.0)


def eraser_iou_counts(a, s):
    """partial_match_score: each predicted span is a TP if its best IoU over gold spans >= 0.5.
    Returns (TP, #pred spans, #gold spans)."""
    gold_spans = runs(np.flatnonzero(s))
    pred_spans = runs(top_k(a, int(np.sum(s))))
    tp = 0
    for ps, pe in pred_spans:
        best = 0.0
        for gs, ge in gold_spans:
            num = max(0, min(pe, ge) - max(ps, gs))
            den = (pe - ps) + (ge - gs) - num
            best = max(best, 0.0 if den == 0 else num / den)
        tp += int(best >= 0.5)
    return tp, len(pred_spans), len(gold_spans)


def pr_auc(s, scores):  # ERASER _auprc / ferret _compute_auprc_soft_scoring, per instance
    precision, recall, _ = precision_recall_curve(s, scores)
    return float(auc(recall, precision))


def single_class(s):
    return bool(np.all(s == 1) or np.all(s == 0))


# ---------------------------------------------------------------- ferret
def ferret_token_f1(a, s, k=5):
    """Tokenf1_PlausibilityEvaluation, only_pos=True: the k largest scores, keep those > 0."""
    sel = [i for i in top_k(a, k) if a[i] > 0]
    if not sel:
        return 0.0
    pred = np.zeros(len(a), dtype=int)
    pred[sel] = 1
    tp = int(np.sum(s & pred))
    return f1(tp / len(sel), tp / int(np.sum(s)))  # s is never all zeros


# ---------------------------------------------------------------- Quantus 0.6.0 (one-sample batch)
def q_normalise(a, absolute):
    """normalise_by_max (skipped for an all-zero map), then np.abs if the metric's abs=True."""
    a = a.copy() if np.all(a == 0.0) else np.divide(a, np.max(np.abs(a)))
    return np.abs(a) if absolute else a


def quantus_metrics(a, s):
    sb, k_s, n = s.astype(bool), int(np.sum(s)), a.size
    out = {}
    v = q_normalise(a, False)  # PointingGame, RMA, RRA, TopK, AUC: abs=False
    out["pointing_game"] = float(np.any(sb & (v == v.max())))
    out["relevance_mass_accuracy"] = (v * sb).sum() / v.sum()  # inf/NaN (-> null) if sum is 0
    out["relevance_rank_accuracy"] = float(np.sum(sb[top_k(v, k_s)])) / k_s
    # TopKIntersection(k=5): assert_value_smaller_than_input_size rejects k >= n.
    out["top_k_intersection"] = float(np.mean(sb[top_k(v, 5)])) if 5 < n else math.nan
    if k_s == n:  # full mask: sklearn's roc_curve gives fpr = NaN, so Quantus reports NaN
        out["roc_auc"] = math.nan
    else:
        fpr, tpr, _ = roc_curve(y_true=sb, y_score=v)
        out["roc_auc"] = auc(x=fpr, y=tpr)
    v = q_normalise(a, True)  # AttributionLocalisation and complexity metrics: abs=True
    ratio = (v * sb).sum() / (v.sum() + 1e-9)  # Quantus adds 1e-9 after normalisation
    out["attribution_localisation"] = math.nan if ratio > 1 else ratio
    g = np.sort(v + 1e-7)
    rank = np.arange(1, n + 1)
    out["sparseness"] = ((2 * rank - n - 1) * g).sum() / (n * g.sum())
    p = v / np.abs(v).sum()  # NaN for an all-zero map
    out["complexity"] = -(p * np.log(p + 1e-12)).sum()
    out["effective_complexity"] = float(np.sum(v > 1e-5))
    return out


# ---------------------------------------------------------------- OpenXAI
def openxai_metrics(e, g, kfrac=0.25):
    n = e.size
    K = int(np.ceil(kfrac * n))  # convert_k_to_int
    order_e, order_g = top_k(np.abs(e), K), top_k(np.abs(g), K)
    dense_e, dense_g = rankdata(-np.abs(e), method="dense"), rankdata(-np.abs(g), method="dense")
    sgn_e, sgn_g = np.sign(e).astype(int), np.sign(g).astype(int)
    out = {}
    common = set(order_e.tolist()) & set(order_g.tolist())
    out["FA"] = len(common) / K
    out["SA"] = sum(sgn_e[i] == sgn_g[i] for i in common) / K
    same = [ie == ig and dense_e[ie] == dense_g[ig] for ie, ig in zip(order_e, order_g)]
    out["RA"] = sum(same) / K
    out["SRA"] = sum(m and sgn_e[ie] == sgn_g[ig] for m, ie, ig in zip(same, order_e, order_g)) / K
    out["RC"] = float(pearsonr(dense_e, dense_g)[0])  # Pearson of dense ranks; NaN if constant
    agree = sum((dense_e[i] < dense_e[j]) == (dense_g[i] < dense_g[j])
                for i in range(n) for j in range(i + 1, n))
    out["PRA"] = agree / (n * (n - 1) / 2)
    return out


# ---------------------------------------------------------------- driver
def clean(x):
    return None if x is None or not math.isfinite(float(x)) else float(x)


def mean_or_null(xs):
    xs = [x for x in xs if x is not None]
    return float(np.mean(xs)) if xs else None


def main(in_path, out_path):
    with open(in_path) as fh:
        cases = json.load(fh)["cases"]
    A = [np.asarray(c["a"], dtype=np.float64) for c in cases]
    S = [np.asarray(c["s"], dtype=int) for c in cases]
    B = [np.asarray(c["b"], dtype=np.float64) for c in cases]
    vals = {}

    tok = [eraser_token_f1(a, s) for a, s in zip(A, S)]
    vals["eraser.token_f1"] = (tok, sum(tok) / len(tok))  # instance_macro f1 = mean of instance F1s
    counts = [eraser_iou_counts(a, s) for a, s in zip(A, S)]
    # every instance has both gold and predicted spans, so P and R average over all cases
    macro_p = sum(tp / npred for tp, npred, _ in counts) / len(counts)
    macro_r = sum(tp / ngold for tp, _, ngold in counts) / len(counts)
    vals["eraser.iou_f1"] = ([f1(tp / npred, tp / ngold) for tp, npred, ngold in counts],
                             f1(macro_r, macro_p))
    auprc = [pr_auc(s, a) for a, s in zip(A, S)]
    vals["eraser.auprc"] = (auprc, float(np.average(auprc)))
    for name, fn in (("average_precision", average_precision_score), ("roc_auc", roc_auc_score)):
        per = [None if single_class(s) else float(fn(s, a)) for a, s in zip(A, S)]
        vals["eraser." + name] = (per, mean_or_null(per))

    ftok = [ferret_token_f1(a, s) for a, s in zip(A, S)]
    vals["ferret.token_f1"] = (ftok, float(np.mean(ftok)))
    fauprc = [pr_auc(s, np.maximum(a, 0.0)) for a, s in zip(A, S)]
    vals["ferret.auprc"] = (fauprc, float(np.mean(fauprc)))

    q = [quantus_metrics(a, s) for a, s in zip(A, S)]
    for name in q[0]:
        per = [clean(r[name]) for r in q]
        vals["quantus." + name] = (per, mean_or_null(per))

    ox = [openxai_metrics(a, b) for a, b in zip(A, B)]
    for name in ox[0]:
        per = [clean(r[name]) for r in ox]
        vals["openxai." + name] = (per, None if None in per else float(np.mean(per)))

    out = {"values": {k: {"per_case": [clean(x) for x in per], "aggregate": clean(agg)}
                      for k, (per, agg) in vals.items()}}
    with open(out_path, "w") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        main(sys.argv[1], sys.argv[2])
