"""``remnant init``: write a starter scenario, the demo's or one for the planner's own data."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from simulator.cli.console import out
from simulator.cli.inspect import as_option_error
from simulator.config.variants import load_scenario
from simulator.engine.prepare import prepare
from simulator.errors import InputError
from simulator.inputs.starter import SCENARIO_FILE, starter_for, write_demo_copy


def init(
    directory: Annotated[Path, typer.Argument(help="folder to write the scenario in")],
    land_use: Annotated[Path | None, typer.Option(help="your land-use polygons (any vector file GDAL reads)")] = None,
    layer: Annotated[str | None, typer.Option(help="layer of the land-use file")] = None,
    class_field: Annotated[str | None, typer.Option(
        help="field holding the land-use class ('a,b': first non-null); default: OSM landuse,natural or a usual name")] = None,
    strikes: Annotated[Path | None, typer.Option(help="your strike records (CSV or vector file); default: a template")] = None,
    source_crs: Annotated[str | None, typer.Option(help="CRS of a land-use layer that declares none")] = None,
) -> None:
    """Write a scenario that validates and runs: for your land-use file (and strikes), or a copy of the demo."""
    target = directory / SCENARIO_FILE
    if target.exists():
        raise InputError(None, "DIRECTORY", str(directory), "choose an empty folder", problem="already has a scenario.toml;")
    if land_use is None:
        given = (("--layer", layer), ("--class-field", class_field), ("--strikes", strikes), ("--source-crs", source_crs))
        for option, value in given:
            if value is not None:
                raise InputError(None, option, str(value), "give --land-use FILE with it", problem="needs a land-use file;")
        write_demo_copy(directory)
        out.print(f"wrote {target} and its land-use layer; run it with: remnant run {target}", highlight=False,
                  markup=False)
        return
    try:
        starter = starter_for(directory, land_use, layer=layer, class_field=class_field, strikes=strikes,
                              source_crs=source_crs)
    except InputError as error:  # name this command's options, not the scenario's fields
        raise as_option_error(error) from None
    created = _write(directory, {SCENARIO_FILE: starter.text, **starter.files})
    try:
        setup = prepare(load_scenario(target))
    except InputError:
        _remove(directory, created)
        raise
    values = starter.values
    n_classes = sum(v.value is not None for v in values.values)
    grid = setup.grid
    for line in (
        f"wrote {target}",
        f"  land use: {n_classes} classes, one per value of '{values.field}' in layer {values.layer}, "
        "and 'unclassified' for the rest",
        f"  study area: {grid.nx} x {grid.ny} cells of {grid.cell_size_m:g} m in {grid.crs}",
        f"  strikes: {starter.strikes}",
        f"next: remnant validate {target}, then remnant run {target}",
    ):
        out.print(line, highlight=False, markup=False, soft_wrap=True)


def _write(directory: Path, files: dict[str, str]) -> list[Path]:
    """Write ``files`` (relative path -> text) under ``directory``; the files and folders created."""
    created: list[Path] = []
    for relative, text in files.items():
        path = directory / relative
        for parent in reversed(path.relative_to(directory).parents):
            folder = directory / parent
            if not folder.exists():
                folder.mkdir(parents=True)
                created.append(folder)
        path.write_text(text, encoding="utf-8")
        created.append(path)
    return created


def _remove(directory: Path, created: list[Path]) -> None:
    """Undo ``_write``: nothing is left of a scenario that does not validate."""
    for path in reversed(created):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
