"""``remnant run --check RUN_DIR``: rerun a finished run and compare its outputs byte for byte."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from rich.console import Console

from simulator.config.variants import load_scenario
from simulator.engine.prepare import prepare
from simulator.errors import InputError
from simulator.pipeline import execute
from simulator.results.provenance import scenario_hash

COMPARED = (".tif", ".csv", ".gpkg")
"""Rasters, tables and GeoPackages (stamped with a fixed time) must be byte-identical; run.json holds timings."""


def check_run(run_dir: Path, threads: int, console: Console) -> bool:
    """Rerun the run recorded in ``run_dir/run.json``; report and return whether outputs are identical."""
    record_path = run_dir / "run.json"
    if not record_path.is_file():
        raise InputError(record_path, "--check", str(run_dir), "give a folder a finished `remnant run` wrote",
                         problem="has no run.json;")
    record = read_record(record_path)
    loaded = load_scenario(record["scenario"], record.get("overrides", []))
    if scenario_hash(prepare(loaded, threads=threads)) != record["scenario_sha256"]:
        console.print(f"[red]differs:[/] the scenario or its land-use file changed since {run_dir} was written",
                      highlight=False)
        return False
    scratch = Path(tempfile.mkdtemp(prefix="remnant-check-"))
    try:
        execute(loaded, scratch / "rerun", threads=threads, extra={"overrides": record.get("overrides", [])})
        return compare(run_dir, scratch / "rerun", console)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def read_record(path: Path) -> dict:
    """``run.json`` as a dict with a scenario path, its hash and a list of overrides; InputError otherwise."""
    fix = "give a folder a finished `remnant run` wrote, with its run.json unchanged"
    try:
        record = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(path, "--check", None, fix, problem=f"is not a run record ({exc});") from None
    wanted = {"scenario": str, "scenario_sha256": str, "overrides": list}
    for key, kind in wanted.items():
        value = record.get(key, []) if isinstance(record, dict) and key == "overrides" else (
            record.get(key) if isinstance(record, dict) else None)
        if not isinstance(value, kind) or (key == "overrides" and not all(isinstance(v, str) for v in value)):
            raise InputError(path, "--check", None, fix, problem=f"has no valid {key!r};")
    return record


def compare(original: Path, rerun: Path, console: Console) -> bool:
    """Print one line per compared file; True when every one is byte-identical."""
    identical = True
    for path in sorted(p for p in original.iterdir() if p.suffix in COMPARED):
        other = rerun / path.name
        same = other.is_file() and path.read_bytes() == other.read_bytes()
        identical &= same
        console.print(f"{'identical' if same else '[red]DIFFERS[/]'}  {path.name}", highlight=False)
    console.print("reproduced: every raster and table is byte-identical" if identical else
                  "[red]not reproduced[/]", highlight=False)
    return identical
