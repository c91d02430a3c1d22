"""The fused Monte Carlo pass: carrier delivery error, dud draw, dud positions, binning.

Per realization and strike: each carrier's impact point is drawn around the aim point, its
dud probability from a Beta prior, its number of duds from an exact binomial, and only the
duds are placed in the pattern and binned. Nothing is stored per submunition.

A land-use multiplier on the dud probability at the impact cell is applied by thinning:
candidates are drawn at the highest multiplied rate ``q`` and each is kept with probability
``min(1, p * m(cell)) / q``, which is exact.

Binning counts remnants per cell of the epoch in ``count`` and lists each cell the first time
it is hit (a branch-free append); the per-cell and per-zone tallies are made once per listed
cell when the epoch closes, not once per remnant.

A cell is contaminated in a realization when its centre lies within the reference distance of
the centre of a cell holding a remnant: when an epoch closes, the disc of cells around each new
remnant cell is covered (``disc``: half-widths of its rows), and each cell is counted once, in
the epoch it is first covered. A remnant cell whose left neighbour also holds a remnant covers
only the right end of each disc row (the rest is its neighbour's), so dense clusters cost about
one cell per disc row. A disc of one cell (a reference distance under a cell) is its remnant cell.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import strike_table as T
from .jit import jit
from .pattern import BATCH, pattern_axes, place_carrier
from .prefetch import prefetch
from .rng import beta, normal_pair, seed_stream

AHEAD = 32  # listed cells prefetched this many steps ahead when an epoch closes


@jit
def _cover(epoch, count, cum, touched, n_touched, tnx, tny, disc, stamp, cover, zone, hits, zone_cells):
    """Cover the disc of cells around each remnant cell new in this epoch (``cum`` still 0):
    every cell not yet covered in this realization (``cover != stamp``) is counted in ``hits``
    and in its zone's ``zone_cells`` for ``epoch``."""
    reach = (disc.shape[0] - 1) // 2
    epoch_hits = hits[epoch]
    for j in range(n_touched):
        if j + AHEAD < n_touched:
            ahead = touched[j + AHEAD]
            prefetch(cum, ahead)  # and count and cover, beside it
            prefetch(epoch_hits, ahead)
            prefetch(zone, ahead)
        idx = touched[j]
        if cum[idx] != 0:
            continue
        if reach == 0:  # the disc is the cell (a reference distance under a cell): covered once, now
            epoch_hits[idx] += 1
            zone_cells[epoch, zone[idx]] += 1
            continue
        row = idx // tnx
        col = idx - row * tnx
        # a left neighbour holding a remnant covers all of this disc but the right end of each row
        left = col > 0 and count[idx - 1] + cum[idx - 1] > 0
        for t in range(disc.shape[0]):
            r = row + t - reach
            if r < 0 or r >= tny:
                continue
            w = disc[t]
            lo, hi = (col + w, col + w) if left else (col - w, col + w)
            lo = max(lo, 0)
            hi = min(hi, tnx - 1)
            base = r * tnx
            for c in range(lo, hi + 1):
                k = base + c
                if cover[k] != stamp:
                    cover[k] = stamp
                    hits[epoch, k] += 1
                    zone_cells[epoch, zone[k]] += 1


@jit
def _close_epoch(epoch, count, cum, touched, n_touched, cells, n_cells, zone, zone_items):
    """Move the epoch's counts into ``cum``: tally remnants per zone, and list the cells that
    first hold a remnant in this epoch in ``cells`` (whose new length is returned)."""
    for j in range(n_touched):
        if j + AHEAD < n_touched:
            ahead = touched[j + AHEAD]
            prefetch(zone, ahead)
            prefetch(cum, ahead)
        idx = touched[j]
        c = count[idx]
        count[idx] = 0
        zone_items[epoch, zone[idx]] += c
        if cum[idx] == 0:
            cells[n_cells] = idx
            n_cells += 1
        cum[idx] += c
    return n_cells


@jit
def _close_realization(epoch, count, cum, touched, n_touched, cells, n_cells, zone, sum_count, sum_sq, zone_items):
    """Close the last epoch straight into the ensemble sums, then add the cells of earlier
    epochs it did not hit; leaves ``count`` and ``cum`` zero. With one epoch ``cum`` is never read."""
    earlier = n_cells > 0
    for j in range(n_touched):
        if j + AHEAD < n_touched:
            ahead = touched[j + AHEAD]
            prefetch(zone, ahead)
            prefetch(sum_count, ahead)
            prefetch(sum_sq, ahead)
        idx = touched[j]
        c = np.int64(count[idx])
        count[idx] = 0
        zone_items[epoch, zone[idx]] += c
        before = 0
        if earlier:
            before = np.int64(cum[idx])
            cum[idx] = 0
        c += before
        sum_count[idx] += c
        sum_sq[idx] += c * c
    for j in range(n_cells):
        if j + AHEAD < n_cells:
            ahead = cells[j + AHEAD]
            prefetch(sum_count, ahead)
            prefetch(sum_sq, ahead)
        idx = cells[j]
        c = np.int64(cum[idx])
        cum[idx] = 0
        sum_count[idx] += c
        sum_sq[idx] += c * c


