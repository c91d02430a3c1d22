"""The scatter kernel (kernels/scatter.py) against the naive Python re-implementation.

``naive.naive_scatter`` draws from the same per-(realization, strike) streams in the same
order, so every accumulator must match exactly, not within a tolerance. A few geometry
cases are also checked against hand-computed cells, independently of both; the kernel's
software prefetch is checked to be emitted and to change nothing.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simulator.kernels import strike_table as T
from simulator.kernels.pattern import BATCH
from simulator.kernels.prefetch import prefetch
from simulator.kernels.scatter import scatter_ensemble

from tests.naive import naive_scatter, run_kernel, strike_tables

KEY = (0x0123456789ABCDEF, 0xFEDCBA9876543210)  # key0 above 2**63 checks uint64 handling
ACCUMULATORS = ("sum_count", "sum_sq", "hits", "zone_items", "zone_cells", "totals")

# Grids as (x0, y0, cell, nx, ny); strikes below aim inside the 40 x 30 one.
GRID_40x30 = (-20.0, 20.0, 5.0, 40, 30)  # x in [-20, 180), y in (-130, 20]
GRID_3x5 = (40.0, -20.0, 10.0, 3, 5)  # x in [40, 70), y in (-70, -20]
GRID_1x1 = (45.0, -30.0, 20.0, 1, 1)  # x in [45, 65), y in (-50, -30]

MIXED = [
    dict(x=50, y=-40, az=30, carriers=3, sub=40, p=0.3, aim_sd=5, sd_along=8, sd_across=3, spacing=10, epoch=0),
    dict(x=60, y=-45, az=200, carriers=2, sub=30, alpha=2, beta=5, kind=T.NORMAL, k=2.5, sd_along=4, epoch=1),
    dict(x=55, y=-35, az=100, a=20, b=10, carriers=4, sub=25, p=0.5, kind=T.RING, inner=0.4, epoch=2),
    dict(x=45, y=-50, az=300, a=15, b=15, carriers=1, sub=60, p=0.2, aim_sd=10, epoch=2),
]


def assert_same(a: dict, b: dict) -> None:
    for name in ACCUMULATORS:
        assert a[name].shape == b[name].shape, name
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def assert_consistent(res: dict) -> None:
    """Bookkeeping every result must satisfy, whatever the inputs."""
    totals = res["totals"]
    assert np.all(totals[:, 1] <= totals[:, 0]) and np.all(totals[:, 2] <= totals[:, 1])
    inside = totals[:, 1] - totals[:, 2]
    np.testing.assert_array_equal(res["zone_items"].sum(axis=(1, 2)), inside)
    assert res["sum_count"].sum() == inside.sum()
    assert res["hits"].sum() == res["zone_cells"].sum()
    assert np.all(res["hits"].sum(axis=0) <= len(totals))  # at most one first hit per realization
    assert np.all(res["sum_sq"] >= res["sum_count"])
    held = res["sum_count"] > 0
    contaminated = res["hits"].sum(axis=0) > 0
    assert np.all(contaminated[held])  # every cell holding a remnant is contaminated


def both(strikes, grid, n_real=3, n_chunks=2, **kw) -> tuple[dict, dict]:
    f, ti = strike_tables(strikes)
    kernel = run_kernel(f, ti, KEY, n_real, *grid, n_chunks=n_chunks, **kw)
    naive = naive_scatter(f, ti, KEY, n_real, *grid, **kw)
    assert_consistent(kernel)
    return kernel, naive


def landuse(grid, n_classes, n_zones, seed=0) -> dict:
    n = grid[3] * grid[4]
    rng = np.random.default_rng(seed)
    return dict(
        cell_class=rng.integers(0, n_classes, n).astype(np.uint8),
        zone=rng.integers(0, n_zones, n).astype(np.int32),
        n_zones=n_zones,
    )


@pytest.mark.parametrize("grid", [GRID_40x30, GRID_3x5, GRID_1x1], ids=["40x30", "3x5", "1x1"])
@pytest.mark.parametrize("n_real", [2, 5])
def test_mixed_strikes_match(grid, n_real):
    kernel, naive = both(MIXED, grid, n_real, n_epochs=3, **landuse(grid, 1, 3))
    assert_same(kernel, naive)
    assert kernel["totals"][:, 1].sum() > 0


@pytest.mark.parametrize("grid", [GRID_40x30, GRID_3x5, GRID_1x1], ids=["40x30", "3x5", "1x1"])
@pytest.mark.parametrize("mult", [[1.0, 0.5, 2.5], [0.0, 1.0, 3.0], [0.5, 0.5, 0.5], [1.0, 4.0, 1.0]])
def test_thinning_matches(grid, mult):
    # p = 0.3 and multipliers up to 4 push p m above 1 (clipped); 0 removes a class.
    kernel, naive = both(MIXED, grid, 4, n_epochs=3, class_mult=mult, **landuse(grid, 3, 2, seed=1))
    assert_same(kernel, naive)


@pytest.mark.parametrize("kind", [T.UNIFORM_ELLIPSE, T.NORMAL, T.RING])
def test_each_pattern_matches(kind):
    strikes = [dict(x=80, y=-60, az=az, kind=kind, a=60, b=25, carriers=2, sub=50, p=0.4) for az in (0, 45, 135)]
    kernel, naive = both(strikes, GRID_40x30, 3)
    assert_same(kernel, naive)
    assert kernel["totals"][:, 1].sum() > 0


def test_zero_duds():
    strikes = [dict(s, p=0.0) for s in MIXED if "alpha" not in s]
    kernel, naive = both(strikes, GRID_40x30, 3, n_epochs=3)
    assert_same(kernel, naive)
    assert kernel["totals"][:, 1].sum() == 0 and kernel["sum_count"].sum() == 0
    assert np.all(kernel["totals"][:, 0] == sum(s["carriers"] * s["sub"] for s in strikes))


def test_dud_rate_one():
    strikes = [dict(s, p=1.0) for s in MIXED if "alpha" not in s]
    kernel, naive = both(strikes, GRID_40x30, 3, n_epochs=3)
    assert_same(kernel, naive)
    np.testing.assert_array_equal(kernel["totals"][:, 1], kernel["totals"][:, 0])


def test_carriers_with_more_remnants_than_one_batch():
    # Over BATCH remnants per carrier, some thinned away and some off the grid, in two epochs.
    n_sub = 3 * BATCH + 17
    strike = dict(x=100, y=-80, az=20, a=120, b=60, carriers=2, sub=n_sub)
    strikes = [dict(strike, p=1.0, epoch=0), dict(strike, p=0.6, epoch=1)]
    kernel, naive = both(strikes, GRID_40x30, 2, n_epochs=2, class_mult=[1.0, 1.5], **landuse(GRID_40x30, 2, 2))
    assert_same(kernel, naive)
    assert kernel["totals"][:, 2].sum() > 0 and kernel["totals"][0, 1] > 2 * BATCH


def test_all_outside():
    strikes = [dict(s, x=s["x"] + 1e5) for s in MIXED]
    kernel, naive = both(strikes, GRID_40x30, 3, n_epochs=3, class_mult=[1.0, 2.0], **landuse(GRID_40x30, 2, 2))
    assert_same(kernel, naive)
    assert kernel["sum_count"].sum() == 0 and kernel["hits"].sum() == 0
    assert kernel["totals"][:, 1].sum() > 0
    np.testing.assert_array_equal(kernel["totals"][:, 2], kernel["totals"][:, 1])


def test_one_cell_grid_holds_everything_inside():
    grid = (-1000.0, 1000.0, 2000.0, 1, 1)  # one 2 km cell around every strike
    kernel, naive = both(MIXED, grid, 5, n_epochs=3)
    assert_same(kernel, naive)
    assert np.all(kernel["totals"][:, 2] == 0)
    assert kernel["sum_count"][0] == kernel["totals"][:, 1].sum()
    assert kernel["sum_sq"][0] == (kernel["totals"][:, 1] ** 2).sum()


def test_zero_carriers():
    strikes = [dict(s, carriers=0) for s in MIXED]
    kernel, naive = both(strikes, GRID_40x30, 3, n_epochs=3)
    assert_same(kernel, naive)
    assert not any(kernel[name].any() for name in ACCUMULATORS)
    # ... and a strike without carriers does not disturb the others.
    strikes = [dict(MIXED[0], carriers=0)] + MIXED[1:]
    assert_same(*both(strikes, GRID_40x30, 3, n_epochs=3))


def test_beta_dud_probability_matches():
    strikes = [dict(s, alpha=0.5, beta=1.5) for s in MIXED]
    kernel, naive = both(strikes, GRID_40x30, 4, n_epochs=3, class_mult=[1.0, 1.5], **landuse(GRID_40x30, 2, 3))
    assert_same(kernel, naive)


def test_epochs_first_hit():
    # The same strike at epochs 0, 1 and 3 over a one-cell grid: the cell is first hit at 0.
    strike = dict(x=0, y=0, a=1, b=1, carriers=1, sub=5, p=1.0)
    strikes = [dict(strike, epoch=e) for e in (0, 1, 3)]
    grid = (-10.0, 10.0, 20.0, 1, 1)
    kernel, naive = both(strikes, grid, 3, n_epochs=4)
    assert_same(kernel, naive)
    np.testing.assert_array_equal(kernel["hits"][:, 0], [3, 0, 0, 0])
    np.testing.assert_array_equal(kernel["zone_items"][:, :, 0], [[5, 5, 0, 5]] * 3)
    np.testing.assert_array_equal(kernel["zone_cells"][:, :, 0], [[1, 0, 0, 0]] * 3)
    # Strikes over different cells are first hit at their own epochs.
    strikes = [dict(strike, x=-15 + 10 * e, epoch=e) for e in range(4)]
    grid = (-20.0, 10.0, 10.0, 4, 1)
    kernel, naive = both(strikes, grid, 2, n_epochs=4)
    assert_same(kernel, naive)
    np.testing.assert_array_equal(kernel["hits"], 2 * np.eye(4, dtype=np.int64))


# ---- contamination within the reference distance, against brute-force distances ----


@pytest.mark.parametrize("reference_m", [0.0, 5.0, 7.5, 12.0, 25.0, 60.0])
def test_reference_distance_matches(reference_m):
    strikes = [dict(s, epoch=e) for e in range(3) for s in MIXED]
    kernel, naive = both(strikes, GRID_40x30, 3, n_epochs=3, reference_m=reference_m, **landuse(GRID_40x30, 1, 4))
    assert_same(kernel, naive)


@pytest.mark.parametrize("grid", [GRID_3x5, GRID_1x1], ids=["3x5", "1x1"])
def test_reference_distance_beyond_the_grid_matches(grid):
    kernel, naive = both(MIXED, grid, 2, n_epochs=3, reference_m=40.0)
    assert_same(kernel, naive)


def test_one_remnant_contaminates_its_disc():
    # One item at a cell centre, 10 m on 5 m cells: the contaminated cells are the 13 whose
    # centres are at most 2 cells away (integer points with dx2 + dy2 <= 4).
    strike = point_strike(x=2.5 + 5 * 10, y=-2.5 - 5 * 10)
    grid = (0.0, 0.0, 5.0, 21, 21)
    kernel, naive = both([strike], grid, 1, reference_m=10.0)
    assert_same(kernel, naive)
    assert kernel["hits"].sum() == 13  # integer points with x2 + y2 <= 4
    centre = 10 * 21 + 10
    cells = np.flatnonzero(kernel["hits"].sum(axis=0))
    rows, cols = np.divmod(cells, 21)
    assert centre in cells and np.all((rows - 10) ** 2 + (cols - 10) ** 2 <= 4)


def test_several_epochs_and_zones_match():
    strikes = [dict(s, epoch=e) for e in range(5) for s in MIXED[:2]]
    kernel, naive = both(strikes, GRID_40x30, 3, n_epochs=6, **landuse(GRID_40x30, 1, 5))
    assert_same(kernel, naive)
    assert np.all(kernel["hits"][5] == 0) and kernel["hits"][4].sum() > 0


def test_chunks_do_not_change_sums():
    kw = dict(n_epochs=3, class_mult=[1.0, 2.0], **landuse(GRID_40x30, 2, 3))
    f, ti = strike_tables(MIXED)
    results = [run_kernel(f, ti, KEY, 5, *GRID_40x30, n_chunks=c, **kw) for c in (1, 2, 3, 5, 7)]
    for res in results[1:]:
        assert_same(results[0], res)
    assert_same(results[0], naive_scatter(f, ti, KEY, 5, *GRID_40x30, **kw))


def test_batches_equal_one_call():
    kw = dict(n_epochs=3, class_mult=[1.0, 0.5], **landuse(GRID_40x30, 2, 3))
    f, ti = strike_tables(MIXED)
    whole = run_kernel(f, ti, KEY, 5, *GRID_40x30, n_chunks=2, **kw)
    first = run_kernel(f, ti, KEY, 2, *GRID_40x30, n_chunks=2, **kw)
    rest = run_kernel(f, ti, KEY, 3, *GRID_40x30, n_chunks=3, r_offset=2, **kw)
    for name in ("sum_count", "sum_sq", "hits"):
        np.testing.assert_array_equal(first[name] + rest[name], whole[name], err_msg=name)
    for name in ("zone_items", "zone_cells", "totals"):
        np.testing.assert_array_equal(np.concatenate([first[name], rest[name]]), whole[name], err_msg=name)
    assert_same(rest, naive_scatter(f, ti, KEY, 3, *GRID_40x30, r_offset=2, **kw))


def test_accumulators_are_added_to():
    f, ti = strike_tables(MIXED)
    once = run_kernel(f, ti, KEY, 3, *GRID_40x30, n_epochs=3)
    n = 40 * 30
    acc = [np.zeros((2, n), np.int64), np.zeros((2, n), np.int64), np.zeros((2, 3, n), np.int32)]
    per = [np.zeros((3, 3, 1), np.int64), np.zeros((3, 3, 1), np.int64), np.zeros((3, 3), np.int64)]
    for _ in range(2):
        scatter_ensemble(
            f, ti, np.uint64(KEY[0]), np.uint64(KEY[1]), 0, 3, 2, *GRID_40x30, np.array([0, 0, 40, 30]),
            np.zeros(n, np.uint8), np.ones(1),
            np.zeros(n, np.int32), np.zeros(1, np.int64), *acc, *per,
        )
    np.testing.assert_array_equal(acc[0].sum(axis=0), 2 * once["sum_count"])
    np.testing.assert_array_equal(acc[2].sum(axis=0), 2 * once["hits"])
    np.testing.assert_array_equal(per[2], 2 * once["totals"])


# ---- geometry against hand-computed cells (independent of the naive implementation) ----


def point_strike(**kw) -> dict:
    """A strike whose every dud lands exactly on its carrier centre (zero-size pattern)."""
    return dict(dict(a=0.0, b=0.0, p=1.0, sub=1), **kw)


def cells_hit(strikes, grid) -> np.ndarray:
    f, ti = strike_tables(strikes)
    res = run_kernel(f, ti, KEY, 1, *grid)
    return res["sum_count"].reshape(grid[4], grid[3])


def test_point_lands_in_hand_computed_cell():
    grid = (100.0, 500.0, 10.0, 6, 4)  # x in [100, 160), y in (460, 500]
    hit = cells_hit([point_strike(x=125.0, y=483.0)], grid)
    expected = np.zeros((4, 6), np.int64)
    expected[1, 2] = 1  # column (125 - 100) // 10 = 2, row (500 - 483) // 10 = 1
    np.testing.assert_array_equal(hit, expected)
    # Edges: the west and north edges belong to the grid, the east and south ones do not.
    assert cells_hit([point_strike(x=100.0, y=500.0)], grid)[0, 0] == 1
    assert cells_hit([point_strike(x=160.0, y=490.0)], grid).sum() == 0
    assert cells_hit([point_strike(x=150.0, y=460.0)], grid).sum() == 0


@pytest.mark.parametrize(
    "az, expected",
    [
        (0, [(2, 4), (1, 4), (0, 4)]),
        (45, [(2, 3), (1, 4), (0, 5)]),
        (90, [(1, 3), (1, 4), (1, 5)]),
        (135, [(0, 3), (1, 4), (2, 5)]),
    ],
)
def test_stick_follows_azimuth(az, expected):
    # Three carriers 10 m apart; the first carrier is the rearmost, so the stick runs along
    # the azimuth. Cells are (row, column) on a 10 m grid centred on the aim point.
    grid = (-45.0, 15.0, 10.0, 9, 3)
    hit = cells_hit([point_strike(x=0.0, y=0.0, az=az, carriers=3, spacing=10.0)], grid)
    assert hit.sum() == 3
    assert sorted(zip(*np.nonzero(hit))) == sorted(expected)


def test_across_axis_is_clockwise_of_along():
    # Azimuth 0: "along" is north and "across" is east, so an elongated pattern's
    # extent east-west is its half-width.
    f, ti = strike_tables([dict(x=0, y=0, az=0, a=40, b=5, sub=2000, p=1.0)])
    res = run_kernel(f, ti, KEY, 1, -50.0, 50.0, 1.0, 100, 100)
    rows, cols = np.nonzero(res["sum_count"].reshape(100, 100))
    assert cols.min() >= 45 - 1 and cols.max() <= 54 + 1
    assert rows.min() <= 15 and rows.max() >= 84


# ---- random small cases ----


strike_st = st.fixed_dictionaries(
    dict(
        x=st.floats(-30, 200),
        y=st.floats(-160, 30),
        az=st.floats(0, 360),
        a=st.floats(0, 60),
        b=st.floats(0, 40),
        inner=st.floats(0, 0.95),
        k=st.floats(0.5, 4),
        aim_sd=st.sampled_from([0.0, 5.0, 30.0]),
        sd_along=st.sampled_from([0.0, 10.0]),
        sd_across=st.sampled_from([0.0, 4.0]),
        spacing=st.sampled_from([0.0, 15.0]),
        p=st.sampled_from([0.0, 0.05, 0.3, 1.0]),
        alpha=st.sampled_from([0.0, 0.0, 0.7, 3.0]),
        beta=st.sampled_from([2.0, 9.0]),
        carriers=st.integers(0, 4),
        sub=st.integers(0, 40),
        kind=st.sampled_from([T.UNIFORM_ELLIPSE, T.NORMAL, T.RING]),
        epoch=st.integers(0, 2),
    )
)


@settings(max_examples=40, deadline=None)
@given(
    strikes=st.lists(strike_st, min_size=0, max_size=4),
    grid=st.sampled_from([GRID_40x30, GRID_3x5, GRID_1x1]),
    n_real=st.integers(1, 4),
    n_chunks=st.integers(1, 3),
    mult=st.sampled_from([[1.0], [1.0, 2.0], [0.3, 1.0, 1.7]]),
    seed=st.integers(0, 2**64 - 1),
)
def test_random_cases_match(strikes, grid, n_real, n_chunks, mult, seed):
    key = (seed, seed ^ 0x5555)
    kw = dict(n_epochs=3, class_mult=mult, **landuse(grid, len(mult), 2))
    f, ti = strike_tables(strikes)
    kernel = run_kernel(f, ti, key, n_real, *grid, n_chunks=n_chunks, **kw)
    assert_consistent(kernel)
    assert_same(kernel, naive_scatter(f, ti, key, n_real, *grid, **kw))


def test_prefetch_is_emitted_and_changes_nothing():
    @numba.njit
    def total(a, ahead):
        s = 0
        for i in range(a.size):
            prefetch(a, min(i + ahead, a.size - 1))
            s += a[i]
        return s

    a = np.arange(1000, dtype=np.int64)
    assert total(a, 8) == a.sum()
    assert "prefetch" in "".join(total.inspect_asm().values())
