"""Land release in bounded memory: exact histogram bands equal numpy's on the full table, tiled
land release equals the whole grid's bit for bit, streamed sums equal the full state, and the
checkpoint keeps each part once."""

from __future__ import annotations

import numpy as np
import pytest
from simulator.kernels import release as K

from simulator.engine.ensemble import Ensemble
from simulator.pipeline.backends import LocalBackend
from simulator.pipeline.checkpoint import Checkpoint
from simulator.pipeline.runner import run as run_setup
from simulator.release.bands import ExactBands
from simulator.release.land_release import (
    ReleaseSums,
    band_units,
    completion_steps,
    run_land_release,
    score_plan,
    with_total,
)
from simulator.results.tables import PERCENTILES, band
from tests.test_land_release import run


def numpy_bands(values: np.ndarray, scale: float = 1.0) -> dict[str, np.ndarray]:
    return band(values * scale)


@pytest.mark.parametrize("n, spread", [(1, 5), (2, 5), (7, 3), (200, 4), (999, 60), (1000, 100_000)])
def test_exact_bands_are_numpy_percentiles_of_the_full_table(n, spread):
    rng = np.random.default_rng(n)
    values = rng.integers(0, spread, size=(n, 3, 4)).astype(float) * np.array([1.0, 400.0, 1.0, 56.25])
    bands = ExactBands((3, 4), np.array([1.0, 400.0, 1.0, 56.25]))
    for part in np.array_split(values, 3):
        bands.add(part)
    scale = np.array([1.0, 1e-4, 0.5, 1e-4])
    got, want = bands.bands(scale), numpy_bands(values, scale)
    assert tuple(PERCENTILES) == (5, 50, 95)
    for q in ("p5", "p50", "p95"):
        assert np.array_equal(got[q], want[q]), q  # bit for bit
    np.testing.assert_allclose(got["mean"], want["mean"], rtol=1e-14)


def test_exact_bands_merge_to_the_same_histogram_in_any_order():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 30, size=(90, 5)).astype(float)
    parts = []
    for chunk in np.array_split(values, 6):
        b = ExactBands((5,), np.ones(5))
        b.add(chunk)
        parts.append(b)
    forward, backward = parts[0], parts[-1]
    for b in parts[1:]:
        forward = forward.merged(b)
    for b in reversed(parts[:-1]):
        backward = backward.merged(b)
    whole = ExactBands((5,), np.ones(5))
    whole.add(values)
    whole.folded()
    for b in (forward, backward):
        assert b.n == 90
        assert np.array_equal(b.keys, whole.keys) and np.array_equal(b.counts, whole.counts)


def test_exact_bands_hold_what_was_seen_not_the_realizations():
    bands = ExactBands((2,), np.ones(2))
    for _ in range(50):
        bands.add(np.tile([[3.0, 7.0]], (100, 1)))
    assert bands.folded().n == 5000 and len(bands.keys) == 2 and bands.counts.tolist() == [5000, 5000]


@pytest.mark.parametrize("value", [0.5, -1.0, 2.0**41])
def test_exact_bands_refuse_what_is_not_a_whole_number_of_units(value):
    with pytest.raises(ValueError, match="whole"):
        ExactBands((1,), np.ones(1)).add(np.array([[value]]))


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    return run(tmp_path_factory.mktemp("streaming"), realizations=70)


def test_tiled_land_release_is_the_whole_grid_bit_for_bit(released):
    setup, plan = released.setup, released.land_release.plan
    whole = run_land_release(setup, plan, 70, threads=1)
    assert max(setup.kernel.nx, setup.kernel.ny) > 16  # so that 16-cell tiles split the grid
    for tile_cells, threads in ((16, 1), (16, 2), (21, 2)):
        tiled = run_land_release(setup, plan, 70, threads=threads, batch_size=9, tile_cells=tile_cells)
        assert np.array_equal(tiled, whole), (tile_cells, threads)


def test_streamed_sums_equal_the_full_state(released):
    setup, plan = released.setup, released.land_release.plan
    state = run_land_release(setup, plan, 70, threads=1)
    parts = [score_plan(setup, plan, n, first, threads=1, batch_size=8, keep_state=True)
             for first, n in ((0, 30), (30, 25), (55, 15))]
    sums = ReleaseSums.concat(parts)
    assert np.array_equal(sums.state, state)
    assert np.array_equal(sums.final, state[:, -1]) and np.array_equal(sums.completion, completion_steps(state))
    full = ExactBands(sums.bands.shape, band_units(setup))
    full.add(with_total(state))
    scale = np.full(K.N_METRICS, 1e-4)
    for q, values in sums.bands.bands(scale).items():
        assert np.array_equal(values, full.bands(scale)[q]), q
    table = numpy_bands(with_total(state), scale)
    for q in ("p5", "p50", "p95"):
        assert np.array_equal(sums.bands.bands(scale)[q], table[q]), q


def test_the_run_keeps_no_state_by_step(released):
    release = released.land_release
    assert release.state is None and release.final.shape == (70, len(released.setup.class_keys), K.N_METRICS)
    assert release.realizations == 70 and release.bands.n == 70


def test_a_resumed_land_release_reads_each_checkpointed_part_once(released, tmp_path, monkeypatch):
    """Parts saved one by one and read back give the same land release as an uninterrupted run."""
    setup = released.setup
    checkpoint = Checkpoint(tmp_path / "out", {"test": 1})
    checkpoint.start()
    saved = []
    monkeypatch.setattr(Checkpoint, "save_release", lambda self, part, first, _save=Checkpoint.save_release:
                        (saved.append(first), _save(self, part, first)))
    whole = run_setup(setup, backend=LocalBackend(threads=1), checkpoint=checkpoint, checkpoint_every=20)
    assert saved == [0, 20, 40]  # each part once: nothing saved twice
    parts = checkpoint.load_release()
    assert [len(p) for p in parts] == [20, 20, 20]
    resumed = run_setup(setup, backend=LocalBackend(threads=1), checkpoint=checkpoint, checkpoint_every=20)
    assert np.array_equal(resumed.land_release.final, whole.land_release.final)
    assert np.array_equal(resumed.land_release.bands.folded().keys, whole.land_release.bands.folded().keys)
    assert isinstance(resumed.ensemble, Ensemble)
    checkpoint.clear()


def test_hazard_map_thresholds_equal_the_float64_probabilities(released, monkeypatch):
    known = released.ensemble.hazard_map()
    p = known.p_by_epoch
    monkeypatch.setattr("simulator.engine.ensemble.REACH_BLOCK", 37)  # blocks that do not divide the grid
    for threshold in (released.setup.scenario.hazard.suspect_threshold, released.setup.scenario.hazard.threshold, 0.5):
        assert np.array_equal(known.reaches(threshold), p >= threshold)
        rng = np.random.default_rng(1)
        cells = rng.integers(0, p.shape[1], 500)
        epoch = rng.integers(0, p.shape[0], 500)
        assert np.array_equal(known.reaches_at(epoch, cells, threshold), p[epoch, cells] >= threshold)
