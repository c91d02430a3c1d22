"""Cluster munition remnant survey (CMRS) on the scored realizations.

Each scored realization (the same items land release is scored on: same key, same index) is
scattered again counting items per cell, and ``kernels.cmrs`` surveys it: NTS evidence points
from its true items, boxes searched outward from each until the fade-out, CHAs bounded by the
finds. See docs/model.md, "Cluster munition remnant survey (CMRS)".
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numba
import numpy as np

from simulator.config.cmrs import Cmrs
from simulator.engine.layout import SCORED, root_key
from simulator.engine.prepare import Setup
from simulator.engine.scatter import CellSums, scatter
from simulator.kernels import cmrs as K
from simulator.release.land_release import NO_DISC


@dataclass(frozen=True)
class CmrsSurvey:
    """Per scored realization the metrics of ``kernels.cmrs`` (float64 [realization, N_METRICS]);
    per box the share of realizations in which it is CHA (float64 [box rows, box columns]); the
    box side (m) and the settings surveyed with."""

    metrics: np.ndarray
    p_cha: np.ndarray
    box_m: float
    settings: Cmrs


def run_cmrs(setup: Setup, realizations: int, threads: int | None = None) -> CmrsSurvey:
    """CMRS in scored realizations ``0 .. realizations - 1``, in batches of one realization per thread."""
    cmrs = setup.scenario.clearance.cmrs
    grid = setup.grid
    cell = setup.kernel.cell_size_m
    b = cmrs.box_cells(cell)
    nts, pod = cmrs.per_class(setup.class_keys)
    k = replace(setup.kernel, key=root_key(setup.scenario.simulation.seed, SCORED), disc=NO_DISC)
    nx, ny = k.nx, k.ny
    nbx, nby = -(-nx // b), -(-ny // b)
    threads = threads or numba.config.NUMBA_NUM_THREADS
    key0, key1 = (np.uint64(v) for v in k.key)
    metrics = np.zeros((realizations, K.N_METRICS))
    in_cha = np.zeros(nbx * nby, np.int64)
    for first in range(0, realizations, threads):
        n = min(threads, realizations - first)
        sums = CellSums.zeros(k, n)  # n chunks of one realization each: row i is realization first + i
        scatter(k, first, n, sums)
        boxes = np.zeros((n, nbx * nby), np.int8)
        K.cmrs_ensemble(sums.sum_count, k.cell_class, np.array(nts), np.array(pod), nx, ny, b,
                        cmrs.fade_out_boxes, grid.cell_area_m2, key0, key1, first, metrics[first:first + n], boxes)
        in_cha += (boxes == K.IN_CHA).sum(axis=0)
    return CmrsSurvey(metrics, (in_cha / max(realizations, 1)).reshape(nby, nbx), b * cell, cmrs)
