"""The land-release kernels run realizations on Python threads: the results are the same for any
thread count and any split of the realizations into batches, and the schedule-recording kernel
draws exactly what the plain one draws."""

from __future__ import annotations

import numpy as np
import pytest
from simulator.kernels import release as K

N_UNITS, N_STEPS, N_CLASSES, N_REAL = 40, 12, 3, 9


def plan(seed: int = 7):
    """A random plan of ``N_UNITS`` units over ``N_STEPS`` steps and the items of ``N_REAL`` realizations."""
    rng = np.random.default_rng(seed)
    items = rng.poisson(2.0, (N_REAL, 2, 2 * N_UNITS + N_CLASSES)).astype(np.int64)
    items[:, :, : 2 * N_UNITS : 5] = 0  # some units without items, so TS can release them
    capacity = np.zeros((N_STEPS, len(K.CREW_MASKS)))
    capacity[:, :3] = rng.uniform(0.5, 3.0, (N_STEPS, 3))
    capacity[:, 6] = 1.0  # a team with every role
    args = (
        rng.integers(0, N_CLASSES, N_UNITS), rng.integers(0, 4, N_UNITS), rng.uniform(0, 400, N_UNITS),
        rng.uniform(0, 400, N_UNITS), rng.random(N_UNITS) < 0.5, rng.uniform(0.001, 0.02, (N_UNITS, 3)), capacity,
        0.3, 0.2, 0.9, 0.6, np.uint64(11), np.uint64(12),
    )
    return items, args, np.array([0, 3], np.int64)


def run(items, args, epochs, first, threads, schedule):
    n = len(items)
    out = np.zeros((n, N_STEPS, N_CLASSES, K.N_METRICS))
    if not schedule:
        K.release_ensemble(items, *args, first, epochs, out, threads=threads)
        return out, None
    units = np.zeros((n, N_UNITS, K.N_UNIT_METRICS))
    units[:, :, : K.UNIT_RELEASED_M2] = -1.0
    K.release_units(items, *args, first, epochs, out, units, threads=threads)
    return out, units


@pytest.mark.parametrize("schedule", [False, True])
def test_same_results_for_any_thread_count_and_batches(schedule):
    items, args, epochs = plan()
    out, units = run(items, args, epochs, 0, 1, schedule)
    assert out[:, -1, :, K.CLEARED_M2].sum() > 0 and out[:, -1, :, K.FOUND].sum() > 0  # work was done
    for threads in (2, 3, 16):
        again, units_again = run(items, args, epochs, 0, threads, schedule)
        assert np.array_equal(out, again) and (units is None or np.array_equal(units, units_again))
    parts = [run(items[a:b], args, epochs, a, 2, schedule) for a, b in ((0, 4), (4, 5), (5, N_REAL))]
    assert np.array_equal(out, np.concatenate([p[0] for p in parts]))
    if schedule:
        assert np.array_equal(units, np.concatenate([p[1] for p in parts]))


def test_recording_the_schedule_changes_no_draw():
    items, args, epochs = plan(3)
    plain, _ = run(items, args, epochs, 5, 2, False)
    recorded, units = run(items, args, epochs, 5, 2, True)
    assert np.array_equal(plain, recorded)
    # every item that landed in a unit is in its record; released area per unit sums to the class totals
    assert np.array_equal(units[:, :, K.UNIT_ITEMS].sum(1), items[:, :, : 2 * N_UNITS].sum((1, 2)))
    released = units[:, :, K.UNIT_RELEASED_M2:K.UNIT_RELEASED_M2 + 3].sum((1, 2))
    totals = recorded[:, -1, :, K.CANCELLED_M2:K.CLEARED_M2 + 1].sum((1, 2))
    assert np.allclose(released, totals, rtol=1e-12)


def test_realizations_differ():
    items, args, epochs = plan()
    same_items = np.repeat(items[:1], 4, axis=0)
    out, _ = run(same_items, args, epochs, 0, 2, False)
    assert not all(np.array_equal(out[0], out[r]) for r in range(1, 4))  # each has its own stream
