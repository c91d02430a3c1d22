"""The fused Monte Carlo pass: carrier delivery error, dud draw, dud positions, binning.

Per realization and strike: each carrier's impact point is drawn around the aim point, its
dud probability from a Beta prior, its number of duds from an exact binomial, and only the
duds are placed in the pattern and binned. Nothing is stored per submunition.

A land-use multiplier on the dud probability at the impact cell is applied by thinning:
candidates are drawn at the highest multiplied rate ``q`` and each is kept with probability
``min(1, p * m(cell)) / q``, which is exact.
"""

from __future__ import annotations

import numba
import numpy as np

from kernels import strike_table as T
from kernels.jit import jit
from kernels.rng import beta, binomial, normal_pair, seed_stream, uniform


@jit
def pattern_offset(state, kind, half_along, half_across, inner_fraction, truncate_sd):
    """One point of a carrier's pattern, as (along, across) offsets (m) from its centre.

    ``kind``: uniform in an ellipse, normal truncated at ``truncate_sd`` (half-axes equal
    ``truncate_sd`` standard deviations), or uniform in an elliptical ring.
    """
    if kind == T.UNIFORM_ELLIPSE:
        while True:
            a = 2.0 * uniform(state) - 1.0
            b = 2.0 * uniform(state) - 1.0
            if a * a + b * b <= 1.0:
                return a * half_along, b * half_across
    if kind == T.NORMAL:
        limit = truncate_sd * truncate_sd
        while True:
            a, b = normal_pair(state)
            if a * a + b * b <= limit:
                return a * half_along / truncate_sd, b * half_across / truncate_sd
    inner2 = inner_fraction * inner_fraction
    r = np.sqrt(inner2 + (1.0 - inner2) * uniform(state))
    theta = 2.0 * np.pi * uniform(state)
    return r * np.cos(theta) * half_along, r * np.sin(theta) * half_across


@jit
def _realization(
    f, ti, key0, key1, r_global, r_local, x0, y0, cell, nx, ny, tc0, tr0, tnx, tny, cell_class, class_mult, mult_hi,
    uniform_mult, zone, count, touched, state, sum_count, sum_sq, hits, zone_items, zone_cells, totals,
):
    """Scatter all strikes of one realization into ``count``; fold into the accumulators."""
    n_touched = 0
    dropped = 0
    remnants = 0
    outside = 0
    for s in range(f.shape[0]):
        seed_stream(state, key0, key1, r_global, ti[s, T.STREAM])
        home = ti[s, T.HOME]
        epoch = ti[s, T.EPOCH]
        n_carriers = ti[s, T.CARRIERS]
        n_sub = ti[s, T.SUBMUNITIONS]
        kind = ti[s, T.PATTERN]
        sin_az = f[s, T.SIN_AZ]
        cos_az = f[s, T.COS_AZ]
        dropped += home * n_carriers * n_sub
        ex, ey = normal_pair(state)
        aim_x = f[s, T.AIM_X] + ex * f[s, T.AIM_SD]
        aim_y = f[s, T.AIM_Y] + ey * f[s, T.AIM_SD]
        for k in range(n_carriers):
            za, zc = normal_pair(state)
            along = (k - 0.5 * (n_carriers - 1)) * f[s, T.CARRIER_SPACING] + za * f[s, T.CARRIER_SD_ALONG]
            across = zc * f[s, T.CARRIER_SD_ACROSS]
            cx = aim_x + along * sin_az + across * cos_az
            cy = aim_y + along * cos_az - across * sin_az
            if f[s, T.DUD_ALPHA] > 0.0:
                p = beta(state, f[s, T.DUD_ALPHA], f[s, T.DUD_BETA])
            else:
                p = f[s, T.DUD_MEAN]
            q = min(1.0, p * mult_hi)
            n_cand = binomial(state, n_sub, q)
            for _ in range(n_cand):
                u, v = pattern_offset(
                    state, kind, f[s, T.HALF_ALONG], f[s, T.HALF_ACROSS], f[s, T.INNER_FRACTION], f[s, T.TRUNCATE_SD]
                )
                fx = (cx + u * sin_az + v * cos_az - x0) / cell
                fy = (y0 - (cy + u * cos_az - v * sin_az)) / cell
                inside = fx >= 0.0 and fx < nx and fy >= 0.0 and fy < ny
                in_tile = False
                idx = 0
                m = 1.0
                if inside:
                    col = np.int64(fx) - tc0
                    row = np.int64(fy) - tr0
                    in_tile = col >= 0 and col < tnx and row >= 0 and row < tny
                    if in_tile:
                        idx = row * tnx + col
                        if not uniform_mult:
                            m = class_mult[cell_class[idx]]
                if not uniform_mult and uniform(state) * q >= min(1.0, p * m):
                    continue
                if not inside:
                    remnants += home
                    outside += home
                    continue
                if not in_tile:
                    continue
                remnants += 1
                z = zone[idx]
                zone_items[r_local, epoch, z] += 1
                if count[idx] == 0:
                    touched[n_touched] = idx
                    n_touched += 1
                    hits[epoch, idx] += 1
                    zone_cells[r_local, epoch, z] += 1
                count[idx] += 1
    totals[r_local, 0] += dropped
    totals[r_local, 1] += remnants
    totals[r_local, 2] += outside
    for j in range(n_touched):
        idx = touched[j]
        c = np.int64(count[idx])
        sum_count[idx] += c
        sum_sq[idx] += c * c
        count[idx] = 0


