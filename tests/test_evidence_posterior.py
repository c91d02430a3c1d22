"""The posterior: no evidence and POD 0 give the prior exactly, POD 1 with nothing found empties the
land, synthetic truths are recovered, and posterior intervals and probabilities are calibrated."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage
from shapely.geometry import box
from simulator.kernels import posterior as K

from simulator.config.variants import load_scenario
from simulator.engine.ensemble import run_ensemble
from simulator.engine.evidence_tables import evidence_tables
from simulator.engine.layout import root_key
from simulator.engine.posterior import Posterior, log_likelihoods, realization
from simulator.engine.prepare import prepare
from simulator.engine.resample_move import carrier_rows, empty_particles, triple_capacity, weights
from simulator.engine.scatter import CellSums
from simulator.pipeline import simulate
from tests.test_evidence_kernel import NO_AREAS, areas, data, points

HIDDEN = 4242
"""Seed of the synthetic truths: realizations the ensembles never draw."""


def searched_file(folder, pod, geometry, found=0):
    import geopandas as gpd

    gpd.GeoDataFrame({"date": ["2024-12-01"], "pod": [pod], "found": [found]}, geometry=[geometry],
                     crs="EPSG:32634").to_file(folder / "searched.gpkg", driver="GPKG")
    return '\n[evidence]\n[[evidence.searched]]\npath = "searched.gpkg"\n'


def test_no_evidence_is_the_prior_exactly(tiny):
    prior = simulate(load_scenario(tiny, []), threads=1)
    tiny.write_text(tiny.read_text() + "\n[evidence]\n")
    posterior = simulate(load_scenario(tiny, []), threads=1)
    np.testing.assert_array_equal(posterior.p_contaminated, prior.p_contaminated)
    np.testing.assert_array_equal(posterior.ensemble.sum_sq, prior.ensemble.sum_sq)
    assert {k: v for k, v in posterior.summary.items() if k != "evidence"} == prior.summary
    assert posterior.summary["evidence"]["prior"] == posterior.summary["evidence"]["posterior"]


def test_pod_zero_changes_nothing(tiny):
    prior = simulate(load_scenario(tiny, []), threads=1)
    tiny.write_text(tiny.read_text() + searched_file(tiny.parent, 0.0, box(500200, 4700500, 500400, 4700700)))
    posterior = simulate(load_scenario(tiny, []), threads=1)
    np.testing.assert_array_equal(posterior.ensemble.sum_count, prior.ensemble.sum_count)
    np.testing.assert_array_equal(posterior.ensemble.hits, prior.ensemble.hits)


def held(setup, r, geometry, key=None):
    inputs = setup.kernel if key is None else replace(setup.kernel, key=key)
    cells, _, n, _ = realization(inputs, r)
    counts = np.bincount(cells, weights=n, minlength=setup.grid.n_cells)
    return int(counts[cells_in(setup, geometry)].sum()), counts


def cells_in(setup, geometry):
    grid = setup.grid
    rows, cols = np.divmod(np.arange(grid.n_cells), grid.nx)
    x, y = grid.x0 + (cols + 0.5) * grid.cell_size_m, grid.y0 - (rows + 0.5) * grid.cell_size_m
    xmin, ymin, xmax, ymax = geometry.bounds
    return (x > xmin) & (x < xmax) & (y > ymin) & (y < ymax)


def test_pod_one_with_nothing_found_empties_the_land(tiny):
    setup = prepare(load_scenario(tiny, []))
    # a square that holds items in some prior realizations and none in others
    for x in range(500000, 501000, 40):
        square = box(x, 4700560, x + 80, 4700640)
        empty = np.mean([held(setup, r, square)[0] == 0 for r in range(40)])
        if 0.3 <= empty <= 0.7:
            break
    else:
        pytest.fail("no square of the tiny scenario is empty in some realizations only")
    tiny.write_text(tiny.read_text() + searched_file(tiny.parent, 1.0, square))
    posterior = simulate(load_scenario(tiny, []), threads=1)
    mask = cells_in(setup, square)
    assert posterior.ensemble.sum_count[mask].sum() == 0
    assert posterior.ensemble.mean_count().sum() > 0
    moved = posterior.summary["evidence"]["map"]
    assert moved["blocks"] == 1 and moved["stages"] >= 1 and moved["acceptance_redraws"] > 0  # resample-move ran


def synthetic_evidence(setup, counts, rng, nts=0.15, error=15.0, pod=0.5, boxes=()):
    """Finds by NTS from the true counts, then searched boxes over what NTS left; the true items left."""
    grid = setup.grid
    size = grid.cell_size_m
    reported = rng.binomial(counts.astype(np.int64), nts)
    where = np.repeat(np.arange(grid.n_cells), reported)
    rows, cols = np.divmod(where, grid.nx)
    x = grid.x0 + (cols + rng.uniform(0, 1, len(where))) * size + rng.normal(0, error, len(where))
    y = grid.y0 - (rows + rng.uniform(0, 1, len(where))) * size + rng.normal(0, error, len(where))
    left = counts.astype(np.int64) - reported
    found = [int(rng.binomial(left[cells_in(setup, b)].sum(), pod)) for b in boxes]
    evidence = data(finds=points(x, y, error=error, detection=nts),
                    searched=areas(list(boxes), pod=pod, found=found) if boxes else NO_AREAS)
    return evidence, int(counts.sum() - reported.sum() - sum(found))


def prepared_posterior(tiny, pool):
    tiny.write_text(tiny.read_text() + "\n[evidence]\n")
    setup = prepare(load_scenario(tiny, [f"simulation.realizations={pool}"]))
    return setup


BOXES = tuple(box(x - 60, y - 60, x + 60, y + 60) for x, y in
              [(500300, 4700600), (500700, 4700400), (500500, 4700500), (500150, 4700850), (500850, 4700150)])


def test_a_synthetic_truth_is_recovered(tiny):
    """The posterior's CHA overlaps the true contaminated land more than the prior's, and its
    expected items left are nearer the true number left."""
    setup = prepared_posterior(tiny, 200)
    truth_key = root_key(HIDDEN)
    rng = np.random.default_rng(1)
    cha_gain, error_gain = [], []
    for t in range(6):
        _, counts = held(setup, t, BOXES[0], truth_key)
        evidence, truth_left = synthetic_evidence(setup, counts, rng, boxes=BOXES)
        post = Posterior(setup, evidence_tables(setup, evidence, setup.scenario.evidence), 1, 64)
        prior = run_ensemble(setup.kernel, 200, threads=1)
        posterior = run_ensemble(setup.kernel, 200, threads=1, draw=post.draw)
        truth_post = Posterior(setup, post.tables, 1, 1, uniform=True)
        sums = CellSums.zeros(setup.kernel, 1)
        truth_post.draw(replace(setup.kernel, key=truth_key), t, 1, sums)
        truth = sums.hits[0].sum(axis=0) > 0
        threshold = setup.scenario.hazard.threshold

        def overlap(ensemble):
            cha = ensemble.p_after(-1) >= threshold
            return (cha & truth).sum() / max((cha | truth).sum(), 1)

        def left(ensemble):
            return (ensemble.totals[:, 1] - ensemble.totals[:, 2]).mean()

        cha_gain.append(overlap(posterior) - overlap(prior))
        error_gain.append(abs(left(prior) - truth_left) - abs(left(posterior) - truth_left))
    assert np.mean(cha_gain) > 0, cha_gain
    assert np.mean(error_gain) > 0, error_gain


def weighted_quantile(values, w, q):
    order = np.argsort(values, kind="stable")
    cdf = np.cumsum(w[order])
    return values[order][np.minimum(np.searchsorted(cdf, q * cdf[-1]), len(values) - 1)]


@pytest.mark.slow
def test_calibration_over_200_truths(tiny):
    """Over 200 truths drawn from the prior: the posterior 90 % interval of items left covers the
    truth 85-95 % of the time, and the probabilities of contamination are reliable (each decile bin's
    observed frequency within three binomial standard errors of its mean probability). The weights of
    a pool of 2,000 prior realizations are used directly (NTS finds of 2 % of the items with 50 m
    error, two searched boxes with POD 0.5: evidence the pool's effective sample size can carry)."""
    pool = 2000
    setup = prepared_posterior(tiny, pool)
    kernel = setup.kernel
    grid = setup.grid
    disc = kernel.disc
    reach = (len(disc) - 1) // 2
    structure = np.zeros((len(disc), 2 * disc.max() + 1), bool)
    for i, w in enumerate(disc):
        structure[i, disc.max() - w: disc.max() + w + 1] = True

    def contaminated(counts):
        return ndimage.binary_dilation(counts.reshape(grid.shape) > 0, structure, border_value=0).ravel()

    assert reach >= 1
    prior_counts = [held(setup, r, BOXES[0])[1] for r in range(pool)]
    prior_cont = np.array([contaminated(c) for c in prior_counts])
    rng = np.random.default_rng(2)
    covered, predicted, observed = [], [], []
    index = np.arange(pool)
    for t in range(200):
        _, counts = held(setup, t, BOXES[0], root_key(HIDDEN))
        evidence, truth_left = synthetic_evidence(setup, counts, rng, nts=0.02, error=50.0, boxes=BOXES[:2])
        tables = evidence_tables(setup, evidence, setup.scenario.evidence)
        w = weights(log_likelihoods(kernel, tables, index, 1))
        sums = CellSums.zeros(kernel, 1)
        totals, removed = np.zeros((pool, 3), np.int64), np.zeros((pool, 2), np.int64)
        shape = (pool, kernel.n_epochs, kernel.n_zones)
        p = empty_particles(kernel, index)
        K.posterior_sums(kernel.f, kernel.ti, *(np.uint64(k) for k in kernel.key), p.src, p.aim, p.car, p.dud,
                         carrier_rows(kernel), True, 1, kernel.x0, kernel.y0, kernel.cell_size_m, kernel.nx,
                         kernel.ny, kernel.cell_class, kernel.class_mult, kernel.zone, kernel.disc,
                         triple_capacity(kernel), tables.ev, sums.sum_count, sums.sum_sq, sums.hits,
                         np.zeros(shape, np.int64), np.zeros(shape, np.int64), totals, removed)
        left = (totals[:, 1] - totals[:, 2]).astype(float)
        lo, hi = weighted_quantile(left, w, 0.05), weighted_quantile(left, w, 0.95)
        covered.append(lo <= truth_left <= hi)
        predicted.append(w @ prior_cont)
        observed.append(contaminated(counts))
    coverage = np.mean(covered)
    print(f"coverage of the 90 % interval: {coverage:.3f}")
    assert 0.85 <= coverage <= 0.95
    p, o = np.concatenate(predicted), np.concatenate(observed)
    bins = np.minimum((p * 10).astype(int), 9)
    for b in range(10):
        inside = bins == b
        if inside.sum() < 50:
            continue
        mean_p, freq = p[inside].mean(), o[inside].mean()
        # cells of one truth are correlated: count each truth once per bin for the error
        truths = len({i // grid.n_cells for i in np.flatnonzero(inside)})
        se = np.sqrt(max(mean_p * (1 - mean_p), 1e-4) / truths)
        print(f"bin {b}: p {mean_p:.3f} observed {freq:.3f} (se {se:.3f}, {inside.sum()} cells, {truths} truths)")
        assert abs(freq - mean_p) <= 3 * se


def test_the_posterior_does_not_depend_on_threads(tiny):
    tiny.write_text(tiny.read_text() + searched_file(tiny.parent, 0.8, box(500200, 4700500, 500400, 4700700), 2))
    one, two = (simulate(load_scenario(tiny, []), threads=n) for n in (1, 2))
    np.testing.assert_array_equal(one.ensemble.sum_sq, two.ensemble.sum_sq)
    np.testing.assert_array_equal(one.ensemble.hits, two.ensemble.hits)
    assert one.summary == two.summary
