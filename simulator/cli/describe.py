"""``remnant catalog`` and ``schema``: describe what a scenario may hold (the delivery profiles, the
file's schema) without reading any input file, so neither imports the geospatial libraries."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from simulator.cli.console import out
from simulator.config.profiles import builtin_catalog
from simulator.config.schema_doc import json_schema, markdown_reference


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
