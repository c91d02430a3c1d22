"""Resample-move: replayed particles are their realizations, moves at power 0 keep the prior, the
rejuvenated posterior agrees with a brute-force one, its errors are honest, and what is computed from
scored draws (polygon item bands) uses the posterior's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from shapely.geometry import box
from simulator.kernels import posterior as K
from simulator.kernels import rejuvenate as R
from simulator.kernels import strike_table as T

from simulator.config.variants import load_scenario
from simulator.engine.evidence_tables import evidence_tables
from simulator.engine.layout import root_key
from simulator.engine.posterior import Posterior
from simulator.engine.resample_move import (
    carrier_rows,
    ess,
    jump_targets,
    prior_particles,
    run_block,
    segment_capacity,
    triple_capacity,
    weights,
)
from simulator.engine.scatter import CellSums
from simulator.pipeline import simulate
from tests.test_evidence_kernel import areas, data, points, setup_of
from tests.test_evidence_posterior import (
    BOXES,
    HIDDEN,
    cells_in,
    held,
    prepared_posterior,
    searched_file,
    synthetic_evidence,
)

FINDS = points([500310, 500330, 500690, 500720], [4700610, 4700570, 4700410, 4700380], error=15.0, detection=0.1)
SEARCHED = areas([box(500440, 4700440, 500560, 4700560)], pod=0.7, found=[1])


def particle_items(kernel, p):
    """Per particle: (items on the grid, strike row 0's aim x in m, items in the 200 m square of columns 10-19 and
    rows 15-24), drawn by replaying its variables."""
    cells = kernel.nx * kernel.ny
    out = np.zeros((len(p.ll), 3))
    for i in range(len(p.ll)):
        tri = [np.empty(triple_capacity(kernel), np.int64) for _ in range(3)]
        aims = np.zeros((len(kernel.f), 2))
        m = K.draw(kernel.f, kernel.ti, *(np.uint64(k) for k in kernel.key), p.src[i], p.aim[i].copy(), p.car[i].copy(),
                   p.dud[i].copy(), carrier_rows(kernel), False, kernel.x0, kernel.y0, kernel.cell_size_m, kernel.nx,
                   kernel.ny, kernel.cell_class, kernel.class_mult, max(1.0, kernel.class_mult.max()),
                   bool(np.all(kernel.class_mult == 1.0)), np.zeros(cells, np.int32), np.empty(cells + 1, np.int64),
                   np.empty(K.BATCH, np.int64), np.empty(4, np.uint64), *tri, aims, np.zeros(3, np.int64))
        rows, cols = np.divmod(tri[0][:m], kernel.nx)
        square = (cols >= 10) & (cols < 20) & (rows >= 15) & (rows < 25)
        out[i] = tri[2][:m].sum(), aims[0, 0], tri[2][:m][square].sum()
    return out


def test_a_replayed_particle_is_its_realization(tiny):
    """Variables recorded from the streams, then given back, rebuild the same remnants."""
    setup = setup_of(tiny)
    kernel = setup.kernel
    tables = evidence_tables(setup, data(finds=FINDS), setup.scenario.evidence)
    p = prior_particles(kernel, tables.ev, np.arange(12), 1)
    assert np.abs(p.aim).sum() > 0 and (p.dud > 0).all()
    replayed = p[np.arange(12)]
    K.weigh(kernel.f, kernel.ti, *(np.uint64(k) for k in kernel.key), replayed.src, replayed.aim, replayed.car,
            replayed.dud, carrier_rows(kernel), False, 1, kernel.x0, kernel.y0, kernel.cell_size_m, kernel.nx, kernel.ny,
            kernel.cell_class, kernel.class_mult, kernel.n_epochs, triple_capacity(kernel), tables.ev, replayed.ll)
    np.testing.assert_array_equal(replayed.ll, p.ll)
    np.testing.assert_array_equal(particle_items(kernel, replayed), particle_items(kernel, p))


def test_moves_at_power_zero_keep_the_prior(tiny):
    """At power 0 every move targets the prior: after 20 sweeps from prior particles, the aim errors are still
    standard normal (jumps towards finds included), strike A1's dud rates still Beta, and the items on the grid
    still the prior's in mean."""
    setup = setup_of(tiny)
    kernel = setup.kernel
    tables = evidence_tables(setup, data(), setup.scenario.evidence)
    n = 400
    p = prior_particles(kernel, tables.ev, np.arange(n), 1)
    before = particle_items(kernel, p)[:, 0]
    strikes = len(kernel.ti)
    jumps = jump_targets(kernel, np.array([[500310.0, 4700610.0], [500700.0, 4700400.0]]), np.array([2, 2]))
    assert (np.diff(jumps[0]) > 0).sum() >= 2
    accepted = np.zeros((n, strikes, 4), np.int64)
    R.move(kernel.f, kernel.ti, *(np.uint64(k) for k in kernel.key), carrier_rows(kernel), p.src, p.aim, p.car, p.dud,
           p.ll, 0.0, 20, np.full((strikes, 2), 0.9), *jumps, np.uint64(5), np.uint64(6), np.int64(0), 1, kernel.x0,
           kernel.y0, kernel.cell_size_m, kernel.nx, kernel.ny, kernel.cell_class, kernel.class_mult, kernel.n_epochs,
           segment_capacity(kernel), tables.ev, accepted)
    moves = accepted.sum(axis=1)
    assert (moves[:, 0] == 20 * strikes).all() and (moves[:, 2] == 20 * strikes).all()
    assert 0 < moves[:, 1].sum() < 20 * n  # dud moves are accepted by their prior ratio only
    assert 0 < moves[:, 3].sum() < 20 * strikes * n  # and jumps by their prior and proposal ratios
    assert stats.kstest(p.aim.ravel(), "norm").pvalue > 0.01
    row = int(np.flatnonzero(setup.strikes.id[kernel.ti[:, T.STREAM]] == "A1")[0])
    alpha, beta_ = kernel.f[row, T.DUD_ALPHA], kernel.f[row, T.DUD_BETA]
    cptr = carrier_rows(kernel)
    rates = p.dud[:, cptr[row]:cptr[row + 1]]
    assert stats.kstest(rates[:, 0], "beta", args=(alpha, beta_)).pvalue > 0.01
    assert stats.kstest(rates.ravel(), "beta", args=(alpha, beta_)).pvalue > 0.001
    after = particle_items(kernel, p)[:, 0]
    assert abs(after.mean() - before.mean()) < 4 * np.hypot(after.std(), before.std()) / np.sqrt(n)
    assert (p.src >= R.FRESH).all()  # every strike's other draws were refreshed


