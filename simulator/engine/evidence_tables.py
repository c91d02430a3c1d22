"""Evidence as the arrays the posterior kernel reads (``kernels.posterior``): cells of each searched or
cleared area, the kernel of each find, the candidate strikes of each report, epoch limits.

Land is resolved at the grid's cells: an area holds the cells whose centre it contains (an area
containing none, the cell under its centroid). A find's position is the item's plus Gaussian
error of ``position_error_m``; an item lies anywhere in its cell, so the kernel about a cell's
centre has variance ``position_error_m**2 + cell**2 / 12`` per axis, cut at ``FIND_REACH_SD``
of it. Evidence dated ``D`` sees the items of the epochs whose first strike is on or before ``D``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from simulator.config.evidence import Evidence
from simulator.engine.prepare import Setup
from simulator.inputs.evidence import Areas, EvidenceData, Points
from simulator.kernels import strike_table as T

FIND_REACH_SD = 3.0
"""A find's kernel is cut this many standard deviations from its position."""
M2_PER_KM2 = 1e6


@dataclass(frozen=True)
class EvidenceTables:
    """``ev``: the tuple ``kernels.posterior`` reads; ``n_*`` how many of each kind of evidence; ``finds_xy``
    (m, [find, 2]) and ``finds_limit`` (epochs each sees) the finds' positions, for the resample-move's jumps."""

    ev: tuple
    n_finds: int
    n_searched: int
    n_cleared: int
    n_reports: int
    finds_xy: np.ndarray
    finds_limit: np.ndarray

    @property
    def removes(self) -> bool:
        """Whether the evidence takes any item off the ground."""
        found = self.ev[3]
        return self.n_finds > 0 or self.n_cleared > 0 or bool((found[: self.n_searched] > 0).any())


def epoch_limits(setup: Setup, dates: np.ndarray) -> np.ndarray:
    """Epochs evidence of each date sees: those whose first strike is on or before it (NaT: all)."""
    strike_epoch = np.searchsorted(setup.epoch_steps, setup.strike_step)
    first = np.array([setup.strikes.date[strike_epoch == e].min() for e in range(len(setup.epoch_steps))],
                     "datetime64[D]")
    limits = np.searchsorted(first, dates, side="right").astype(np.int64)
    limits[np.isnat(dates)] = len(first)
    return limits


def area_cells(setup: Setup, geometry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR (``ptr``, flat ``cells``) of the cells each area holds."""
    grid = setup.grid
    size = grid.cell_size_m
    ptr, cells = [0], []
    for g in geometry:
        xmin, ymin, xmax, ymax = g.bounds
        c0, c1 = max(int(np.floor((xmin - grid.x0) / size)), 0), min(int(np.ceil((xmax - grid.x0) / size)), grid.nx)
        r0, r1 = max(int(np.floor((grid.y0 - ymax) / size)), 0), min(int(np.ceil((grid.y0 - ymin) / size)), grid.ny)
        cols, rows = np.meshgrid(np.arange(c0, c1), np.arange(r0, r1))
        cols, rows = cols.ravel(), rows.ravel()
        inside = shapely.contains_xy(g, grid.x0 + (cols + 0.5) * size, grid.y0 - (rows + 0.5) * size)
        flat = rows[inside] * grid.nx + cols[inside]
        if not len(flat):
            centre = g.centroid
            col, row = int((centre.x - grid.x0) // size), int((grid.y0 - centre.y) // size)
            flat = np.array([row * grid.nx + col] if 0 <= col < grid.nx and 0 <= row < grid.ny else [], np.int64)
        cells.append(flat.astype(np.int64))
        ptr.append(ptr[-1] + len(flat))
    return np.array(ptr, np.int64), np.concatenate(cells) if cells else np.zeros(0, np.int64)


def find_kernels(setup: Setup, finds: Points) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR (``ptr``, ``cells``, ``weight`` per m2) of each find's Gaussian kernel over cell centres, nearest first."""
    grid = setup.grid
    size = grid.cell_size_m
    n = len(finds)
    parts = []
    for error in np.unique(finds.error_m):  # finds of one error share a window of cell offsets
        mine = np.flatnonzero(finds.error_m == error)
        var = error * error + size * size / 12.0
        reach = FIND_REACH_SD * np.sqrt(var)
        span = int(np.ceil(reach / size)) + 1
        dr, dc = (a.ravel() for a in np.meshgrid(np.arange(-span, span + 1), np.arange(-span, span + 1), indexing="ij"))
        x, y = finds.x[mine, None], finds.y[mine, None]
        col = np.floor((x - grid.x0) / size).astype(np.int64) + dc
        row = np.floor((grid.y0 - y) / size).astype(np.int64) + dr
        d2 = (grid.x0 + (col + 0.5) * size - x) ** 2 + (grid.y0 - (row + 0.5) * size - y) ** 2
        keep = (d2 <= reach * reach) & (col >= 0) & (col < grid.nx) & (row >= 0) & (row < grid.ny)
        d2 = np.where(keep, d2, np.inf)
        order = np.argsort(d2, axis=1, kind="stable")
        d2, flat, keep = (np.take_along_axis(a, order, axis=1) for a in (d2, row * grid.nx + col, keep))
        parts.append((mine, flat, np.exp(-0.5 * d2 / var) / (2.0 * np.pi * var), keep))
    ptr = np.zeros(n + 1, np.int64)
    for mine, _, _, keep in parts:
        ptr[mine + 1] = keep.sum(axis=1)
    ptr = np.cumsum(ptr)
    cells, weights = np.zeros(ptr[-1], np.int64), np.zeros(ptr[-1])
    for mine, flat, weight, keep in parts:
        k = keep.sum(axis=1)
        at = np.repeat(ptr[mine], k) + (np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k))
        cells[at], weights[at] = flat[keep], weight[keep]
    return ptr, cells, weights


