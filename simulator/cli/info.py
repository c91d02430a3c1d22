"""``remnant validate``, ``catalog`` and ``schema``: commands that check scenarios or describe their contents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from pyproj import Transformer
from rich.table import Table
from rich.text import Text

from simulator.cli.console import out
from simulator.config.profiles import builtin_catalog
from simulator.config.schema_doc import json_schema, markdown_reference
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


def catalog(json_: Annotated[bool, typer.Option("--json", help="print the catalog as JSON")] = False) -> None:
    """List the delivery profiles with their parameters and public sources."""
    profiles = builtin_catalog()
    if json_:
        print(json.dumps({k: p.model_dump(exclude_none=True) for k, p in profiles.items()}, indent=2))
        return
    for p in profiles.values():
        length, width = p.footprint()
        table = Table(title=f"{p.id}: {p.name} ({p.example})", title_justify="left", show_header=False)
        table.add_column("parameter", style="bold")
        table.add_column("value")
        table.add_column("source", style="dim")
        src = p.sources
        err_ = p.delivery_error
        table.add_row("family", p.family, "")
        table.add_row("submunitions per carrier", str(p.submunitions_per_carrier), src.get("submunitions_per_carrier", ""))
        table.add_row("pattern", f"{p.pattern.kind}, {length:.0f} x {width:.0f} m", src.get("pattern", ""))
        if p.footprint_by_altitude:
            f = p.footprint_by_altitude
            table.add_row("footprint by altitude", f"{f.altitude_m[0]:g}-{f.altitude_m[1]:g} m: "
                          f"{f.length_m[0]:g} x {f.width_m[0]:g} to {f.length_m[1]:g} x {f.width_m[1]:g} m",
                          src.get("footprint_by_altitude", ""))
        table.add_row("delivery error (SD)", f"along {err_.range_sd:.0f} m, across {err_.deflection_sd:.0f} m, "
                      f"common {err_.aim_sd_m:.0f} m", src.get("delivery_error", ""))
        if p.carrier_spacing_m:
            table.add_row("carrier spacing", f"{p.carrier_spacing_m:g} m", src.get("carrier_spacing_m", ""))
        d = p.dud_rate
        ranges = ", ".join(f"{name} {r[0]:.0%}-{r[1]:.0%}" for name, r in (("test", d.test_range), ("field", d.field_range)) if r)
        table.add_row("dud rate", f"mean {d.mean:.0%}, SD {d.spread:.0%}" + (f"; {ranges}" if ranges else ""),
                      src.get("dud_rate", ""))
        out.print(table)
    out.print("Figures marked 'assumption' have no public source; set your own in a scenario's \\[\\[profiles]].")


def schema(markdown: Annotated[bool, typer.Option("--markdown", help="print the Markdown reference instead")] = False) -> None:
    """Print the scenario file's JSON Schema."""
    print(markdown_reference() if markdown else json.dumps(json_schema(), indent=2), end="" if markdown else "\n")
