"""Tiled runs: tiles sum to exactly the same ensemble as the whole grid in one piece."""

from __future__ import annotations

import numpy as np
import pytest
from simulator.kernels import strike_table as T

from simulator.config.variants import load_scenario
from simulator.engine.ensemble import run_ensemble
from simulator.engine.prepare import prepare
from simulator.engine.tiles import plan_tiles, strike_reach_m, tile_kernels
from simulator.inputs.kernel_inputs import KernelInputs, disc_half_widths
from tests.naive import strike_tables


def inputs(nx=50, ny=40, cell=10.0) -> KernelInputs:
    f, ti = strike_tables([
        dict(x=120, y=-150, a=60, b=30, az=30, carriers=5, sub=40, p=0.3, sd_along=30, sd_across=20, epoch=0),
        dict(x=330, y=-80, a=80, b=50, az=120, carriers=3, sub=60, p=0.5, kind=T.RING, aim_sd=15, epoch=1),
        dict(x=480, y=-390, a=90, b=40, az=80, carriers=4, sub=50, p=0.2, alpha=2.0, beta=8.0, spacing=40, epoch=1),
        dict(x=900, y=-900, a=50, b=50, carriers=2, sub=30, p=0.4, sd_along=50, sd_across=50, epoch=0),
        dict(x=250, y=-200, a=40, b=40, carriers=6, sub=30, p=0.25, kind=T.NORMAL, k=2.5, epoch=0),
    ])
    n = nx * ny
    rng = np.random.default_rng(3)
    cell_class = rng.integers(0, 3, n).astype(np.uint8)
    return KernelInputs(
        f=f, ti=ti, key=(11, 29), x0=0.0, y0=0.0, cell_size_m=cell, nx=nx, ny=ny, cell_class=cell_class,
        class_mult=np.array([1.0, 2.0, 0.5]), zone=cell_class.astype(np.int32), n_zones=3, n_epochs=2,
        disc=disc_half_widths(2.5 * cell, cell),  # tiles need a halo of two cells
    )


@pytest.mark.parametrize("tile_cells", [7, 16, 25])
def test_tiles_sum_to_the_whole_grid(tile_cells):
    whole = run_ensemble(inputs(), 12, first=5, threads=1, tile_cells=10_000)
    tiled = run_ensemble(inputs(), 12, first=5, threads=1, tile_cells=tile_cells)
    for name in ("sum_count", "sum_sq", "hits", "zone_items", "zone_cells", "totals"):
        np.testing.assert_array_equal(getattr(tiled, name), getattr(whole, name), err_msg=name)
    assert whole.totals[:, 2].sum() > 0, "the case should place remnants outside the grid"


def test_every_strike_has_exactly_one_home():
    tiles = tile_kernels(inputs(), 16)
    homes = np.zeros(5, int)
    for tile in tiles:
        homes[tile.ti[tile.ti[:, T.HOME] == 1, T.STREAM]] += 1
    assert homes.tolist() == [1, 1, 1, 1, 1]
    assert [t.core for t in tiles] == [t for t in plan_tiles(50, 40, 16) if t in [x.core for x in tiles]]
    for tile in tiles:  # the window is the core with a halo of two cells, clipped to the grid
        c0, r0, tnx, tny = tile.core
        w0, q0, wnx, wny = tile.tile
        assert (w0, q0) == (max(c0 - 2, 0), max(r0 - 2, 0))
        assert (w0 + wnx, q0 + wny) == (min(c0 + tnx + 2, 50), min(r0 + tny + 2, 40))


def test_reach_covers_pattern_stick_and_errors():
    f, ti = strike_tables([dict(a=60, b=30, carriers=5, spacing=40, sd_along=30, sd_across=20, aim_sd=40)])
    assert strike_reach_m(f, ti)[0] == pytest.approx(60 + 2 * 40 + 8 * 50)


def test_progress_counts_every_realization_once():
    seen = []
    run_ensemble(inputs(), 9, threads=1, tile_cells=16, progress=seen.append)
    assert sum(seen) == 9


def test_tiled_scenario_matches_untiled(tiny):
    setup = prepare(load_scenario(tiny))
    whole = run_ensemble(setup.kernel, 10, threads=2, tile_cells=10_000)
    tiled = run_ensemble(setup.kernel, 10, threads=2, tile_cells=12)
    np.testing.assert_array_equal(tiled.sum_count, whole.sum_count)
    np.testing.assert_array_equal(tiled.zone_items, whole.zone_items)
    np.testing.assert_array_equal(tiled.totals, whole.totals)
