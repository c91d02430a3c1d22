"""Shared fixtures: a tiny scenario written afresh for each test that needs one."""

from __future__ import annotations

import contextlib
import functools
import io
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import pytest
import typer
from shapely.geometry import box

from simulator.cli import app as cli_app
from simulator.outputs.writer import write_outputs

TINY_TOML = """\
name = "tiny"
description = "A 1 x 1 km test district: farmland west, forest east, a village square."

[study_area]
crs = "EPSG:32634"
extent_m = [500000, 4700000, 501000, 4701000]
cell_size_m = 20

[land_use]
path = "land_use.geojson"
class_field = "class"
default_class = "farmland"

[land_use.classes.residential]
name = "Residential"
colour = "#e5b7bf"
priority = 1

[land_use.classes.farmland]
name = "Farmland"
colour = "#e9d66b"
priority = 2

[land_use.classes.forest]
name = "Forest"
colour = "#86b386"
priority = 3
values = ["forest", "wood"]

[[strikes]]
id = "A1"
date = 2024-03-02
profile = "artillery-155mm-88"
aim_point = { x = 500300.0, y = 4700600.0 }
carriers = 6
azimuth_deg = 40.0
dud_rate = { mean = 0.1, spread = 0.03 }

[[strikes]]
id = "R1"
date = 2024-06-10
profile = "rocket-220mm-30"
aim_point = { x = 500700.0, y = 4700400.0 }
carriers = 4
azimuth_deg = 300.0
dud_rate = { mean = 0.2 }

[[strikes]]
id = "D1"
date = 2024-06-10
profile = "dispenser-202"
aim_point = { x = 500500.0, y = 4700500.0 }
carriers = 1
azimuth_deg = 90.0
function_altitude_m = 300.0

[simulation]
realizations = 40
seed = 7
batch_size = 16

[time]
start = 2024-01-01
end = 2025-01-01
step_months = 3

[hazard]
threshold = 0.2
"""


@functools.cache
def tiny_land_use() -> bytes:
    """The tiny scenario's land-use layer, ``land_use.geojson``, as GDAL writes it (once a session)."""
    layer = gpd.GeoDataFrame(
        {"class": ["farmland", "wood", "residential"]},
        geometry=[box(500000, 4700000, 500500, 4701000), box(500500, 4700000, 501000, 4701000),
                  box(500200, 4700500, 500400, 4700700)],
        crs="EPSG:32634",
    )
    with tempfile.TemporaryDirectory() as folder:
        layer.to_file(Path(folder) / "land_use.geojson", driver="GeoJSON")
        return (Path(folder) / "land_use.geojson").read_bytes()


def write_tiny(folder: Path, text: str = TINY_TOML) -> Path:
    """Write the tiny scenario and its land-use layer into ``folder``; return the scenario path."""
    (folder / "land_use.geojson").write_bytes(tiny_land_use())
    path = folder / "tiny.toml"
    path.write_text(text)
    return path


@pytest.fixture
def tiny(tmp_path) -> Path:
    """Path of a freshly written tiny scenario."""
    return write_tiny(tmp_path)


@pytest.fixture(scope="session")
def clearance_run(tmp_path_factory):
    """A finished run with a plan, shared by the tests that only read one: the tiny scenario with land
    release (``tests.test_land_release.run``, 24 realizations, every CHA kept whatever its area) and
    the folder its outputs were written to."""
    from tests.test_land_release import run  # that module imports this one: a top-level import would be a cycle

    folder = tmp_path_factory.mktemp("clearance")
    result = run(folder, "hazard.min_area_m2=0", realizations=24)
    return result, write_outputs(result, folder / "out")


@functools.cache
def remnant_command() -> typer.core.TyperGroup:
    """The ``remnant`` command as click builds it from the typer app: once per test session, as a real
    process does once per run (typer otherwise rebuilds it, about 20 ms, on every in-process call)."""
    return typer.main.get_command(cli_app.app)


def call_remnant(*args) -> tuple[int, str, str]:
    """Run the ``remnant`` command line in this process, at any fixture scope: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.setattr(cli_app, "app", remnant_command())
        patch.setattr(sys, "argv", ["remnant", *map(str, args)])
        try:
            cli_app.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def remnant(monkeypatch, capsys):
    """Call the ``remnant`` CLI in-process: returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(cli_app, "app", remnant_command())

    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["remnant", *map(str, args)])
        capsys.readouterr()
        try:
            cli_app.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from the current code")
