"""Realizations weighed by evidence, and the posterior's realizations with found and cleared items removed.

``draw`` makes the same random draws as ``scatter._realization`` (same streams, same order: both
place a carrier's remnants with ``pattern.place_carrier``),
on the whole grid, but keeps the realization: its remnants as (cell, epoch, count) triples in
epoch order, and each strike's drawn aim point; it draws a particle of the resample-move
sampler (``kernels.rejuvenate``), whose aim points, carrier delivery errors and dud rates may
have been moved away from its streams' draws. ``log_likelihood`` weighs a realization by the
evidence (docs/model.md, "Evidence and the posterior"); ``remove`` takes found and cleared
items off it; ``fold`` adds it to the ensemble's accumulators exactly as the scatter kernel
does (per-cell count and its square, first contaminated epoch within the reference disc, per
epoch and zone items and newly contaminated cells).

The evidence arrays come as one tuple ``ev`` (see ``simulator.inputs.evidence_cells``): per
area (searched or cleared land) its cells (CSR ``ptr``/``cells``), POD, items found, epoch
limit (evidence dated after ``limit`` epochs sees their items), expected background finds and
whether it clears; per find its cells, nearest first, with the Gaussian kernel (per m2) of
the find's position about each, its count and epoch limit; per find file the detection
probability of its void term and its epoch limit; per strike report its candidate strikes
(rows of the strike table), position (m) and error (m); scalars: background items per m2,
share of reports of unrecorded strikes, grid area (m2).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from . import strike_table as T
from .jit import jit
from .pattern import BATCH, pattern_axes, place_carrier
from .rng import beta, normal_pair, seed_stream

ALL = 1 << 62
"""Items cleared land takes: all of them."""


@jit
def close_epoch(epoch, count, touched, n_touched, tri_cell, tri_epoch, tri_n, n_tri):
    """Append the epoch's cells as triples; leave ``count`` zero; return the new triple count."""
    for j in range(n_touched):
        idx = touched[j]
        tri_cell[n_tri] = idx
        tri_epoch[n_tri] = epoch
        tri_n[n_tri] = count[idx]
        count[idx] = 0
        n_tri += 1
    return n_tri


@jit
def strike(f, ti, key0, key1, s, src, aim_z, car_z, dud_p, cptr, record, x0, y0, cell, nx, ny, cell_class, class_mult,
           mult_hi, uniform_mult, count, touched, n_touched, batch, state, aims, tally):
    """Bin strike row ``s``'s remnants into ``count`` (cells first hit listed in ``touched`` after ``n_touched``;
    the new count returned); ``aims[s]`` its aim point (m); ``tally`` += submunitions dropped, remnants (with
    those off the grid), remnants off the grid. The particle's variables as in ``draw``."""
    seed_stream(state, key0, key1, src[s], ti[s, T.STREAM])
    home = ti[s, T.HOME]
    n_carriers = ti[s, T.CARRIERS]
    n_sub = ti[s, T.SUBMUNITIONS]
    kind = ti[s, T.PATTERN]
    sin_az, cos_az = f[s, T.SIN_AZ], f[s, T.COS_AZ]
    inner, truncate = f[s, T.INNER_FRACTION], f[s, T.TRUNCATE_SD]
    axes = pattern_axes(f, s, cell)
    window = (nx, ny, np.int64(0), np.int64(0), nx, ny)  # the whole grid
    points = np.empty((3, BATCH))
    tally[0] += home * n_carriers * n_sub
    ex, ey = normal_pair(state)
    if record:
        aim_z[s, 0], aim_z[s, 1] = ex, ey
    aim_x = f[s, T.AIM_X] + aim_z[s, 0] * f[s, T.AIM_SD]
    aim_y = f[s, T.AIM_Y] + aim_z[s, 1] * f[s, T.AIM_SD]
    aims[s, 0] = aim_x
    aims[s, 1] = aim_y
    for k in range(n_carriers):
        g = cptr[s] + k
        za, zc = normal_pair(state)
        if f[s, T.DUD_ALPHA] > 0.0:
            p = beta(state, f[s, T.DUD_ALPHA], f[s, T.DUD_BETA])
        else:
            p = f[s, T.DUD_MEAN]
        if record:
            car_z[g, 0], car_z[g, 1], dud_p[g] = za, zc, p
        za, zc, p = car_z[g, 0], car_z[g, 1], dud_p[g]
        along = (k - 0.5 * (n_carriers - 1)) * f[s, T.CARRIER_SPACING] + za * f[s, T.CARRIER_SD_ALONG]
        across = zc * f[s, T.CARRIER_SD_ACROSS]
        centre_col = (aim_x + along * sin_az + across * cos_az - x0) / cell
        centre_row = (y0 - (aim_y + along * cos_az - across * sin_az)) / cell
        n_touched, kept, off = place_carrier(
            state, n_sub, p, mult_hi, kind, inner, truncate, centre_col, centre_row, axes, window, cell_class,
            class_mult, uniform_mult, count, touched, n_touched, batch, points,
        )
        tally[1] += kept + home * off
        tally[2] += home * off
    return n_touched


