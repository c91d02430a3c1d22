"""``remnant inspect``: what a vector file holds, before writing a scenario for it."""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from simulator.cli.console import out
from simulator.errors import InputError, one_line
from simulator.inputs.inspect import FieldValues, LayerInfo, describe_layers, field_values

FIELDS_PER_LINE = 6


def inspect(
    file: Annotated[Path, typer.Argument(help="vector file: GeoPackage, GeoJSON, Shapefile, FlatGeobuf, OSM PBF...")],
    layer: Annotated[str | None, typer.Option(help="only this layer")] = None,
    field: Annotated[str | None, typer.Option(
        help="list every value of this field ('a,b': first non-null) with its features and area")] = None,
    source_crs: Annotated[str | None, typer.Option(help="CRS of a layer that declares none (for --field)")] = None,
    json_: Annotated[bool, typer.Option("--json", help="print it as JSON")] = False,
) -> None:
    """Show a vector file's layers, their CRS and extent, fields, and one field's values with their areas."""
    layers = describe_layers(file)
    if layer is not None:
        names = [info.name for info in layers]
        if layer not in names:
            raise InputError(file, "--layer", layer, f"use one of: {', '.join(names)}", problem="is not a layer of the file;")
        layers = [info for info in layers if info.name == layer]
    try:
        values = field_values(file, field, layer, source_crs) if field else None
    except InputError as error:  # name this command's options, not the scenario's fields
        raise as_option_error(error, field_option="--field") from None
    if json_:
        document = {"file": str(file), "layers": [asdict(info) for info in layers]}
        if values is not None:
            document["values"] = asdict(values)
        print(json.dumps(document, indent=2))
        return
    _say(f"{file}: {len(layers)} layer{'s' if len(layers) != 1 else ''}")
    for info in layers:
        for line in layer_lines(info):
            _say(line)
    if values is not None:
        for line in value_lines(values):
            _say(line)
        _say(f"next: remnant init DIR --land-use {_text(shlex.quote(str(file)))} --layer "
             f"{_text(shlex.quote(values.layer))} --class-field {_text(shlex.quote(values.field))}")
    else:
        _say("next: remnant inspect FILE --field NAME lists a field's values with their areas")


def as_option_error(error: InputError, field_option: str = "--class-field") -> InputError:
    """``error`` from the land-use reader, told with the command's options instead of scenario fields."""
    option = {"land_use.layer": "--layer", "land_use.class_field": field_option, "land_use.source_crs": "--source-crs"}
    if error.field not in option:
        return error
    name = option[error.field]
    fix = error.fix.replace(f"set {error.field} to", f"give {name}").replace(f"set {error.field} =", f"give {name}")
    return InputError(error.file, name, error.value, fix, problem=error.problem)


def layer_lines(info: LayerInfo) -> list[str]:
    """A layer in a few lines: features, CRS and what the coordinates look like, extent, fields."""
    count = f"{info.features} {info.geometry_type} features" if info.features >= 0 else f"{info.geometry_type} features"
    lines = [f"layer {_text(info.name)}: {count}"]
    crs = f"{info.crs} ({info.crs_name}, {info.crs_units})" if info.crs else "none declared"
    lines.append(f"  CRS: {crs}; coordinates: {info.note}")
    if info.extent_lonlat is not None:
        w, s, e, n = info.extent_lonlat
        lines.append(f"  extent: lon {w:.5f} to {e:.5f}, lat {s:.5f} to {n:.5f}")
    elif info.bounds is not None:
        lines.append("  bounds (as stored): " + ", ".join(f"{b:.6g}" for b in info.bounds))
    names = [f"{_text(f.name)} ({f.type})" for f in info.fields]
    for i in range(0, len(names), FIELDS_PER_LINE):
        lines.append(("  fields: " if i == 0 else "          ") + ", ".join(names[i:i + FIELDS_PER_LINE]))
    if not names:
        lines.append("  fields: none")
    return lines


def value_lines(values: FieldValues) -> list[str]:
    """Every value of the field with its polygon features and area, largest first."""
    lines = [f"values of '{_text(values.field)}' in layer {_text(values.layer)} "
             f"(areas in {values.crs}, the local UTM zone; overlaps counted in each feature):"]
    width = max([len(_label(v.value)) for v in values.values] + [len("value")])
    lines.append(f"  {'value':<{width}}  {'features':>8}  {'area (m2)':>13}  {'area (ha)':>10}")
    for v in values.values:
        lines.append(f"  {_label(v.value):<{width}}  {v.features:>8}  {v.area_m2:>13,.0f}  {v.area_ha:>10.2f}")
    n_values = sum(v.value is not None for v in values.values)
    kept = sum(v.features for v in values.values)
    total = f"{n_values} values; {kept} polygon features, {values.total_area_m2() / 1e4:.2f} ha"
    if values.n_dropped:
        total += f"; {values.n_dropped} empty or non-polygonal features left out"
    lines.append("  " + total)
    return lines


def _label(value: str | None) -> str:
    return "(no value)" if value is None else f"'{_text(value)}'"


def _text(value: str) -> str:
    """A string from the user's file, on one line (control characters shown as escapes)."""
    return one_line(str(value))


def _say(line: str) -> None:
    out.print(line, markup=False, highlight=False, soft_wrap=True)
