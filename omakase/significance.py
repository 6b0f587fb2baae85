"""How sure can we be? Bootstrap confidence intervals and a paired randomization test, over queries.

Queries are the unit of sampling: with 30 queries an interval is wide, and a
difference between two methods that sits inside it is not a finding.
"""

from __future__ import annotations

import numpy as np


def bootstrap_ci(values, n_resamples: int = 10_000, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and percentile-bootstrap interval: resample queries with replacement."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_resamples, x.size))].mean(axis=1)
    alpha = (1 - level) / 2
    return float(x.mean()), float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def paired_randomization(a, b, n_resamples: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """Mean difference a - b and its two-sided p-value.

    Under the null hypothesis the two methods are exchangeable on every query,
    so each per-query difference is equally likely to have either sign: flip
    signs at random and count how often the mean is at least as extreme.
    """
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if d.size == 0:
        return float("nan"), float("nan")
    observed = abs(d.mean())
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(n_resamples, d.size))
    extreme = int((np.abs((signs * d).mean(axis=1)) >= observed - 1e-12).sum())
    return float(d.mean()), (extreme + 1) / (n_resamples + 1)