def test_the_rejuvenated_posterior_agrees_with_brute_force(tiny):
    """Four finds at 15 m and a searched box: plain importance weights over a block of 64 collapse, and the
    resample-move posterior's means (items on the grid, an aim point, items in a square) agree with those of
    importance weights over 300,000 prior realizations within three combined standard errors."""
    setup = setup_of(tiny)
    kernel = setup.kernel
    tables = evidence_tables(setup, data(finds=FINDS, searched=SEARCHED), setup.scenario.evidence)
    pool = prior_particles(kernel, tables.ev, np.arange(300_000), 2)
    assert ess(pool.ll) > 300
    w = weights(pool.ll)
    keep = np.flatnonzero(w > 1e-12)
    values, wk = particle_items(kernel, pool[keep]), w[keep] / w[keep].sum()
    brute = wk @ values
    brute_se = np.sqrt((wk**2) @ (values - brute) ** 2)
    means, ess_before = [], []
    for b in range(24):
        start = prior_particles(kernel, tables.ev, 1_000_000 + np.arange(b * 64, (b + 1) * 64), 2)
        run = run_block(kernel, tables.ev, start, 7, (0, b), 2, 0.5, 2, 200,
                        jump_targets(kernel, tables.finds_xy, tables.finds_limit))
        ess_before.append(run.ess_before)
        means.append(particle_items(kernel, run.particles).mean(axis=0))
    assert np.median(ess_before) < 5
    means = np.array(means)
    z = (means.mean(axis=0) - brute) / np.sqrt(brute_se**2 + means.var(axis=0, ddof=1) / len(means))
    assert (np.abs(z) < 3).all(), z


def test_posterior_errors_are_honest(tiny):
    """Over independent runs (seeds), the spread of the posterior's expected items left matches the jackknife
    error each run reports over its independent blocks (within a factor 2), which exceeds the error that
    would treat its realizations as independent."""
    tiny.write_text(tiny.read_text() + searched_file(tiny.parent, 0.9, box(500240, 4700540, 500380, 4700660), 3))
    estimates, reported, naive = [], [], []
    for seed in range(10):
        result = simulate(load_scenario(tiny, [f"simulation.seed={seed}", "simulation.realizations=320",
                                               "evidence.particles=32"]), threads=2)
        estimates.append(result.summary["expected_duds"])
        reported.append(result.summary["expected_duds_se"])
        duds = result.ensemble.totals[:, 1]
        naive.append(duds.std(ddof=1) / np.sqrt(len(duds)))
    spread = np.std(estimates, ddof=1)
    assert 0.5 < np.mean(reported) / spread < 2.0, (np.mean(reported), spread)
    assert np.mean(reported) > np.mean(naive)


