"""The analytic expected density (simulator/analytic.py) against exact moments and the Monte Carlo.

Analytic checks use synthetic strike tables on fine grids around the origin; moments are
read from cell centres with Sheppard's correction (cell^2 / 12), as in tests/naive.py.
Monte Carlo checks run the tiny scenario with fixed seeds; tolerances are stated per test.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats
from simulator.kernels import strike_table as T

from simulator.config.variants import load_scenario
from simulator.engine.analytic import analytic_total, expected_count
from simulator.engine.prepare import prepare
from simulator.errors import InputError
from simulator.inputs.grid import Grid
from simulator.pipeline import simulate
from tests.conftest import TINY_TOML, write_tiny
from tests.naive import binned_moments, ellipse_cell_fractions, strike_tables, truncated_normal_axis_variance

A, B = 60.0, 35.0  # pattern half-axes (m) of the synthetic strikes
FOREST = 2  # index of the tiny scenario's forest class


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The prepared tiny scenario, a template for synthetic setups."""
    return prepare(load_scenario(write_tiny(tmp_path_factory.mktemp("tiny"))), threads=2)


def synthetic(base, strikes: list[dict], half: float, cell: float):
    """``base`` with ``strikes`` (tests.naive.strike_tables fields) on a square grid of ``cell`` m
    over [-half, half]^2 m, one class, no dud multiplier.
    """
    n = round(2 * half / cell)
    f, ti = strike_tables(strikes)
    kernel = replace(
        base.kernel, f=f, ti=ti, x0=-half, y0=half, cell_size_m=cell, nx=n, ny=n, cell_class=np.zeros(n * n, np.uint8),
        class_mult=np.ones(1), zone=np.zeros(n * n, np.int32), n_zones=1, n_epochs=1,
    )
    return replace(base, grid=Grid(base.grid.crs, -half, half, cell, n, n), kernel=kernel)


def moments(setup, counts: np.ndarray) -> dict:
    g = setup.grid
    return binned_moments(counts.ravel(), g.x0, g.y0, g.cell_size_m, g.nx, g.ny)


def pattern_variances(kind: int, inner: float = 0.5, k: float = 2.5) -> tuple[float, float]:
    """Exact (along, across) variances (m^2) of one carrier's pattern of half-axes A, B."""
    if kind == T.UNIFORM_ELLIPSE:
        return A * A / 4, B * B / 4
    if kind == T.RING:
        return A * A * (1 + inner**2) / 4, B * B * (1 + inner**2) / 4
    return truncated_normal_axis_variance(A / k, k), truncated_normal_axis_variance(B / k, k)


# ---- analytic only ----------------------------------------------------------------------------


def test_grid_sum_equals_total_when_footprint_inside(base):
    """All kinds, sticks, errors, a Beta spread, one degenerate error: sum within 1e-3 relative (in fact ~1e-15)."""
    strikes = [
        dict(kind=T.UNIFORM_ELLIPSE, x=-300, y=200, az=40, carriers=6, sub=88, p=0.14, alpha=6.5, beta=40,
             sd_along=60, sd_across=20, aim_sd=30),
        dict(kind=T.NORMAL, x=250, y=-150, az=110, a=125, b=75, k=2.5, carriers=3, sub=670, p=0.05, spacing=100,
             sd_along=40, sd_across=25, aim_sd=30),
        dict(kind=T.RING, x=200, y=300, az=300, inner=0.4, carriers=4, sub=30, p=0.2),
        dict(kind=T.UNIFORM_ELLIPSE, x=-200, y=-300, az=15, carriers=2, sub=202, p=0.07, sd_along=30),
    ]
    setup = synthetic(base, strikes, 1000.0, 10.0)
    counts = expected_count(setup)
    assert counts.shape == setup.grid.shape and counts.dtype == np.float64 and counts.min() >= 0.0
    total = sum(s["carriers"] * s["sub"] * s["p"] for s in strikes)
    assert analytic_total(setup) == pytest.approx(total, rel=1e-12)
    assert counts.sum() == pytest.approx(total, rel=1e-3)


