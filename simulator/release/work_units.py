"""Work units: the planner's pieces of suspected land, cut from the hazard map.

Suspected cells (SHA: probability of contamination at or above ``hazard.suspect_threshold``) are grouped
by square block, land-use class and the epoch in which they first became suspected. A
unit's confirmed part is its cells at or above the hazard threshold, as known when survey
can first reach it; the rest is suspected-only land that non-technical survey cancels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.config.clearance import Clearance
from simulator.engine.ensemble import HazardMap


@dataclass(frozen=True)
class WorkUnits:
    """Units (in no particular order) and the zone map the scatter kernel counts items by.

    ``zone`` (int32 per cell): ``2u`` suspected-only and ``2u + 1`` confirmed cells of unit
    ``u``; ``2 n + c`` unsuspected cells of class ``c``, and ``2 n + n_classes`` cells outside the
    study area (``land_use.outside``), which are in no unit. Areas in m2; ``expected_items`` is
    the planner's estimate from the ensemble mean; ``x``, ``y`` the unit's centroid (m).
    """

    zone: np.ndarray
    unit_class: np.ndarray
    unit_epoch: np.ndarray
    unit_step: np.ndarray
    area_sha: np.ndarray
    area_cha: np.ndarray
    expected_items: np.ndarray
    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.unit_class)

    @property
    def n_zones(self) -> int:
        return int(self.zone.max()) + 1 if self.zone.size else 0


def cut_work_units(
    known: HazardMap,
    cell_class: np.ndarray,
    n_classes: int,
    grid,
    epoch_steps: np.ndarray,
    clearance: Clearance,
    start_step: int,
    suspect_threshold: float,
    hazard_threshold: float,
) -> WorkUnits:
    """Units from the hazard map ``known``: probabilities per epoch and the mean count per cell;
    ``cell_class`` is ``n_classes`` outside the study area."""
    n_epochs, n_cells = known.hits.shape
    mean_count = known.mean_count
    suspected = known.reaches(suspect_threshold) & (cell_class < n_classes)
    ever = suspected.any(axis=0) if n_epochs else np.zeros(n_cells, bool)
    first = np.where(ever, suspected.argmax(axis=0), -1)
    # what the planner knows when survey can first reach the unit: the last epoch by then
    known_epoch = np.searchsorted(epoch_steps, np.maximum(epoch_steps, start_step), side="right") - 1
    cells = np.flatnonzero(ever)
    rows, cols = np.divmod(cells, grid.nx)
    block = max(1, int(round(clearance.work_unit_m / grid.cell_size_m)))
    blocks_x = -(-grid.nx // block)
    block_id = (rows // block) * blocks_x + cols // block
    key = (block_id.astype(np.int64) * n_classes + cell_class[cells].astype(np.int64)) * max(n_epochs, 1) + first[cells]
    keys, unit_of_cell = np.unique(key, return_inverse=True)
    n_units = len(keys)
    epoch = keys % max(n_epochs, 1)
    unit_class = (keys // max(n_epochs, 1)) % n_classes
    confirmed = known.reaches_at(known_epoch[first[cells]], cells, hazard_threshold)
    zone = (2 * n_units + cell_class.astype(np.int32)).astype(np.int32)
    zone[cells] = 2 * unit_of_cell + confirmed
    cell_area = grid.cell_area_m2
    xs, ys = grid.cell_centres()
    counts = np.bincount(unit_of_cell, minlength=n_units)
    return WorkUnits(
        zone=zone,
        unit_class=unit_class.astype(np.int64),
        unit_epoch=epoch.astype(np.int64),
        unit_step=epoch_steps[epoch].astype(np.int64) if n_units else np.zeros(0, np.int64),
        area_sha=np.bincount(unit_of_cell, weights=~confirmed, minlength=n_units) * cell_area,
        area_cha=np.bincount(unit_of_cell, weights=confirmed, minlength=n_units) * cell_area,
        expected_items=np.bincount(unit_of_cell, weights=mean_count[cells], minlength=n_units),
        x=np.bincount(unit_of_cell, weights=xs[cols], minlength=n_units) / np.maximum(counts, 1),
        y=np.bincount(unit_of_cell, weights=ys[rows], minlength=n_units) / np.maximum(counts, 1),
    )
