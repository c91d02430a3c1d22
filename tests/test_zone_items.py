"""The land-release pass counts in bounded tallies and, in the same draws, the CHA polygons' items:
each tile counts only its own zones, and the pairs of two zone maps add up to each map's counts
exactly, so polygons read what a scatter of their own would count."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from simulator.engine.ensemble import least_hits, reaches_hits
from simulator.engine.scatter import CellSums, scatter
from simulator.engine.tiles import tile_kernels
from simulator.release.land_release import NO_DISC, release_inputs
from simulator.release.zone_items import Extra, JointZones, items_per_zone, local_zones, zone_item_batches
from simulator.results.result import Result, polygon_extra
from tests.test_land_release import run


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    return run(tmp_path_factory.mktemp("zones"), realizations=40)


def random_extra(k, n_zones: int, seed: int = 1) -> Extra:
    rng = np.random.default_rng(seed)
    return Extra(rng.integers(0, n_zones, size=k.zone.shape).astype(np.int32), n_zones)


def test_a_tile_counts_only_the_zones_it_holds(released):
    k, _ = release_inputs(released.setup, released.land_release.plan)
    for tile in tile_kernels(k, 8):
        local, ids = local_zones(tile, k.n_zones)
        assert local.n_zones == len(ids) + 1 <= np.unique(tile.zone).size + 1
        held = tile.zone < k.n_zones  # the halo's cells are in no zone of k
        assert np.array_equal(ids[local.zone[held]], tile.zone[held])
        assert np.all(local.zone[~held] == len(ids))


@pytest.mark.parametrize("tile_cells, threads, batch", [(10_000, 1, 64), (8, 2, 5), (13, 1, 3)])
def test_a_second_map_counted_in_the_same_pass_equals_its_own_scatter(released, tile_cells, threads, batch):
    k, _ = release_inputs(released.setup, released.land_release.plan)
    extra = random_extra(k, 7)
    alone = np.concatenate([items for _, items, _ in zone_item_batches(k, 40, 0, 1, 64, tile_cells)])
    both = list(zone_item_batches(k, 40, 0, threads, batch, tile_cells, extra=extra))
    assert np.array_equal(np.concatenate([items for _, items, _ in both]), alone)
    own = items_per_zone(replace(k, zone=extra.zone, n_zones=extra.n_zones), 40, 1, 64, tile_cells)
    assert np.array_equal(np.concatenate([counts for *_, counts in both]), own)


def test_joint_zones_add_up_to_each_map():
    rng = np.random.default_rng(4)
    a = rng.integers(0, 9, 500).astype(np.int32)
    extra = Extra(np.where(rng.random(500) < 0.4, rng.integers(0, 4, 500), 4).astype(np.int32), 5)
    joint = JointZones.of(a, 9, extra)
    items = rng.integers(0, 50, size=(3, 2, 500))  # items per realization, epoch and cell: each cell its zone
    per_joint = np.zeros((3, 2, joint.n_zones), np.int64)
    np.add.at(per_joint, (slice(None), slice(None), joint.zone), items)
    by_a, by_b = np.zeros((3, 2, 9), np.int64), np.zeros((3, 5), np.int64)
    for ids in np.array_split(rng.permutation(joint.n_zones), 3):  # windows holding some joint zones each
        ids = np.sort(ids)
        joint.adder(ids)(per_joint[:, :, ids], by_a, by_b)
    joint.finish(by_a, by_b)
    want_a = np.zeros((3, 2, 9), np.int64)
    np.add.at(want_a, (slice(None), slice(None), a), items)
    want_b = np.zeros((3, 5), np.int64)
    np.add.at(want_b, (slice(None), extra.zone), items.sum(axis=1))
    assert np.array_equal(by_a, want_a) and np.array_equal(by_b, want_b)


def test_the_polygons_read_the_release_pass_and_equal_a_scatter_of_their_own(released):
    release = released.land_release
    assert release.zone_counts is not None and release.zone_counts.digest == polygon_extra(
        released.setup, released.ensemble).digest
    fused = released.hazard_areas
    alone = Result(released.setup, released.ensemble).hazard_areas  # no land release: scattered on their own
    assert len(fused) and fused["items_p95"].notna().all()
    for column in ("items_p5", "items_p95"):
        assert np.array_equal(fused[column].to_numpy(), alone[column].to_numpy()), column


@pytest.mark.parametrize("disc", ["reference", "one cell"])
def test_counting_items_only_gives_the_same_counts_and_touches_no_sums(released, disc):
    k = released.setup.kernel if disc == "reference" else replace(released.setup.kernel, disc=NO_DISC)
    for window in tile_kernels(k, 8)[:6] + [k]:
        full = scatter(window, 3, 5, CellSums.zeros(window, 2))
        rows = CellSums.rows(2, window.n_epochs)
        counted = scatter(window, 3, 5, rows, counts_only=True)
        assert np.array_equal(counted.zone_items, full.zone_items) and np.array_equal(counted.totals, full.totals)
        assert not counted.zone_cells.any() and rows.sum_count.size == rows.hits.size == 0


def test_whole_hits_reach_a_threshold_exactly_when_their_float_probability_does():
    rng = np.random.default_rng(7)
    thresholds = [0.0, -0.5, 1.0, 1.5, 0.1, 0.05, 1 / 3, 0.7, *rng.random(40), *(k / 97 for k in range(98))]
    for n in (1, 2, 3, 7, 10, 97, 100, 841, 1000, 12_345):
        hits = np.arange(n + 1, dtype=np.int32)
        for t in thresholds:
            assert np.array_equal(reaches_hits(hits, n, t), hits / n >= t), (n, t)
    assert least_hits(0, 0.1) is None and not reaches_hits(np.zeros(3, np.int32), 0, 0.1).any()
