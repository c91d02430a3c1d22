"""The expected remnant density computed from the strike table, without sampling.

The Monte Carlo (``kernels.scatter``) draws, per strike, a common aim error, each carrier's
error about its nominal place in the stick, a dud probability and the duds' positions in
the pattern. Their expectation needs no sampling: a submunition of carrier ``k`` lands with
the density of the pattern (centred, half-axes along and across the azimuth) convolved with
the normal law of the carrier's impact point, mean ``(k - (n-1)/2) * spacing`` along the
azimuth from the aim point and covariance ``R diag(sd_along^2, sd_across^2) R^T +
aim_sd^2 I``. Each submunition is a remnant with probability ``E[min(1, p * g_c)]``, ``g_c``
the dud multiplier of the class of the cell it lands in and ``p`` the carrier's Beta dud rate
(``dud_probability``: exact, with the regularized incomplete beta function).

Method, one strike at a time: on a window of square sub-cells (``cell / 4``, coarser only
when the window would be too large) aligned to the grid, the pattern's mass per sub-cell
(supersampled) is convolved by FFT with the mass per sub-cell of the carriers' impact laws
(truncated at ``ERROR_SDS`` standard deviations), summed to cells and added into the grid.
Without delivery error each carrier's pattern is placed directly. Remnants landing outside
the grid are left out (the Monte Carlo counts them apart).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simulator.engine.prepare import Setup
from simulator.errors import InputError
from simulator.inputs.grid import Grid
from simulator.kernels import strike_table as T

SUBCELLS = (4, 2, 1)
"""Sub-cells per cell side, tried finest first until a strike's window fits ``MAX_FFT_POINTS``."""

MAX_FFT_POINTS = 2**22
"""Largest per-strike FFT (sub-cells): about 150 MB of working memory."""

ERROR_SDS = 5.0
"""The normal impact law is truncated at this many standard deviations per axis (then renormalised)."""

PATTERN_SAMPLES = (8, 32)
"""Fewest and most sample points per sub-cell side when integrating a pattern over sub-cells."""

Window = tuple[int, int, np.ndarray]
"""(first row, first column, values per cell) of a rectangle of cells, possibly beyond the grid."""


def expected_count(setup: Setup) -> np.ndarray:
    """Expected remnants per cell (float64, ``setup.grid.shape``), from ``setup.kernel``'s strike table.

    A strike's carriers x submunitions, each a remnant with probability ``E[min(1, p * g_c)]``
    (``p`` its dud rate, ``g_c`` the dud multiplier of the landing cell's class), are spread as
    described in the module docstring: exact up to the sub-cell integration and the truncation
    of the normal errors at ``ERROR_SDS``.
    """
    grid, kernel = setup.grid, setup.kernel
    classes = kernel.cell_class.reshape(grid.shape)
    out = np.zeros(grid.shape)
    for f, ti in zip(kernel.f, kernel.ti):
        rate = ti[T.SUBMUNITIONS] * dud_probability(f, kernel.class_mult)
        for window in strike_windows(f, int(ti[T.CARRIERS]), int(ti[T.PATTERN]), grid, setup.loaded.path):
            _add(out, window, rate, classes)
    return out


def dud_probability(f: np.ndarray, mult: np.ndarray) -> np.ndarray:
    """``E[min(1, p g)]`` per multiplier ``g`` for the strike row ``f``: ``p`` is Beta(alpha, beta)
    or, without a spread, the mean. With ``t = 1 / g``: ``g E[p; p < t] + P(p >= t)``, and
    ``E[p; p < t] = mean I_t(alpha + 1, beta)`` (``I`` the regularized incomplete beta function)."""
    from scipy import special  # deferred: slow to import, and most commands never need it
    mean, alpha, beta = f[T.DUD_MEAN], f[T.DUD_ALPHA], f[T.DUD_BETA]
    mult = np.asarray(mult, float)
    if alpha <= 0.0:
        return np.minimum(1.0, mean * mult)
    t = np.minimum(1.0, 1.0 / np.maximum(mult, 1e-300))
    capped = mult * mean * special.betainc(alpha + 1.0, beta, t) + 1.0 - special.betainc(alpha, beta, t)
    return np.where(mult <= 1.0, mean * mult, capped)


def analytic_total(setup: Setup) -> float:
    """Expected remnants on and off the grid when every dud multiplier is 1.

    The sum over strikes of carriers x submunitions x mean dud rate; exact, Beta spread or not.
    """
    f, ti = setup.kernel.f, setup.kernel.ti
    return float((ti[:, T.CARRIERS] * ti[:, T.SUBMUNITIONS] * f[:, T.DUD_MEAN]).sum())


