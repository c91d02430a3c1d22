"""Exact, mergeable bands (P5, P50, P95 and mean across realizations) of whole-number figures.

Land release's figures per step and class are whole numbers of a unit: items, or areas that
are whole numbers of cells. Each is kept as a histogram of the values seen (value -> number of
realizations), so that memory stops growing once the values a figure takes have all been
seen, instead of growing with the realizations. Quantiles come from the histogram's order
statistics, interpolated as ``numpy.percentile`` does (its default, linear method), so they are
exactly those of the full table of realizations; means come from exact integer sums. Histograms
merge by adding counts, so batches, threads, tiles and workers may finish in any order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BAND_PERCENTILES = (5.0, 50.0, 95.0)
"""The percentiles of a band (as ``simulator.results.tables.PERCENTILES``)."""
VALUE_BITS = 40
"""Bits of a histogram key holding the value (in units); the slot takes the bits above."""
WHOLE_TOLERANCE = 1e-12
"""Relative rounding allowed in a figure that is a whole number of its unit (an area summed from
cells whose area in m2 is not a binary fraction); the figure is then held as that whole number."""
PENDING_KEYS = 1 << 18
"""Values waiting (8 B each) before they are folded into the histogram (a merge of sorted arrays)."""


@dataclass
class ExactBands:
    """Histograms of ``shape``-shaped figures over realizations, one per element ("slot").

    ``units`` (float64 [last axis of shape]): the unit each figure along the last axis counts
    in (1 for items, the cell area in m2 for areas); every figure must be a whole, non-negative
    number of its unit below ``2**VALUE_BITS``. ``keys`` (int64, sorted): slot shifted left by
    ``VALUE_BITS`` plus the value in units; ``counts`` (int64): realizations with that value.
    """

    shape: tuple[int, ...]
    units: np.ndarray
    n: int = 0
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    _pending: list = field(default_factory=list, repr=False)

    @property
    def slots(self) -> int:
        return int(np.prod(self.shape))

    def add(self, values: np.ndarray) -> None:
        """Add realizations ``values`` (float64 [realization, *shape])."""
        values = np.asarray(values, float).reshape(len(values), *self.shape)
        whole = np.rint(values / self.units)
        off = np.abs(whole * self.units - values) > WHOLE_TOLERANCE * np.maximum(values, self.units)
        if np.any(off) or np.any(whole < 0) or np.any(whole >= 2.0**VALUE_BITS):
            raise ValueError("exact bands hold whole, non-negative numbers of their unit only")
        slot = np.arange(self.slots, dtype=np.int64) << VALUE_BITS
        self._pending.append((whole.astype(np.int64).reshape(len(values), self.slots) + slot).ravel())
        self.n += len(values)
        if sum(len(p) for p in self._pending) >= PENDING_KEYS:
            self._fold()

    def folded(self) -> ExactBands:
        """This histogram with every value added folded into ``keys`` and ``counts``."""
        self._fold()
        return self

    def merged(self, other: ExactBands) -> ExactBands:
        """The bands of both sets of realizations."""
        self._fold()
        other._fold()
        both = ExactBands(self.shape, self.units, self.n + other.n, self.keys.copy(), self.counts.copy())
        both._insert(other.keys, other.counts)
        return both

    def bands(self, scale: np.ndarray) -> dict[str, np.ndarray]:
        """``p5``, ``p50``, ``p95`` and ``mean`` ([*shape]) of the figures times ``scale`` (per last
        axis), as ``simulator.results.tables.band`` gives them from the table of realizations."""
        self._fold()
        if self.n == 0:
            return {name: np.full(self.shape, np.nan) for name in ("p5", "p50", "p95", "mean")}
        units = np.broadcast_to(self.units, self.shape).ravel()
        scale = np.broadcast_to(scale, self.shape).ravel()
        slot = self.keys >> VALUE_BITS
        whole = self.keys & ((1 << VALUE_BITS) - 1)
        ends = np.cumsum(self.counts)
        start = np.searchsorted(slot, np.arange(self.slots))
        before = np.where(start > 0, ends[np.maximum(start - 1, 0)], 0)

        def order_statistic(k: int) -> np.ndarray:
            """Every slot's ``k``-th smallest figure (0-based) times ``scale``."""
            return whole[np.searchsorted(ends, before + k, side="right")] * units * scale

        out = {}
        for name, q in zip(("p5", "p50", "p95"), BAND_PERCENTILES):
            virtual = (self.n - 1) * np.true_divide(q, 100)
            lo = int(np.floor(virtual))
            a, b = order_statistic(lo), order_statistic(min(lo + 1, self.n - 1))
            out[name] = _lerp(a, b, virtual - lo).reshape(self.shape)
        sums = np.zeros(self.slots, np.int64)
        np.add.at(sums, slot, whole * self.counts)
        out["mean"] = (sums * units * scale / self.n).reshape(self.shape)
        return out

    def _fold(self) -> None:
        if self._pending:
            keys, counts = np.unique(np.concatenate(self._pending), return_counts=True)
            self._pending = []
            self._insert(keys, counts.astype(np.int64))

    def _insert(self, keys: np.ndarray, counts: np.ndarray) -> None:
        """Add ``counts`` realizations at each of the sorted, distinct ``keys`` (in place)."""
        at = np.searchsorted(self.keys, keys)
        seen = np.zeros(len(keys), bool)
        inside = at < len(self.keys)
        seen[inside] = self.keys[at[inside]] == keys[inside]
        self.counts[at[seen]] += counts[seen]
        self.keys = np.insert(self.keys, at[~seen], keys[~seen])
        self.counts = np.insert(self.counts, at[~seen], counts[~seen])


def _lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """``a + t (b - a)`` rounded as ``numpy.percentile`` rounds it (from ``b`` when ``t >= 0.5``)."""
    diff = b - a
    out = a + diff * t
    if t >= 0.5:
        out = b - diff * (1 - t)
    return out
