"""Real-valued bands in bounded memory: within their stated relative error of numpy's percentiles,
the same histogram whatever the order and grouping of realizations, and held under their budget."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.release.bands import FloatBands
from simulator.results.tables import band


def figures(n: int, seed: int = 0) -> np.ndarray:
    """Risk-like figures [realization, 3, 4]: a Uniform(0, 1) factor times lognormal scales, zeros in places."""
    scales = np.random.default_rng(0).lognormal(0, 4, (1, 3, 4))  # the same figures, other realizations
    values = np.random.default_rng(seed).uniform(0, 1, (n, 3, 4)) * scales
    values[:, 0, 0] = 0.0
    values[::3, 1, 2] = 0.0
    return values


@pytest.mark.parametrize("n, budget", [(1, 10), (2, 10), (7, 1000), (500, 1 << 21), (4000, 3000), (4000, 200)])
def test_float_bands_are_numpy_percentiles_within_their_relative_error(n, budget):
    values = figures(n)
    bands = FloatBands((3, 4), budget=budget)
    for part in np.array_split(values, 5):
        bands.add(part)
    scale = np.array([1.0, 2.5, 1e-3, 7.0])
    got, want = bands.bands(scale), band(values * scale)
    assert len(bands.folded().keys) <= budget or bands.shift == 46
    error = bands.relative_error
    for q in ("p5", "p50", "p95"):
        assert np.all(np.abs(got[q] - want[q]) <= error * want[q] * (1 + 1e-9) + 1e-300), q
        assert np.all(got[q][0, 0] == 0.0)  # zero is held exactly
    np.testing.assert_allclose(got["mean"], want["mean"], rtol=1e-13)
    if budget >= 3 * 4 * n:  # everything fits: a relative error of a few units in 1e-14
        assert error < 1e-12
    else:
        assert error > 1e-6 and len(bands.keys) > budget / 4  # coarsened, but no further than needed


def test_float_bands_merge_to_the_same_histogram_in_any_order():
    values = figures(3000, seed=2)
    whole = FloatBands((3, 4), budget=2000)
    whole.add(values)
    whole.folded()
    parts = []
    for chunk in np.array_split(values, 7):
        part = FloatBands((3, 4), budget=2000)
        for piece in np.array_split(chunk, 3):
            part.add(piece)
        parts.append(part)
    forward, backward = parts[0], parts[-1]
    for part in parts[1:]:
        forward = forward.merged(part)
    for part in reversed(parts[:-1]):
        backward = backward.merged(part)
    for merged in (forward, backward):
        assert merged.n == 3000 and merged.shift == whole.shift
        assert np.array_equal(merged.keys, whole.keys) and np.array_equal(merged.counts, whole.counts)
        np.testing.assert_allclose(merged.sums, whole.sums, rtol=1e-13)


def test_float_bands_memory_stops_growing_with_the_realizations():
    bands = FloatBands((3, 4), budget=20_000)
    sizes = []
    for seed in range(20):
        bands.add(figures(2000, seed))
        sizes.append(len(bands.folded().keys))
    assert max(sizes) <= 20_000 and bands.n == 40_000 and sizes[-1] > 10_000
    assert bands.relative_error < 0.01  # the budget holds it within 1 %


@pytest.mark.parametrize("value", [-1e-3, np.nan, -np.inf])
def test_float_bands_refuse_negative_or_missing_figures(value):
    with pytest.raises(ValueError, match="non-negative"):
        FloatBands((1,)).add(np.array([[value]]))