@jit
def _count_epoch(epoch, count, touched, n_touched, zone, zone_items):
    """Close an epoch counting its remnants per zone only (``count`` left zero): no cover, no sums."""
    for j in range(n_touched):
        if j + AHEAD < n_touched:
            ahead = touched[j + AHEAD]
            prefetch(zone, ahead)
            prefetch(count, ahead)
        idx = touched[j]
        zone_items[epoch, zone[idx]] += count[idx]
        count[idx] = 0


@jit
def _realization(
    f, ti, key0, key1, r_global, x0, y0, cell, nx, ny, tc0, tr0, tnx, tny, cell_class, class_mult, mult_hi,
    uniform_mult, zone, disc, stamp, count, cum, touched, cells, cover, batch, points, state, sum_count, sum_sq, hits,
    zone_items, zone_cells, totals, counts_only,
):
    """Scatter all strikes of one realization and fold it into the accumulators.

    ``zone_items``, ``zone_cells`` ([n_epochs, n_zones]) and ``totals`` ([3]) are this
    realization's rows; ``batch`` (int64 [BATCH]) and ``points`` (float64 [3, BATCH]) are scratch.
    ``counts_only``: count ``zone_items`` and ``totals`` only (``cum``, ``cells``, ``cover``, the sums,
    ``hits`` and ``zone_cells`` are neither read nor written, and may be empty).
    """
    window = (nx, ny, tc0, tr0, tnx, tny)
    # int64, not the literal 0, so the helpers compile for one signature, not one per literal
    n_touched = np.int64(0)  # cells first hit in the current epoch, listed in ``touched``
    n_cells = np.int64(0)  # cells hit in earlier epochs, listed in ``cells``
    dropped = 0
    remnants = 0
    outside = 0
    epoch = ti[0, T.EPOCH] if f.shape[0] > 0 else 0
    for s in range(f.shape[0]):
        if ti[s, T.EPOCH] != epoch:
            if counts_only:
                _count_epoch(epoch, count, touched, n_touched, zone, zone_items)
            else:
                _cover(epoch, count, cum, touched, n_touched, tnx, tny, disc, stamp, cover, zone, hits, zone_cells)
                n_cells = _close_epoch(epoch, count, cum, touched, n_touched, cells, n_cells, zone, zone_items)
            n_touched = 0
            epoch = ti[s, T.EPOCH]
        seed_stream(state, key0, key1, r_global, ti[s, T.STREAM])
        home = ti[s, T.HOME]
        n_carriers = ti[s, T.CARRIERS]
        n_sub = ti[s, T.SUBMUNITIONS]
        kind = ti[s, T.PATTERN]
        sin_az = f[s, T.SIN_AZ]
        cos_az = f[s, T.COS_AZ]
        inner, truncate = f[s, T.INNER_FRACTION], f[s, T.TRUNCATE_SD]
        axes = pattern_axes(f, s, cell)
        dropped += home * n_carriers * n_sub
        ex, ey = normal_pair(state)
        aim_x = f[s, T.AIM_X] + ex * f[s, T.AIM_SD]
        aim_y = f[s, T.AIM_Y] + ey * f[s, T.AIM_SD]
        for k in range(n_carriers):
            za, zc = normal_pair(state)
            along = (k - 0.5 * (n_carriers - 1)) * f[s, T.CARRIER_SPACING] + za * f[s, T.CARRIER_SD_ALONG]
            across = zc * f[s, T.CARRIER_SD_ACROSS]
            centre_col = (aim_x + along * sin_az + across * cos_az - x0) / cell
            centre_row = (y0 - (aim_y + along * cos_az - across * sin_az)) / cell
            if f[s, T.DUD_ALPHA] > 0.0:
                p = beta(state, f[s, T.DUD_ALPHA], f[s, T.DUD_BETA])
            else:
                p = f[s, T.DUD_MEAN]
            n_touched, kept, off = place_carrier(
                state, n_sub, p, mult_hi, kind, inner, truncate, centre_col, centre_row, axes, window, cell_class,
                class_mult, uniform_mult, count, touched, n_touched, batch, points,
            )
            remnants += kept + home * off
            outside += home * off
    if counts_only:
        _count_epoch(epoch, count, touched, n_touched, zone, zone_items)
    else:
        _cover(epoch, count, cum, touched, n_touched, tnx, tny, disc, stamp, cover, zone, hits, zone_cells)
        _close_realization(epoch, count, cum, touched, n_touched, cells, n_cells, zone, sum_count, sum_sq, zone_items)
    totals[0] += dropped
    totals[1] += remnants
    totals[2] += outside