@jit(parallel=True)
def scatter_ensemble(
    f, ti, key0, key1, r_offset, n_real, n_chunks, x0, y0, cell, nx, ny, tile, cell_class, class_mult, zone, n_zones,
    n_epochs, sum_count, sum_sq, hits, zone_items, zone_cells, totals,
):
    """Run realizations ``r_offset .. r_offset + n_real - 1`` and add them to the accumulators.

    Inputs: strike tables ``f`` (float64) and ``ti`` (int64) laid out as in
    ``kernels.strike_table``; root key ``key0, key1`` (uint64); grid origin ``x0, y0`` (m,
    upper-left corner), ``cell`` size (m), ``nx`` by ``ny`` cells; ``tile`` (int64[4]:
    first column, first row, columns, rows) the window of the grid this call accumulates,
    the whole grid or one tile of it; per tile cell (flat, row-major) ``cell_class`` (uint8
    index into ``class_mult``, the dud multipliers) and ``zone`` (int32 in ``[0, n_zones)``).

    Accumulators, added to (never reset), one slice per chunk so threads never share one:
    ``sum_count`` and ``sum_sq`` (int64 [n_chunks, tile cells]): sums over realizations of the
    remnant count and its square; ``hits`` (int32 [n_chunks, n_epochs, tile cells]): realizations
    in which the cell first held a remnant at that epoch. Per realization (index ``r -
    r_offset``): ``zone_items`` and ``zone_cells`` (int64 [n_real, n_epochs, n_zones]):
    remnants landed and cells newly contaminated per epoch and zone; ``totals`` (int64
    [n_real, 3]): submunitions dropped, remnants (duds) including outside the grid, and
    remnants outside the grid. A strike whose ``HOME`` is 0 (a copy run for another tile)
    adds only the remnants it places on this grid, so tiles sum to the whole.

    Chunk ``k`` runs a fixed slice of realizations; each (realization, strike ``STREAM``)
    has its own random stream, so the sums are identical for any number of threads, chunks,
    tiles or strike order.
    """
    tc0, tr0, tnx, tny = tile[0], tile[1], tile[2], tile[3]
    n_cells = tnx * tny
    mult_hi = max(1.0, class_mult.max())
    uniform_mult = np.all(class_mult == 1.0)
    for k in numba.prange(n_chunks):
        count = np.zeros(n_cells, np.int32)
        touched = np.empty(n_cells, np.int64)
        state = np.empty(4, np.uint64)
        for r in range(k * n_real // n_chunks, (k + 1) * n_real // n_chunks):
            _realization(
                f, ti, key0, key1, r_offset + r, r, x0, y0, cell, nx, ny, tc0, tr0, tnx, tny, cell_class, class_mult,
                mult_hi, uniform_mult, zone, count, touched, state, sum_count[k], sum_sq[k], hits[k], zone_items, zone_cells,
                totals,
            )
