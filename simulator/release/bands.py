"""Mergeable bands (P5, P50, P95 and mean across realizations): exact for whole-number figures,
within a stated relative error for real ones.

Land release's figures per step and class are whole numbers of a unit: items, or areas that
are whole numbers of cells. Each is kept as a histogram of the values seen (value -> number of
realizations), so that memory stops growing once the values a figure takes have all been
seen, instead of growing with the realizations. Quantiles come from the histogram's order
statistics, interpolated as ``numpy.percentile`` does (its default, linear method), so they are
exactly those of the full table of realizations; means come from exact integer sums. Histograms
merge by adding counts, so batches, threads, tiles and workers may finish in any order.

Real figures (risk) are held the same way by their float64 bit pattern, ordered as the values
are, with its lowest bits dropped when the histogram would outgrow its budget (``FloatBands``).
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
BAND_KEYS = 1 << 20
"""Most keys (12 B each with their counts: 12 MiB) real-valued bands hold: past it their buckets are widened."""
MAX_SHIFT = 46
"""Most low bits of a float64 dropped: 6 bits of mantissa kept (buckets under 1.6 % wide)."""


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

    def add_histogram(self, other: ExactBands) -> None:
        """Add the realizations of ``other`` (in place: ``merged`` without the copy)."""
        self._fold()
        other._fold()
        self._insert(other.keys, other.counts)
        self.n += other.n

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
        out = _percentiles(slot, whole * units[slot] * scale[slot], self.counts, self.slots, self.n, self.shape)
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
        self.keys, self.counts = _inserted(self.keys, self.counts, keys, counts)


@dataclass
class FloatBands:
    """Histograms of non-negative real ``shape``-shaped figures over realizations, one per slot,
    with bands within a relative ``relative_error`` of ``numpy.percentile`` on the full table.

    A figure is held by its float64 bit pattern (ordered as the values are) without its lowest
    ``shift`` bits: a bucket of values within ``2 relative_error`` of each other, read back as
    its midpoint (0 as 0), so each order statistic, and the interpolation between two, is within
    ``relative_error`` of the exact one. ``shift`` starts at the bits the slot takes in a key
    (``relative_error`` about 1e-13 for a thousand slots) and grows by one, halving the number of
    buckets per octave, whenever more than ``budget`` keys are held: it ends at the smallest shift
    whose histogram fits, in whatever order realizations came. Means come from float sums.
    """

    shape: tuple[int, ...]
    budget: int = BAND_KEYS
    n: int = 0
    shift: int = 0
    sums: np.ndarray = None
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # realizations: < 2**31
    _pending: list = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.shift = max(self.shift, self.slots.bit_length())
        if self.sums is None:
            self.sums = np.zeros(self.slots)

    @property
    def slots(self) -> int:
        return int(np.prod(self.shape))

    @property
    def value_bits(self) -> int:
        """Bits of a key holding the value; the slot takes those above."""
        return 63 - self.slots.bit_length()

    @property
    def relative_error(self) -> float:
        """Largest relative distance of a band from the one of the full table (before rounding)."""
        return 2.0 ** (self.shift - 53)

    def add(self, values: np.ndarray) -> None:
        """Add realizations ``values`` (float64 [realization, *shape], each >= 0)."""
        values = np.asarray(values, float).reshape(len(values), self.slots)
        if not np.all(values >= 0.0):
            raise ValueError("real-valued bands hold non-negative numbers only")
        self.sums += values.sum(axis=0)
        bits = (values + 0.0).view(np.int64) >> self.shift  # + 0.0: -0.0 becomes 0.0
        slot = np.arange(self.slots, dtype=np.int64) << self.value_bits
        self._pending.append((bits + slot).ravel())
        self.n += len(values)
        if sum(len(p) for p in self._pending) >= PENDING_KEYS:
            self._fold()

    def folded(self) -> FloatBands:
        self._fold()
        return self

    def merged(self, other: FloatBands) -> FloatBands:
        """The bands of both sets of realizations (at the coarser of their shifts, or coarser)."""
        self._fold()
        other._fold()
        keys, counts = self._at(max(self.shift, other.shift))
        both = FloatBands(self.shape, self.budget, self.n + other.n, max(self.shift, other.shift),
                          self.sums + other.sums, keys.copy(), counts.copy())
        both.keys, both.counts = _inserted(both.keys, both.counts, *other._at(both.shift))
        both._fit()
        return both

    def bands(self, scale: np.ndarray | float = 1.0) -> dict[str, np.ndarray]:
        """``p5``, ``p50``, ``p95`` and ``mean`` ([*shape]) of the figures times ``scale`` (per last axis)."""
        self._fold()
        if self.n == 0:
            return {name: np.full(self.shape, np.nan) for name in ("p5", "p50", "p95", "mean")}
        scale = np.broadcast_to(scale, self.shape).ravel()
        slot = self.keys >> self.value_bits
        value = self.keys & ((1 << self.value_bits) - 1)
        low = (value << self.shift).view(np.float64)
        high = ((value + 1) << self.shift).view(np.float64)
        middle = np.where(value > 0, low + 0.5 * (high - low), 0.0)
        out = _percentiles(slot, middle * scale[slot], self.counts, self.slots, self.n, self.shape)
        out["mean"] = (self.sums * scale / self.n).reshape(self.shape)
        return out

    def _at(self, shift: int) -> tuple[np.ndarray, np.ndarray]:
        """Keys and counts with ``shift`` low bits dropped (``shift`` at least ``self.shift``)."""
        if shift == self.shift:
            return self.keys, self.counts
        keys = self.keys >> self.value_bits
        keys <<= self.value_bits
        value = self.keys & ((1 << self.value_bits) - 1)
        value >>= shift - self.shift
        keys |= value
        del value
        new = np.ones(len(keys), bool)  # sorted still: equal keys are neighbours
        np.not_equal(keys[1:], keys[:-1], out=new[1:])
        first = np.flatnonzero(new)
        return keys[first], np.add.reduceat(self.counts, first) if len(first) else self.counts[:0]

    def _fit(self) -> None:
        """Widen the buckets until the keys fit the budget."""
        while len(self.keys) > self.budget and self.shift < MAX_SHIFT:
            self.keys, self.counts = self._at(self.shift + 1)
            self.shift += 1

    def _fold(self) -> None:
        if self._pending:
            keys, counts = np.unique(np.concatenate(self._pending), return_counts=True)
            self._pending = []
            self.keys, self.counts = _inserted(self.keys, self.counts, keys, counts.astype(np.int32))
            self._fit()


def _inserted(keys: np.ndarray, counts: np.ndarray, new: np.ndarray, new_counts: np.ndarray):
    """``keys`` and ``counts`` (sorted, distinct keys) with ``new_counts`` realizations added at each
    of the sorted, distinct ``new`` keys (``counts`` of keys already there are added to in place)."""
    at = np.searchsorted(keys, new)
    seen = np.zeros(len(new), bool)
    inside = at < len(keys)
    seen[inside] = keys[at[inside]] == new[inside]
    counts[at[seen]] += new_counts[seen]
    return np.insert(keys, at[~seen], new[~seen]), np.insert(counts, at[~seen], new_counts[~seen])


def _percentiles(slot: np.ndarray, value: np.ndarray, counts: np.ndarray, slots: int, n: int,
                 shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """P5, P50 and P95 ([*shape]) of a histogram: per key (sorted by slot, then value) its slot,
    the value it stands for and its count of realizations, ``n`` in every slot; interpolated
    between order statistics as ``numpy.percentile`` does."""
    ends = np.cumsum(counts, dtype=np.int64)
    start = np.searchsorted(slot, np.arange(slots))
    before = np.where(start > 0, ends[np.maximum(start - 1, 0)], 0)
    out = {}
    for name, q in zip(("p5", "p50", "p95"), BAND_PERCENTILES):
        virtual = (n - 1) * np.true_divide(q, 100)
        lo = int(np.floor(virtual))
        a = value[np.searchsorted(ends, before + lo, side="right")]
        b = value[np.searchsorted(ends, before + min(lo + 1, n - 1), side="right")]
        out[name] = _lerp(a, b, virtual - lo).reshape(shape)
    return out


def _lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """``a + t (b - a)`` rounded as ``numpy.percentile`` rounds it (from ``b`` when ``t >= 0.5``)."""
    diff = b - a
    out = a + diff * t
    if t >= 0.5:
        out = b - diff * (1 - t)
    return out
