"""One carrier's remnants: its dud count, its pattern's points, their cells and their counts.

Shared by the scatter kernel and the posterior's draws, so both make the same draws in the same
order. A carrier's points are drawn in batches (``unit_points``), rejection tests as arithmetic
rather than branches, from the same draws in the same order as one by one (``unit_point``). A
carrier whose whole pattern lies inside the tile places its points without checking each one's
bounds.
"""

from __future__ import annotations

import numpy as np

from . import strike_table as T
from .jit import jit
from .prefetch import prefetch
from .rng import as_signed_pair, as_uniform, binomial, next_u64, normal_pair, signed_pair, uniform

BATCH = 256  # remnant cells computed before they are counted, so the counts' loads overlap
EDGE = 1e-6  # cells: margin for rounding when a whole pattern is tested against a tile's edges


@jit
def unit_point(state, kind, inner_fraction, truncate_sd):
    """One point of a carrier's pattern as (along, across) fractions of its half-axes.

    ``kind``: uniform in an ellipse, normal truncated at ``truncate_sd`` (half-axes equal
    ``truncate_sd`` standard deviations), or uniform in an elliptical ring.
    """
    if kind == T.UNIFORM_ELLIPSE:
        while True:
            a, b = signed_pair(state)
            if a * a + b * b <= 1.0:
                return a, b
    if kind == T.NORMAL:
        limit = truncate_sd * truncate_sd
        while True:
            a, b = normal_pair(state)
            if a * a + b * b <= limit:
                return a / truncate_sd, b / truncate_sd
    inner2 = inner_fraction * inner_fraction
    r = np.sqrt(inner2 + (1.0 - inner2) * uniform(state))
    theta = 2.0 * np.pi * uniform(state)
    return r * np.cos(theta), r * np.sin(theta)


@jit(helper=True)
def unit_points(state, kind, inner_fraction, truncate_sd, n, u, v, thin, t):
    """``n`` points of ``unit_point`` into ``u[:n]``, ``v[:n]``: the same points from the same draws.

    With ``thin``, the uniform of the land-use thinning, drawn after each point, goes into ``t[:n]``.
    For the uniform ellipse (with or without ``thin``) and the normal pattern (without) a rejection
    test is arithmetic, not a branch: each try is written at the next free index, which advances
    only once the try is accepted (and, with ``thin``, its uniform drawn), so no try's outcome is
    mispredicted; the other cases draw point by point.
    """
    kept = 0
    if kind == T.UNIFORM_ELLIPSE and thin:
        after_accept = False  # whether this output is the uniform after an accepted point
        a_kept = b_kept = 0.0
        while kept < n:
            x = next_u64(state)
            a, b = as_signed_pair(x)
            a_kept = a_kept if after_accept else a
            b_kept = b_kept if after_accept else b
            u[kept], v[kept], t[kept] = a_kept, b_kept, as_uniform(x)
            kept += np.int64(after_accept)
            after_accept = (not after_accept) & (a * a + b * b <= 1.0)
    elif kind == T.UNIFORM_ELLIPSE:
        while kept < n:
            a, b = signed_pair(state)
            u[kept], v[kept] = a, b
            kept += np.int64(a * a + b * b <= 1.0)
    elif kind == T.NORMAL and not thin:
        # the polar method's test and the truncation's, on the same pair of uniforms
        limit = truncate_sd * truncate_sd
        while kept < n:
            a = 2.0 * uniform(state) - 1.0
            b = 2.0 * uniform(state) - 1.0
            s = a * a + b * b
            g = np.sqrt(-2.0 * np.log(s) / s)
            x, y = a * g, b * g
            u[kept], v[kept] = x / truncate_sd, y / truncate_sd
            kept += np.int64((s > 0.0) & (s < 1.0) & (x * x + y * y <= limit))
    else:
        for i in range(n):
            u[i], v[i] = unit_point(state, kind, inner_fraction, truncate_sd)
            if thin:
                t[i] = uniform(state)


@jit(helper=True)
def pattern_axes(f, s, cell):
    """Strike row ``s``'s pattern as (column and row steps of its along and across half-axes, cells;
    rows run south) and the columns and rows a pattern point can lie from its centre (every
    point (u, v) lies in the unit disc)."""
    along_cells, across_cells = f[s, T.HALF_ALONG] / cell, f[s, T.HALF_ACROSS] / cell
    sin_az, cos_az = f[s, T.SIN_AZ], f[s, T.COS_AZ]
    col_u, col_v = along_cells * sin_az, across_cells * cos_az
    row_u, row_v = -along_cells * cos_az, across_cells * sin_az
    return col_u, col_v, row_u, row_v, np.sqrt(col_u * col_u + col_v * col_v), np.sqrt(row_u * row_u + row_v * row_v)


@jit(helper=True)
def place_carrier(state, n_sub, p, mult_hi, kind, inner, truncate, centre_col, centre_row, axes, window, cell_class,
                  class_mult, uniform_mult, count, touched, n_touched, batch, points):
    """One carrier's remnants: its duds drawn (exact binomial at the highest multiplied rate, then
    thinned by each cell's land-use multiplier), placed in its pattern around ``centre_col``,
    ``centre_row`` (cells; ``axes`` from ``pattern_axes``) and counted into ``count`` where they fall in
    the tile ``window`` = (grid columns, rows, tile's first column, first row, columns, rows); cells
    first hit are listed in ``touched`` after ``n_touched``. ``batch`` (int64 [BATCH]) and ``points``
    (float64 [3, BATCH]) are scratch. Returns (the new ``n_touched``, remnants counted, remnants off
    the grid)."""
    col_u, col_v, row_u, row_v, reach_col, reach_row = axes
    nx, ny, tc0, tr0, tnx, tny = window
    pu, pv, pt = points[0], points[1], points[2]  # a batch's pattern points and thinning uniforms
    q = min(1.0, p * mult_hi)
    left = binomial(state, n_sub, q)
    # a pattern wholly inside the tile needs no point's bounds checked
    whole = (centre_col - reach_col >= tc0 + EDGE and centre_col + reach_col <= tc0 + tnx - EDGE
             and centre_row - reach_row >= tr0 + EDGE and centre_row + reach_row <= tr0 + tny - EDGE)
    counted = 0
    off = 0
    while left > 0:
        n_batch = min(BATCH, left)
        left -= n_batch
        kept = 0
        unit_points(state, kind, inner, truncate, n_batch, pu, pv, not uniform_mult, pt)
        for i in range(n_batch if whole else 0):
            col = np.int64(centre_col + pu[i] * col_u + pv[i] * col_v) - tc0
            row = np.int64(centre_row + pu[i] * row_u + pv[i] * row_v) - tr0
            idx = row * tnx + col
            prefetch(count, idx)  # its count's line is on its way before the batch is counted
            if uniform_mult or pt[i] * q < min(1.0, p * class_mult[cell_class[idx]]):
                batch[kept] = idx
                kept += 1
        for i in range(0 if whole else n_batch):
            fx = centre_col + pu[i] * col_u + pv[i] * col_v
            fy = centre_row + pu[i] * row_u + pv[i] * row_v
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
            if not uniform_mult and pt[i] * q >= min(1.0, p * m):
                continue
            if not inside:
                off += 1
            elif in_tile:
                batch[kept] = idx
                kept += 1
        counted += kept
        for j in range(kept):
            idx = batch[j]
            c = count[idx]
            touched[n_touched] = idx
            n_touched += c == 0
            count[idx] = c + 1
    return n_touched, counted, off
