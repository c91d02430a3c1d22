"""The posterior kernel: the same draws as the scatter kernel, likelihood terms against naive
references, and conservation of items (found + cleared + left = duds) per realization."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats
from shapely.geometry import box
from simulator.kernels import posterior as K

from simulator.config.variants import load_scenario
from simulator.engine.ensemble import run_ensemble
from simulator.engine.evidence_tables import evidence_tables
from simulator.engine.posterior import Posterior, log_likelihoods, realization
from simulator.engine.prepare import prepare
from simulator.engine.scatter import CellSums, scatter
from simulator.inputs.evidence import Areas, EvidenceData, Points

EMPTY_EVIDENCE = "\n[evidence]\n"


def setup_of(tiny, overrides=()):
    tiny.write_text(tiny.read_text() + EMPTY_EVIDENCE)
    return prepare(load_scenario(tiny, list(overrides)))


def points(x, y, date="2024-12-01", count=None, error=10.0, detection=0.1, profile=None):
    n = len(x)
    return Points(np.asarray(x, float), np.asarray(y, float), np.full(n, np.datetime64(date), "datetime64[D]"),
                  np.asarray(count if count is not None else [1] * n, np.int64), np.full(n, error),
                  np.full(n, detection), np.array([profile] * n, object))


def areas(geometries, date="2024-12-01", pod=0.6, found=None):
    n = len(geometries)
    return Areas(np.array(geometries, object), np.full(n, np.datetime64(date), "datetime64[D]"), np.full(n, pod),
                 np.asarray(found if found is not None else [0] * n, np.int64))


NO_POINTS = points([], [])
NO_AREAS = areas([])


def data(finds=NO_POINTS, searched=NO_AREAS, cleared=NO_AREAS, reports=NO_POINTS):
    return EvidenceData(finds, searched, cleared, reports)


def posterior_of(setup, evidence, uniform=False):
    return Posterior(setup, evidence_tables(setup, evidence, setup.scenario.evidence), 1,
                     setup.scenario.simulation.realizations, uniform=uniform)


@pytest.mark.parametrize("overrides", [(), ("land_use.classes.forest.dud_multiplier=1.4",)])
def test_draw_is_the_scatter_kernels(tiny, overrides):
    """With no evidence the posterior's draws rebuild every accumulator of the prior ensemble, byte for byte."""
    setup = setup_of(tiny, overrides)
    prior = run_ensemble(setup.kernel, 40, threads=1, batch_size=16)
    posterior = run_ensemble(setup.kernel, 40, threads=1, batch_size=16, draw=posterior_of(setup, data(), True).draw)
    for name in ("sum_count", "sum_sq", "hits", "zone_items", "zone_cells", "totals", "group_hits"):
        np.testing.assert_array_equal(getattr(posterior, name), getattr(prior, name), err_msg=name)


def test_log_found_against_scipy():
    for n, k, p, mu in [(0, 0, 0.5, 0.0), (5, 0, 0.6, 0.1), (7, 3, 0.6, 0.2), (2, 4, 0.5, 0.3), (9, 9, 1.0, 0.0),
                        (4, 1, 0.0, 0.5), (6, 2, 0.3, 0.0)]:
        direct = sum(stats.binom.pmf(j, n, p) * stats.poisson.pmf(k - j, mu) for j in range(min(k, n) + 1))
        if mu == 0.0:
            direct = stats.binom.pmf(k, n, p)
        assert K.log_found(n, k, p, mu) == pytest.approx(np.log(direct), rel=1e-9, abs=1e-12)
    assert K.log_found(3, 0, 1.0, 0.0) == -np.inf
    assert K.log_found(1, 2, 0.5, 0.0) == -np.inf


