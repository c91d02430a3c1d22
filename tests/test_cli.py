"""The remnant command end to end on the tiny scenario: outputs, exit codes, nothing half-written."""

from __future__ import annotations

import json
import shutil

import pytest

from simulator.outputs.writer import OUTPUT_FILES
from tests.conftest import call_remnant, write_tiny


@pytest.fixture(scope="module")
def json_run(tmp_path_factory):
    """The tiny scenario as written (40 realizations) run once with ``--json``: (exit code, stdout,
    stderr) and its output folder."""
    folder = tmp_path_factory.mktemp("json-run")
    out = folder / "out"
    return call_remnant("run", write_tiny(folder), "--out", out, "--json", "--threads", "1"), out


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    """The tiny scenario run once with its summary table, 8 realizations: (exit code, stdout, stderr)."""
    folder = tmp_path_factory.mktemp("table-run")
    return call_remnant("run", write_tiny(folder), "--out", folder / "o", "--realizations", "8")


def test_run_writes_every_output_and_a_json_summary(json_run):
    (code, stdout, stderr), out = json_run
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["scenario"] == "tiny" and summary["realizations"] == 40
    expected = 6 * 88 + 4 * 30 + 1 * 202
    assert summary["items_dropped"] == expected
    names = {p.name for p in out.iterdir()}
    assert names == set(OUTPUT_FILES)
    record = json.loads((out / "run.json").read_text())
    assert record["seed"] == 7 and len(record["scenario_sha256"]) == 64 and record["versions"]["numba"]


def test_summary_table_and_progress(table_run):
    code, stdout, stderr = table_run
    assert code == 0, stderr
    assert "Farmland" in stdout and "expected duds" in stdout and "8 realizations" in stdout


def test_existing_outputs_are_kept_without_overwrite(remnant, json_run, tiny, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(json_run[1], out)  # a finished run's folder
    before = (out / "run.json").read_bytes()
    code, _, stderr = remnant("run", tiny, "--out", out, "--quiet", "--realizations", "5")
    assert code == 2 and "--overwrite" in stderr and (out / "run.json").read_bytes() == before
    assert remnant("run", tiny, "--out", out, "--quiet", "--realizations", "5", "--overwrite")[0] == 0
    assert json.loads((out / "run.json").read_text())["realizations"] == 5
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("carriers = 6", "carriers = 6\ncarrier = 2", "strikes[0].carrier"),
        ("realizations = 40", 'realizations = "many"', "simulation.realizations"),
        ('path = "land_use.geojson"', 'path = "missing.gpkg"', "land_use.path"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_and_nothing_written(remnant, tiny, tmp_path, old, new, field):
    tiny.write_text(tiny.read_text().replace(old, new, 1))
    out = tmp_path / "out"
    code, _, stderr = remnant("run", tiny, "--out", out)
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1 and field in stderr and "Traceback" not in stderr
    assert not out.exists()


@pytest.mark.slow
def test_set_and_seed_change_results(remnant, tiny, tmp_path):
    runs = {}
    for name, extra in {"a": [], "b": ["--seed", "8"], "c": ["--set", "strikes[0].dud_rate.mean=0.3"]}.items():
        code, stdout, _ = remnant("run", tiny, "--out", tmp_path / name, "--json", *extra)
        assert code == 0
        runs[name] = json.loads(stdout)["expected_duds"]
    assert runs["a"] != runs["b"] and runs["c"] > runs["a"]


def test_validate_catalog_schema(remnant, tiny):
    code, stdout, _ = remnant("validate", tiny)
    assert code == 0 and "valid" in stdout and "50 x 50 cells" in stdout
    code, stdout, _ = remnant("catalog")
    assert code == 0 and "rocket-227mm-644" in stdout and "HRW" in stdout
    code, stdout, _ = remnant("catalog", "--json")
    families = {p["family"] for p in json.loads(stdout).values()}
    assert families == {"artillery-projectile", "rocket", "air-dropped-dispenser"}
    code, stdout, _ = remnant("schema")
    assert code == 0 and "strikes" in json.loads(stdout)["properties"]


@pytest.mark.slow
def test_init_writes_a_scenario_that_validates_and_runs(remnant, tmp_path):
    folder = tmp_path / "mine"
    assert remnant("init", folder)[0] == 0
    assert remnant("validate", folder / "scenario.toml")[0] == 0
    code, stdout, stderr = remnant("run", folder / "scenario.toml", "--realizations", "3", "--out", tmp_path / "o", "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["scenario"] == "starter"
    assert remnant("init", folder)[0] == 2


def test_too_many_threads_is_refused(remnant, tiny, tmp_path):
    code, _, stderr = remnant("run", tiny, "--threads", "999", "--out", tmp_path / "o")
    assert code == 2 and "--threads" in stderr


def test_analytic_preview_agrees_with_the_monte_carlo(remnant, tiny, tmp_path):
    code, stdout, stderr = remnant("run", tiny, "--analytic", "--json", "--out", tmp_path / "a")
    assert code == 0, stderr
    analytic = json.loads(stdout)
    assert {p.name for p in (tmp_path / "a").iterdir()} == {"density.tif", "density.qml", "landuse.tif", "landuse.qml",
                                                           "landuse.tif.aux.xml", "map.png", "run.json"}
    code, stdout, _ = remnant("run", tiny, "--json", "--realizations", "400", "--out", tmp_path / "mc")
    mc = json.loads(stdout)
    on_grid = mc["expected_duds"] - mc["duds_outside_grid_mean"]
    assert abs(analytic["expected_duds_on_grid"] - on_grid) < 4 * mc["expected_duds_se"]


def test_memory_estimate_is_printed_and_enforced_unless_forced(remnant, table_run, tiny, tmp_path, monkeypatch):
    code, _, stderr = table_run
    assert code == 0 and "estimated peak memory" in stderr
    monkeypatch.setattr("simulator.engine.prepare.machine_bytes", lambda: 100 * 2**20)
    code, _, stderr = remnant("run", tiny, "--out", tmp_path / "b", "--realizations", "4")
    assert code == 2 and "--force" in stderr and "study_area.cell_size_m" in stderr and not (tmp_path / "b").exists()
    assert remnant("run", tiny, "--out", tmp_path / "b", "--realizations", "4", "--force")[0] == 0


def test_a_grid_of_one_cell_runs(remnant, tiny, tmp_path):
    code, stdout, stderr = remnant("run", tiny, "--set", "study_area.cell_size_m=1000", "--json", "--out", tmp_path / "o")
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["items_dropped"] == 850 and 0 <= summary["hazardous_ha"] <= 100.0
    assert set(OUTPUT_FILES) <= {p.name for p in (tmp_path / "o").iterdir()}
