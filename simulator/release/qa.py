"""Quality assurance of released land: accept-on-zero compliance sampling per lot.

A lot of ``N`` sampling units is accepted when none of ``n`` units drawn without replacement
is found to hold an item. ``n`` is the smallest sample giving confidence ``Y`` that at least
a share ``X`` of the units is clean: if ``k* = ceil((1 - X) N)`` units held items, a clean
sample would come with probability ``C(N - k*, n) / C(N, n) <= 1 - Y`` (hypergeometric; for a
large lot ``X^n <= 1 - Y``, 299 units for 95 % and 99 %), as Visual Sample Plan computes it.
A lot is one work unit's released land, cut in square sampling units (``lot_units``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln

EXACT = 1e-9
"""Relative tolerance of the sample-size rule: a clean-sample probability equal to ``1 - Y`` in exact
arithmetic (one dirty unit in 40, 38 sampled: 2/40) passes whatever the rounding of log-gamma."""


def _log_choose(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    return gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)


def lot_units(area_m2: float | np.ndarray, unit_m: float) -> np.ndarray:
    """Whole square sampling units of side ``unit_m`` (m) in a lot of ``area_m2`` (m2)."""
    return np.floor(np.asarray(area_m2, float) / unit_m**2 + 1e-9).astype(np.int64)


def p_clean_sample(lot: int | np.ndarray, dirty: int | np.ndarray, sample: int | np.ndarray) -> np.ndarray:
    """Probability that a sample of ``sample`` units from a lot of ``lot`` holds none of its ``dirty`` units."""
    lot, dirty, sample = np.broadcast_arrays(*(np.asarray(v, float) for v in (lot, dirty, sample)))
    possible = lot - dirty >= sample
    safe = np.where(possible, lot - dirty, sample)
    log_p = _log_choose(safe, sample) - _log_choose(lot, sample)
    return np.where(possible, np.exp(np.minimum(log_p, 0.0)), 0.0)


def p_accept(lot: int, dirty: int, sample: int, p_detect: float = 1.0) -> float:
    """Probability that the lot passes: no item found in the sample, each dirty unit sampled being
    found with ``p_detect`` (``E[(1 - p_detect)^J]``, ``J`` hypergeometric)."""
    sample = min(sample, lot)
    j = np.arange(max(0, sample - (lot - dirty)), min(dirty, sample) + 1, dtype=float)
    log_pmf = _log_choose(np.full_like(j, dirty), j) + _log_choose(np.full_like(j, lot - dirty), sample - j) \
        - _log_choose(np.asarray(float(lot)), np.asarray(float(sample)))
    miss = (1.0 - p_detect) ** j
    return float(np.clip(np.sum(np.exp(log_pmf) * miss), 0.0, 1.0))


def p_accept_lots(lot: np.ndarray, dirty: np.ndarray, sample: np.ndarray, p_detect: float = 1.0) -> np.ndarray:
    """``p_accept`` of every lot of the (broadcast) arrays, computed once per distinct lot."""
    lot, dirty, sample = np.broadcast_arrays(*(np.asarray(v, np.int64) for v in (lot, dirty, sample)))
    triples, inverse = np.unique(np.stack([lot.ravel(), dirty.ravel(), sample.ravel()], axis=1), axis=0,
                                 return_inverse=True)
    values = np.array([p_accept(int(n), int(d), int(k), p_detect) for n, d, k in triples])
    return values[inverse.ravel()].reshape(lot.shape)


def large_lot_sample_size(confidence: float, clean_share: float) -> int:
    """Units to sample from a lot too large to matter: the smallest ``n`` with ``X^n <= 1 - Y``."""
    return math.ceil(math.log(1.0 - confidence) / math.log(clean_share) - 1e-12)


def sample_size(confidence: float, clean_share: float, lot: int | None = None) -> int:
    """Units to sample so that a clean sample gives ``confidence`` that at least ``clean_share``
    of the lot's ``lot`` units are clean (None: a large lot)."""
    large = large_lot_sample_size(confidence, clean_share)
    if lot is None:
        return large
    dirty = math.ceil((1.0 - clean_share) * lot - 1e-9)
    if dirty < 1:
        return lot
    sizes = np.arange(1, min(lot, large) + 1)
    passing = np.flatnonzero(p_clean_sample(lot, dirty, sizes) <= (1.0 - confidence) * (1.0 + EXACT))
    return int(sizes[passing[0]]) if passing.size else min(lot, large)
