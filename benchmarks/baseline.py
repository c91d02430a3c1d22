"""The numpy baseline: the scatter kernel's work as a careful vectorised numpy program.

Per batch of realizations, all carriers of all strikes at once: ``Generator`` draws of the common
aim and per-carrier errors, per-carrier Beta dud probabilities, ``Generator.binomial`` dud counts,
positions for the duds only (uniform in the ellipse by the square-root radius), rotation, flat
cell indices (duds off the grid go to one extra bin). The same accumulators as the kernel are then
formed (sums of count and squared count per cell, realizations hitting each cell, per-realization
totals), by one of three methods:

``bincount``: ``np.bincount`` of each realization's flat indices over the grid, then its non-zero
cells; ``histogram2d``: ``np.histogram2d`` of each realization's cell coordinates instead;
``sort``: ``np.unique`` of (realization, cell) keys of the whole batch, then ``np.bincount`` with
weights over the grid once per batch (work independent of grid size per realization).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from simulator.kernels import strike_table as T

from simulator.engine.ensemble import KernelInputs

METHODS = ("bincount", "histogram2d", "sort")
DUDS_PER_BATCH = 2_000_000  # bounds the batch's arrays to some tens of MB


@dataclass
class Sums:
    """Accumulators as the kernel keeps them: per cell ``sum_count``, ``sum_sq``, ``hits``
    (int64); per realization ``totals`` [dropped, remnants, remnants off the grid] and
    ``items``/``cells`` (remnants on the grid, cells holding one)."""

    sum_count: np.ndarray
    sum_sq: np.ndarray
    hits: np.ndarray
    totals: np.ndarray
    items: np.ndarray
    cells: np.ndarray


def scatter_numpy(inputs: KernelInputs, realizations: int, method: str = "bincount", seed: int = 0) -> Sums:
    """Scatter ``realizations`` realizations of ``inputs`` (all dud multipliers taken as 1)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    rng = np.random.default_rng(seed)
    f, ti = inputs.f, inputs.ti
    nx, ny, cell = inputs.nx, inputs.ny, inputs.cell_size_m
    n_cells = nx * ny
    carriers = ti[:, T.CARRIERS]
    strike_of = np.repeat(np.arange(len(f)), carriers)  # carrier -> strike
    first = np.concatenate([[0], np.cumsum(carriers)[:-1]])
    k = np.arange(carriers.sum()) - np.repeat(first, carriers)  # carrier index within its strike
    fc = f[strike_of]  # strike columns per carrier
    along0 = (k - 0.5 * (carriers[strike_of] - 1)) * fc[:, T.CARRIER_SPACING]
    n_sub = ti[strike_of, T.SUBMUNITIONS]
    s, c = fc[:, T.SIN_AZ], fc[:, T.COS_AZ]
    ha, hc = fc[:, T.HALF_ALONG], fc[:, T.HALF_ACROSS]
    # pattern point (x, y) in the unit disc -> offset east a11 x + a12 y, north a21 x + a22 y
    a11, a12, a21, a22 = ha * s, hc * c, ha * c, -hc * s
    has_beta = fc[:, T.DUD_ALPHA] > 0.0
    alpha = np.where(has_beta, fc[:, T.DUD_ALPHA], 1.0)
    beta = np.where(has_beta, fc[:, T.DUD_BETA], 1.0)
    n_carriers = len(fc)
    expected = max(1.0, float((n_sub * fc[:, T.DUD_MEAN]).sum()))
    batch = int(max(1, min(realizations, DUDS_PER_BATCH // expected)))

    sums = Sums(*(np.zeros(n_cells, np.int64) for _ in range(3)), np.zeros((realizations, 3), np.int64),
                np.zeros(realizations, np.int64), np.zeros(realizations, np.int64))
    for start in range(0, realizations, batch):
        b = min(batch, realizations - start)
        aim = f[:, [T.AIM_X, T.AIM_Y]] + rng.standard_normal((b, len(f), 2)) * f[:, T.AIM_SD, None]
        z = rng.standard_normal((2, b, n_carriers))
        along = along0 + z[0] * fc[:, T.CARRIER_SD_ALONG]
        across = z[1] * fc[:, T.CARRIER_SD_ACROSS]
        cx = aim[:, strike_of, 0] + along * s + across * c
        cy = aim[:, strike_of, 1] + along * c - across * s
        p = np.where(has_beta, rng.beta(alpha, beta, (b, n_carriers)), fc[:, T.DUD_MEAN])
        duds = rng.binomial(n_sub, p).ravel()
        n = int(duds.sum())
        # uniform in the unit disc, then scaled, rotated and moved to each dud's carrier
        r = np.sqrt(rng.random(n))
        theta = (2.0 * math.pi) * rng.random(n)
        x, y = r * np.cos(theta), r * np.sin(theta)
        fx = (np.repeat(cx.ravel(), duds) - inputs.x0 + np.repeat(np.tile(a11, b), duds) * x
              + np.repeat(np.tile(a12, b), duds) * y) * (1.0 / cell)
        fy = (inputs.y0 - np.repeat(cy.ravel(), duds) - np.repeat(np.tile(a21, b), duds) * x
              - np.repeat(np.tile(a22, b), duds) * y) * (1.0 / cell)
        inside = (fx >= 0.0) & (fx < nx) & (fy >= 0.0) & (fy < ny)
        per_real = duds.reshape(b, n_carriers).sum(axis=1)
        ends = np.cumsum(per_real)
        rows = slice(start, start + b)
        sums.totals[rows, 0] = int(n_sub.sum())
        sums.totals[rows, 1] = per_real
        if method == "histogram2d":
            _accumulate_histogram(sums, fx, fy, ends, rows, nx, ny)
            continue
        flat = np.where(inside, fy.astype(np.int64) * nx + fx.astype(np.int64), n_cells)  # off grid: bin n_cells
        if method == "bincount":
            _accumulate_bincount(sums, flat, ends, rows, n_cells)
        else:
            _accumulate_sorted(sums, flat, ends, per_real, rows, n_cells)
    return sums


def _add_counts(sums: Sums, i: int, cells: np.ndarray, counts: np.ndarray) -> None:
    """Fold realization ``i``'s non-zero ``counts`` at ``cells`` into the accumulators."""
    sums.sum_count[cells] += counts
    sums.sum_sq[cells] += counts * counts
    sums.hits[cells] += 1
    sums.items[i] = counts.sum()
    sums.cells[i] = len(cells)
    sums.totals[i, 2] = sums.totals[i, 1] - sums.items[i]


def _accumulate_bincount(sums: Sums, flat: np.ndarray, ends: np.ndarray, rows: slice, n_cells: int) -> None:
    begin = 0
    for i, end in zip(range(rows.start, rows.stop), ends):
        counts = np.bincount(flat[begin:end], minlength=n_cells + 1)[:n_cells]
        cells = np.flatnonzero(counts)
        _add_counts(sums, i, cells, counts[cells])
        begin = end


def _accumulate_histogram(sums: Sums, fx, fy, ends, rows: slice, nx: int, ny: int) -> None:
    begin = 0
    for i, end in zip(range(rows.start, rows.stop), ends):
        h, _, _ = np.histogram2d(fy[begin:end], fx[begin:end], bins=(ny, nx), range=((0, ny), (0, nx)))
        counts = h.ravel()
        cells = np.flatnonzero(counts)
        _add_counts(sums, i, cells, counts[cells].astype(np.int64))
        begin = end


def _accumulate_sorted(sums: Sums, flat, ends, per_real, rows: slice, n_cells: int) -> None:
    real = np.repeat(np.arange(len(per_real), dtype=np.int64), per_real)
    keys, counts = np.unique(real * (n_cells + 1) + flat, return_counts=True)
    real, cells = np.divmod(keys, n_cells + 1)
    on = cells < n_cells
    real, cells, counts = real[on], cells[on], counts[on]
    sums.sum_count += np.bincount(cells, weights=counts, minlength=n_cells).astype(np.int64)
    sums.sum_sq += np.bincount(cells, weights=counts * counts, minlength=n_cells).astype(np.int64)
    sums.hits += np.bincount(cells, minlength=n_cells)
    sums.items[rows] = np.bincount(real, weights=counts, minlength=len(per_real)).astype(np.int64)
    sums.cells[rows] = np.bincount(real, minlength=len(per_real))
    sums.totals[rows, 2] = sums.totals[rows, 1] - sums.items[rows]