@pytest.mark.parametrize("kind", [T.UNIFORM_ELLIPSE, T.NORMAL, T.RING], ids=["uniform", "normal", "ring"])
@pytest.mark.parametrize(
    "delivery",
    [{}, dict(carriers=3, spacing=40.0), dict(sd_along=12.0, sd_across=6.0, aim_sd=4.0),
     dict(carriers=2, spacing=50.0, sd_along=12.0, aim_sd=4.0), dict(sd_along=10.0)],
    ids=["exact", "stick", "error", "stick-error", "degenerate-error"],
)
def test_moments(base, kind, delivery):
    """Mean at the aim point (within 0.05 m); variances along (north, azimuth 0) and across equal
    the pattern's plus the stick's spacing^2 (n^2 - 1) / 12 plus the error variances (within 2e-3
    relative); no covariance (|rho| < 1e-4). Cells of 2 m, so sub-cells of 0.5 m.
    """
    strike = dict(kind=kind, a=A, b=B, inner=0.5, k=2.5, x=3.3, y=-7.1, sub=100, p=0.1, **delivery)
    setup = synthetic(base, [strike], 200.0, 2.0)
    counts = expected_count(setup)
    assert counts.sum() == pytest.approx(analytic_total(setup), rel=1e-9)
    n, spacing, aim = strike.get("carriers", 1), strike.get("spacing", 0.0), strike.get("aim_sd", 0.0)
    along, across = pattern_variances(kind)
    along += spacing**2 * (n * n - 1) / 12 + strike.get("sd_along", 0.0) ** 2 + aim**2
    across += strike.get("sd_across", 0.0) ** 2 + aim**2
    m = moments(setup, counts)
    np.testing.assert_allclose(m["mean"], [3.3, -7.1], atol=0.05)
    assert m["cov"][1, 1] == pytest.approx(along, rel=2e-3)
    assert m["cov"][0, 0] == pytest.approx(across, rel=2e-3)
    assert abs(m["cov"][0, 1]) < 1e-4 * math.sqrt(along * across)


def test_cells_match_exact_masses(base):
    """Cell by cell, against exact values (error relative to the largest cell):

    - a normal pattern (k = 8: truncation negligible) with normal errors is a normal law whose cell
      masses are products of normal CDF differences: within 1e-3 on 10 m cells (sub-cells as
      large as cells would give 3.5e-2);
    - a uniform ellipse without error, rotated 30 degrees, against a 128 x 128 sub-sampling per
      cell: within 1e-2.
    """
    strike = dict(kind=T.NORMAL, a=80.0, b=40.0, k=8.0, x=3.3, y=-7.1, sd_along=12.0, sd_across=6.0, aim_sd=4.0)
    setup = synthetic(base, [strike], 200.0, 10.0)
    g = setup.grid
    x_edges = g.x0 + g.cell_size_m * np.arange(g.nx + 1)
    y_edges = g.y0 - g.cell_size_m * np.arange(g.ny + 1)
    across, along = math.sqrt(5.0**2 + 6.0**2 + 4.0**2), math.sqrt(10.0**2 + 12.0**2 + 4.0**2)
    exact = np.outer(-np.diff(stats.norm.cdf(y_edges, -7.1, along)), np.diff(stats.norm.cdf(x_edges, 3.3, across)))
    counts = expected_count(setup) / analytic_total(setup)
    assert np.abs(counts - exact).max() < 1e-3 * exact.max()

    setup = synthetic(base, [dict(a=A, b=B, az=30.0, x=3.3, y=-7.1)], 100.0, 10.0)
    exact = ellipse_cell_fractions(3.3, -7.1, A, B, 30.0, -100.0, 100.0, 10.0, 20, 20, sub=128).reshape(20, 20)
    counts = expected_count(setup) / analytic_total(setup)
    assert np.abs(counts - exact).max() < 1e-2 * exact.max()


@pytest.mark.parametrize("azimuth", [0.0, 30.0, 110.0, 300.0])
def test_principal_axis_follows_azimuth(base, azimuth):
    """The density's major axis points along the azimuth (within 0.2 degrees); its variances
    along and across are the pattern's plus the errors' (within 0.5 %).
    """
    strike = dict(kind=T.UNIFORM_ELLIPSE, a=A, b=B, az=azimuth, x=20.0, y=-10.0, sd_along=15.0, sd_across=5.0,
                  aim_sd=5.0)
    setup = synthetic(base, [strike], 200.0, 4.0)
    cov = moments(setup, expected_count(setup))["cov"]
    lam, vec = np.linalg.eigh(cov)
    major = vec[:, 1]  # (east, north) of the larger eigenvalue
    angle = math.degrees(math.atan2(major[0], major[1])) % 180.0
    assert min(abs(angle - azimuth % 180.0), 180.0 - abs(angle - azimuth % 180.0)) < 0.2
    np.testing.assert_allclose(lam[::-1], [A * A / 4 + 15.0**2 + 25.0, B * B / 4 + 5.0**2 + 25.0], rtol=5e-3)


def test_off_grid_and_empty_strikes(base):
    """A strike 5 km away puts nothing on the grid; zero carriers (with or without error) put
    nothing anywhere; a strike on the grid's edge puts about half its remnants on it (0.45 to 0.55).
    """
    far = synthetic(base, [dict(x=5000.0, y=0.0, sd_along=20.0), dict(carriers=0), dict(carriers=0, aim_sd=9.0)],
                    200.0, 4.0)
    np.testing.assert_array_equal(expected_count(far), 0.0)
    assert analytic_total(far) == pytest.approx(1.0)
    edge = synthetic(base, [dict(x=200.0, y=0.0, sd_along=20.0, aim_sd=10.0)], 200.0, 4.0)
    assert 0.45 < expected_count(edge).sum() / analytic_total(edge) < 0.55