@jit
def draw(f, ti, key0, key1, src, aim_z, car_z, dud_p, cptr, record, x0, y0, cell, nx, ny, cell_class, class_mult,
         mult_hi, uniform_mult, count, touched, batch, state, tri_cell, tri_epoch, tri_n, aims, tally):
    """One particle on the whole grid: return its triple count; ``aims`` [strike row, 2] the drawn aim points
    (m); ``tally`` = submunitions dropped, remnants (with those off the grid), remnants off the grid.

    A particle is, per strike row ``s``, the realization ``src[s]`` whose stream drives it, and the variables
    the evidence updates: the aim error ``aim_z[s]`` (standard normal pair), per carrier ``g`` (rows
    ``cptr[s] .. cptr[s + 1] - 1``) its delivery error ``car_z[g]`` (standard normal pair) and dud
    probability ``dud_p[g]``. With ``record`` these are taken from the streams and written (the realization
    is then exactly the scatter kernel's realization ``src``); without, the stream's own draws of them are
    made and discarded, and the given values are used with the rest of the stream (docs/model.md,
    "Resample-move")."""
    n_touched = 0
    n_tri = 0
    tally[:] = 0
    epoch = ti[0, T.EPOCH] if f.shape[0] > 0 else 0
    for s in range(f.shape[0]):
        if ti[s, T.EPOCH] != epoch:
            n_tri = close_epoch(epoch, count, touched, n_touched, tri_cell, tri_epoch, tri_n, n_tri)
            n_touched = 0
            epoch = ti[s, T.EPOCH]
        n_touched = strike(f, ti, key0, key1, s, src, aim_z, car_z, dud_p, cptr, record, x0, y0, cell, nx, ny,
                           cell_class, class_mult, mult_hi, uniform_mult, count, touched, n_touched, batch, state, aims,
                           tally)
    return close_epoch(epoch, count, touched, n_touched, tri_cell, tri_epoch, tri_n, n_tri)


@jit
def log_found(n, k, p, mu):
    """log P(k items found | n items present, each found with probability ``p``, plus Poisson(``mu``) others)."""
    if k == 0:
        return (0.0 if n == 0 else n * math.log1p(-p)) - mu
    terms = np.empty(min(k, n) + 1)
    for j in range(min(k, n) + 1):
        t = math.lgamma(n + 1.0) - math.lgamma(j + 1.0) - math.lgamma(n - j + 1.0)
        t += 0.0 if j == 0 else j * math.log(p) if p > 0.0 else -np.inf
        t += 0.0 if n == j else (n - j) * math.log1p(-p) if p < 1.0 else -np.inf
        t += 0.0 if k == j else (k - j) * math.log(mu) - math.lgamma(k - j + 1.0) if mu > 0.0 else -np.inf
        terms[j] = t - mu
    top = terms.max()
    if top == -np.inf:
        return -np.inf
    return top + math.log(np.exp(terms - top).sum())


