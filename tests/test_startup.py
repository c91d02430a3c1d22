"""What a command imports decides how fast it starts: each command imports what it uses and
nothing else (checked in a fresh process, by the modules it has loaded when it is done; the
CPU seconds are measured in ``benchmarks/startup.py``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from simulator.cli.app import COMMANDS
from tests.conftest import TINY_TOML, write_tiny

LOADED = """
import json, sys
from simulator.cli.app import main
sys.argv = ["remnant", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

RUN_ONLY = ("simulator.pipeline", "simulator.outputs.writer", "simulator.outputs.plots", "matplotlib")
"""Loaded by a run, never by ``remnant validate``."""

NEVER_IN_A_RUN = ("SALib", "xarray", "distributed", "matplotlib.pyplot", "simulator.studies",
                  "simulator.api", "simulator.results.comparison", "simulator.cli.compare", "simulator.cli.studies")
"""The studies', comparisons', notebook's and cluster's libraries: a plain run of a scenario uses none."""


def loaded(*args) -> set[str]:
    """The modules a fresh ``remnant`` process has loaded when ``args`` are done (it must succeed)."""
    done = subprocess.run([sys.executable, "-c", LOADED, *map(str, args)], capture_output=True, text=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, done.stderr
    return set(report["modules"])


def present(modules: set[str], names) -> list[str]:
    return [n for n in names if n in modules]


SLOW = ("pyogrio", "geopandas", "pandas", "matplotlib", "numba", "rasterio", "scipy", "xarray", "typer.rich_utils")
"""Libraries that take tens of milliseconds or more to import."""
NOT_IN_VALIDATE = ("numba", "scipy", "typer.rich_utils")
"""``remnant validate`` reads the land use (pyogrio, which imports geopandas and pandas) and rasterises
it (rasterio), but loads no kernel, needs no scipy and shows no help."""


def test_the_command_line_itself_loads_no_slow_library():
    program = "import json, sys, simulator.cli.app; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert present(set(json.loads(done.stdout)), SLOW) == []


def test_validate_loads_neither_the_run_nor_figures(tiny):
    modules = loaded("validate", tiny)
    assert "simulator.engine.prepare" in modules  # it did check the inputs
    assert present(modules, RUN_ONLY + NEVER_IN_A_RUN + NOT_IN_VALIDATE) == []


def test_catalog_and_schema_read_no_geodata():
    """They describe what a scenario may hold, reading no input file."""
    for command in ("catalog", "schema"):
        assert present(loaded(command), SLOW) == [], command


CLEARANCE = """
[clearance]
start = 2024-07-01
teams = { nts = 1, ts = 1, bac = 1 }
"""


@pytest.mark.parametrize("clearance", [False, True])
def test_a_run_loads_no_study_comparison_or_notebook_library(tmp_path, clearance):
    scenario = write_tiny(tmp_path, TINY_TOML + (CLEARANCE if clearance else ""))
    modules = loaded("run", scenario, "--out", tmp_path / "out", "--quiet", "--realizations", "4")
    assert (tmp_path / "out" / "map.png").exists() and "simulator.outputs.writer" in modules
    assert present(modules, NEVER_IN_A_RUN) == []


def test_every_command_runs_its_own_module(remnant):
    """Each entry of the command table names a command module and its function of that name."""
    for name, module in COMMANDS.items():
        assert module.startswith("simulator.cli.") and module != "simulator.cli.app"
        code, stdout, _ = remnant(name, "--help")
        assert code == 0 and f"Usage: remnant {name}" in stdout