def report_candidates(setup: Setup, reports: Points) -> tuple[np.ndarray, np.ndarray]:
    """CSR (``ptr``, strike-table rows) of the strikes each report may be of: those of its profile (if
    given), on its date if any strike is."""
    row_of = np.empty(len(setup.kernel.ti), np.int64)
    row_of[setup.kernel.ti[:, T.STREAM]] = np.arange(len(setup.kernel.ti))
    strikes = setup.strikes
    ptr, rows = [0], []
    for profile, day in zip(reports.profile, reports.date):
        match = np.ones(len(strikes), bool) if profile is None else strikes.profile == profile
        if not np.isnat(day) and (match & (strikes.date == day)).any():
            match &= strikes.date == day
        rows.append(row_of[np.flatnonzero(match)])
        ptr.append(ptr[-1] + int(match.sum()))
    return np.array(ptr, np.int64), np.concatenate(rows) if rows else np.zeros(0, np.int64)


def evidence_tables(setup: Setup, data: EvidenceData, spec: Evidence) -> EvidenceTables:
    """The kernel's evidence arrays for ``data`` on ``setup``'s grid."""
    background = spec.background_items_per_km2 / M2_PER_KM2
    areas = Areas(*(np.concatenate([getattr(data.searched, n), getattr(data.cleared, n)])
                    for n in Areas.__dataclass_fields__))
    a_ptr, a_cells = area_cells(setup, areas.geometry)
    cell_area = setup.grid.cell_area_m2
    a_bg = areas.pod * background * np.array([g.area for g in areas.geometry], float)
    clears = np.arange(len(areas)) >= len(data.searched)
    f_ptr, f_cells, f_weight = find_kernels(setup, data.finds)
    finds = data.finds
    void_p, void_limit = np.zeros(0), np.zeros(0, np.int64)
    if len(finds):
        # one void term per detection probability (a file's), seen at its last find
        for p in np.unique(finds.detection):
            last = finds.date[finds.detection == p].max()
            void_p = np.append(void_p, p)
            void_limit = np.append(void_limit, epoch_limits(setup, np.array([last], "datetime64[D]")))
    r_ptr, r_rows = report_candidates(setup, data.reports)
    area_m2 = setup.grid.n_cells * cell_area
    ev = (
        a_ptr, a_cells, areas.pod.astype(float), areas.found.astype(np.int64), epoch_limits(setup, areas.date),
        a_bg.astype(float), clears,
        f_ptr, f_cells, f_weight.astype(float), finds.count.astype(np.int64), epoch_limits(setup, finds.date),
        void_p.astype(float), void_limit.astype(np.int64),
        r_ptr, r_rows, data.reports.x.astype(float), data.reports.y.astype(float), data.reports.error_m.astype(float),
        np.array([background, spec.unrecorded_strike_share, area_m2], float),
    )
    return EvidenceTables(ev, len(finds), len(data.searched), len(data.cleared), len(data.reports),
                          np.column_stack([finds.x, finds.y]).astype(float), ev[11])