@jit
def log_likelihood(tri_cell, tri_epoch, tri_n, n_tri, n_epochs, total, aims, ev):
    """Log-likelihood of the evidence ``ev`` given one realization (its triples and aim points);
    ``total`` (int64 per cell) is scratch, zero on entry and on return."""
    (a_ptr, a_cells, a_pod, a_found, a_limit, a_bg, _, f_ptr, f_cells, f_weight, f_count, f_limit, v_p, v_limit,
     r_ptr, r_strikes, r_x, r_y, r_sd, scalars) = ev
    background, unrecorded, area_m2 = scalars[0], scalars[1], scalars[2]
    ll = 0.0
    t = 0
    on_grid = 0
    for limit in range(n_epochs + 1):
        while t < n_tri and tri_epoch[t] < limit:
            total[tri_cell[t]] += tri_n[t]
            on_grid += tri_n[t]
            t += 1
        for a in range(a_pod.shape[0]):
            if a_limit[a] == limit:
                n = 0
                for j in range(a_ptr[a], a_ptr[a + 1]):
                    n += total[a_cells[j]]
                ll += log_found(n, a_found[a], a_pod[a], a_bg[a])
        for q in range(f_count.shape[0]):
            if f_limit[q] == limit:
                density = background
                for j in range(f_ptr[q], f_ptr[q + 1]):
                    density += total[f_cells[j]] * f_weight[j]
                ll += f_count[q] * math.log(density)
        for v in range(v_p.shape[0]):
            if v_limit[v] == limit:
                ll -= v_p[v] * on_grid
    for j in range(n_tri):
        total[tri_cell[j]] = 0
    for q in range(r_x.shape[0]):
        m = r_ptr[q + 1] - r_ptr[q]
        density = 0.0
        inv = 0.5 / (r_sd[q] * r_sd[q])
        for j in range(r_ptr[q], r_ptr[q + 1]):
            dx = aims[r_strikes[j], 0] - r_x[q]
            dy = aims[r_strikes[j], 1] - r_y[q]
            density += math.exp(-(dx * dx + dy * dy) * inv)
        if m > 0:
            density *= inv / (math.pi * m)
        ll += math.log((1.0 - unrecorded) * density + unrecorded / area_m2)
    return ll


@jit
def _take(c, want, limit, head, nxt, mark, stamp, tri_epoch, tri_n):
    """Take up to ``want`` items of epochs before ``limit`` off cell ``c``; return how many."""
    if mark[c] != stamp:
        return 0
    taken = 0
    t = head[c]
    while t >= 0 and taken < want:
        if tri_epoch[t] < limit:
            k = min(tri_n[t], want - taken)
            tri_n[t] -= k
            taken += k
        t = nxt[t]
    return taken


@jit
def remove(tri_cell, tri_epoch, tri_n, n_tri, head, nxt, mark, stamp, ev):
    """Take found items (finds, nearest cells first; searched land's finds) and everything in cleared
    land off the realization; return (found, cleared)."""
    a_ptr, a_cells, _, a_found, a_limit, _, a_clears, f_ptr, f_cells, _, f_count, f_limit = ev[:12]
    for t in range(n_tri):
        c = tri_cell[t]
        if mark[c] != stamp:
            mark[c] = stamp
            head[c] = -1
        nxt[t] = head[c]
        head[c] = t
    found = 0
    for q in range(f_count.shape[0]):
        want = f_count[q]
        for j in range(f_ptr[q], f_ptr[q + 1]):
            if want == 0:
                break
            got = _take(f_cells[j], want, f_limit[q], head, nxt, mark, stamp, tri_epoch, tri_n)
            want -= got
            found += got
    cleared = 0
    for a in range(a_found.shape[0]):
        want = ALL if a_clears[a] else a_found[a]
        for j in range(a_ptr[a], a_ptr[a + 1]):
            if want == 0:
                break
            got = _take(a_cells[j], want, a_limit[a], head, nxt, mark, stamp, tri_epoch, tri_n)
            want -= got
            if a_clears[a]:
                cleared += got
            else:
                found += got
    return found, cleared


@jit
def fold(tri_cell, tri_epoch, tri_n, n_tri, nx, ny, zone, disc, total, cover, seen, stamp, sum_count, sum_sq, hits,
         zone_items, zone_cells):
    """Add one realization's remaining items to the accumulators, as the scatter kernel does: a cell is
    counted in ``hits`` and ``zone_cells`` at the first epoch a remaining remnant's disc covers it."""
    reach = (disc.shape[0] - 1) // 2
    for t in range(n_tri):
        c = tri_cell[t]
        n = tri_n[t]
        if n == 0:
            continue
        e = tri_epoch[t]
        zone_items[e, zone[c]] += n
        total[c] += n
        if seen[c] == stamp:
            continue
        seen[c] = stamp
        row = c // nx
        col = c - row * nx
        for i in range(disc.shape[0]):
            rr = row + i - reach
            if rr < 0 or rr >= ny:
                continue
            for cc in range(max(col - disc[i], 0), min(col + disc[i], nx - 1) + 1):
                k = rr * nx + cc
                if cover[k] != stamp:
                    cover[k] = stamp
                    hits[e, k] += 1
                    zone_cells[e, zone[k]] += 1
    for t in range(n_tri):
        c = tri_cell[t]
        n = np.int64(total[c])
        if n > 0:
            sum_count[c] += n
            sum_sq[c] += n * n
            total[c] = 0


