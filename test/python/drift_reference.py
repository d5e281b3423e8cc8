"""Reference drift measures for src/validate/distance.test.ts, computed from the raw rows
the way TFDV and Evidently define them (numpy/scipy), to check Loom's measures computed
from statistics.

Usage: python drift_reference.py reference.csv current.csv
Prints JSON: {"categorical": {column: {...}}, "numeric": {column: {...}}, "special": {...}}.
"""
import csv
import json
import sys

import numpy as np
from scipy import stats
from scipy.spatial import distance

CATEGORICAL = ["origin"]
NUMERIC = ["delay", "distance"]


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {c: [r[c] for r in rows] for c in rows[0].keys()}


def psi(p, q):
    # Evidently: empty shares become 0.0001.
    p = np.where(p == 0, 0.0001, p)
    q = np.where(q == 0, 0.0001, q)
    return float(np.sum((p - q) * np.log(p / q)))


def js_divergence_base2(p, q):
    # TFDV's Jensen-Shannon divergence (scipy gives the distance, its square root).
    return float(distance.jensenshannon(p, q, base=2) ** 2)


def categorical(ref, cur):
    keys = sorted(set(ref) | set(cur))
    rc = np.array([ref.count(k) for k in keys], dtype=float)
    cc = np.array([cur.count(k) for k in keys], dtype=float)
    p, q = rc / rc.sum(), cc / cc.sum()
    # Evidently's chi-squared: expected = reference counts scaled to the current total.
    f_exp = rc * (cc.sum() / rc.sum())
    mask = ~((f_exp == 0) & (cc == 0))
    if np.any((f_exp == 0) & (cc > 0)):
        chi_p = 0.0
    else:
        chi_p = float(stats.chisquare(cc[mask], f_exp[mask])[1])
    return {"linf": float(np.max(np.abs(p - q))), "jensen_shannon": js_divergence_base2(p, q), "psi": psi(p, q), "chi_squared": chi_p}


def numeric(ref, cur):
    ref = np.array(ref, dtype=float)
    cur = np.array(cur, dtype=float)
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
    p = np.histogram(ref, edges)[0] / len(ref)
    q = np.histogram(cur, edges)[0] / len(cur)
    ks = stats.ks_2samp(ref, cur, method="asymp")
    rc = np.histogram(ref, edges)[0].astype(float)
    cc = np.histogram(cur, edges)[0].astype(float)
    f_exp = rc * (cc.sum() / rc.sum())
    mask = ~((f_exp == 0) & (cc == 0))
    if np.any((f_exp == 0) & (cc > 0)):
        chi = (None, 0.0)  # infinite: JSON has no infinity
    else:
        result = stats.chisquare(cc[mask], f_exp[mask])
        chi = (float(result[0]), float(result[1]))
    return {
        "bins": len(edges) - 1,
        "psi": psi(p, q),
        "jensen_shannon": js_divergence_base2(p, q),
        "linf": float(np.max(np.abs(p - q))),
        "ks_statistic": float(ks.statistic),
        "ks_p": float(ks.pvalue),
        "wasserstein": float(stats.wasserstein_distance(ref, cur) / np.std(ref)),
        # Exact bin counts (what exact-bins.test.ts compares with).
        "edges": [float(e) for e in edges],
        "chi_squared_statistic": chi[0],
        "chi_squared_p": chi[1],
    }


def main():
    ref, cur = read(sys.argv[1]), read(sys.argv[2])
    out = {
        "categorical": {c: categorical(ref[c], cur[c]) for c in CATEGORICAL},
        "numeric": {c: numeric(ref[c], cur[c]) for c in NUMERIC},
        "special": {
            "chi2_sf": [[x, df, float(stats.chi2.sf(x, df))] for x, df in [(3.0, 1), (10.0, 5), (250.0, 228), (400.0, 228), (0.5, 2)]],
            "kolmogorov_sf": [[x, float(stats.kstwobign.sf(x))] for x in [0.3, 0.8, 1.0, 1.36, 2.0]],
        },
    }
    json.dump(out, sys.stdout)


main()
