"""Outputs of a run conditioned on evidence: the prior's maps and how the evidence moved the hazard."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simulator.outputs.rasters import write_geotiff
from simulator.results.result import Result
from simulator.results.tables import M2_PER_HA

EVIDENCE_FILES = ("evidence_shift.tif", "prior_p_contaminated.tif", "prior_density.tif")
"""Written beside the posterior's outputs (which keep a prior run's names) when the scenario has evidence."""


def write_evidence(result: Result, folder: Path) -> None:
    """``evidence_shift.tif`` (posterior minus prior probability of contamination) and the prior's rasters."""
    outcome, grid = result.evidence, result.grid
    prior_p = outcome.prior_p_contaminated
    write_geotiff(folder / "evidence_shift.tif", grid, (result.p_contaminated - prior_p).astype(np.float32),
                  description="posterior minus prior probability that the cell is contaminated", units="probability",
                  nodata=-2.0)
    write_geotiff(folder / "prior_p_contaminated.tif", grid, prior_p,
                  description="prior (before evidence) probability that the cell is contaminated", units="probability",
                  nodata=-1.0)
    density = outcome.prior.mean_count().reshape(grid.shape) * (M2_PER_HA / grid.cell_area_m2)
    write_geotiff(folder / "prior_density.tif", grid, density.astype(np.float32),
                  description="prior (before evidence) expected remnants per hectare", units="items/ha", nodata=-1.0)