@jit(parallel=True)
def weigh(f, ti, key0, key1, src, aim_z, car_z, dud_p, cptr, record, n_chunks, x0, y0, cell, nx, ny, cell_class,
          class_mult, n_epochs, capacity, ev, out):
    """``out[i]``: log-likelihood of the evidence given particle ``i`` (``src[i]``, ``aim_z[i]``, ``car_z[i]``,
    ``dud_p[i]``, see ``draw``; written with ``record``); chunks of particles in parallel."""
    n = src.shape[0]
    mult_hi = max(1.0, class_mult.max())
    uniform_mult = np.all(class_mult == 1.0)
    for k in numba.prange(n_chunks):
        count = np.zeros(nx * ny, np.int32)
        touched = np.empty(nx * ny + 1, np.int64)
        total = np.zeros(nx * ny, np.int64)
        tri_cell, tri_epoch, tri_n = np.empty(capacity, np.int64), np.empty(capacity, np.int64), np.empty(capacity, np.int64)
        batch, state = np.empty(BATCH, np.int64), np.empty(4, np.uint64)
        aims, tally = np.zeros((f.shape[0], 2)), np.zeros(3, np.int64)
        for i in range(k * n // n_chunks, (k + 1) * n // n_chunks):
            n_tri = draw(f, ti, key0, key1, src[i], aim_z[i], car_z[i], dud_p[i], cptr, record, x0, y0, cell, nx, ny,
                         cell_class, class_mult, mult_hi, uniform_mult, count, touched, batch, state, tri_cell,
                         tri_epoch, tri_n, aims, tally)
            out[i] = log_likelihood(tri_cell, tri_epoch, tri_n, n_tri, n_epochs, total, aims, ev)


@jit(parallel=True)
def posterior_sums(f, ti, key0, key1, src, aim_z, car_z, dud_p, cptr, record, n_chunks, x0, y0, cell, nx, ny,
                   cell_class, class_mult, zone, disc, capacity, ev, sum_count, sum_sq, hits, zone_items, zone_cells,
                   totals, removed):
    """Particles ``i`` (see ``weigh``) with the evidence's items removed, added to the accumulators (laid out
    as ``scatter_ensemble``'s, one slice per chunk); ``totals[i]`` = dropped, remnants left (with those off
    the grid), off the grid; ``removed[i]`` = found, cleared."""
    n = src.shape[0]
    mult_hi = max(1.0, class_mult.max())
    uniform_mult = np.all(class_mult == 1.0)
    for k in numba.prange(n_chunks):
        cells = nx * ny
        count, touched = np.zeros(cells, np.int32), np.empty(cells + 1, np.int64)
        total, head = np.zeros(cells, np.int64), np.empty(cells, np.int64)
        cover, seen, mark = np.zeros(cells, np.int32), np.zeros(cells, np.int32), np.zeros(cells, np.int32)
        tri_cell, tri_epoch, tri_n = np.empty(capacity, np.int64), np.empty(capacity, np.int64), np.empty(capacity, np.int64)
        nxt = np.empty(capacity, np.int64)
        batch, state = np.empty(BATCH, np.int64), np.empty(4, np.uint64)
        aims, tally = np.zeros((f.shape[0], 2)), np.zeros(3, np.int64)
        for i in range(k * n // n_chunks, (k + 1) * n // n_chunks):
            stamp = np.int32(i - k * n // n_chunks + 1)
            n_tri = draw(f, ti, key0, key1, src[i], aim_z[i], car_z[i], dud_p[i], cptr, record, x0, y0, cell, nx, ny,
                         cell_class, class_mult, mult_hi, uniform_mult, count, touched, batch, state, tri_cell,
                         tri_epoch, tri_n, aims, tally)
            found, cleared = remove(tri_cell, tri_epoch, tri_n, n_tri, head, nxt, mark, stamp, ev)
            fold(tri_cell, tri_epoch, tri_n, n_tri, nx, ny, zone, disc, total, cover, seen, stamp, sum_count[k],
                 sum_sq[k], hits[k], zone_items[i], zone_cells[i])
            totals[i, 0] += tally[0]
            totals[i, 1] += tally[1] - found - cleared
            totals[i, 2] += tally[2]
            removed[i, 0] = found
            removed[i, 1] = cleared