def scatter_ensemble(
    f, ti, key0, key1, r_offset, n_real, n_chunks, x0, y0, cell, nx, ny, tile, cell_class, class_mult, zone, disc,
    sum_count, sum_sq, hits, zone_items, zone_cells, totals, counts_only=False,
):
    """Run realizations ``r_offset .. r_offset + n_real - 1`` and add them to the accumulators.

    Inputs: strike tables ``f`` (float64) and ``ti`` (int64) laid out as in
    ``kernels.strike_table``; root key ``key0, key1`` (uint64); grid origin ``x0, y0`` (m,
    upper-left corner), ``cell`` size (m), ``nx`` by ``ny`` cells; ``tile`` (int64[4]:
    first column, first row, columns, rows) the window of the grid this call accumulates,
    the whole grid or one tile of it; per tile cell (flat, row-major) ``cell_class`` (uint8
    index into ``class_mult``, the dud multipliers) and ``zone`` (int32 in ``[0, n_zones)``);
    ``disc`` (int64 [2 r + 1]): for row offsets ``-r .. r`` (cells) the half-width (cells) of the
    disc of cells a remnant cell contaminates (``[0]``: the cell alone).

    Accumulators, added to (never reset), one slice per chunk so threads never share one:
    ``sum_count`` and ``sum_sq`` (int64 [n_chunks, tile cells]): sums over realizations of the
    remnant count and its square; ``hits`` (int32 [n_chunks, n_epochs, tile cells]): realizations
    in which the cell was first contaminated (within the disc of a remnant cell) at that epoch.
    Per realization (index ``r - r_offset``): ``zone_items`` and ``zone_cells`` (int64 [n_real,
    n_epochs, n_zones]): remnants landed and cells newly contaminated per epoch and zone; ``totals`` (int64
    [n_real, 3]): submunitions dropped, remnants (duds) including outside the grid, and
    remnants outside the grid. A strike whose ``HOME`` is 0 (a copy run for another tile)
    adds only the remnants it places on this grid, so tiles sum to the whole.

    Chunk ``k`` runs a fixed slice of realizations; each (realization, strike ``STREAM``)
    has its own random stream, so the sums are identical for any number of threads, chunks,
    tiles or strike order. Chunks run on Python threads, each calling the compiled
    ``_realization`` (which releases the GIL) once per realization: no ``parallel=True`` kernel
    and no compiled loop around ``_realization``, each of which would re-optimise the whole call
    tree on a first run (a call costs about 4 us against 0.1-10 ms per realization).

    ``counts_only``: count only ``zone_items`` and ``totals`` (the same values); the per-cell
    accumulators and ``zone_cells`` are left untouched and may have no cells (``sum_count`` and
    ``sum_sq`` [n_chunks, 0], ``hits`` [n_chunks, n_epochs, 0]).

    Scratch (20 bytes per tile cell per chunk) is allocated here by numpy, which asks the
    kernel for transparent huge pages on large arrays: the per-cell counts are read at random,
    and huge pages cut their TLB misses (about 10 % faster on a 2000 x 2000 grid). A cell's
    count, cumulative count and cover stamp lie side by side, so a scattered cell costs one cache
    line for the three.
    """
    n_cells = int(tile[2]) * int(tile[3])
    per_cell = np.zeros((n_chunks, n_cells + 1, 3), np.int32)  # count, cum, cover
    lists = np.zeros((n_chunks, 2, n_cells + 1), np.int32)  # touched, cells
    mult_hi = max(1.0, float(class_mult.max()))
    uniform_mult = bool(np.all(class_mult == 1.0))
    tc0, tr0, tnx, tny = (int(v) for v in tile)

    def chunk(k: int) -> None:
        """Chunk ``k``: its fixed slice of realizations into its own accumulators and scratch."""
        count, cum, cover = per_cell[k, :, 0], per_cell[k, :, 1], per_cell[k, :, 2]
        touched, cells = lists[k]
        batch = np.empty(BATCH, np.int64)
        points = np.empty((3, BATCH))
        state = np.empty(4, np.uint64)
        sums = sum_count[k], sum_sq[k], hits[k]
        for r in range(k * n_real // n_chunks, (k + 1) * n_real // n_chunks):
            _realization(
                f, ti, key0, key1, r_offset + r, x0, y0, cell, nx, ny, tc0, tr0, tnx, tny, cell_class, class_mult,
                mult_hi, uniform_mult, zone, disc, np.int32(r + 1), count, cum, touched, cells, cover, batch, points, state,
                *sums, zone_items[r], zone_cells[r], totals[r], np.bool_(counts_only),
            )

    if n_chunks == 1:
        chunk(0)
        return
    with ThreadPoolExecutor(n_chunks) as pool:
        for done in [pool.submit(chunk, k) for k in range(n_chunks)]:
            done.result()
