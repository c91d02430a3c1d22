"""``remnant qa``: the accept-on-zero sample size for quality assurance of released land, and its
operating characteristic."""

from __future__ import annotations

import json
import math
from typing import Annotated

import typer
from rich.table import Table

from simulator.cli.console import out
from simulator.errors import InputError
from simulator.release.qa import lot_units, p_clean_sample, sample_size

DIRTY_SHARES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
"""Shares of dirty units the operating characteristic is shown for."""

MAX_UNITS = 10**9


def _check(name: str, value: float, example: str) -> None:
    if not 0.0 < value < 1.0:
        raise InputError(None, name, value, f"give {name} as a share between 0 and 1, e.g. {example}",
                         problem="is not strictly between 0 and 1;")


def qa(
    confidence: Annotated[float, typer.Option(help="Y: confidence that the lot meets the clean share")] = 0.95,
    clean: Annotated[float, typer.Option(help="X: share of units that must be clean, e.g. 0.99")] = 0.99,
    units: Annotated[int | None, typer.Option(help="sampling units in the lot; default: a large lot")] = None,
    area_m2: Annotated[float | None, typer.Option(
        help="instead of --units: the lot is a work unit's released land of this area (m2)")] = None,
    unit_m: Annotated[float, typer.Option(help="with --area-m2: side of a square sampling unit (m)")] = 10.0,
    json_: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Units to sample so that finding none dirty gives Y confidence that at least X of the lot is clean."""
    _check("--confidence", confidence, "0.95")
    _check("--clean", clean, "0.99")
    if units is not None and not 1 <= units <= MAX_UNITS:
        raise InputError(None, "--units", units,
                         f"give the lot's sampling units as a whole number from 1 to {MAX_UNITS:,}",
                         problem="is out of range;")
    if area_m2 is not None:
        if units is not None:
            raise InputError(None, "--area-m2", area_m2, "give either --units or --area-m2", problem="is given with --units;")
        if not (math.isfinite(area_m2) and math.isfinite(unit_m) and area_m2 > 0 and unit_m > 0):
            raise InputError(None, "--area-m2", area_m2, "give the lot's area and the sampling unit's side as "
                             "positive numbers (m2, m)", problem=f"(with --unit-m {unit_m:g}) is not positive;")
        units = int(min(lot_units(area_m2, unit_m), MAX_UNITS + 1))
        if units < 1:
            raise InputError(None, "--area-m2", area_m2, f"give a lot of at least one {unit_m:g} m sampling unit",
                             problem=f"holds no whole sampling unit of {unit_m:g} x {unit_m:g} m;")
    n = sample_size(confidence, clean, units)
    rows = []
    for share in DIRTY_SHARES:
        if units is None:
            p = (1.0 - share) ** n
        else:
            p = float(p_clean_sample(units, min(units, round(share * units)), n))
        rows.append({"dirty_share": share, "p_accept": p})
    if json_:
        print(json.dumps({"confidence": confidence, "clean_share": clean, "lot_units": units, "sample_units": n,
                          "operating_characteristic": rows}, indent=2))
        return
    lot_text = f"a lot of {units:,} units" if units is not None else "a large lot"
    out.print(f"sample {n:,} units of {lot_text}: if none holds an item, {confidence:.4g} confidence that at least "
              f"{clean:.4g} of the units are clean (accept on zero)", highlight=False)
    table = Table(title="operating characteristic: probability a lot passes", title_justify="left")
    table.add_column("share of units dirty", justify="right")
    table.add_column("P(pass)", justify="right")
    for row in rows:
        table.add_row(f"{row['dirty_share']:.1%}", f"{row['p_accept']:.3f}")
    out.print(table)