def test_polygon_item_bands_come_from_the_posterior(tiny):
    """Searched with POD 1 and nothing found, a square holds no item in any posterior realization: the item
    counts per zone that the CHA polygons' P5-P95 are read from (scored draws) are the posterior's."""
    setup = setup_of(tiny)
    for x in range(500000, 501000, 40):  # a square empty in some prior realizations only
        square = box(x, 4700560, x + 80, 4700640)
        if 0.3 <= np.mean([held(setup, r, square)[0] == 0 for r in range(40)]) <= 0.7:
            break
    prior = simulate(load_scenario(tiny, []), threads=1)
    tiny.write_text(tiny.read_text() + searched_file(tiny.parent, 1.0, square).replace("\n[evidence]\n", ""))
    posterior = simulate(load_scenario(tiny, []), threads=1)
    zone = np.where(cells_in(setup, square), 0, 1).astype(np.int32)
    before, after = prior._items_per_zone(zone, 2), posterior._items_per_zone(zone, 2)
    assert before[:, 0].sum() > 0 and after[:, 0].sum() == 0 and after[:, 1].sum() > 0
    assert posterior.tile_cells == max(setup.grid.nx, setup.grid.ny)


@pytest.mark.slow
def test_resample_move_is_calibrated_over_200_truths(tiny):
    """Over 200 truths drawn from the prior, with evidence plain weights cannot carry (NTS finds of 10 % of the
    items at 15 m, two searched boxes with POD 0.5), the 90 % interval of items left from two resample-move
    blocks of 64 covers the truth 85-95 % of the time."""
    setup = prepared_posterior(tiny, 128)
    rng = np.random.default_rng(3)
    covered, before = [], []
    for t in range(200):
        _, counts = held(setup, t, BOXES[0], root_key(HIDDEN))
        evidence, truth_left = synthetic_evidence(setup, counts, rng, nts=0.1, error=15.0, boxes=BOXES[:2])
        post = Posterior(setup, evidence_tables(setup, evidence, setup.scenario.evidence), 1, 64)
        post.settle_uniform()
        tallies = post.draw(setup.kernel, 0, 128, CellSums.zeros(setup.kernel, 1))
        left = tallies.totals[:, 1] - tallies.totals[:, 2]
        lo, hi = np.quantile(left, [0.05, 0.95], method="inverted_cdf")
        covered.append(lo <= truth_left <= hi)
        before.append(post.runs[0, 0].ess_before)
    print(f"coverage of the 90 % interval: {np.mean(covered):.3f}; median ESS of plain weights {np.median(before):.1f}")
    assert np.median(before) < 10
    assert 0.85 <= np.mean(covered) <= 0.95


def test_work_units_are_scored_on_the_posterior(tmp_path):
    """With evidence, the per-unit land release (risk map, QA) and the work-unit table replay the posterior's
    scored draws: its casualties per realization equal a land release drawn by the posterior, not the prior's."""
    from simulator.results.risk import release_figures
    from simulator.results.work_unit_table import work_unit_table
    from tests.test_risk import scenario

    loaded = scenario(tmp_path)
    path = loaded.path
    path.write_text(path.read_text() + searched_file(path.parent, 0.9, box(500240, 4700540, 500380, 4700660), 3))
    result = simulate(load_scenario(path, ["simulation.realizations=20"]), threads=1)
    assert result.evidence is not None and not result.evidence.posterior.uniform
    release = result.land_release
    states = result.risk.source  # the per-unit pass (risk map, QA), summed to classes
    rates, n = states.rates, release.realizations
    posterior = release_figures(result.setup, release.plan, rates, n, 1, result.evidence.posterior.draw,
                                result.tile_cells)
    prior = release_figures(result.setup, release.plan, rates, n, 1)
    np.testing.assert_allclose(states.sums.horizon["after"], posterior.after, rtol=1e-9)
    assert not np.allclose(states.sums.horizon["after"], prior.after, rtol=1e-9)
    table = work_unit_table(result)
    assert table["scored_realizations"].iloc[0] == 20
    assert table["items_mean"].sum() > 0