def test_huge_footprint_is_refused(base):
    """A window beyond the FFT budget even at one sample per cell is an InputError naming the cell size."""
    setup = synthetic(base, [dict(sd_along=2e5, sd_across=2e5)], 200.0, 4.0)
    with pytest.raises(InputError, match="cell_size_m"):
        expected_count(setup)


# ---- against the Monte Carlo ------------------------------------------------------------------


def run_tiny(folder, realizations: int, text: str = TINY_TOML):
    """Simulate the tiny scenario (seed 7) with ``realizations``; (analytic counts, result)."""
    loaded = load_scenario(write_tiny(folder, text), [f"simulation.realizations={realizations}"])
    result = simulate(loaded, threads=2)
    return expected_count(result.setup), result


def test_monte_carlo_converges_to_analytic(tmp_path):
    """On the tiny scenario (artillery with a Beta dud spread, rockets, a dispenser; partly off the grid):

    - cells with MC standard error > 0 and at least 50 expected remnants over the run: the RMS of
      z = (MC mean - analytic) / MC SE lies in [0.8, 1.25];
    - the MC total remnants (on and off the grid) and those on the grid are within 4 SE of the
      analytic values;
    - the RMS error over all cells at 4R = 1600 realizations is 0.35 to 0.7 of that at R = 400
      (1 / sqrt(4) = 0.5; 12 other seeds gave 0.40 to 0.58).
    """
    rms = []
    for realizations in (400, 1600):
        analytic, result = run_tiny(tmp_path, realizations)
        rms.append(np.sqrt(np.mean((result.mean_count - analytic) ** 2)))
    ensemble = result.ensemble
    se = ensemble.count_standard_error().reshape(analytic.shape)
    used = (se > 0) & (analytic * realizations >= 50)
    assert used.sum() > 200
    z = (result.mean_count - analytic)[used] / se[used]
    assert 0.8 <= np.sqrt(np.mean(z**2)) <= 1.25
    remnants, off_grid = ensemble.totals[:, 1], ensemble.totals[:, 2]
    for mc, expected in ((remnants, analytic_total(result.setup)), (remnants - off_grid, analytic.sum())):
        assert abs(mc.mean() - expected) <= 4 * mc.std(ddof=1) / math.sqrt(realizations)
    assert 0.35 <= rms[1] / rms[0] <= 0.7


def test_land_use_multiplier(base, tmp_path):
    """A dud multiplier of 2 on forest doubles the analytic density on forest cells (to 1e-8: the
    chance that twice a Beta dud rate exceeds 1 is below that here) and leaves other cells alone;
    per class, the MC remnants (800 realizations) are within 4 SE of the analytic sums.
    """
    plain = expected_count(base)
    text = TINY_TOML.replace('values = ["forest", "wood"]', 'values = ["forest", "wood"]\ndud_multiplier = 2.0')
    analytic, result = run_tiny(tmp_path, 800, text)
    classes = result.setup.landuse_codes
    forest = classes == FOREST
    assert forest.any() and (~forest).any()
    np.testing.assert_allclose(analytic[forest], 2.0 * plain[forest], rtol=1e-8)
    np.testing.assert_allclose(analytic[~forest], plain[~forest], rtol=1e-12)
    per_class = result.ensemble.zone_items.sum(axis=1)  # [realization, class]: zones are the classes here
    for c in range(per_class.shape[1]):
        mc = per_class[:, c]
        assert abs(mc.mean() - analytic[classes == c].sum()) <= 4 * mc.std(ddof=1) / math.sqrt(mc.size), c


@pytest.mark.parametrize("mean,spread", [(0.14, 0.05), (0.5, 0.2), (0.3, 0.25), (0.05, 0.0)])
@pytest.mark.parametrize("mult", [0.5, 1.0, 1.5, 3.0, 12.0])
def test_dud_probability_is_the_expectation_of_the_capped_rate(mean, spread, mult):
    from scipy import integrate, stats

    from simulator.engine.analytic import dud_probability
    from simulator.inputs.delivery import beta_parameters

    f = np.zeros(T.N_FLOAT)
    f[T.DUD_MEAN] = mean
    if spread > 0:
        f[T.DUD_ALPHA], f[T.DUD_BETA] = beta_parameters(mean, spread)
        law = stats.beta(f[T.DUD_ALPHA], f[T.DUD_BETA])
        expected, _ = integrate.quad(lambda p: min(1.0, p * mult) * law.pdf(p), 0.0, 1.0, points=[min(1.0, 1 / mult)],
                                     limit=200)
    else:
        expected = min(1.0, mean * mult)
    assert dud_probability(f, np.array([mult]))[0] == pytest.approx(expected, rel=1e-7, abs=1e-12)
