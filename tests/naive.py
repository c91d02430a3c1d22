"""Slow, plainly written reference implementations for the kernel tests.

In the spirit of stumpy's ``tests/naive.py``: nothing here is fast, everything is meant to
be obviously right. ``naive_scatter`` re-implements the control flow, geometry and
accumulation of ``kernels.scatter.scatter_ensemble`` in Python loops, drawing its random
numbers from the kernel's own scalar generators in the same order, so the two must agree
bit for bit. The remaining functions are numpy references for expected values.
"""

from __future__ import annotations

import math

import numpy as np
from simulator.kernels import strike_table as T
from simulator.kernels.pattern import unit_point
from simulator.kernels.rng import beta, binomial, normal_pair, seed_stream, uniform

from simulator.engine.scatter import CellSums, scatter
from simulator.inputs.kernel_inputs import KernelInputs, disc_half_widths

# ----------------------------------------------------------------------------------------
# Building inputs


def strike_tables(strikes: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Strike tables (``f`` float64, ``ti`` int64) from dicts of readable fields.

    Fields (defaults in brackets): ``x``, ``y`` aim point [0]; ``az`` azimuth in degrees
    clockwise from north [0]; ``a``, ``b`` half along / across [50, 30]; ``inner`` ring
    fraction [0.5]; ``k`` truncation in SD [2]; ``aim_sd``, ``sd_along``, ``sd_across``,
    ``spacing`` [0]; ``p`` dud mean [0.1]; ``alpha``, ``beta`` [0: fixed rate];
    ``carriers`` [1]; ``sub`` submunitions per carrier [10]; ``kind`` [UNIFORM_ELLIPSE];
    ``epoch`` [0]; ``stream`` the random stream [its index in ``strikes``]; ``home`` whether
    the strike's totals are counted [1].
    """
    f = np.zeros((len(strikes), T.N_FLOAT))
    ti = np.zeros((len(strikes), T.N_INT), np.int64)
    for i, s in enumerate(strikes):
        az = math.radians(s.get("az", 0.0))
        f[i, T.AIM_X] = s.get("x", 0.0)
        f[i, T.AIM_Y] = s.get("y", 0.0)
        f[i, T.SIN_AZ] = math.sin(az)
        f[i, T.COS_AZ] = math.cos(az)
        f[i, T.HALF_ALONG] = s.get("a", 50.0)
        f[i, T.HALF_ACROSS] = s.get("b", 30.0)
        f[i, T.INNER_FRACTION] = s.get("inner", 0.5)
        f[i, T.TRUNCATE_SD] = s.get("k", 2.0)
        f[i, T.AIM_SD] = s.get("aim_sd", 0.0)
        f[i, T.CARRIER_SD_ALONG] = s.get("sd_along", 0.0)
        f[i, T.CARRIER_SD_ACROSS] = s.get("sd_across", 0.0)
        f[i, T.CARRIER_SPACING] = s.get("spacing", 0.0)
        f[i, T.DUD_MEAN] = s.get("p", 0.1)
        f[i, T.DUD_ALPHA] = s.get("alpha", 0.0)
        f[i, T.DUD_BETA] = s.get("beta", 0.0)
        ti[i, T.CARRIERS] = s.get("carriers", 1)
        ti[i, T.SUBMUNITIONS] = s.get("sub", 10)
        ti[i, T.PATTERN] = s.get("kind", T.UNIFORM_ELLIPSE)
        ti[i, T.EPOCH] = s.get("epoch", 0)
        ti[i, T.STREAM] = s.get("stream", i)
        ti[i, T.HOME] = s.get("home", 1)
    order = np.argsort(ti[:, T.EPOCH], kind="stable")
    return f[order], ti[order]


def run_kernel(
    f, ti, key, n_real, x0, y0, cell, nx, ny, cell_class=None, class_mult=None, zone=None, n_zones=1,
    n_epochs=1, n_chunks=1, r_offset=0, reference_m=0.0,
) -> dict:
    """Run the kernel through its one call (``simulator.engine.scatter.scatter``) on fresh accumulators;
    chunk axes summed away. Land within ``reference_m`` of a remnant is contaminated."""
    n_cells = nx * ny
    inputs = KernelInputs(
        f=f, ti=ti, key=(int(key[0]), int(key[1])), x0=float(x0), y0=float(y0), cell_size_m=float(cell), nx=nx, ny=ny,
        cell_class=np.zeros(n_cells, np.uint8) if cell_class is None else np.asarray(cell_class, np.uint8),
        class_mult=np.ones(1) if class_mult is None else np.asarray(class_mult, np.float64),
        zone=np.zeros(n_cells, np.int32) if zone is None else np.asarray(zone, np.int32),
        n_zones=n_zones, n_epochs=n_epochs, disc=disc_half_widths(reference_m, float(cell)),
    )
    sums = CellSums.zeros(inputs, n_chunks)
    tallies = scatter(inputs, r_offset, n_real, sums)
    return {
        "sum_count": sums.sum_count.sum(axis=0),
        "sum_sq": sums.sum_sq.sum(axis=0),
        "hits": sums.hits.sum(axis=0, dtype=np.int64),
        "zone_items": tallies.zone_items,
        "zone_cells": tallies.zone_cells,
        "totals": tallies.totals,
    }


# ----------------------------------------------------------------------------------------
# The naive scatter


def naive_scatter(
    f, ti, key, n_real, x0, y0, cell, nx, ny, cell_class=None, class_mult=None, zone=None, n_zones=1, n_epochs=1,
    r_offset=0, reference_m=0.0,
) -> dict:
    """Python-loop re-implementation of ``scatter_ensemble``; same keys as ``run_kernel``.

    Per realization the remnants are collected as a list of (cell, epoch) and only then
    tallied, with dicts, into the per-cell and per-zone results. A cell is contaminated from the
    first epoch in which its centre lies within ``reference_m`` of the centre of a cell holding a
    remnant, found by measuring the distance to every remnant cell.
    """
    n_cells = nx * ny
    cell_class = [0] * n_cells if cell_class is None else [int(c) for c in cell_class]
    class_mult = [1.0] if class_mult is None else [float(m) for m in class_mult]
    zone = [0] * n_cells if zone is None else [int(z) for z in zone]
    key0, key1 = np.uint64(key[0]), np.uint64(key[1])

    # Thinning: candidates at the highest multiplied rate, unless every multiplier is 1.
    highest = max(1.0, max(class_mult))
    thin = any(m != 1.0 for m in class_mult)

    sum_count = np.zeros(n_cells, np.int64)
    sum_sq = np.zeros(n_cells, np.int64)
    hits = np.zeros((n_epochs, n_cells), np.int64)
    zone_items = np.zeros((n_real, n_epochs, n_zones), np.int64)
    zone_cells = np.zeros((n_real, n_epochs, n_zones), np.int64)
    totals = np.zeros((n_real, 3), np.int64)

    for r in range(n_real):
        dropped = 0
        remnants = []  # (cell or None, epoch, home) of every remnant, in order of landing
        for s in range(len(f)):
            row = f[s]
            home = bool(ti[s, T.HOME])
            state = np.empty(4, np.uint64)
            seed_stream(state, key0, key1, r_offset + r, int(ti[s, T.STREAM]))
            n_carriers = int(ti[s, T.CARRIERS])
            n_sub = int(ti[s, T.SUBMUNITIONS])
            epoch = int(ti[s, T.EPOCH])
            sin_az, cos_az = row[T.SIN_AZ], row[T.COS_AZ]
            dropped += n_carriers * n_sub if home else 0

            # Unit vectors of the pattern's axes in grid (east, north) coordinates.
            along_dir = (sin_az, cos_az)  # the azimuth, clockwise from north
            across_dir = (cos_az, -sin_az)  # 90 degrees clockwise of it

            e_x, e_y = normal_pair(state)
            aim = (row[T.AIM_X] + e_x * row[T.AIM_SD], row[T.AIM_Y] + e_y * row[T.AIM_SD])
            for k in range(n_carriers):
                z_along, z_across = normal_pair(state)
                stick = (k - 0.5 * (n_carriers - 1)) * row[T.CARRIER_SPACING]
                along = stick + z_along * row[T.CARRIER_SD_ALONG]
                across = z_across * row[T.CARRIER_SD_ACROSS]
                centre = (
                    aim[0] + along * along_dir[0] + across * across_dir[0],
                    aim[1] + along * along_dir[1] + across * across_dir[1],
                )
                if row[T.DUD_ALPHA] > 0.0:
                    p = beta(state, row[T.DUD_ALPHA], row[T.DUD_BETA])
                else:
                    p = row[T.DUD_MEAN]
                q = min(1.0, p * highest)
                n_candidates = binomial(state, n_sub, q)
                for _ in range(n_candidates):
                    a, b = unit_point(state, ti[s, T.PATTERN], row[T.INNER_FRACTION], row[T.TRUNCATE_SD])
                    u, v = a * row[T.HALF_ALONG], b * row[T.HALF_ACROSS]  # metres along and across
                    x = centre[0] + u * along_dir[0] + v * across_dir[0]
                    y = centre[1] + u * along_dir[1] + v * across_dir[1]
                    column = math.floor((x - x0) / cell)
                    row_index = math.floor((y0 - y) / cell)  # rows run south from the top edge y0
                    idx = None
                    if 0 <= column < nx and 0 <= row_index < ny:
                        idx = row_index * nx + column
                    if thin:
                        m = 1.0 if idx is None else class_mult[cell_class[idx]]
                        # Keep with probability min(1, p m) / q, i.e. when u q < min(1, p m).
                        if not uniform(state) * q < min(1.0, p * m):
                            continue
                    remnants.append((idx, epoch, home))

        outside = sum(1 for idx, _, h in remnants if idx is None and h)
        totals[r] = (dropped, sum(1 for idx, _, h in remnants if idx is not None or h), outside)
        counts: dict[int, int] = {}
        first_epoch: dict[int, int] = {}
        for idx, epoch, _ in remnants:
            if idx is None:
                continue
            counts[idx] = counts.get(idx, 0) + 1
            first_epoch.setdefault(idx, epoch)
            zone_items[r, epoch, zone[idx]] += 1
        for idx, c in counts.items():
            sum_count[idx] += c
            sum_sq[idx] += c * c
        covered = contaminated_from(first_epoch, cell, nx, ny, reference_m)
        for idx, epoch in covered.items():
            hits[epoch, idx] += 1
            zone_cells[r, epoch, zone[idx]] += 1

    return {
        "sum_count": sum_count,
        "sum_sq": sum_sq,
        "hits": hits,
        "zone_items": zone_items,
        "zone_cells": zone_cells,
        "totals": totals,
    }


def contaminated_from(first_epoch: dict[int, int], cell, nx, ny, reference_m) -> dict[int, int]:
    """Cell -> first epoch in which its centre lies within ``reference_m`` of the centre of a
    remnant cell (``first_epoch``: remnant cell -> its first epoch), by brute-force distances."""
    covered: dict[int, int] = {}
    limit = reference_m * reference_m * (1 + 1e-12)
    for target in range(nx * ny):
        tr, tc = divmod(target, nx)
        for source, epoch in first_epoch.items():
            sr, sc = divmod(source, nx)
            if ((tr - sr) ** 2 + (tc - sc) ** 2) * cell * cell <= limit:
                covered[target] = min(epoch, covered.get(target, epoch))
    return covered


# ----------------------------------------------------------------------------------------
# Statistics


def ellipse_cell_fractions(cx, cy, a, b, az_deg, x0, y0, cell, nx, ny, sub=64) -> np.ndarray:
    """Fraction of a uniform ellipse's area in each cell (flat, row-major), by sub-sampling.

    Each cell is sampled at ``sub`` x ``sub`` midpoints; the ellipse has half-axes ``a``
    along the azimuth ``az_deg`` (clockwise from north) and ``b`` across, centre (cx, cy).
    """
    az = math.radians(az_deg)
    offsets = (np.arange(sub) + 0.5) / sub * cell
    xs = x0 + (np.arange(nx)[:, None] * cell + offsets[None, :]).ravel()  # east, by column
    ys = y0 - (np.arange(ny)[:, None] * cell + offsets[None, :]).ravel()  # south, by row
    X, Y = np.meshgrid(xs - cx, ys - cy)  # [ny * sub, nx * sub]
    along = X * math.sin(az) + Y * math.cos(az)
    across = X * math.cos(az) - Y * math.sin(az)
    inside = (along / a) ** 2 + (across / b) ** 2 <= 1.0
    per_cell = inside.reshape(ny, sub, nx, sub).sum(axis=(1, 3)) * (cell / sub) ** 2
    return (per_cell / (math.pi * a * b)).ravel()


def cell_centres(x0, y0, cell, nx, ny) -> tuple[np.ndarray, np.ndarray]:
    """Easting and northing of every cell centre (flat, row-major)."""
    x = x0 + (np.arange(nx) + 0.5) * cell
    y = y0 - (np.arange(ny) + 0.5) * cell
    X, Y = np.meshgrid(x, y)
    return X.ravel(), Y.ravel()


def binned_moments(counts, x0, y0, cell, nx, ny) -> dict:
    """Mean, covariance (Sheppard-corrected by cell^2 / 12) and fourth-moment standard errors
    of the points binned into ``counts``, using cell centres.
    """
    w = np.asarray(counts, np.float64)
    n = w.sum()
    X, Y = cell_centres(x0, y0, cell, nx, ny)
    mx, my = (w * X).sum() / n, (w * Y).sum() / n
    dx, dy = X - mx, Y - my
    sheppard = cell * cell / 12.0
    vxx = (w * dx * dx).sum() / n
    vyy = (w * dy * dy).sum() / n
    vxy = (w * dx * dy).sum() / n
    m4x = (w * dx**4).sum() / n
    m4y = (w * dy**4).sum() / n
    return {
        "n": n,
        "mean": np.array([mx, my]),
        "mean_se": np.sqrt(np.array([vxx, vyy]) / n),
        "cov": np.array([[vxx - sheppard, vxy], [vxy, vyy - sheppard]]),
        "var_se": np.sqrt(np.array([m4x - vxx**2, m4y - vyy**2]) / n),
    }


def truncated_normal_axis_variance(sd: float, k: float) -> float:
    """Variance per axis of a circular normal (per-axis ``sd``) truncated to radius ``k`` sd.

    r^2 / sd^2 is chi-square with 2 degrees of freedom, an exponential of mean 2; truncated
    at t = k^2 its mean is 2 - t e^{-t/2} / (1 - e^{-t/2}), and by symmetry each axis holds
    half of it.
    """
    t = k * k
    e = math.exp(-t / 2.0)
    return sd * sd * (1.0 - t * e / (2.0 * (1.0 - e)))
