"""Monte Carlo errors of headline figures: means, proportions, quantiles and ensemble-wide areas.

Per-realization figures get the standard error of their mean, a Wilson interval for a
proportion, or a distribution-free interval for a quantile (from the order statistics, as the
binomial distribution of the count below the quantile gives). Figures computed from the whole
ensemble (areas where a probability reaches a threshold) get a delete-a-group jackknife error
over the ensemble's ``GROUPS`` groups of realizations.
"""

from __future__ import annotations

import numpy as np
from scipy.special import bdtr, ndtri

from simulator.engine.ensemble import reaches_hits

LEVEL = 0.95
"""Coverage of every reported interval."""
Z = float(ndtri(0.5 + LEVEL / 2))
"""Standard normal quantile of a two-sided ``LEVEL`` interval."""


def mean_se(values: np.ndarray) -> tuple[float, float]:
    """Mean and its standard error (0 for fewer than two values)."""
    values = np.asarray(values, float)
    n = len(values)
    se = float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    return float(values.mean()) if n else float("nan"), se


def proportion(hits: np.ndarray) -> tuple[float, float, tuple[float, float]]:
    """Share of true values in ``hits``, its standard error and its Wilson interval."""
    hits = np.asarray(hits, bool)
    n = len(hits)
    p = float(hits.mean())
    z = Z
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return p, float(np.sqrt(p * (1 - p) / n)), (float(max(centre - half, 0.0)), float(min(centre + half, 1.0)))


def chance_mean(chances: np.ndarray) -> tuple[float, float, tuple[float, float]]:
    """Mean of per-realization chances in [0, 1], its standard error and a 95 % interval: Wilson's
    where every chance is 0 or 1 (a proportion), else the normal interval, clipped to [0, 1]."""
    chances = np.asarray(chances, float)
    if np.all((chances == 0.0) | (chances == 1.0)):
        return proportion(chances == 1.0)
    p, se = mean_se(chances)
    half = Z * se
    return p, se, (max(p - half, 0.0), min(p + half, 1.0))


def quantile_ci(values: np.ndarray, q: float) -> tuple[float, tuple[float, float]]:
    """The ``q`` quantile (inverted CDF: an observed value) and a distribution-free interval of
    at least ``LEVEL`` coverage between two order statistics (inf where it reaches beyond them)."""
    x = np.sort(np.asarray(values, float))
    n = len(x)
    value = float(np.quantile(x, q, method="inverted_cdf"))
    alpha = (1 - LEVEL) / 2
    cdf = bdtr(np.arange(n + 1), n, q)  # P(Binomial(n, q) <= k)
    lo = binomial_ppf(cdf, alpha)  # P(count below the quantile < lo) <= alpha
    hi = binomial_ppf(cdf, 1 - alpha) + 1
    low = float(x[lo - 1]) if lo >= 1 else -np.inf
    high = float(x[hi - 1]) if hi <= n else np.inf
    return value, (low, high)


def binomial_ppf(cdf: np.ndarray, p: float) -> int:
    """The smallest ``k`` with ``cdf[k] >= p`` (``scipy.stats.binom.ppf``, whose import costs a run 0.5 s)."""
    return int(np.searchsorted(cdf, p * (1 - 1e-12), side="left"))


def jackknife_se(leave_out: np.ndarray) -> float:
    """Delete-a-group jackknife standard error from the estimates with each group left out."""
    g = len(leave_out)
    return float(np.sqrt((g - 1) / g * np.sum((leave_out - leave_out.mean()) ** 2)))


def area_at_threshold(hits: np.ndarray, group_hits: np.ndarray, sizes: np.ndarray, threshold: float,
                      cell_area: float, include: np.ndarray | None = None) -> tuple[float, float]:
    """Area (in ``cell_area`` units) of the cells whose probability ``hits / n`` reaches
    ``threshold``, and its jackknife error; ``hits`` and ``group_hits`` [group, cell] count
    realizations, ``sizes`` the realizations per group; ``include`` masks the cells counted."""
    n = int(sizes.sum())
    keep = np.ones(hits.shape, bool) if include is None else include
    area = float(np.count_nonzero(reaches(hits, n, threshold) & keep)) * cell_area
    used = np.flatnonzero(sizes)
    if len(used) < 2:
        return area, float("nan")
    leave_out = np.array([
        np.count_nonzero(reaches(hits - group_hits[g], n - sizes[g], threshold) & keep) * cell_area for g in used
    ], float)
    return area, jackknife_se(leave_out)


def reaches(hits: np.ndarray, n: int, threshold: float) -> np.ndarray:
    """Cells whose probability ``hits / n`` (float64, as written to ``p_contaminated.tif``) reaches ``threshold``
    (compared as whole hits: ``engine.ensemble.least_hits``)."""
    return reaches_hits(hits, n, threshold)
