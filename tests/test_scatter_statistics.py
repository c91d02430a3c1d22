"""Statistical properties of the scatter kernel (kernels/scatter.py) against analytic values.

Every test runs a fixed seed, so results are deterministic. Tolerances are stated per test:
by default an estimate must lie within Z = 4 standard errors of its analytic value, the
standard error taken from the estimator's own sampling distribution (a sample variance's
from the fourth central moment). Positions are read from 1 m (or finer) grids at cell
centres; binning adds cell^2 / 12 to each axis's variance, which ``naive.binned_moments``
subtracts (Sheppard's correction).
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from scipy import stats
from simulator.kernels import strike_table as T

from simulator.engine.ensemble import run_ensemble
from simulator.engine.layout import root_key
from simulator.inputs.kernel_inputs import KernelInputs, disc_half_widths
from tests.naive import (
    binned_moments,
    cell_centres,
    ellipse_cell_fractions,
    naive_scatter,
    run_kernel,
    strike_tables,
    truncated_normal_axis_variance,
)

KEY = root_key(2024)
Z = 4.0


def scatter(strikes, n_real, grid, **kw) -> dict:
    f, ti = strike_tables(strikes)
    return run_kernel(f, ti, KEY, n_real, *grid, n_chunks=2, **kw)


def square_grid(half: float, cell: float = 1.0, cx: float = 0.0, cy: float = 0.0, half_y: float | None = None):
    """A grid of ``cell`` metres covering [cx - half, cx + half) x (cy - half_y, cy + half_y]."""
    half_y = half if half_y is None else half_y
    return (cx - half, cy + half_y, cell, round(2 * half / cell), round(2 * half_y / cell))


def moments(res: dict, grid) -> dict:
    assert res["totals"][:, 2].sum() == 0, "points fell outside the grid; moments would be biased"
    return binned_moments(res["sum_count"], *grid)


def assert_within(value, expected, se, z=Z, what=""):
    off = abs(value - expected)
    assert off <= z * se, f"{what}: {value} vs {expected} (SE {se}, {off / se if se else math.inf:.2f} SE)"


# ---- dud counts -------------------------------------------------------------------------------


def test_dud_count_fixed_rate():
    """Remnants per realization: a sum of binomials, mean sum n p and variance sum n p (1 - p)."""
    strikes = [dict(carriers=5, sub=40, p=0.1), dict(carriers=3, sub=60, p=0.25), dict(carriers=2, sub=7, p=0.9)]
    n_real = 4000
    res = scatter(strikes, n_real, (-1000.0, 1000.0, 2000.0, 1, 1))
    n = np.array([s["carriers"] * s["sub"] for s in strikes], np.float64)
    p = np.array([s["p"] for s in strikes])
    np.testing.assert_array_equal(res["totals"][:, 0], n.sum())
    x = res["totals"][:, 1].astype(np.float64)
    mean, var = (n * p).sum(), (n * p * (1 - p)).sum()
    k4 = (n * p * (1 - p) * (1 - 6 * p * (1 - p))).sum()  # fourth cumulant, additive
    mu4 = k4 + 3 * var * var
    assert_within(x.mean(), mean, math.sqrt(var / n_real), what="mean")
    assert_within(x.var(ddof=1), var, math.sqrt((mu4 - var * var * (n_real - 3) / (n_real - 1)) / n_real), what="var")


@pytest.mark.parametrize("alpha, beta", [(2.0, 18.0), (0.5, 4.5), (6.0, 2.0)])
def test_dud_count_beta_spread(alpha, beta):
    """Per carrier the dud count is beta-binomial: variance m p (1 - p) (1 + (m - 1) rho) with
    rho = 1 / (alpha + beta + 1); carriers are independent, so moments and cumulants add.

    The variance is checked against the sampling error of a sample variance (4 SE from the
    fourth moment of the sum); with these parameters the over-dispersion factor 1 + (m - 1)
    rho is 3.3 to 5.5, far outside that band, so a fixed-rate draw would fail.
    """
    carriers, m, n_real = 10, 50, 4000
    strikes = [dict(carriers=carriers, sub=m, alpha=alpha, beta=beta, p=alpha / (alpha + beta))]
    res = scatter(strikes, n_real, (-1000.0, 1000.0, 2000.0, 1, 1))
    x = res["totals"][:, 1].astype(np.float64)
    p = alpha / (alpha + beta)
    rho = 1.0 / (alpha + beta + 1.0)
    var1 = m * p * (1 - p) * (1 + (m - 1) * rho)
    bb_mean, bb_var, _, bb_kurt = (float(v) for v in stats.betabinom.stats(m, alpha, beta, moments="mvsk"))
    assert math.isclose(bb_mean, m * p) and math.isclose(bb_var, var1)  # the formula, checked by scipy
    mean, var = carriers * m * p, carriers * var1
    mu4 = carriers * bb_kurt * var1**2 + 3 * var * var
    assert_within(x.mean(), mean, math.sqrt(var / n_real), what="mean")
    assert_within(x.var(ddof=1), var, math.sqrt((mu4 - var * var * (n_real - 3) / (n_real - 1)) / n_real), what="var")


# ---- footprint shape ----------------------------------------------------------------------------


A, B = 60.0, 25.0  # pattern half-length along and half-width across (m)


def pattern_variances(kind: int, inner: float = 0.5, k: float = 2.0) -> tuple[float, float]:
    """Analytic (along, across) variances of a pattern."""
    if kind == T.UNIFORM_ELLIPSE:
        return A * A / 4, B * B / 4
    if kind == T.NORMAL:
        return truncated_normal_axis_variance(A / k, k), truncated_normal_axis_variance(B / k, k)
    return A * A * (1 + inner**2) / 4, B * B * (1 + inner**2) / 4


@pytest.mark.parametrize(
    "kind, inner, k",
    [
        (T.UNIFORM_ELLIPSE, 0.0, 2.0),
        (T.NORMAL, 0.0, 2.0),
        (T.NORMAL, 0.0, 1.0),
        (T.NORMAL, 0.0, 3.5),
        (T.RING, 0.5, 2.0),
        (T.RING, 0.9, 2.0),
        (T.RING, 0.0, 2.0),
    ],
)
def test_pattern_moments(kind, inner, k):
    """Single carrier, no delivery error, dud rate 1, azimuth 0 (along = north, across = east).

    200 000 points on a 1 m grid: each axis's mean within 4 SE of the aim point, its
    Sheppard-corrected variance within 4 SE of the analytic value, the covariance within 4 SE
    of 0.
    """
    cx, cy = 1000.3, -2000.7  # not on a cell corner
    strikes = [dict(x=cx, y=cy, a=A, b=B, kind=kind, inner=inner, k=k, sub=4000, p=1.0)]
    grid = square_grid(65.0, cx=round(cx), cy=round(cy))
    res = scatter(strikes, 50, grid)
    mo = moments(res, grid)
    assert mo["n"] == 200_000
    var_along, var_across = pattern_variances(kind, inner, k)
    assert_within(mo["mean"][0], cx, mo["mean_se"][0], what="mean x")
    assert_within(mo["mean"][1], cy, mo["mean_se"][1], what="mean y")
    assert_within(mo["cov"][1, 1], var_along, mo["var_se"][1], what="var along (north)")
    assert_within(mo["cov"][0, 0], var_across, mo["var_se"][0], what="var across (east)")
    assert_within(mo["cov"][0, 1], 0.0, math.sqrt(mo["cov"][0, 0] * mo["cov"][1, 1] / mo["n"]), what="cov")


def test_truncated_normal_variance_formula():
    """The reference formula for the radially truncated normal, against numerical integration."""
    from scipy import integrate

    for k in (0.5, 1.0, 2.0, 3.5):
        # Per-axis variance = E[r^2] / 2 with r Rayleigh (sd 1) truncated at k.
        num = integrate.quad(lambda r: r**3 * math.exp(-r * r / 2), 0, k)[0]
        den = integrate.quad(lambda r: r * math.exp(-r * r / 2), 0, k)[0]
        assert math.isclose(truncated_normal_axis_variance(1.0, k), num / den / 2, rel_tol=1e-9)
    assert math.isclose(truncated_normal_axis_variance(3.0, 40.0), 9.0)  # no truncation


@pytest.mark.parametrize("az", [0.0, 90.0])
def test_delivery_error_adds_variance(az):
    """Aim and per-carrier errors convolve with the pattern: the variances add.

    1000 strikes of one carrier with one submunition each, so all 100 000 points are
    independent; along the azimuth var = a^2/4 + range SD^2 + aim SD^2, across it
    b^2/4 + deflection SD^2 + aim SD^2. Grid 2 m, covering about 6 SD; 4 SE.
    """
    sd_along, sd_across, aim_sd = 40.0, 15.0, 30.0
    strikes = [dict(az=az, a=A, b=B, sd_along=sd_along, sd_across=sd_across, aim_sd=aim_sd, sub=1, p=1.0)] * 1000
    along = A * A / 4 + sd_along**2 + aim_sd**2
    across = B * B / 4 + sd_across**2 + aim_sd**2
    var_x, var_y = (across, along) if az == 0.0 else (along, across)
    grid = square_grid(6 * math.sqrt(var_x), cell=2.0, half_y=6 * math.sqrt(var_y))
    mo = moments(scatter(strikes, 100, grid), grid)
    assert mo["n"] == 100_000
    assert_within(mo["cov"][0, 0], var_x, mo["var_se"][0], what="var x")
    assert_within(mo["cov"][1, 1], var_y, mo["var_se"][1], what="var y")
    # The aim error's two axes are independent draws: no covariance between x and y.
    assert_within(mo["cov"][0, 1], 0.0, math.sqrt(var_x * var_y / mo["n"]), what="cov")
    # Without the aim error, the variance is smaller by aim SD^2, far more than 4 SE.
    assert mo["cov"][0, 0] - (var_x - aim_sd**2) > 4 * mo["var_se"][0]


def test_ellipse_radial_and_angular_distribution():
    """Uniform in the ellipse: normalized r^2 = (u/a)^2 + (v/b)^2 is uniform on [0, 1] and the
    normalized angle is uniform on [0, 2 pi). KS at p > 0.001, 5 000 points, 0.25 m cells
    (cell-centre rounding moves r^2 by at most ~0.01 at the rim, well below the KS
    critical distance 0.027).
    """
    a, b, cell = 60.0, 30.0, 0.25
    grid = square_grid(b + 1, cell=cell, half_y=a + 1)
    res = scatter([dict(a=a, b=b, sub=5000, p=1.0)], 1, grid)
    X, Y = cell_centres(*grid)
    counts = res["sum_count"]
    x, y = np.repeat(X, counts), np.repeat(Y, counts)  # across = east, along = north at azimuth 0
    assert len(x) == 5000
    r2 = (y / a) ** 2 + (x / b) ** 2
    assert stats.kstest(r2, "uniform").pvalue > 1e-3
    theta = np.arctan2(y / a, x / b) % (2 * math.pi)
    assert stats.kstest(theta, "uniform", args=(0, 2 * math.pi)).pvalue > 1e-3
    # The same test rejects a pattern uniform in radius rather than in area.
    assert stats.kstest(np.sqrt(r2), "uniform").pvalue < 1e-6


@pytest.mark.parametrize("az", [30.0, 100.0, 245.0, 330.0])
def test_pattern_rotates_with_azimuth(az):
    """The binned covariance's principal axis points along the azimuth (clockwise from north),
    within 1 degree (the sampling error of the angle here is about 0.1 degree); its
    eigenvalues are a^2/4 and b^2/4 within 4 SE (an ellipse's axis has kurtosis 2, so the SE
    of a variance is the variance / sqrt(n))."""
    a, b = 60.0, 15.0
    grid = square_grid(a + 2)
    mo = moments(scatter([dict(az=az, a=a, b=b, sub=20_000, p=1.0)], 1, grid), grid)
    values, vectors = np.linalg.eigh(mo["cov"])
    ex, ey = vectors[:, 1]  # the larger eigenvalue's axis, (east, north)
    bearing = math.degrees(math.atan2(ex, ey)) % 180.0
    diff = (bearing - az % 180.0 + 90.0) % 180.0 - 90.0
    assert abs(diff) < 1.0, (bearing, az)
    rel_se = 1.0 / math.sqrt(mo["n"])
    assert_within(values[1], a * a / 4, a * a / 4 * rel_se, what="major variance")
    assert_within(values[0], b * b / 4, b * b / 4 * rel_se, what="minor variance")


@pytest.mark.parametrize("az, n_carriers", [(0.0, 5), (90.0, 4), (60.0, 3)])
def test_stick_spacing(az, n_carriers):
    """Carriers of a stick at (k - (n-1)/2) spacing along the azimuth: the along variance gains
    spacing^2 (n^2 - 1) / 12, the across variance nothing; 4 SE (iid SE, conservative here as
    every carrier holds exactly the same number of points)."""
    spacing, a, b = 40.0, 20.0, 10.0
    strikes = [dict(az=az, a=a, b=b, carriers=n_carriers, spacing=spacing, sub=2000, p=1.0)]
    extent = a + spacing * (n_carriers - 1) / 2 + 2
    grid = square_grid(extent)
    mo = moments(scatter(strikes, 10, grid), grid)
    along = a * a / 4 + spacing**2 * (n_carriers**2 - 1) / 12
    across = b * b / 4
    # Variance along the azimuth's unit vector and across it, from the covariance.
    s, c = math.sin(math.radians(az)), math.cos(math.radians(az))
    u, v = np.array([s, c]), np.array([c, -s])
    var_u, var_v = u @ mo["cov"] @ u, v @ mo["cov"] @ v
    se_u = along * math.sqrt(2.0 / mo["n"])  # kurtosis below 3 for these mixtures: conservative
    se_v = across * math.sqrt(2.0 / mo["n"])
    assert_within(var_u, along, se_u, what="along")
    assert_within(var_v, across, se_v, what="across")
    assert_within(mo["mean"][0], 0.0, mo["mean_se"][0], what="mean x")
    assert_within(mo["mean"][1], 0.0, mo["mean_se"][1], what="mean y")


# ---- land use -------------------------------------------------------------------------------


def halves(p: float, mult: list[float], n_real: int = 200, sub: int = 2000):
    """A disc of radius 50 m centred on a 100 m grid whose west half is class 0 and east half
    class 1; returns (west, east, remnants in total, submunitions) summed over realizations."""
    grid = (0.0, 0.0, 2.0, 50, 50)
    cell_class = np.zeros((50, 50), np.uint8)
    cell_class[:, 25:] = 1
    res = scatter([dict(x=50.0, y=-50.0, a=50.0, b=50.0, sub=sub, p=p)], n_real, grid, cell_class=cell_class.ravel(),
                  class_mult=mult)
    counts = res["sum_count"].reshape(50, 50)
    assert res["totals"][:, 2].sum() == 0
    return counts[:, :25].sum(), counts[:, 25:].sum(), res["totals"][:, 1].sum(), n_real * sub


@pytest.mark.parametrize(
    "p, mult",
    [(0.2, [1.0, 2.0]), (0.2, [0.5, 1.0]), (0.7, [1.0, 2.0]), (0.3, [0.0, 3.0]), (0.4, [0.25, 0.25])],
)
def test_land_use_multiplier(p, mult):
    """Each half keeps min(1, p m) of the half of the submunitions landing in it. Counts are
    sums of independent Bernoulli trials (land there and be kept, probability pi), so each is
    checked within 4 SE = 4 sqrt(N pi (1 - pi)); the east/west ratio within 4 SE by the delta
    method. p m above 1 (0.7 x 2) is clipped to 1."""
    west, east, total, n = halves(p, mult)
    pi_w, pi_e = 0.5 * min(1.0, p * mult[0]), 0.5 * min(1.0, p * mult[1])
    assert_within(west, n * pi_w, math.sqrt(n * pi_w * (1 - pi_w)) + 1e-9, what="west")
    assert_within(east, n * pi_e, math.sqrt(n * pi_e * (1 - pi_e)) + 1e-9, what="east")
    assert total == west + east
    if pi_w > 0:
        ratio = pi_e / pi_w
        se = ratio * math.sqrt(1 / (n * pi_w) + 1 / (n * pi_e) + 2 / n)
        assert_within(east / west, ratio, se, what="ratio")
    else:
        assert west == 0


def test_land_use_multiplier_ratio_two():
    west, east, _, _ = halves(0.2, [1.0, 2.0])
    assert abs(east / west - 2.0) < 0.03  # 4 SE of the ratio is 0.025 at 40 000 and 80 000 remnants


def test_land_use_clipped_rate_keeps_every_submunition():
    west, east, _, n = halves(0.7, [1.0, 2.0], n_real=10)
    assert east > 0.49 * n  # expected 0.5 n; P(clipped rate < 1 shows up) ~ 0
    _, east, _, n = halves(1.0, [1.0, 5.0], n_real=10)
    assert east / n == pytest.approx(0.5, abs=0.02)


def test_land_use_outside_grid_has_multiplier_one():
    """Remnants outside the grid are thinned at the multiplier 1: a disc centred on the west
    edge of a grid of multiplier 3 keeps p of the half outside and 3 p of the half inside,
    while candidates are drawn at 3 p (4 SE, binomial)."""
    p, n_real, sub = 0.1, 200, 2000
    grid = (0.0, 60.0, 2.0, 60, 60)
    res = scatter([dict(x=0.0, y=0.0, a=50.0, b=50.0, sub=sub, p=p)], n_real, grid,
                  cell_class=np.ones(3600, np.uint8), class_mult=[1.0, 3.0])
    n = n_real * sub
    outside, inside = res["totals"][:, 2].sum(), res["sum_count"].sum()
    pi_out, pi_in = 0.5 * p, 0.5 * 3 * p
    assert_within(outside, n * pi_out, math.sqrt(n * pi_out * (1 - pi_out)), what="outside")
    assert_within(inside, n * pi_in, math.sqrt(n * pi_in * (1 - pi_in)), what="inside")


def test_dud_mean_with_extreme_spread():
    """DudRate(mean=0.5, spread=0.499) passes validation and gives Beta(0.002, 0.002); the mean
    dud fraction must still be 0.5 (SE about 0.0011 here; 4 SE)."""
    from simulator.inputs.delivery import beta_parameters

    a, b = beta_parameters(0.5, 0.499)
    res = scatter([dict(carriers=100, sub=10, p=0.5, alpha=a, beta=b)], 2000, (-1e4, 1e4, 2e4, 1, 1))
    per_carrier = res["totals"][:, 1].sum() / res["totals"][:, 0].sum()
    se = math.sqrt(0.25 * (1 + 9 / (a + b + 1)) / 10 / 200_000)  # beta-binomial, 200 000 carriers of 10
    assert_within(per_carrier, 0.5, se, what="dud fraction")


# ---- convergence ---------------------------------------------------------------------------------


def test_mean_density_converges_to_reference():
    """Uniform ellipse (a 50, b 30, azimuth 30) with no delivery error: the expected count per
    cell is N p times the ellipse's area fraction in the cell (``naive.ellipse_cell_fractions``,
    64 x 64 sub-samples per cell). Per cell the count is Binomial(N, p pi_i), so the mean over
    R realizations has error variance N p pi_i (1 - p pi_i) / R.

    Checks: mean squared error over the ~750 cells within 20% of that expectation (its
    relative SD is about 5%), at R = 100 and 16 R = 1600, and the RMS ratio within [3.4, 4.7]
    (about 4 SD of the ratio around 4).
    """
    a, b, az, sub, p = 50.0, 30.0, 30.0, 1000, 0.5
    grid = (-55.0, 55.0, 2.5, 44, 44)
    lam = sub * p * ellipse_cell_fractions(0.0, 0.0, a, b, az, *grid)
    assert lam.sum() == pytest.approx(sub * p, rel=1e-3)
    var = sub * p * (lam / (sub * p)) * (1 - lam / (sub * p))
    f, ti = strike_tables([dict(az=az, a=a, b=b, sub=sub, p=p)])
    rms = {}
    for n_real, offset in ((100, 0), (1600, 100)):
        res = run_kernel(f, ti, KEY, n_real, *grid, n_chunks=2, r_offset=offset)
        err = res["sum_count"] / n_real - lam
        mse, expected = np.mean(err**2), np.mean(var) / n_real
        assert 0.8 < mse / expected < 1.2, (n_real, mse / expected)
        rms[n_real] = math.sqrt(mse)
    assert 3.4 < rms[100] / rms[1600] < 4.7, rms


# ---- reproducibility ----------------------------------------------------------------------------


@pytest.fixture
def restore_threads():
    n = numba.get_num_threads()
    yield
    numba.set_num_threads(n)


def inputs(seed: int) -> KernelInputs:
    strikes = [
        dict(x=40, y=-30, az=20, carriers=4, sub=30, p=0.2, alpha=2, beta=8, aim_sd=10, sd_along=5, spacing=8),
        dict(x=60, y=-60, az=110, kind=T.NORMAL, carriers=3, sub=40, p=0.1, sd_across=6, epoch=1),
        dict(x=20, y=-70, az=250, kind=T.RING, a=20, b=20, carriers=2, sub=50, p=0.3, epoch=1),
    ]
    f, ti = strike_tables(strikes)
    nx, ny = 20, 20
    rng = np.random.default_rng(3)
    return KernelInputs(
        f=f, ti=ti, key=root_key(seed), x0=0.0, y0=0.0, cell_size_m=5.0, nx=nx, ny=ny,
        cell_class=rng.integers(0, 2, nx * ny).astype(np.uint8), class_mult=np.array([1.0, 1.8]),
        zone=rng.integers(0, 3, nx * ny).astype(np.int32), n_zones=3, n_epochs=2, disc=disc_half_widths(12.0, 5.0),
    )


def same(a, b) -> bool:
    names = ("sum_count", "sum_sq", "hits", "zone_items", "zone_cells", "totals")
    return a.realizations == b.realizations and all(np.array_equal(getattr(a, n), getattr(b, n)) for n in names)


def test_threads_and_batches_do_not_change_results(restore_threads):
    inp = inputs(7)
    base = run_ensemble(inp, 50, threads=1, batch_size=64)
    if numba.config.NUMBA_NUM_THREADS >= 2:
        assert same(base, run_ensemble(inp, 50, threads=2, batch_size=64))
        assert same(base, run_ensemble(inp, 50, threads=2, batch_size=7))
    assert same(base, run_ensemble(inp, 50, threads=1, batch_size=1))
    assert same(base, run_ensemble(inp, 20, threads=1).merge(run_ensemble(inp, 30, first=20, threads=1)))
    # ... and equal the naive implementation.
    naive = naive_scatter(
        inp.f, inp.ti, inp.key, 50, inp.x0, inp.y0, inp.cell_size_m, inp.nx, inp.ny, inp.cell_class, inp.class_mult,
        inp.zone, inp.n_zones, inp.n_epochs, reference_m=12.0,
    )
    for name in naive:
        np.testing.assert_array_equal(getattr(base, name), naive[name], err_msg=name)


def test_different_seeds_differ(restore_threads):
    a, b = run_ensemble(inputs(7), 20, threads=1), run_ensemble(inputs(8), 20, threads=1)
    assert not np.array_equal(a.sum_count, b.sum_count)
    assert not np.array_equal(a.totals[:, 1], b.totals[:, 1])
    assert np.array_equal(a.totals[:, 0], b.totals[:, 0])  # submunitions dropped do not depend on the seed