def test_likelihood_against_a_naive_reference(tiny):
    """Search, find and strike-report terms computed by hand from one realization's cells and aim points."""
    setup = setup_of(tiny)
    grid = setup.grid
    search = box(500240, 4700540, 500380, 4700660)
    finds = points([500310.0, 500720.0], [4700610.0, 4700390.0], count=[2, 1], error=15.0, detection=0.1)
    reports = points([500320.0], [4700580.0], date="NaT", error=200.0)
    evidence = data(finds=finds, searched=areas([search], found=[3], pod=0.6), reports=reports)
    tables = evidence_tables(setup, evidence, setup.scenario.evidence)
    for r in range(5):
        cells, _, n, aims = realization(setup.kernel, r)
        counts = np.bincount(cells, weights=n, minlength=grid.n_cells)
        rows, cols = np.divmod(np.arange(grid.n_cells), grid.nx)
        cx, cy = grid.x0 + (cols + 0.5) * grid.cell_size_m, grid.y0 - (rows + 0.5) * grid.cell_size_m
        inside = (cx > 500240) & (cx < 500380) & (cy > 4700540) & (cy < 4700660)
        held = int(counts[inside].sum())
        background = setup.scenario.evidence.background_items_per_km2 / 1e6
        mu = 0.6 * background * search.area
        expected = np.log(sum(stats.binom.pmf(j, held, 0.6) * stats.poisson.pmf(3 - j, mu) for j in range(4)))
        var = 15.0**2 + grid.cell_size_m**2 / 12
        for x, y, k in zip(finds.x, finds.y, finds.count):
            d2 = (cx - x) ** 2 + (cy - y) ** 2
            near = d2 <= 9 * var
            density = (counts[near] * np.exp(-0.5 * d2[near] / var) / (2 * np.pi * var)).sum()
            expected += k * np.log(density + background)
        expected -= 0.1 * counts.sum()
        share = setup.scenario.evidence.unrecorded_strike_share
        gauss = stats.multivariate_normal([500320.0, 4700580.0], 200.0**2 * np.eye(2)).pdf(aims).mean()
        expected += np.log((1 - share) * gauss + share / (grid.n_cells * grid.cell_area_m2))
        got = log_likelihoods(setup.kernel, tables, np.array([r]), 1)[0]
        assert got == pytest.approx(expected, rel=1e-9)


def test_conservation_per_realization(tiny):
    """Found + cleared + left on the ground (on and off the grid) = duds dropped, in every realization."""
    setup = setup_of(tiny)
    finds = points([500310.0, 500330.0, 500700.0], [4700610.0, 4700600.0, 4700400.0], count=[3, 1, 2])
    evidence = data(finds=finds, searched=areas([box(500600, 4700300, 500800, 4700500)], found=[4]),
                    cleared=areas([box(500200, 4700500, 500400, 4700700)], date="2024-12-20"))
    post = posterior_of(setup, evidence, True)
    n = 24
    sums = CellSums.zeros(setup.kernel, 1)
    tallies = post.draw(setup.kernel, 0, n, sums)
    removed = np.array([post.removed[0, p] for p in range(n)])
    prior = scatter(setup.kernel, 0, n, CellSums.zeros(setup.kernel, 1))
    left_on_grid = tallies.zone_items.sum(axis=(1, 2))
    np.testing.assert_array_equal(removed.sum(axis=1) + left_on_grid + tallies.totals[:, 2], prior.totals[:, 1])
    np.testing.assert_array_equal(tallies.totals[:, 1] + removed.sum(axis=1), prior.totals[:, 1])
    assert removed[:, 1].sum() > 0 and removed[:, 0].sum() > 0
    assert sums.sum_count.sum() == left_on_grid.sum()
    # nothing is left in the cleared square
    mask = np.zeros(setup.grid.shape, bool)
    mask[15:25, 10:20] = True  # rows 4700700..4700500, columns 500200..500400 of 20 m cells
    assert sums.sum_count[0].reshape(setup.grid.shape)[mask].sum() == 0


def test_evidence_before_a_strike_does_not_see_its_items(tiny):
    """Land cleared between the strikes keeps the later strikes' items; searched before them, it says nothing."""
    setup = setup_of(tiny)
    square = box(500000, 4700000, 501000, 4701000)
    early = data(cleared=areas([square], date="2024-04-01"))
    post = posterior_of(setup, early, True)
    sums = CellSums.zeros(setup.kernel, 1)
    post.draw(setup.kernel, 0, 8, sums)
    late = scatter(replace(setup.kernel), 0, 8, CellSums.zeros(setup.kernel, 1))
    assert 0 < sums.sum_count.sum() < late.zone_items.sum()
    tables = evidence_tables(setup, data(searched=areas([square], date="2024-01-15", pod=1.0)),
                             setup.scenario.evidence)
    ll = log_likelihoods(setup.kernel, tables, np.arange(8), 1)
    np.testing.assert_allclose(ll, ll[0])
