"""``remnant validate``: check a scenario, its land-use layer and strikes without running it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from pyproj import Transformer
from rich.text import Text

from simulator.cli.console import out
from simulator.config.variants import load_scenario
from simulator.engine.prepare import prepare
from simulator.errors import one_line
from simulator.inputs.inspect import field_values


def validate(
    scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="override a scenario value: key.path=value")] = None,
) -> None:
    """Check a scenario, its land-use layer and strikes without running it, and say what will go wrong."""
    setup = prepare(load_scenario(scenario, list(set_ or [])))
    grid = setup.grid
    _say(f"{scenario}: valid")
    _say(f"  grid: {grid.nx} x {grid.ny} cells of {grid.cell_size_m:g} m in {grid.crs}")
    _say(f"  strikes: {len(setup.strikes)} over {len(setup.epoch_steps)} reporting steps")
    report = setup.land_use.report
    areas = None
    if report.unmapped_values:
        spec = setup.scenario.land_use
        found = field_values(spec.path, spec.class_field, spec.layer, spec.source_crs)
        areas = {v.value: v.area_m2 for v in found.values if v.value is not None}
    for line in report.lines(areas):
        _say(f"  land use: {line}")
    if report.unmapped_values:
        n = len(report.unmapped_values)
        _warn(f"{n} raw value{'s' if n != 1 else ''} of land_use.class_field {'are' if n != 1 else 'is'} in no class "
              f"and got the default class '{report.default_class}'; add each to a class's values "
              "(land_use.classes.<key>.values)")
    off = np.flatnonzero(~setup.on_grid)
    if len(off):
        to_lon_lat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
        lon, lat = to_lon_lat.transform(setup.strikes.x[off], setup.strikes.y[off])
        where = ", ".join(f"{one_line(str(setup.strikes.id[i]))} (lon {lo:.5f}, lat {la:.5f})"
                          for i, lo, la in zip(off, np.atleast_1d(lon), np.atleast_1d(lat)))
        _warn(f"{len(off)} of {len(setup.strikes)} strikes aimed outside the study area (remnants landing off the grid "
              f"are not counted): {where}; check their coordinates, or widen study_area.extent_m")
    clearance = setup.scenario.clearance
    if clearance is not None:
        for problem, fix in clearance.plan_gaps(setup.scenario.time.end):
            _warn(f"the plan can never finish: {problem}; {fix}")


def _say(line: str) -> None:
    out.print(line, highlight=False, markup=False, soft_wrap=True)


def _warn(line: str) -> None:
    out.print(Text.assemble(("  warning: ", "yellow"), line), highlight=False, soft_wrap=True)