def strike_windows(f: np.ndarray, n_carriers: int, kind: int, grid: Grid, path: Path | None = None) -> list[Window]:
    """Expected submunitions per cell of one strike row ``f``, counting one per carrier.

    The windows sum to ``n_carriers``; those that miss the grid entirely are left out.
    ``path`` names the scenario in a too-large-window error.
    """
    if n_carriers == 0:
        return []
    along = (np.arange(n_carriers) - 0.5 * (n_carriers - 1)) * f[T.CARRIER_SPACING]
    offsets, counts = np.unique(along, return_counts=True)
    cov = impact_covariance(f)
    if cov.any():
        windows = [_window(f, kind, grid, path, offsets, counts, cov)]
    else:
        windows = [
            _window(f, kind, grid, path, offsets[i : i + 1], counts[i : i + 1], None) for i in range(offsets.size)
        ]
    return [w for w in windows if w is not None]


def impact_covariance(f: np.ndarray) -> np.ndarray:
    """Covariance (m^2, grid x east and y north) of a carrier's impact point about its nominal place."""
    along = np.array([f[T.SIN_AZ], f[T.COS_AZ]])
    across = np.array([f[T.COS_AZ], -f[T.SIN_AZ]])
    return (
        f[T.AIM_SD] ** 2 * np.eye(2)
        + f[T.CARRIER_SD_ALONG] ** 2 * np.outer(along, along)
        + f[T.CARRIER_SD_ACROSS] ** 2 * np.outer(across, across)
    )


def _window(f, kind, grid, path, offsets, counts, cov) -> Window | None:
    """Expected submunitions per cell of the carriers at ``offsets`` (m along the azimuth,
    ``counts`` of each) with impact covariance ``cov`` (m^2); None if it misses the grid.

    ``cov`` None: no delivery error, one offset, whose pattern is placed directly.
    """
    cx, cy = f[T.AIM_X], f[T.AIM_Y]
    if cov is None:
        cx, cy = cx + offsets[0] * f[T.SIN_AZ], cy + offsets[0] * f[T.COS_AZ]
    m, rows, cols, (lr, lc) = _plan(f, grid, path, cx, cy, offsets, cov)
    if rows[1] + lr <= 0 or rows[0] - lr >= grid.ny * m or cols[1] + lc <= 0 or cols[0] - lc >= grid.nx * m:
        return None
    h = grid.cell_size_m / m
    dx = grid.x0 + (np.arange(*cols) + 0.5) * h - cx
    dy = grid.y0 - (np.arange(*rows) + 0.5) * h - cy
    mass = _pattern_mass(f, kind, dx, dy, h)
    if cov is None:
        mass *= counts[0]
    else:
        mass = _convolve(mass, _impact_mass(f, offsets, counts, cov, lr, lc, h))
    r, c = mass.shape
    cells = mass.reshape(r // m, m, c // m, m).sum(axis=(1, 3))
    return (rows[0] - lr) // m, (cols[0] - lc) // m, cells


def _plan(f, grid, path, cx, cy, offsets, cov):
    """Sub-cells per cell ``m``, the pattern's sub-cell rows and columns ``(first, end)`` and
    the impact law's half-width in sub-cells ``(rows, cols)``; all multiples of ``m``.
    """
    sin, cos, a, b = f[T.SIN_AZ], f[T.COS_AZ], f[T.HALF_ALONG], f[T.HALF_ACROSS]
    ex, ey = np.hypot(a * sin, b * cos), np.hypot(a * cos, b * sin)
    kx = ky = 0.0
    if cov is not None:
        reach = np.abs(offsets).max()
        kx = reach * abs(sin) + ERROR_SDS * np.sqrt(cov[0, 0])
        ky = reach * abs(cos) + ERROR_SDS * np.sqrt(cov[1, 1])
    from scipy.fft import next_fast_len  # deferred: slow to import, and most commands never need it

    cell = grid.cell_size_m
    for m in SUBCELLS:
        rows = _span(grid.y0 - cy - ey, grid.y0 - cy + ey, cell, m)
        cols = _span(cx - ex - grid.x0, cx + ex - grid.x0, cell, m)
        half = (int(np.ceil(ky / cell)) * m, int(np.ceil(kx / cell)) * m)
        points = next_fast_len(rows[1] - rows[0] + 2 * half[0]) * next_fast_len(cols[1] - cols[0] + 2 * half[1])
        if points <= MAX_FFT_POINTS:
            return m, rows, cols, half
    raise InputError(
        path, "study_area.cell_size_m", grid.cell_size_m, "use larger cells for the analytic density",
        problem=f"a strike's footprint needs an FFT of {points:,} cells, more than {MAX_FFT_POINTS:,};",
    )


def _span(lo: float, hi: float, cell: float, m: int) -> tuple[int, int]:
    """Sub-cell indices ``(first, end)`` covering ``[lo, hi]`` (m from the grid edge), in whole cells of ``m``."""
    return int(np.floor(lo / cell)) * m, (int(np.floor(hi / cell)) + 1) * m


def _pattern_mass(f, kind, dx, dy, h) -> np.ndarray:
    """Share of a carrier's pattern in each sub-cell of side ``h`` (m), centres at ``dx`` (east, by
    column) and ``dy`` (north, by row) metres from the pattern's centre; sums to 1.
    """
    a, b = f[T.HALF_ALONG], f[T.HALF_ACROSS]
    feature = min(a, b) * {T.NORMAL: 1.0 / f[T.TRUNCATE_SD], T.RING: 1.0 - f[T.INNER_FRACTION]}.get(kind, 1.0)
    samples = int(np.clip(np.ceil(8.0 * h / feature), *PATTERN_SAMPLES))
    mass = _supersampled(_pattern_weight(f, kind), dx, dy, h, samples)
    total = mass.sum()
    if total == 0.0:
        raise ValueError(f"pattern of half-axes {a:g} x {b:g} m is too thin for sub-cells of {h:g} m")
    return mass / total


def _pattern_weight(f, kind):
    """Unnormalised pattern density at grid offsets ``(dx, dy)`` (m) from its centre."""
    sin, cos, a, b = f[T.SIN_AZ], f[T.COS_AZ], f[T.HALF_ALONG], f[T.HALF_ACROSS]
    inner2 = f[T.INNER_FRACTION] ** 2 if kind == T.RING else 0.0
    k2 = f[T.TRUNCATE_SD] ** 2

    def weight(dx, dy):
        rho2 = ((dx * sin + dy * cos) / a) ** 2 + ((dx * cos - dy * sin) / b) ** 2
        inside = (rho2 <= 1.0) & (rho2 >= inner2)
        return np.where(inside, np.exp(-0.5 * k2 * rho2), 0.0) if kind == T.NORMAL else inside.astype(np.float64)

    return weight


def _impact_mass(f, offsets, counts, cov, lr, lc, h) -> np.ndarray:
    """Expected carriers per sub-cell offset ``[-lr..lr, -lc..lc]`` (row south, column east) from the aim point.

    Standard deviations under ``h / 4`` (a degenerate direction) are raised to it so that the
    density can be sampled; its spread then stays within about a sub-cell.
    """
    lam, vec = np.linalg.eigh(cov)
    lam = np.maximum(lam, (h / 4.0) ** 2)
    prec = (vec / lam) @ vec.T
    samples = int(np.ceil(2.0 * h / np.sqrt(lam.min())))
    dx = np.arange(-lc, lc + 1) * h
    dy = -np.arange(-lr, lr + 1) * h
    out = np.zeros((dy.size, dx.size))
    for offset, count in zip(offsets, counts):
        mass = _supersampled(_normal_weight(prec, offset * f[T.SIN_AZ], offset * f[T.COS_AZ]), dx, dy, h, samples)
        out += count * mass / mass.sum()
    return out


def _normal_weight(prec, mx, my):
    """Unnormalised normal density with precision matrix ``prec`` (1/m^2) and mean ``(mx, my)`` (m)."""

    def weight(x, y):
        x, y = x - mx, y - my
        return np.exp(-0.5 * (prec[0, 0] * x * x + 2.0 * prec[0, 1] * x * y + prec[1, 1] * y * y))

    return weight


def _supersampled(weight, dx, dy, h, samples) -> np.ndarray:
    """Sum of ``weight`` over ``samples`` x ``samples`` points spread evenly over each sub-cell of side ``h``."""
    spread = ((np.arange(samples) + 0.5) / samples - 0.5) * h
    out = np.zeros((dy.size, dx.size))
    for oy in spread:
        for ox in spread:
            out += weight(dx[None, :] + ox, dy[:, None] + oy)
    return out


def _convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Full linear 2-D convolution by FFT, round-off negatives set to 0."""
    from scipy.signal import fftconvolve  # deferred: slow to import, and most commands never need it

    return np.maximum(fftconvolve(a, b, mode="full"), 0.0)


def _add(out: np.ndarray, window: Window, rate: np.ndarray, classes: np.ndarray) -> None:
    """Add ``window`` x ``rate`` of each cell's class into ``out``, clipped to the grid."""
    r0, c0, cells = window
    ny, nx = out.shape
    rs, re = max(r0, 0), min(r0 + cells.shape[0], ny)
    cs, ce = max(c0, 0), min(c0 + cells.shape[1], nx)
    if rs < re and cs < ce:
        out[rs:re, cs:ce] += cells[rs - r0 : re - r0, cs - c0 : ce - c0] * rate[classes[rs:re, cs:ce]]
